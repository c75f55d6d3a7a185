"""Benchmark inputs: real MAFAND-MT pairs carried through the pipeline once, then cached.

Every step is measured on a prefix of the same records, so the figures for different sizes
and steps describe the same sentences. Expensive inputs (labelled and aligned records, the
silver DocBins, a trained pipeline) are built once per (corpus, size, labeller, ...) under a
cache folder and reused by later runs; a file made for ``n`` records serves every size
``<= n``. ``--quick`` runs use :func:`write_synthetic_data` instead of the data mirror.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

from xner_spacy.io.records import read_records, write_records
from xner_spacy.types import PairRecord

#: Word prefix length the statistical aligners see, as in ``configs/projection*.cfg``.
PREFIX_LEN = 4
#: Default cache folder (ignored by git through benchmarks/.gitignore).
DEFAULT_CACHE = Path(__file__).resolve().parent / ".cache"


def slug(text: str) -> str:
    """A file-name-safe tag for a model name or path."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text.strip("/"))[-60:] or "x"


def take(path: Path, n: int) -> list[PairRecord]:
    """The first ``n`` records of a JSONL file, in memory (timed steps take no I/O)."""
    return list(islice(read_records(path), n))


def count_lines(path: Path) -> int:
    """Number of records in a JSONL file (one per line)."""
    with open(path, "rb") as fh:
        return sum(1 for _ in fh)


@dataclass(frozen=True)
class Corpus:
    """Where the benchmark's records come from and where its cached inputs live."""

    data_dir: Path
    src: str
    tgt: str
    cache: Path

    @property
    def folder(self) -> Path:
        """Cache folder of this language pair and data directory."""
        return self.cache / f"{slug(str(self.data_dir.resolve()))}" / f"{self.src}-{self.tgt}"

    def find(self, name: str, n: int) -> Path | None:
        """A cached ``<name>.<m>.jsonl`` with ``m >= n`` records (the smallest such), if any."""
        best: tuple[int, Path] | None = None
        for path in self.folder.glob(f"{name}.*.jsonl"):
            stem = path.name[len(name) + 1 : -len(".jsonl")]
            if stem.isdigit() and int(stem) >= n and (best is None or int(stem) < best[0]):
                best = (int(stem), path)
        return None if best is None else best[1]

    def path(self, name: str, n: int) -> Path:
        """Where a cached file of ``n`` records is written."""
        self.folder.mkdir(parents=True, exist_ok=True)
        return self.folder / f"{name}.{n}.jsonl"


def available_pairs(corpus: Corpus) -> int:
    """How many MAFAND-MT pairs the corpus has over all its splits."""
    from xner_spacy.io.parallel import mafand_splits

    total = 0
    for _, src_file, _ in mafand_splits(corpus.data_dir, corpus.src, corpus.tgt):
        total += count_lines(src_file)
    return total


def cached_name(kind: str, labeller: str, label_map: str) -> str:
    """File-name stem of a cached record file of ``kind`` (labelled, aligned, projected)."""
    tail = {"labelled": "", "aligned": "-fast_align", "projected": "-fast_align-gf2022"}[kind]
    return f"{kind}-{slug(labeller)}-{slug(label_map)}{tail}"


def pairs_file(corpus: Corpus, n: int) -> Path:
    """Tokenised pair records (the ``prepare`` step's output, test sentences removed)."""
    found = corpus.find("pairs", n)
    if found is not None:
        return found
    from xner_spacy.runner.batch_steps import prepare_parallel

    out = corpus.path("pairs", n)
    prepare_parallel(corpus.data_dir, corpus.src, corpus.tgt, out, limit=n)
    return out


def labelled_file(corpus: Corpus, n: int, labeller: str, label_map: str) -> Path:
    """Pair records with ``src_ents`` from a spaCy labeller."""
    name = cached_name("labelled", labeller, label_map)
    found = corpus.find(name, n)
    if found is not None:
        return found
    from xner_spacy.labelling.spacy_labeller import SpacyLabeller

    records = take(pairs_file(corpus, n), n)
    found_ents = SpacyLabeller(labeller, label_map=label_map).label(r.src_words for r in records)
    for rec, ents in zip(records, found_ents, strict=True):
        rec.src_ents = ents
    out = corpus.path(name, len(records))
    write_records(out, records)
    return out


def aligned_file(corpus: Corpus, n: int, labeller: str, label_map: str) -> Path:
    """Labelled records aligned by fast_align over all ``n`` pairs (as ``projection_fast.cfg``)."""
    name = cached_name("aligned", labeller, label_map)
    found = corpus.find(name, n)
    if found is not None:
        return found
    from xner_spacy.alignment.statistical_aligners import FastAlignAligner

    records = take(labelled_file(corpus, n, labeller, label_map), n)
    links = FastAlignAligner(prefix_len=PREFIX_LEN).align(
        [r.src_words for r in records], [r.tgt_words for r in records]
    )
    for rec, pairs in zip(records, links, strict=True):
        rec.alignment = sorted(pairs)
    out = corpus.path(name, len(records))
    write_records(out, records)
    return out


