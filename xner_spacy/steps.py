"""The translate-train steps as streaming functions over JSONL pair records.

Each step reads records, fills in its field and writes records atomically; the CLI and
``project.yml`` call these, and they call the pure core (labellers, aligners, projectors).
Every function returns a small dict of counts, which the CLI prints and can save as JSON.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from pathlib import Path
from typing import Any

from .io.conll import read_conll
from .io.errors import ReadStats
from .io.parallel import mafand_splits, read_parallel
from .io.records import read_records, write_records
from .text import loose_key, tokenize
from .types import Aligner, Labeller, PairRecord, Projector

logger = logging.getLogger("xner_spacy")

#: Test sets that must never reach training data, relative to a data directory.
TEST_SET_PATTERNS = ("masakhaner2/{lang}/test.txt", "wikiann/{lang}/test.txt")
#: Shortest normalised test sentence that is also searched for *inside* longer lines.
MIN_CONTAINED_KEY = 24


def held_out_files(data_dir: str | Path, lang: str) -> list[Path]:
    """The gold test files for ``lang`` present under a data directory."""
    found = [Path(data_dir) / p.format(lang=lang) for p in TEST_SET_PATTERNS]
    return [p for p in found if p.is_file()]


class HeldOutFilter:
    """Recognises sentences of held-out test sets by a normalised-text key.

    A line is excluded when its :func:`loose_key` equals a test sentence's key, or contains a
    test sentence's key of at least ``MIN_CONTAINED_KEY`` characters (some MasakhaNER
    sentences are pieces of a longer MAFAND line). Containment uses a small prefix index:
    each test key is found by looking up every 16-character window of the line, which is
    linear in the line's length and needs no extra dependency.
    """

    _WINDOW = 16

    def __init__(self, sentences: Iterable[str]) -> None:
        self.keys: set[str] = set()
        self._by_prefix: dict[str, list[str]] = {}
        for text in sentences:
            key = loose_key(text)
            if not key:
                continue
            self.keys.add(key)
            if len(key) >= MIN_CONTAINED_KEY:
                self._by_prefix.setdefault(key[: self._WINDOW], []).append(key)

    @classmethod
    def from_conll(cls, paths: Iterable[str | Path]) -> HeldOutFilter:
        texts = (" ".join(s.words) for p in paths for s in read_conll(p, skip_malformed=True))
        return cls(texts)

    def __contains__(self, text: object) -> bool:
        if not isinstance(text, str):
            return False
        key = loose_key(text)
        if key in self.keys:
            return True
        w = self._WINDOW
        for i in range(len(key) - MIN_CONTAINED_KEY + 1):
            for cand in self._by_prefix.get(key[i : i + w], ()):
                if key.startswith(cand, i):
                    return True
        return False


def prepare_parallel(
    data_dir: str | Path,
    src_lang: str,
    tgt_lang: str,
    output: str | Path,
    *,
    exclude: Sequence[str | Path] = (),
    tgt_tokenizer: str = "xx",
    limit: int = 0,
) -> dict[str, Any]:
    """MAFAND-MT pairs (every split) → tokenised records, minus any test-set sentence.

    Test sentences of the target language under ``data_dir`` (MasakhaNER 2.0, WikiANN) and
    any extra CoNLL files in ``exclude`` are removed by normalised text; the counts of
    removed pairs are returned so the removal is reported, never silent.
    """
    excluded_files = [*held_out_files(data_dir, tgt_lang), *map(Path, exclude)]
    held_out = HeldOutFilter.from_conll(excluded_files)
    stats = ReadStats()
    counts: dict[str, Any] = {
        "pairs_read": 0,
        "removed_test_overlap": 0,
        "written": 0,
        "excluded_files": [str(p) for p in excluded_files],
        "test_sentences_indexed": len(held_out.keys),
    }

    def records() -> Iterator[PairRecord]:
        for split, src_file, tgt_file in mafand_splits(data_dir, src_lang, tgt_lang):
            for pair in read_parallel(src_file, tgt_file, stats=stats):
                counts["pairs_read"] += 1
                if pair.tgt in held_out or pair.src in held_out:
                    counts["removed_test_overlap"] += 1
                    continue
                counts["written"] += 1
                yield PairRecord(
                    id=f"{src_lang}-{tgt_lang}/{split}:{pair.line}",
                    src_lang=src_lang,
                    tgt_lang=tgt_lang,
                    src_words=tokenize(pair.src, src_lang),
                    tgt_words=tokenize(pair.tgt, tgt_tokenizer),
                    meta={"split": split, "line": pair.line},
                )

    stream: Iterable[PairRecord] = records()
    if limit:
        stream = islice(stream, limit)
    write_records(output, stream)
    counts["skipped_lines"] = dict(stats.skipped)
    return counts


def _batched(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    it = iter(items)
    while batch := list(islice(it, size)):
        yield batch


def label_records(
    input_path: str | Path, output: str | Path, labeller: Labeller, *, batch_size: int = 1000
) -> dict[str, Any]:
    """Fill ``src_ents`` with the labeller's entities, streaming in batches."""
    counts: dict[str, Any] = {"records": 0, "entities": 0, "labels": {}}

    def records() -> Iterator[PairRecord]:
        for batch in _batched(read_records(input_path), batch_size):
            for rec, ents in zip(batch, labeller.label(r.src_words for r in batch), strict=True):
                rec.src_ents = ents
                counts["records"] += 1
                counts["entities"] += len(ents)
                for e in ents:
                    counts["labels"][e.label] = counts["labels"].get(e.label, 0) + 1
                yield rec

    write_records(output, records())
    return counts


