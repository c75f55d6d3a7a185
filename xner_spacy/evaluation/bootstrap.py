"""Percentile bootstrap intervals for span F1 over test sentences, alone or paired.

A resample draws as many test sentences as there are, with replacement; its micro and
per-label F1 come from the drawn sentences' (tp, fp, fn) counts (:func:`.spans.sentence_counts`),
so the model never runs again. Drawing sentence ``i`` ``w_i`` times adds ``w_i`` times its
counts, so the totals of every resample are one matrix product, ``weights @ counts``, with the
weights from a (resamples, sentences) index matrix; P/R/F1 follow with spaCy's ``PRFScore``
arithmetic on arrays. Two models scored with the same weights make the paired bootstrap of
``xner compare``. The same seed gives the same resamples, hence the same intervals.

Why not ``scipy.stats.bootstrap``: micro F1 is a ratio of sums of several count arrays (tp, fp
and fn per label; twice that when paired), which scipy would take as 3·labels (·2) paired
samples and a statistic re-summing them per batch; the difference's interval and the share of
resamples A wins need the same resampled totals for both models, which scipy does not return.
By hand it is an index matrix, a bincount and a matrix product.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..io.atomic import atomic_path
from ..types import Entity
from .spans import sentence_counts

LEVEL = 0.95
#: Resamples drawn per block, so that memory stays at about 8 bytes × block × sentences.
BLOCK = 500


def prf(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Precision, recall and F1 of ``counts[..., (tp, fp, fn)]``, as spaCy's ``PRFScore``."""
    tp, fp, fn = counts[..., 0], counts[..., 1], counts[..., 2]
    p = tp / (tp + fp + 1e-100)
    r = tp / (tp + fn + 1e-100)
    return p, r, 2 * ((p * r) / (p + r + 1e-100))


def resample_weights(n_items: int, n_resamples: int, seed: int) -> Iterator[np.ndarray]:
    """How often each item is drawn in each resample: blocks of a (resamples, items) matrix."""
    rng = np.random.default_rng(seed)
    for start in range(0, n_resamples, BLOCK):
        size = min(BLOCK, n_resamples - start)
        index = rng.integers(0, n_items, size=(size, n_items))
        flat = (index + n_items * np.arange(size)[:, None]).ravel()
        yield np.bincount(flat, minlength=size * n_items).reshape(size, n_items)


def resampled_counts(systems: Sequence[np.ndarray], n_resamples: int, seed: int) -> np.ndarray:
    """Total counts of each system in each resample: (resamples, systems, labels, 3).

    ``systems`` are (sentences, labels, 3) count arrays of the same sentences; every system is
    summed over the same resampled sentences (a paired bootstrap).
    """
    stacked = np.stack(systems, axis=1)  # (sentences, systems, labels, 3)
    n_items = stacked.shape[0]
    if n_items == 0:  # nothing to resample: every resample is the empty test set
        return np.zeros((n_resamples, *stacked.shape[1:]))
    flat = stacked.reshape(n_items, -1).astype(np.float64)  # exact for counts below 2**53
    blocks = [w.astype(np.float64) @ flat for w in resample_weights(n_items, n_resamples, seed)]
    return np.concatenate(blocks).reshape(n_resamples, *stacked.shape[1:])


def percentile_interval(values: np.ndarray, level: float = LEVEL) -> list[float]:
    """The central ``level`` percentile interval of ``values`` (along the first axis)."""
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail], axis=0)
    return [float(low), float(high)]


def _settings(n_resamples: int, seed: int) -> dict[str, Any]:
    if n_resamples < 1:
        raise ValueError(f"the bootstrap needs at least 1 resample, got {n_resamples}")
    return {"n": n_resamples, "seed": seed, "unit": "sentence"}


def f1_intervals(
    counts: np.ndarray, labels: Sequence[str], n_resamples: int, seed: int = 0
) -> dict[str, Any]:
    """95 % percentile intervals of micro F1 (``f1_ci``) and of each label's F1."""
    settings = _settings(n_resamples, seed)
    totals = resampled_counts([counts], n_resamples, seed)[:, 0]  # (resamples, labels, 3)
    label_f1 = prf(totals)[2]
    return {
        "f1_ci": percentile_interval(prf(totals.sum(axis=1))[2]),
        "per_label": {
            label: {"f1_ci": percentile_interval(label_f1[:, j])} for j, label in enumerate(labels)
        },
        "bootstrap": settings,
    }


def add_f1_intervals(
    metrics: dict[str, Any],
    gold: Sequence[Sequence[Entity]],
    pred: Sequence[Sequence[Entity]],
    labels: Collection[str] | None,
    n_resamples: int,
    seed: int = 0,
) -> dict[str, Any]:
    """``score_spans`` metrics plus ``f1_ci`` (after ``f1``), per-label ``f1_ci``, ``bootstrap``."""
    wanted, counts = sentence_counts(gold, pred, labels)
    found = f1_intervals(counts, wanted, n_resamples, seed)
    out: dict[str, Any] = {}
    for key, value in metrics.items():
        out[key] = value
        if key == "f1":
            out["f1_ci"] = found["f1_ci"]
    out["per_label"] = {
        label: {**scores, **found["per_label"].get(label, {})}
        for label, scores in metrics["per_label"].items()
    }
    out["bootstrap"] = found["bootstrap"]
    return out