def projected_file(corpus: Corpus, n: int, labeller: str, label_map: str) -> Path:
    """Aligned records with ``tgt_ents`` from the gf2022 heuristic (the default method)."""
    name = cached_name("projected", labeller, label_map)
    found = corpus.find(name, n)
    if found is not None:
        return found
    from xner_spacy.projection.heuristic_projection import HeuristicProjector

    project = HeuristicProjector()
    records = take(aligned_file(corpus, n, labeller, label_map), n)
    for rec in records:
        assert rec.src_ents is not None and rec.alignment is not None
        rec.tgt_ents = project(rec.src_words, rec.tgt_words, rec.src_ents, rec.alignment)
    out = corpus.path(name, len(records))
    write_records(out, records)
    return out


def docbin_dir(corpus: Corpus, n: int, labeller: str, label_map: str) -> Path:
    """``train.spacy`` / ``dev.spacy`` of ``n`` projected records (the ``convert`` step)."""
    out = corpus.folder / f"docbin-{slug(labeller)}-{slug(label_map)}.{n}"
    if (out / "train.spacy").is_file() and (out / "dev.spacy").is_file():
        return out
    from xner_spacy.runner.batch_steps import convert_records

    src = projected_file(corpus, n, labeller, label_map)
    if count_lines(src) != n:  # convert exactly n records
        tmp = corpus.path(cached_name("projected", labeller, label_map) + "-exact", n)
        write_records(tmp, take(src, n))
        src = tmp
    convert_records(src, out, dev_fraction=0.05)
    return out


def tiny_encoder(cache: Path) -> Path | None:
    """A randomly initialised 2-layer XLM-R built by ``tests/tiny_models.py`` (None: no torch)."""
    import importlib.util
    import sys

    if any(importlib.util.find_spec(m) is None for m in ("torch", "transformers", "tokenizers")):
        return None
    out = cache / "tiny_xlmr"
    if (out / "config.json").is_file():
        return out
    tests = Path(__file__).resolve().parents[1] / "tests"
    sys.path.insert(0, str(tests))
    try:
        from tiny_models import save_tiny_xlmr
    finally:
        sys.path.remove(str(tests))
    return save_tiny_xlmr(out)


# --- tiny generated data for --quick -----------------------------------------------------

_NAMES = [
    ("Ada Obi", "PER"),
    ("Bola", "PER"),
    ("Chidi Eze", "PER"),
    ("Lagos", "LOC"),
    ("Abuja", "LOC"),
    ("Kano State", "LOC"),
    ("Unilag", "ORG"),
    ("Shell", "ORG"),
    ("Dangote Group", "ORG"),
]
_TEMPLATES = [
    ("{0} went to {1} yesterday.", "{0} alikwenda {1} jana."),
    ("The people of {1} like {0} very much.", "Watu wa {1} wanampenda {0} sana."),
    ("{0} works for {1} now, they said.", "{0} anafanya kazi {1} sasa, walisema."),
    ("We saw {0} and {1} today!", "Tuliona {0} na {1} leo!"),
]


def synthetic_sentences(n: int, seed: int = 0) -> Iterator[tuple[str, str]]:
    """Deterministic toy English/target sentence pairs naming people, places, organisations."""
    rng = random.Random(seed)
    for _ in range(n):
        src, tgt = rng.choice(_TEMPLATES)
        a, b = (name for name, _ in rng.sample(_NAMES, 2))
        yield src.format(a, b), tgt.format(a, b)


def write_synthetic_data(root: Path, n: int, tgt: str = "zzz") -> Path:
    """A data directory with ``mafand/en-<tgt>/train.*`` of ``n`` generated pairs."""
    folder = root / "mafand" / f"en-{tgt}"
    folder.mkdir(parents=True, exist_ok=True)
    pairs = list(synthetic_sentences(n))
    (folder / "train.en").write_text("".join(s + "\n" for s, _ in pairs), encoding="utf8")
    (folder / f"train.{tgt}").write_text("".join(t + "\n" for _, t in pairs), encoding="utf8")
    return root


def write_ruler_labeller(path: Path) -> Path:
    """A spaCy pipeline whose ``ner`` is an entity ruler for the generated names (CoNLL labels).

    Lets ``--quick`` label real spaCy ``Doc`` objects without an installed trained model.
    """
    if (path / "config.cfg").is_file():
        return path
    import spacy

    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler", name="ner")
    patterns: list[dict[str, Any]] = [
        {"label": label, "pattern": [{"ORTH": w} for w in name.split()]} for name, label in _NAMES
    ]
    ruler.add_patterns(patterns)  # type: ignore[attr-defined]
    nlp.to_disk(path)
    return path


def write_json(path: Path, data: Any) -> None:
    """Write JSON with a trailing newline (parents created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf8")
