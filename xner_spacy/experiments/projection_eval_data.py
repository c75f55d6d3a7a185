"""The intrinsic projection evaluation's data: MasakhaNER 2.0 test joined to MAFAND-MT,
Europarl-NER, and the parallel text the aligner trains on.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from ..io.conll import read_conll
from ..io.errors import DataFormatError
from ..io.parallel import mafand_splits, read_parallel
from ..text import loose_key, strict_key, tokenize
from ..types import Entity, PairRecord

DATASETS = ("masakhaner", "europarl")
#: Labels scored per dataset: MasakhaNER's DATE is ignored (the source corpora have none).
DATASET_LABELS: dict[str, tuple[str, ...]] = {
    "masakhaner": ("PER", "ORG", "LOC"),
    "europarl": ("PER", "ORG", "LOC", "MISC"),
}
MASAKHANER_TEST = "masakhaner2/{tgt}/test.txt"
EUROPARL_FILE = "europarl_ner/{lang}.conll02"
#: Shortest loose key of an unmatched test sentence that is looked for inside longer lines.
MIN_PIECE_KEY = 24


@dataclasses.dataclass
class MatchStats:
    """How the gold test sentences were joined to parallel text.

    ``total`` = ``matched`` + ``piece_of_longer_line`` + ``not_found``. A *piece* is a test
    sentence whose loose key (≥ ``MIN_PIECE_KEY`` characters) occurs inside a longer MAFAND
    line: its source sentence translates more than the gold words, so it is left out of
    the evaluation and counted apart. ``duplicate_targets`` counts MAFAND lines whose target
    text repeats an earlier line with a different source (the first line is used).
    """

    total: int = 0
    matched: int = 0
    matched_strict: int = 0
    matched_loose: int = 0
    piece_of_longer_line: int = 0
    not_found: int = 0
    duplicate_targets: int = 0

    def to_dict(self) -> dict[str, int]:
        return {**dataclasses.asdict(self), "unmatched": self.total - self.matched}


def _require_file(path: Path, what: str) -> Path:
    if not path.is_file():
        folder = path.parent if path.parent.is_dir() else path.parent.parent
        present = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
        hint = f" ({folder} has: {', '.join(present)})" if present else ""
        raise FileNotFoundError(f"{what} not found: {path}{hint}")
    return path


def _gold(ents: Iterable[Entity]) -> list[list[Any]]:
    return [[e.start, e.end, e.label] for e in ents]


def match_test_to_parallel(
    data_dir: str | Path, src: str, tgt: str
) -> tuple[list[PairRecord], MatchStats]:
    """MasakhaNER 2.0 test sentences of ``tgt`` joined to their MAFAND-MT ``src`` sentences.

    Every MAFAND line of every split is indexed by :func:`strict_key` of its target side
    (whitespace removed), then by :func:`loose_key` (case, punctuation and marks removed) for
    the sentences whose quotes or apostrophes differ. Each matched test sentence becomes a
    record with ``src_words = tokenize(source line, src)``, the gold target words, and the gold
    PER/ORG/LOC entities in ``meta["gold"]`` (``tgt_ents`` stays empty for the projector);
    ``meta["parallel"]`` names the MAFAND line (``split:line``), ``meta["match"]`` the key.
    """
    data_dir = Path(data_dir)
    test_path = _require_file(data_dir / MASAKHANER_TEST.format(tgt=tgt), "MasakhaNER 2.0 test")
    stats = MatchStats()
    by_strict: dict[str, tuple[str, Any]] = {}
    by_loose: dict[str, tuple[str, Any]] = {}
    loose_lines: list[str] = []
    for split, src_file, tgt_file in mafand_splits(data_dir, src, tgt):
        for pair in read_parallel(src_file, tgt_file):
            entry = (split, pair)
            key = strict_key(pair.tgt)
            if key in by_strict and by_strict[key][1].src != pair.src:
                stats.duplicate_targets += 1
            by_strict.setdefault(key, entry)
            lkey = loose_key(pair.tgt)
            by_loose.setdefault(lkey, entry)
            loose_lines.append(lkey)
    # Keys hold letters and digits only, so NUL never occurs inside one.
    haystack = "\0".join(loose_lines)
    labels = DATASET_LABELS["masakhaner"]
    records: list[PairRecord] = []
    for sent in read_conll(test_path, labels=labels, label_map={"DATE": None}):
        stats.total += 1
        text = " ".join(sent.words)
        lkey = loose_key(text)
        if (found := by_strict.get(strict_key(text))) is not None:
            stats.matched_strict += 1
            how = "strict"
        elif lkey and (found := by_loose.get(lkey)) is not None:
            stats.matched_loose += 1
            how = "loose"
        else:
            if len(lkey) >= MIN_PIECE_KEY and lkey in haystack:
                stats.piece_of_longer_line += 1
            else:
                stats.not_found += 1
            continue
        stats.matched += 1
        split, pair = found
        records.append(
            PairRecord(
                id=f"{test_path}:{sent.line}",
                src_lang=src,
                tgt_lang=tgt,
                src_words=tokenize(pair.src, src),
                tgt_words=list(sent.words),
                meta={"gold": _gold(sent.ents), "parallel": f"{split}:{pair.line}", "match": how},
            )
        )
    return records, stats


def europarl_records(
    data_dir: str | Path, src: str, tgt: str
) -> tuple[list[PairRecord], MatchStats]:
    """Europarl-NER ``src``/``tgt`` sentence pairs with gold entities on both sides.

    ``europarl_ner/{src,tgt}.conll02`` are aligned sentence by sentence; the source gold
    entities (PER/ORG/LOC/MISC) are ``src_ents``, the target ones ``meta["gold"]``.
    """
    data_dir = Path(data_dir)
    labels = DATASET_LABELS["europarl"]
    paths = [
        _require_file(data_dir / EUROPARL_FILE.format(lang=lang), "Europarl-NER file")
        for lang in (src, tgt)
    ]
    src_sents, tgt_sents = (list(read_conll(p, labels=labels)) for p in paths)
    if len(src_sents) != len(tgt_sents):
        raise DataFormatError(
            paths[1],
            (tgt_sents[-1].line if tgt_sents else 1),
            f"{len(tgt_sents)} sentences but {paths[0]} has {len(src_sents)}; "
            "the files must be aligned sentence by sentence",
        )
    records = [
        PairRecord(
            id=f"{paths[1]}:{t.line}",
            src_lang=src,
            tgt_lang=tgt,
            src_words=list(s.words),
            tgt_words=list(t.words),
            src_ents=list(s.ents),
            meta={"gold": _gold(t.ents), "parallel": f"{paths[0]}:{s.line}"},
        )
        for s, t in zip(src_sents, tgt_sents, strict=True)
    ]
    n = len(records)
    return records, MatchStats(total=n, matched=n, matched_strict=n)


def aligner_corpus(
    data_dir: str | Path,
    src: str,
    tgt: str,
    *,
    dataset: str = "masakhaner",
    skip: Iterable[str] = (),
    extra_parallel: Sequence[tuple[str | Path, str | Path]] = (),
) -> tuple[list[list[str]], list[list[str]]]:
    """Extra training text for the (unsupervised) aligner, tokenised like the pairs.

    For ``masakhaner``: every MAFAND pair of the language pair (source words by
    ``tokenize(x, src)``, target words by ``tokenize(x, "xx")`` as in ``xner prepare``),
    except the lines named in ``skip`` (``split:line``; the evaluation pairs themselves,
    so no sentence is counted twice). ``extra_parallel``: further line-aligned
    ``(src_file, tgt_file)`` pairs for any dataset, e.g. NTREX-128 ``ntrex128/eng.txt`` +
    ``ntrex128/spa.txt``; their target side is tokenised with ``tgt``'s spaCy rules (``xx``
    when spaCy has no such language).
    """
    skip = set(skip)
    out_src: list[list[str]] = []
    out_tgt: list[list[str]] = []
    if dataset == "masakhaner":
        for split, src_file, tgt_file in mafand_splits(data_dir, src, tgt):
            for pair in read_parallel(src_file, tgt_file):
                if f"{split}:{pair.line}" not in skip:
                    out_src.append(tokenize(pair.src, src))
                    out_tgt.append(tokenize(pair.tgt, "xx"))
    for extra_src, extra_tgt in extra_parallel:
        for path in (extra_src, extra_tgt):
            _require_file(Path(path), "extra parallel file")
        for pair in read_parallel(extra_src, extra_tgt):
            out_src.append(tokenize(pair.src, src))
            out_tgt.append(tokenize(pair.tgt, tgt))
    return out_src, out_tgt
