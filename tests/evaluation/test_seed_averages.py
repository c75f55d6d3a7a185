"""Seed-averaged F1 on one test set and averaged over several: intervals and differences."""

from __future__ import annotations

import numpy as np
import pytest

from xner_spacy.evaluation.bootstrap import percentile_interval, seed_averaged_difference
from xner_spacy.evaluation.seed_averages import (
    averaged_difference,
    excludes_zero,
    resampled_seed_means,
    seed_for_test_set,
)


def counts(n: int, quality: float, seed: int) -> np.ndarray:
    """(n sentences, 3 labels, (tp, fp, fn)) of a model that finds about ``quality`` of the
    gold entities and adds about ``1 - quality`` spurious ones per label."""
    rng = np.random.default_rng(seed)
    gold = rng.integers(0, 3, (n, 3))
    tp = rng.binomial(gold, quality)
    return np.stack([tp, rng.binomial(2, 1 - quality, (n, 3)), gold - tp], axis=-1)


def test_a_test_sets_seed_follows_from_the_run_seed_and_its_name_only() -> None:
    assert seed_for_test_set(0, "yor") == seed_for_test_set(0, "yor")
    seeds = {seed_for_test_set(s, lang) for s in (0, 1) for lang in ("yor", "hau", "swa")}
    assert len(seeds) == 6


def test_one_test_set_gives_the_intervals_of_seed_averaged_difference() -> None:
    """Same seed, same draws: the row's interval and the pair's are those of bootstrap.py."""
    a = [counts(80, 0.8, s) for s in (1, 2, 3)]
    b = [counts(80, 0.6, 4)]
    means = resampled_seed_means({"a": a, "b": b}, 300, seed=5)
    assert means["a"].shape == (300,)
    found = seed_averaged_difference(a, b, 300, seed=5)
    assert percentile_interval(means["a"]) == found["f1_a"]["f1_ci"]
    assert percentile_interval(means["b"]) == found["f1_b"]["f1_ci"]
    mine = averaged_difference(
        [means["a"]], [means["b"]], [found["f1_a"]["f1_mean"]], [found["f1_b"]["f1_mean"]]
    )
    for key in ("difference", "difference_ci", "a_better_share"):
        assert mine[key] == pytest.approx(found[key], abs=1e-12), key
    assert mine["finding"] and mine["a_better_share"] > 0.95  # 0.8 against 0.6 on 80 sentences


def test_the_average_over_test_sets_averages_each_resample() -> None:
    sets = {"yor": 60, "hau": 90}
    means = {
        lang: resampled_seed_means(
            {
                "good": [counts(n, 0.8, 10 + i), counts(n, 0.75, 20 + i)],
                "same": [counts(n, 0.8, 10 + i), counts(n, 0.75, 20 + i)],
                "weak": [counts(n, 0.5, 30 + i)],
            },
            400,
            seed_for_test_set(0, lang),
        )  # fmt: skip
        for i, (lang, n) in enumerate(sets.items())
    }
    points = {lang: {k: float(v.mean()) for k, v in m.items()} for lang, m in means.items()}

    def compare(a: str, b: str) -> dict:
        return averaged_difference(
            [means[lang][a] for lang in sets], [means[lang][b] for lang in sets],
            [points[lang][a] for lang in sets], [points[lang][b] for lang in sets],
        )  # fmt: skip

    better = compare("good", "weak")
    assert better["finding"] and better["a_better_share"] == 1.0
    assert better["f1_a"] == pytest.approx(np.mean([points[lang]["good"] for lang in sets]))
    low, high = better["difference_ci"]
    assert low < better["difference"] < high
    # each language's own interval of the difference is wider than that of their average
    for lang in sets:
        own = percentile_interval(means[lang]["good"] - means[lang]["weak"])
        assert own[1] - own[0] > high - low
    # the same models: no difference in any resample, and no resample that A wins
    same = compare("good", "same")
    assert same["difference_ci"] == [0.0, 0.0] and same["a_better_share"] == 0.0
    assert not same["finding"]


def test_intervals_that_exclude_zero_and_counts_that_do_not_fit() -> None:
    assert excludes_zero([0.01, 0.2]) and excludes_zero([-0.3, -0.01])
    assert not excludes_zero([-0.01, 0.2]) and not excludes_zero([0.0, 0.1])
    with pytest.raises(ValueError, match="same sentences"):
        resampled_seed_means({"a": [counts(5, 0.5, 0)], "b": [counts(6, 0.5, 0)]}, 10, 0)
    with pytest.raises(ValueError, match="at least one seed"):
        resampled_seed_means({"a": [counts(5, 0.5, 0)], "b": []}, 10, 0)
    with pytest.raises(ValueError, match="same test sets"):
        averaged_difference([np.zeros(3)], [], [0.5], [0.5])
