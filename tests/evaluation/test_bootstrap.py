"""Percentile and paired bootstrap intervals of span F1 over test sentences."""

from __future__ import annotations

import random

import numpy as np
import pytest

from xner_spacy.evaluation.bootstrap import (
    add_f1_intervals,
    averaged_difference,
    compare_predictions,
    f1_intervals,
    load_counts,
    paired_difference,
    resampled_counts,
    save_counts,
    seed_averaged_difference,
    seed_summary,
)
from xner_spacy.evaluation.spans import score_spans, sentence_counts
from xner_spacy.types import Entity as E

LABELS = ["PER", "ORG", "LOC"]


def _noisy(
    n: int, seed: int, error: float = 0.3, pred_seed: int = 0
) -> tuple[list[list[E]], list[list[E]]]:
    """Gold sentences, and predictions that miss, shift or relabel about ``error`` of them."""
    rng = random.Random(seed)
    gold = [
        [E(2 * i, 2 * i + 1, rng.choice(LABELS + ["DATE"])) for i in range(rng.randint(0, 3))]
        for _ in range(n)
    ]
    rng = random.Random(pred_seed)
    pred = []
    for ents in gold:
        guess = []
        for e in ents:
            roll = rng.random()
            if roll < error / 3:
                continue  # missed
            if roll < 2 * error / 3:
                guess.append(E(e.start, e.end + 1, e.label))  # wrong boundary
            elif roll < error:
                guess.append(E(e.start, e.end, rng.choice(LABELS)))  # maybe the wrong label
            else:
                guess.append(e)
        if rng.random() < error / 3:
            guess.append(E(20, 21, rng.choice(LABELS)))  # spurious
        pred.append(guess)
    return gold, pred


@pytest.mark.parametrize("labels", [LABELS, None])
def test_sentence_counts_sum_to_score_spans_exactly(labels: list[str] | None) -> None:
    gold, pred = _noisy(80, seed=1)
    metrics = score_spans(gold, pred, labels)
    wanted, counts = sentence_counts(gold, pred, labels)
    assert wanted == list(metrics["per_label"]) and counts.shape == (80, len(wanted), 3)
    tp, fp, fn = (int(x) for x in counts.sum(axis=(0, 1)))
    assert tp / (tp + fp + 1e-100) == metrics["precision"]
    assert tp / (tp + fn + 1e-100) == metrics["recall"]
    assert tp + fn == metrics["gold_entities"] and tp + fp == metrics["pred_entities"]
    for j, label in enumerate(wanted):
        ltp, lfp, lfn = (int(x) for x in counts[:, j].sum(axis=0))
        assert ltp + lfn == metrics["per_label"][label]["support"]
        assert ltp / (ltp + lfp + 1e-100) == metrics["per_label"][label]["precision"]
    # the vectorised F1 of the summed counts is score_spans's, to the last bit
    from xner_spacy.evaluation.bootstrap import prf

    assert float(prf(counts.sum(axis=(0, 1)))[2]) == metrics["f1"]


def test_interval_contains_point_and_shrinks_with_more_sentences() -> None:
    gold, pred = _noisy(60, seed=2)
    small = add_f1_intervals(score_spans(gold, pred), gold, pred, LABELS, 1000, seed=0)
    big_gold, big_pred = gold * 16, pred * 16  # the same sentences, 16 times as many
    big = add_f1_intervals(score_spans(big_gold, big_pred), big_gold, big_pred, LABELS, 1000)
    for m in (small, big):
        low, high = m["f1_ci"]
        assert low < m["f1"] < high
        for scores in m["per_label"].values():
            assert scores["f1_ci"][0] <= scores["f1"] <= scores["f1_ci"][1]
    assert big["f1"] == small["f1"]
    width = {k: m["f1_ci"][1] - m["f1_ci"][0] for k, m in (("small", small), ("big", big))}
    assert width["big"] < width["small"] / 2  # about 1/4: the width goes as 1/sqrt(n)
    assert small["bootstrap"] == {"n": 1000, "seed": 0, "unit": "sentence"}
    keys = list(small)
    assert keys[keys.index("f1") + 1] == "f1_ci"
    assert set(keys) == set(score_spans(gold, pred)) | {"f1_ci", "bootstrap"}


def test_same_seed_same_intervals_other_seed_other_resamples() -> None:
    gold, pred = _noisy(50, seed=3)
    _, counts = sentence_counts(gold, pred, LABELS)
    first = f1_intervals(counts, LABELS, 300, seed=7)
    assert f1_intervals(counts, LABELS, 300, seed=7) == first
    assert f1_intervals(counts, LABELS, 300, seed=8)["f1_ci"] != first["f1_ci"]
    # blocks of resamples: more resamples than one block extend the same stream
    many = resampled_counts([counts], 1200, seed=7)
    assert np.array_equal(many[:300], resampled_counts([counts], 300, seed=7))
    assert many.shape == (1200, 1, 3, 3) and many.sum(axis=(1, 2, 3)).min() > 0


def test_a_model_compared_with_itself_differs_by_zero() -> None:
    gold, pred = _noisy(40, seed=4)
    found = compare_predictions(gold, pred, pred, LABELS, 500, seed=0)
    assert found["difference"] == 0 and found["difference_ci"] == [0.0, 0.0]
    assert found["a_better_share"] == 0.0 and found["f1_a_ci"] == found["f1_b_ci"]
    assert all(v["difference_ci"] == [0.0, 0.0] for v in found["per_label"].values())