def paired_difference(
    counts_a: np.ndarray,
    counts_b: np.ndarray,
    labels: Sequence[str],
    n_resamples: int,
    seed: int = 0,
) -> dict[str, Any]:
    """Paired bootstrap of F1(A) − F1(B) on the same resampled sentences.

    Returns both F1s and their intervals, the difference with its interval, and
    ``a_better_share``: the share of resamples where A's micro F1 is higher than B's (ties
    count for neither); per label the same without the share.
    """
    settings = _settings(n_resamples, seed)
    totals = resampled_counts([counts_a, counts_b], n_resamples, seed)  # (N, 2, labels, 3)
    micro = prf(totals.sum(axis=2))[2]  # (N, 2)
    point = prf(np.stack([counts_a.sum(axis=(0, 1)), counts_b.sum(axis=(0, 1))]))[2]
    label_point = prf(np.stack([counts_a.sum(axis=0), counts_b.sum(axis=0)], axis=0))[2]
    label_f1 = prf(totals)[2]  # (N, 2, labels)
    return {
        "f1_a": float(point[0]),
        "f1_b": float(point[1]),
        "f1_a_ci": percentile_interval(micro[:, 0]),
        "f1_b_ci": percentile_interval(micro[:, 1]),
        "difference": float(point[0] - point[1]),
        "difference_ci": percentile_interval(micro[:, 0] - micro[:, 1]),
        "a_better_share": float(np.mean(micro[:, 0] > micro[:, 1])),
        "per_label": {
            label: {
                "f1_a": float(label_point[0, j]),
                "f1_b": float(label_point[1, j]),
                "difference": float(label_point[0, j] - label_point[1, j]),
                "difference_ci": percentile_interval(label_f1[:, 0, j] - label_f1[:, 1, j]),
            }
            for j, label in enumerate(labels)
        },
        "bootstrap": settings,
    }


def compare_predictions(
    gold: Sequence[Sequence[Entity]],
    pred_a: Sequence[Sequence[Entity]],
    pred_b: Sequence[Sequence[Entity]],
    labels: Collection[str] | None,
    n_resamples: int,
    seed: int = 0,
) -> dict[str, Any]:
    """:func:`paired_difference` of two models' entities on the same gold sentences."""
    wanted, counts_a = sentence_counts(gold, pred_a, labels)
    wanted_b, counts_b = sentence_counts(gold, pred_b, labels)
    if wanted != wanted_b:  # labels=None: score the union of the labels both found
        wanted = sorted({*wanted, *wanted_b})
        counts_a = sentence_counts(gold, pred_a, wanted)[1]
        counts_b = sentence_counts(gold, pred_b, wanted)[1]
    return {
        "sentences": len(gold),
        **paired_difference(counts_a, counts_b, wanted, n_resamples, seed),
    }


#: Training seeds a trained system needs before its difference from another can be a finding.
MIN_SEEDS = 2


def is_finding(difference_ci: Sequence[float], *seeds: int | None) -> bool:
    """Whether a paired difference is a finding: its interval excludes 0 and every trained
    system behind it has at least :data:`MIN_SEEDS` seeds.

    ``seeds`` holds each side's number of training seeds, ``None`` for a side that is not
    trained here (a given labeller scored as it is). The interval covers the sampling of the
    test sentences only; with one seed the spread between training runs is unknown, and a
    difference of that size may be a seed's luck, so it is never called a finding.
    """
    low, high = difference_ci
    return bool(low > 0 or high < 0) and all(n is None or n >= MIN_SEEDS for n in seeds)


def seed_summary(f1s: Sequence[float]) -> dict[str, Any]:
    """``f1_mean`` and ``f1_sd`` (sample sd, ddof 1; 0.0 for one seed) of per-seed F1s."""
    values = np.asarray(f1s, dtype=np.float64)
    if values.size == 0:
        raise ValueError("no per-seed F1 to summarise")
    sd = float(values.std(ddof=1)) if values.size > 1 else 0.0
    return {"f1_mean": float(values.mean()), "f1_sd": sd}


