"""Weights for combining several teachers' distributions (multi-source distillation).

Modes: ``"uniform"``; fixed weights (a list in teacher order, or a dict by teacher name;
missing names weigh 0); ``"similarity"``: each source is weighted by how close its text is to
the target text. The estimator: character n-gram profiles (n = 1..3, within words padded by
spaces, relative frequencies) of the target text and of each teacher's reference text, their
cosine similarity ``s_k``, and ``w_k = softmax(s_k / tau)`` — a small ``tau`` favours the
closest source, a large one tends to uniform (cf. the language-similarity weighting of
Wu et al., ACL 2020). All modes return weights that sum to 1.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

WeightSpec = str | Sequence[float] | Mapping[str, float]


def char_ngram_profile(lines: Iterable[str], n_max: int = 3) -> Counter[str]:
    """Counts of character 1..n_max-grams of each word, padded with a space at both ends."""
    counts: Counter[str] = Counter()
    for line in lines:
        for word in line.lower().split():
            padded = f" {word} "
            for n in range(1, n_max + 1):
                counts.update(padded[i : i + n] for i in range(len(padded) - n + 1))
    return counts


def cosine(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    """Cosine similarity of two sparse count vectors (0 if either is empty)."""
    dot = sum(v * b.get(k, 0.0) for k, v in a.items())
    norm = np.sqrt(sum(v * v for v in a.values())) * np.sqrt(sum(v * v for v in b.values()))
    return float(dot / norm) if norm else 0.0


def similarity_weights(
    target: Iterable[str], references: Sequence[Iterable[str]], temperature: float = 0.1
) -> np.ndarray:
    """``softmax(cos(target, reference_k) / temperature)`` over character n-gram profiles."""
    if temperature <= 0:
        raise ValueError(f"similarity temperature must be > 0, got {temperature}")
    profile = char_ngram_profile(target)
    sims = np.array([cosine(profile, char_ngram_profile(ref)) for ref in references])
    z = np.exp((sims - sims.max()) / temperature)
    return z / z.sum()


def teacher_weights(
    names: Sequence[str],
    spec: WeightSpec = "uniform",
    *,
    target: Iterable[str] | None = None,
    references: Mapping[str, str | Path] | None = None,
    temperature: float = 0.1,
) -> np.ndarray:
    """Normalised weights for the teachers ``names`` (see the module docstring for modes)."""
    if not names:
        raise ValueError("at least one teacher is needed")
    if isinstance(spec, str):
        if spec == "uniform":
            return np.full(len(names), 1.0 / len(names))
        if spec == "similarity":
            return _similarity_from_files(names, target, references, temperature)
        raise ValueError(f"unknown weighting {spec!r}: 'uniform', 'similarity', a list or dict")
    if isinstance(spec, Mapping):
        unknown = set(spec) - set(names)
        if unknown:
            raise ValueError(f"weights name unknown teachers {sorted(unknown)}; have {names}")
        raw = np.array([float(spec.get(name, 0.0)) for name in names])
    else:
        raw = np.array([float(w) for w in spec])
        if len(raw) != len(names):
            raise ValueError(f"{len(raw)} weights for {len(names)} teachers")
    if (raw < 0).any() or raw.sum() <= 0:
        raise ValueError(f"weights must be non-negative with a positive sum, got {list(raw)}")
    return raw / raw.sum()


def _similarity_from_files(
    names: Sequence[str],
    target: Iterable[str] | None,
    references: Mapping[str, str | Path] | None,
    temperature: float,
) -> np.ndarray:
    missing = [name for name in names if name not in (references or {})]
    if target is None or missing:
        raise ValueError(f"'similarity' weights need target text and references for {missing}")
    assert references is not None
    texts = [Path(references[name]).read_text(encoding="utf8").splitlines() for name in names]
    return similarity_weights(target, texts, temperature)