def test_a_better_model_wins_most_resamples() -> None:
    gold, worse = _noisy(100, seed=5, error=0.5)
    _, better = _noisy(100, seed=5, error=0.1, pred_seed=1)  # the same gold, fewer errors
    found = compare_predictions(gold, better, worse, LABELS, 1000, seed=0)
    assert found["f1_a"] == score_spans(gold, better)["f1"]
    assert found["f1_b"] == score_spans(gold, worse)["f1"]
    low, high = found["difference_ci"]
    assert 0 < low < found["difference"] < high
    assert found["a_better_share"] > 0.95
    flipped = compare_predictions(gold, worse, better, LABELS, 1000, seed=0)
    assert flipped["difference_ci"] == pytest.approx([-high, -low])
    assert flipped["a_better_share"] == pytest.approx(1 - found["a_better_share"])


def test_no_sentences_and_no_resamples() -> None:
    empty = np.zeros((0, 3, 3), dtype=np.int64)
    assert f1_intervals(empty, LABELS, 10)["f1_ci"] == [0.0, 0.0]
    with pytest.raises(ValueError, match="at least 1 resample"):
        f1_intervals(empty, LABELS, 0)


def test_seed_summary_mean_and_sample_sd() -> None:
    assert seed_summary([0.5]) == {"f1_mean": 0.5, "f1_sd": 0.0}
    found = seed_summary([0.6, 0.7, 0.8])
    assert found["f1_mean"] == pytest.approx(0.7) and found["f1_sd"] == pytest.approx(0.1)
    with pytest.raises(ValueError, match="no per-seed F1"):
        seed_summary([])


def test_seed_averaged_difference_with_one_seed_each_is_the_paired_bootstrap() -> None:
    gold, worse = _noisy(80, seed=6, error=0.5)
    _, better = _noisy(80, seed=6, error=0.1, pred_seed=1)
    a, b = sentence_counts(gold, better, LABELS)[1], sentence_counts(gold, worse, LABELS)[1]
    single = paired_difference(a, b, LABELS, 400, seed=3)
    found = seed_averaged_difference([a], [b], 400, seed=3)
    assert found["difference"] == pytest.approx(single["difference"])
    assert found["difference_ci"] == pytest.approx(single["difference_ci"])
    assert found["a_better_share"] == pytest.approx(single["a_better_share"])
    assert found["f1_a"]["per_seed"] == [pytest.approx(single["f1_a"])]


def test_seed_averaged_difference_averages_the_seeds_of_each_system() -> None:
    gold, _ = _noisy(60, seed=7)
    runs_a = [sentence_counts(gold, _noisy(60, 7, 0.1, pred_seed=s)[1], LABELS)[1] for s in (1, 2)]
    runs_b = [
        sentence_counts(gold, _noisy(60, 7, 0.6, pred_seed=s)[1], LABELS)[1] for s in (3, 4, 5)
    ]
    found = seed_averaged_difference(runs_a, runs_b, 500, seed=0)
    assert (found["seeds_a"], found["seeds_b"]) == (2, 3)
    assert found["difference"] == pytest.approx(found["f1_a"]["f1_mean"] - found["f1_b"]["f1_mean"])
    low, high = found["difference_ci"]
    assert 0 < low < found["difference"] < high and found["a_better_share"] > 0.95
    with pytest.raises(ValueError, match="same sentences"):
        seed_averaged_difference(runs_a, [runs_b[0][:10]], 10)


def test_counts_round_trip_through_npz(tmp_path) -> None:
    gold, pred = _noisy(20, seed=8)
    labels, counts = sentence_counts(gold, pred, LABELS)
    save_counts(tmp_path / "c.npz", counts, labels)
    got_labels, got = load_counts(tmp_path / "c.npz")
    assert got_labels == list(labels) and np.array_equal(got, counts)


def test_averaged_difference_over_test_sets_resamples_each_on_its_own() -> None:
    sets = []
    for k in (10, 11):
        gold, worse = _noisy(70, seed=k, error=0.5)
        _, better = _noisy(70, seed=k, error=0.1, pred_seed=1)
        sets.append(
            ([sentence_counts(gold, better, LABELS)[1]], [sentence_counts(gold, worse, LABELS)[1]])
        )
    found = averaged_difference(sets, 400, seed=0)
    single = [seed_averaged_difference(a, b, 400, seed=i) for i, (a, b) in enumerate(sets)]
    assert found["test_sets"] == 2
    assert found["difference"] == pytest.approx(np.mean([s["difference"] for s in single]))
    assert found["f1_a"]["f1_mean"] == pytest.approx(
        np.mean([s["f1_a"]["f1_mean"] for s in single])
    )
    low, high = found["difference_ci"]
    assert 0 < low < found["difference"] < high
    # averaging two independent test sets narrows the interval of either one
    assert high - low < min(s["difference_ci"][1] - s["difference_ci"][0] for s in single)
    assert averaged_difference(sets[:1], 400, seed=0) == single[0]
    with pytest.raises(ValueError, match="no test set"):
        averaged_difference([], 10)


def test_a_finding_needs_an_interval_without_0_and_two_seeds_of_each_trained_side() -> None:
    from xner_spacy.evaluation.bootstrap import is_finding

    assert is_finding([0.01, 0.03], 2, 3) and is_finding([-0.03, -0.01], 3, 3)
    assert not is_finding([-0.01, 0.03], 3, 3)  # the interval holds 0
    assert not is_finding([0.01, 0.03], 1, 3)  # one seed: the seeds' spread is unknown
    assert is_finding([0.01, 0.03], 3, None)  # B is a given model, not trained here
    assert not is_finding([0.01, 0.03], 1, None)
