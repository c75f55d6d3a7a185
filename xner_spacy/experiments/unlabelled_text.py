"""Unlabelled target-language text for the teacher corpus (and for static vectors).

The students of the distillation experiment learn from raw target sentences: the target sides
of MAFAND-MT (every split, every pair with the target language) and the *train* split of
MasakhaNER 2.0 with its labels removed. Test sentences never reach it: every sentence of a
held-out test set (MasakhaNER 2.0 and WikiANN test of the language, via
:class:`xner_spacy.runner.batch_steps.HeldOutFilter`)
is removed, and so are duplicates; both are counted.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from ..io.atomic import atomic_write
from ..io.conll import read_conll
from ..io.parallel import SPLITS, clean_lines
from ..runner.batch_steps import HeldOutFilter, held_out_files
from ..text import loose_key

#: The corpora :func:`target_sentences` can draw on.
TEXT_SOURCES = ("mafand", "masakhaner-train", "ntrex")


def _mafand_lines(data_dir: Path, lang: str) -> Iterator[str]:
    """Every MAFAND-MT line in ``lang`` (all pairs with it, all splits)."""
    root = data_dir / "mafand"
    pairs = sorted(root.glob(f"*-{lang}")) + sorted(root.glob(f"{lang}-*"))
    for folder in pairs:
        for split in SPLITS:
            path = folder / f"{split}.{lang}"
            if path.is_file():
                yield from clean_lines(path)


def _masakhaner_train_lines(data_dir: Path, lang: str) -> Iterator[str]:
    """MasakhaNER 2.0 *train* sentences as space-joined words, labels dropped."""
    path = data_dir / "masakhaner2" / lang / "train.txt"
    if path.is_file():
        for sent in read_conll(path, skip_malformed=True):
            yield " ".join(sent.words)


def _ntrex_lines(data_dir: Path, lang: str) -> Iterator[str]:
    from ..language_codes import to_iso3

    path = data_dir / "ntrex128" / f"{to_iso3(lang)}.txt"
    if path.is_file():
        yield from clean_lines(path)


_READERS = {
    "mafand": _mafand_lines,
    "masakhaner-train": _masakhaner_train_lines,
    "ntrex": _ntrex_lines,
}


def target_sentences(
    data_dir: str | Path,
    lang: str,
    *,
    sources: Sequence[str] = ("mafand", "masakhaner-train"),
    held_out: HeldOutFilter | None = None,
    counts: dict[str, Any] | None = None,
) -> Iterator[str]:
    """Distinct sentences of ``lang`` from ``sources``, minus the held-out test sentences.

    ``held_out`` defaults to the language's MasakhaNER 2.0 and WikiANN test sets;
    ``counts`` (if given) receives per-source, removed and duplicate counts.
    """
    unknown = set(sources) - set(_READERS)
    if unknown:
        raise ValueError(f"unknown text sources {sorted(unknown)}; use {TEXT_SOURCES}")
    data_dir = Path(data_dir)
    if held_out is None:
        held_out = HeldOutFilter.from_conll(held_out_files(data_dir, lang))
    counts = counts if counts is not None else {}
    counts.setdefault("removed_test_overlap", 0)
    counts.setdefault("duplicates", 0)
    seen: set[str] = set()
    for source in sources:
        kept = 0
        for text in _READERS[source](data_dir, lang):
            key = loose_key(text)
            if not key:
                continue
            if text in held_out:
                counts["removed_test_overlap"] += 1
                continue
            if key in seen:
                counts["duplicates"] += 1
                continue
            seen.add(key)
            kept += 1
            yield text
        counts[source] = kept


def write_target_text(
    data_dir: str | Path,
    lang: str,
    output: str | Path,
    *,
    sources: Sequence[str] = ("mafand", "masakhaner-train"),
    max_sentences: int = 0,
    seed: int = 0,
) -> dict[str, Any]:
    """Write unlabelled target sentences, one per line, shuffled by ``seed`` and capped.

    Shuffling (deterministic) before the cap keeps every source represented; 0: no cap.
    """
    counts: dict[str, Any] = {"lang": lang, "sources": list(sources)}
    counts["held_out_files"] = [str(p) for p in held_out_files(data_dir, lang)]
    lines = list(target_sentences(data_dir, lang, sources=sources, counts=counts))
    if not lines:  # a wrong language code or data directory, not an empty corpus to train on
        raise ValueError(
            f"no {lang} sentences in {', '.join(sources)} under {data_dir} (files looked for: "
            f"mafand/*-{lang}/*.{lang}, mafand/{lang}-*/*.{lang}, masakhaner2/{lang}/train.txt, "
            f"ntrex128/<its code>.txt)"
        )
    random.Random(seed).shuffle(lines)
    if max_sentences:
        lines = lines[:max_sentences]
    with atomic_write(output) as fh:
        for line in lines:
            fh.write(line + "\n")
    counts["written"] = len(lines)
    return counts