def _word_lists(paths: Iterable[str | Path]) -> tuple[list[list[str]], list[list[str]]]:
    """Source and target word lists of every record in ``paths``, in one pass each."""
    src: list[list[str]] = []
    tgt: list[list[str]] = []
    for path in paths:
        for r in read_records(path):
            src.append(r.src_words)
            tgt.append(r.tgt_words)
    return src, tgt


def align_records(
    input_path: str | Path,
    output: str | Path,
    aligner: Aligner,
    *,
    extra: Sequence[str | Path] = (),
) -> dict[str, Any]:
    """Fill ``alignment`` for every record.

    Statistical aligners learn from the corpus they align, so all word lists are read
    first (records themselves are streamed again on output). ``extra`` record files add
    training text for the aligner without being aligned or written.
    """
    src, tgt = _word_lists([input_path])
    extra_src, extra_tgt = _word_lists(extra)
    links = aligner.align(src, tgt, extra_src=extra_src, extra_tgt=extra_tgt)
    counts = {"records": len(src), "extra_pairs": len(extra_src), "links": sum(map(len, links))}

    def records() -> Iterator[PairRecord]:
        for rec, pairs in zip(read_records(input_path), links, strict=True):
            rec.alignment = sorted(pairs)
            yield rec

    write_records(output, records())
    return counts


def project_records(
    input_path: str | Path, output: str | Path, projector: Projector
) -> dict[str, Any]:
    """Fill ``tgt_ents`` by projecting ``src_ents`` through ``alignment``."""
    counts = {"records": 0, "src_entities": 0, "tgt_entities": 0, "doubtful": 0}

    def records() -> Iterator[PairRecord]:
        for rec in read_records(input_path):
            if rec.src_ents is None or rec.alignment is None:
                raise ValueError(
                    f"{input_path}: record {rec.id!r} lacks src_ents or alignment; "
                    "run `xner label` and `xner align` first"
                )
            rec.tgt_ents = projector(
                rec.src_words, rec.tgt_words, rec.src_ents, rec.alignment, extras=rec.meta
            )
            counts["records"] += 1
            counts["src_entities"] += len(rec.src_ents)
            counts["tgt_entities"] += len(rec.tgt_ents)
            counts["doubtful"] += len(rec.tgt_ents) < len(rec.src_ents)
            yield rec

    write_records(output, records())
    return counts


def propose_spans(
    input_path: str | Path, output: str | Path, model: str, *, batch_size: int = 256
) -> dict[str, Any]:
    """Run a target-language NER pipeline on ``tgt_words``; store its spans in ``meta``.

    ``meta["ner_spans"]`` holds ``[start, end, label, score]`` lists: the candidates and
    scores that ``xner.NerCandidates.v1`` and ``xner.NerSpanScore.v1`` read. spaCy's
    transition-based NER gives no span probabilities, so each proposed span scores 1.0.
    """
    from .labelling.spacy_labeller import load_pipeline

    nlp = load_pipeline(model)
    counts = {"records": 0, "spans": 0}

    def records() -> Iterator[PairRecord]:
        for batch in _batched(read_records(input_path), batch_size):
            for rec, ents in zip(
                batch, predict_spans(nlp, [r.tgt_words for r in batch]), strict=True
            ):
                rec.meta["ner_spans"] = ents
                counts["records"] += 1
                counts["spans"] += len(ents)
                yield rec

    write_records(output, records())
    return counts


def predict_spans(nlp: Any, sentences: Sequence[Sequence[str]]) -> list[list[list[Any]]]:
    """``[start, end, label, 1.0]`` for each entity the pipeline finds in each word list."""
    from .labelling.spacy_labeller import predict_entities

    return [
        [[e.start, e.end, e.label, 1.0] for e in ents]
        for ents in predict_entities(nlp, (list(s) for s in sentences))
    ]


def dev_split(record_id: str, dev_fraction: float, seed: int = 0) -> bool:
    """Deterministic train/dev assignment by a hash of the record id (stable across runs)."""
    digest = hashlib.sha1(f"{seed}:{record_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < dev_fraction


def convert_records(
    input_path: str | Path,
    output_dir: str | Path,
    *,
    dev_fraction: float = 0.1,
    doubtful: str = "drop",
    seed: int = 0,
) -> dict[str, Any]:
    """Projected records → ``train.spacy`` and ``dev.spacy`` (silver dev held out by id hash)."""
    from .io.docbin import records_to_docbin

    output_dir = Path(output_dir)

    def part(is_dev: bool) -> Iterator[PairRecord]:
        for rec in read_records(input_path):
            if dev_split(rec.id, dev_fraction, seed) == is_dev:
                yield rec

    train = records_to_docbin(output_dir / "train.spacy", part(False), doubtful=doubtful)  # type: ignore[arg-type]
    dev = records_to_docbin(output_dir / "dev.spacy", part(True), doubtful=doubtful)  # type: ignore[arg-type]
    return {"train": train, "dev": dev, "doubtful": doubtful}
