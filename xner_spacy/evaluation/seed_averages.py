"""Seed-averaged F1 on one test set and averaged over several, with bootstrap intervals.

A research table trains each system (a column: a config, a student) once per training seed and
scores every model on several test sets (languages), keeping each test sentence's counts
(:func:`.bootstrap.save_counts`). On one test set, :func:`resampled_seed_means` draws the test
sentences once per resample (:func:`.bootstrap.resampled_counts`) and scores every seed of every
system on that same draw; a system's value in a resample is the mean over its seeds of micro F1.
With the same bootstrap seed the draws are those of :func:`.bootstrap.seed_averaged_difference`,
so a row's interval and its paired comparisons rest on the same resamples.

The average over test sets resamples each test set's sentences independently (every language
is a sample of its own sentences; the languages themselves are fixed, not drawn) and averages
the test sets' seed means in each resample. Each test set's bootstrap seed comes from the run's
seed and the test set's name (:func:`seed_for_test_set`), so a language's draws, hence its
intervals, do not depend on which other languages the run has or in which order.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .bootstrap import percentile_interval, prf, resampled_counts


def seed_for_test_set(seed: int, name: str) -> int:
    """The bootstrap seed of test set ``name`` in a run seeded ``seed`` (not its position)."""
    sequence = np.random.SeedSequence([seed, zlib.crc32(name.encode("utf8"))])
    return int(sequence.generate_state(1)[0])


def resampled_seed_means(
    systems: Mapping[str, Sequence[np.ndarray]], n_resamples: int, seed: int
) -> dict[str, np.ndarray]:
    """Each system's mean over its seeds of micro F1 in each resample, a (resamples,) array.

    ``systems`` maps a name to one (sentences, labels, 3) count array per seed, all of the same
    test sentences and labels; every model of every system is scored on the same resamples.
    """
    names = [name for name in systems if len(systems[name])]
    if len(names) != len(systems):
        raise ValueError("every system needs at least one seed's counts")
    flat = [counts for name in names for counts in systems[name]]
    shapes = {counts.shape for counts in flat}
    if len(shapes) != 1:
        raise ValueError(f"every model's counts must cover the same sentences and labels: {shapes}")
    if n_resamples < 1:
        raise ValueError(f"the bootstrap needs at least 1 resample, got {n_resamples}")
    micro = prf(resampled_counts(flat, n_resamples, seed).sum(axis=2))[2]  # (N, models)
    out, start = {}, 0
    for name in names:
        stop = start + len(systems[name])
        out[name] = micro[:, start:stop].mean(axis=1)
        start = stop
    return out


def excludes_zero(interval: Sequence[float]) -> bool:
    """Whether a difference's interval lies wholly above or below 0: a finding."""
    return bool(interval[0] > 0 or interval[1] < 0)


def averaged_difference(
    resampled_a: Sequence[np.ndarray],
    resampled_b: Sequence[np.ndarray],
    point_a: Sequence[float],
    point_b: Sequence[float],
) -> dict[str, Any]:
    """A − B of the F1 averaged over test sets, with its 95 % interval and the share A wins.

    ``resampled_a[t]`` and ``resampled_b[t]`` are test set ``t``'s seed means in each resample
    (:func:`resampled_seed_means`, A and B on the same draws); ``point_a[t]`` and ``point_b[t]``
    its seed means on the whole test set.
    """
    if not resampled_a or len({len(resampled_a), len(resampled_b), len(point_a), len(point_b)}) > 1:
        raise ValueError("A and B need the same test sets, at least one")
    mean_a, mean_b = np.mean(resampled_a, axis=0), np.mean(resampled_b, axis=0)
    interval = percentile_interval(mean_a - mean_b)
    return {
        "f1_a": float(np.mean(point_a)),
        "f1_b": float(np.mean(point_b)),
        "difference": float(np.mean(point_a) - np.mean(point_b)),
        "difference_ci": interval,
        "a_better_share": float(np.mean(mean_a > mean_b)),
        "finding": excludes_zero(interval),
    }
