"""Conversion of pair records and gold CoNLL sentences to spaCy ``DocBin`` training files."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Literal

from spacy.lang.xx import MultiLanguage
from spacy.tokens import Doc, DocBin, Span
from spacy.vocab import Vocab, create_vocab

from ..types import Entity, PairRecord
from .atomic import atomic_path
from .conll import TaggedSentence
from .errors import ReadStats

Side = Literal["src", "tgt"]
Doubtful = Literal["drop", "keep", "missing"]
_DOUBTFUL_MODES = ("drop", "keep", "missing")
#: What :func:`records_to_docbin` counts, all zero (the counts of no records).
DOCBIN_COUNTS = {"docs": 0, "dropped_doubtful": 0, "missing_marked": 0, "entities": 0}


def _default_vocab(vocab: Vocab | None) -> Vocab:
    """Use the caller's vocab, or a language-neutral one.

    Same as ``spacy.blank("xx").vocab`` but without building a pipeline (seconds on first use).
    """
    return vocab if vocab is not None else create_vocab("xx", MultiLanguage.Defaults)


def is_doubtful(record: PairRecord) -> bool:
    """True when some source entity did not project, or a step flagged the record doubtful."""
    if record.meta.get("doubtful"):
        return True
    n_src = len(record.src_ents or [])
    return record.tgt_ents is not None and len(record.tgt_ents) < n_src


def _check_spans(ents: Sequence[Entity], n_words: int, where: str) -> list[Entity]:
    """Sort spans and reject out-of-range or overlapping ones (a projector bug)."""
    ordered = sorted(ents)
    for k, ent in enumerate(ordered):
        if not 0 <= ent.start < ent.end <= n_words:
            raise ValueError(f"{where}: entity {tuple(ent)} out of range for {n_words} words")
        if k and ordered[k - 1].end > ent.start:
            raise ValueError(
                f"{where}: overlapping entities {tuple(ordered[k - 1])} and {tuple(ent)}"
            )
    return ordered


def _make_doc(
    vocab: Vocab, words: list[str], ents: Sequence[Entity], default: str, where: str
) -> Doc:
    """Build a Doc with ``ents`` set and ``default`` ("outside"/"missing") for other tokens."""
    doc = Doc(vocab, words=words)
    spans = [
        Span(doc, e.start, e.end, label=e.label) for e in _check_spans(ents, len(words), where)
    ]
    doc.set_ents(spans, default=default)
    return doc


def record_to_doc(
    vocab: Vocab, record: PairRecord, *, side: Side = "tgt", doubtful: Doubtful = "drop"
) -> Doc | None:
    """Build one side of a record as a Doc with its entities; None if dropped as doubtful.

    Doubtful handling applies to the target side only: ``drop`` skips the record, ``keep``
    trusts it (other tokens are O), ``missing`` leaves tokens outside the projected entities
    unannotated so the NER does not learn O from possibly unprojected names.
    """
    if doubtful not in _DOUBTFUL_MODES:
        raise ValueError(f"doubtful must be one of {_DOUBTFUL_MODES}, got {doubtful!r}")
    words = record.tgt_words if side == "tgt" else record.src_words
    ents = record.tgt_ents if side == "tgt" else record.src_ents
    if ents is None:
        raise ValueError(f"record {record.id!r} has no {side}_ents")
    default = "outside"
    if side == "tgt" and is_doubtful(record):
        if doubtful == "drop":
            return None
        if doubtful == "missing":
            default = "missing"
    return _make_doc(vocab, list(words), ents, default, f"record {record.id!r}")


def records_to_docbin(
    path: str | Path,
    records: Iterable[PairRecord],
    vocab: Vocab | None = None,
    *,
    side: Side = "tgt",
    doubtful: Doubtful = "drop",
    stats: ReadStats | None = None,
) -> dict[str, int]:
    """Write records as a DocBin atomically; returns counts of docs, drops, marks, entities."""
    vocab = _default_vocab(vocab)
    counts = dict(DOCBIN_COUNTS)
    db = DocBin(attrs=["ORTH", "SPACY", "ENT_IOB", "ENT_TYPE"], store_user_data=False)
    for record in records:
        doc = record_to_doc(vocab, record, side=side, doubtful=doubtful)
        if doc is None:
            counts["dropped_doubtful"] += 1
            if stats is not None:
                stats.skipped["doubtful"] += 1
            continue
        if any(t.ent_iob == 0 for t in doc):
            counts["missing_marked"] += 1
        counts["docs"] += 1
        counts["entities"] += len(doc.ents)
        if stats is not None:
            stats.sentences += 1
        db.add(doc)
    _save(db, path)
    return counts


def sentences_to_docbin(
    path: str | Path, sentences: Iterable[TaggedSentence], vocab: Vocab | None = None
) -> int:
    """Write gold CoNLL sentences as a DocBin atomically (to train/evaluate NER); returns count."""
    vocab = _default_vocab(vocab)
    db = DocBin(attrs=["ORTH", "SPACY", "ENT_IOB", "ENT_TYPE"], store_user_data=False)
    n = 0
    for sent in sentences:
        db.add(_make_doc(vocab, sent.words, sent.ents, "outside", f"{sent.path}:{sent.line}"))
        n += 1
    _save(db, path)
    return n


def merge_docbins(paths: Iterable[str | Path], output: str | Path) -> None:
    """Concatenate DocBin files (e.g. shards) into one, atomically.

    The result has the same bytes as adding every Doc to one DocBin (spaCy sorts the
    strings when serialising), so sharded and single-pass conversion agree.
    """
    db = DocBin(attrs=["ORTH", "SPACY", "ENT_IOB", "ENT_TYPE"], store_user_data=False)
    for path in paths:
        db.merge(DocBin().from_disk(path))
    _save(db, output)


def _save(db: DocBin, path: str | Path) -> None:
    """Serialise a DocBin through a temp file renamed into place."""
    with atomic_path(path) as tmp:
        db.to_disk(tmp)


def read_docbin(path: str | Path, vocab: Vocab) -> Iterator[Doc]:
    """Stream the Docs stored in a ``.spacy`` file."""
    yield from DocBin().from_disk(path).get_docs(vocab)
