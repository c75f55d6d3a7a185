"""Weights for combining several teachers' distributions (multi-source distillation).

Modes: ``"uniform"``; fixed weights (a list in teacher order, or a dict by teacher name;
missing names weigh 0); ``"similarity"``: each source is weighted by how close its text is to
the target text. The estimator: character n-gram profiles (n = 1..3, within words padded by
spaces, relative frequencies) of the target text and of each teacher's reference text, their
cosine similarity ``s_k``, and ``w_k = softmax(s_k / tau)`` — a small ``tau`` favours the
closest source, a large one tends to uniform (cf. the language-similarity weighting of
Wu et al., ACL 2020); ``"langid"``: a language identifier is trained to tell the sources'
reference texts apart and applied to the target sentences; a source's weight is its mean
predicted probability over the target sentences, sharpened by ``1 / tau`` and renormalised
(Wu et al., ACL 2020, weight teachers by such a classifier on mBERT features; here it is a
logistic regression over hashed character 1–4-grams from scikit-learn, which needs no encoder
and is deterministic). All modes return weights that sum to 1.
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


def langid_weights(
    target: Iterable[str],
    references: Sequence[Iterable[str]],
    temperature: float = 1.0,
    max_per_source: int = 5000,
) -> np.ndarray:
    """Mean probabilities of a source-language identifier on the target sentences.

    The classifier sees at most ``max_per_source`` lines of each reference (the first ones:
    deterministic); weights are ``p_k ** (1 / temperature)`` normalised to sum to 1.
    """
    if temperature <= 0:
        raise ValueError(f"langid temperature must be > 0, got {temperature}")
    texts = [[line for line in ref if line.strip()][:max_per_source] for ref in references]
    empty = [k for k, lines in enumerate(texts) if not lines]
    if empty:
        raise ValueError(f"langid weights: reference {empty} has no text")
    lines = [line for line in target if line.strip()]
    if not lines:
        raise ValueError("langid weights: the target text is empty")
    if len(texts) == 1:
        return np.ones(1)
    from sklearn.feature_extraction.text import HashingVectorizer
    from sklearn.linear_model import LogisticRegression

    vectorizer = HashingVectorizer(
        analyzer="char_wb", ngram_range=(1, 4), n_features=2**18, lowercase=True
    )
    x = vectorizer.transform([line for ref in texts for line in ref])
    y = np.concatenate([np.full(len(ref), k) for k, ref in enumerate(texts)])
    classifier = LogisticRegression(max_iter=1000, C=1.0)
    classifier.fit(x, y)
    mean = classifier.predict_proba(vectorizer.transform(lines)).mean(axis=0)
    sharpened = np.power(np.clip(mean, 1e-12, None), 1.0 / temperature)
    return sharpened / sharpened.sum()


def teacher_weights(
    names: Sequence[str],
    spec: WeightSpec = "uniform",
    *,
    target: Iterable[str] | None = None,
    references: Mapping[str, str | Path] | None = None,
    temperature: float = 0.1,
    langid_temperature: float = 1.0,
) -> np.ndarray:
    """Normalised weights for the teachers ``names`` (see the module docstring for modes).

    ``temperature`` is the similarity estimator's, ``langid_temperature`` the identifier's.
    """
    if not names:
        raise ValueError("at least one teacher is needed")
    if isinstance(spec, str):
        if spec == "uniform":
            return np.full(len(names), 1.0 / len(names))
        if spec in ("similarity", "langid"):
            tau = temperature if spec == "similarity" else langid_temperature
            return _estimate_from_files(spec, names, target, references, tau)
        raise ValueError(
            f"unknown weighting {spec!r}: 'uniform', 'similarity', 'langid', a list or dict"
        )
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


def _estimate_from_files(
    mode: str,
    names: Sequence[str],
    target: Iterable[str] | None,
    references: Mapping[str, str | Path] | None,
    temperature: float,
) -> np.ndarray:
    missing = [name for name in names if name not in (references or {})]
    if target is None or missing:
        raise ValueError(f"{mode!r} weights need target text and references for {missing}")
    assert references is not None
    texts = [Path(references[name]).read_text(encoding="utf8").splitlines() for name in names]
    if mode == "langid":
        return langid_weights(target, texts, temperature)
    return similarity_weights(target, texts, temperature)