def seed_mean_f1(
    systems: Sequence[Sequence[np.ndarray]], n_resamples: int, seed: int = 0
) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Each system's micro F1 averaged over its seeds, on the data and on every resample.

    ``systems`` holds, per system, one (sentences, labels, 3) count array per training seed, all
    of the same test sentences and labels. Every resample draws the same sentences for every
    model of every system. Returns the per-model F1 on the data (one array per system, its
    seeds), the seed means on the data (systems,) and on each resample (resamples, systems).
    """
    if not systems or any(not runs for runs in systems):
        raise ValueError("every system needs at least one seed's counts")
    flat = [c for runs in systems for c in runs]
    shapes = {c.shape for c in flat}
    if len(shapes) != 1:
        raise ValueError(f"every seed's counts must cover the same sentences and labels: {shapes}")
    _settings(n_resamples, seed)
    totals = resampled_counts(flat, n_resamples, seed)  # (N, models, labels, 3)
    micro = prf(totals.sum(axis=2))[2]  # (N, models)
    point = prf(np.stack([c.sum(axis=(0, 1)) for c in flat]))[2]
    bounds = np.cumsum([0, *(len(runs) for runs in systems)])
    per_seed = [point[lo:hi] for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)]
    means = np.array([p.mean() for p in per_seed])
    resampled = np.stack(
        [micro[:, lo:hi].mean(axis=1) for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)],
        axis=1,
    )
    return per_seed, means, resampled


def seed_averaged_f1(
    counts: Sequence[np.ndarray], n_resamples: int, seed: int = 0
) -> dict[str, Any]:
    """One system's per-seed F1, their mean and sd, and the 95 % interval of the seed mean
    (``f1_ci``: test sentences resampled, the same draw for every seed's model)."""
    per_seed, _, resampled = seed_mean_f1([counts], n_resamples, seed)
    values = [float(v) for v in per_seed[0]]
    return seed_summary(values) | {
        "f1_per_seed": values,
        "f1_ci": percentile_interval(resampled[:, 0]),
        "bootstrap": _settings(n_resamples, seed),
    }


def seed_averaged_difference(
    counts_a: Sequence[np.ndarray],
    counts_b: Sequence[np.ndarray],
    n_resamples: int,
    seed: int = 0,
) -> dict[str, Any]:
    """Paired bootstrap of mean-over-seeds F1(A) − mean-over-seeds F1(B).

    ``counts_a`` and ``counts_b`` hold one (sentences, labels, 3) array per training seed, all
    of the same test sentences and labels (A's and B's seeds need not be paired or equal in
    number). Every resample draws the same sentences for every model of both systems, so the
    interval covers the test-set sampling of the seed-averaged difference; the spread between
    seeds is reported beside it (``per_seed`` F1s), not folded into the interval.
    ``a_better_share`` is the share of resamples where A's mean is higher (ties count for neither).
    """
    return averaged_difference([(counts_a, counts_b)], n_resamples, seed)


def averaged_difference(
    tests: Sequence[tuple[Sequence[np.ndarray], Sequence[np.ndarray]]],
    n_resamples: int,
    seed: int = 0,
) -> dict[str, Any]:
    """:func:`seed_averaged_difference` of the F1 averaged over several test sets.

    ``tests`` holds ``(counts_a, counts_b)`` per test set (e.g. one per target language). Each
    test set's sentences are resampled on their own (seed ``seed + i`` for the i-th), and a
    resample's F1 of a system is the mean over test sets of its mean-over-seeds F1; with one
    test set this is exactly :func:`seed_averaged_difference`.
    """
    if not tests:
        raise ValueError("no test set to compare on")
    settings = _settings(n_resamples, seed)
    found = [seed_mean_f1([a, b], n_resamples, seed + i) for i, (a, b) in enumerate(tests)]
    means = np.mean([resampled for _, _, resampled in found], axis=0)  # (N, 2)
    point_a, point_b = (float(np.mean([m[side] for _, m, _ in found])) for side in (0, 1))

    def system(side: int, resampled: np.ndarray, point: float) -> dict[str, Any]:
        """F1 mean (and, on one test set, sd and per-seed F1) with its interval."""
        summary: dict[str, Any] = {"f1_mean": point}
        if len(tests) == 1:
            per_seed = [float(v) for v in found[0][0][side]]
            summary = seed_summary(per_seed) | {"per_seed": per_seed}
        return summary | {"f1_ci": percentile_interval(resampled)}

    return {
        "seeds_a": len(tests[0][0]),
        "seeds_b": len(tests[0][1]),
        "test_sets": len(tests),
        "f1_a": system(0, means[:, 0], point_a),
        "f1_b": system(1, means[:, 1], point_b),
        "difference": point_a - point_b,
        "difference_ci": percentile_interval(means[:, 0] - means[:, 1]),
        "a_better_share": float(np.mean(means[:, 0] > means[:, 1])),
        "bootstrap": settings,
    }


def save_counts(path: str | Path, counts: np.ndarray, labels: Sequence[str]) -> None:
    """Write per-sentence (tp, fp, fn) counts and their labels as ``.npz``, atomically."""
    with atomic_path(Path(path)) as tmp, open(tmp, "wb") as fh:
        np.savez_compressed(fh, counts=counts.astype(np.int32), labels=np.array(labels))


def save_sentence_counts(
    path: str | Path,
    gold: Sequence[Sequence[Entity]],
    pred: Sequence[Sequence[Entity]],
    labels: Collection[str] | None,
) -> None:
    """:func:`save_counts` of each gold sentence's (tp, fp, fn) per label of ``pred``."""
    wanted, counts = sentence_counts(gold, pred, labels)
    save_counts(path, counts, wanted)


def load_counts(path: str | Path) -> tuple[list[str], np.ndarray]:
    """The labels and (sentences, labels, 3) counts that :func:`save_counts` wrote."""
    with np.load(Path(path)) as data:
        return [str(x) for x in data["labels"]], data["counts"].astype(np.int64)
