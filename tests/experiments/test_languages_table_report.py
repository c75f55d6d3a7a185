"""The languages table's figures from per-seed scores and counts: rows, average, comparisons."""

from __future__ import annotations

import json
import re
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from xner_spacy.evaluation.bootstrap import (
    averaged_difference,
    prf,
    save_counts,
    seed_averaged_difference,
)
from xner_spacy.experiments.languages_table_report import (
    add_statistics,
    column_entry,
    comparison_pairs,
    languages_table,
)

LABELS = ["PER", "ORG", "LOC"]
#: Test sentences per language; how good each column is (the share of gold entities it finds).
SENTENCES = {"aaa": 50, "bbb": 70}
QUALITY = {"direct": 0.4, "cnn": 0.6, "encoder": 0.8, "encoder_t2": 0.8}


def _counts(n: int, quality: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    gold = rng.integers(0, 3, (n, 3))
    tp = rng.binomial(gold, quality)
    return np.stack([tp, rng.binomial(2, 1 - quality, (n, 3)), gold - tp], axis=-1)


def _column(
    d: Path, lang: str, name: str, seeds: list[int | None], f1s: list[float] | None = None
) -> dict[str, Any]:
    """What ``xner evaluate`` leaves per seed: metrics JSON (F1 from the counts unless given)
    and the counts; encoder_t2 has exactly encoder's counts (a tie)."""
    scores, counts = [], []
    for i, seed in enumerate(seeds):
        same = "encoder" if name == "encoder_t2" else name
        c = _counts(SENTENCES[lang], QUALITY[name], zlib.crc32(f"{lang}/{same}/{seed}".encode()))
        f1 = float(prf(c.sum(axis=(0, 1)))[2]) if f1s is None else f1s[i]
        stem = d / lang / f"{name}_seed{seed}"
        stem.parent.mkdir(parents=True, exist_ok=True)
        stem.with_suffix(".json").write_text(json.dumps({"precision": f1, "recall": f1, "f1": f1}))
        save_counts(stem.with_suffix(".npz"), c, LABELS)
        scores.append(stem.with_suffix(".json"))
        counts.append(stem.with_suffix(".npz"))
    return column_entry(seeds, scores, counts, [10.0] * len(seeds))


def _result(d: Path, f1s: dict[tuple[str, str], list[float]] | None = None) -> dict[str, Any]:
    variants = ["cnn", "encoder", "encoder_t2"]
    langs = {}
    for lang in SENTENCES:
        cols = {"direct": _column(d, lang, "direct", [None], (f1s or {}).get((lang, "direct")))}
        for name in variants:
            cols[name] = _column(d, lang, name, [0, 1], (f1s or {}).get((lang, name)))
        langs[lang] = {"source": "en", "silver": {"train": {"docs": 1200}}, "scores": cols}
    settings = {"variants": dict.fromkeys(variants, "x.cfg"), "distil_teachers": [],
                "seeds": [0, 1], "bootstrap": {"n": 300, "seed": 0}}  # fmt: skip
    return {"settings": settings, "languages": langs}


def _counts_of(result: dict[str, Any], lang: str, col: str) -> list[np.ndarray]:
    from xner_spacy.evaluation.bootstrap import load_counts

    return [load_counts(p)[1] for p in result["languages"][lang]["scores"][col]["counts"]]


def test_pairs_are_variants_against_direct_later_against_earlier_and_the_student() -> None:
    assert comparison_pairs(["cnn", "encoder", "encoder_t2"], [], direct=True) == [
        ("cnn", "direct"), ("encoder", "direct"), ("encoder_t2", "direct"),
        ("encoder", "cnn"), ("encoder_t2", "cnn"), ("encoder_t2", "encoder"),
    ]  # fmt: skip
    assert comparison_pairs(["encoder"], ["direct", "encoder"], direct=True) == [
        ("encoder", "direct"), ("distil", "direct"), ("distil", "encoder"),
    ]  # fmt: skip
    assert comparison_pairs(["encoder"], ["direct"], direct=False) == []


def test_rows_average_and_comparisons_from_synthetic_counts(tmp_path: Path) -> None:
    result = _result(tmp_path)
    add_statistics(result, 300, seed=0)
    aaa = result["languages"]["aaa"]["scores"]
    # a row's interval is the one of its seed-averaged F1, on the draws its comparisons use:
    # the second language's with seed 0 + 1
    bbb = result["languages"]["bbb"]["scores"]
    found = seed_averaged_difference(
        _counts_of(result, "bbb", "encoder"), _counts_of(result, "bbb", "direct"), 300, 1
    )
    assert bbb["encoder"]["f1_ci"] == found["f1_a"]["f1_ci"]
    assert bbb["direct"]["f1_ci"] == found["f1_b"]["f1_ci"]
    found = seed_averaged_difference(
        _counts_of(result, "aaa", "encoder"), _counts_of(result, "aaa", "direct"), 300, 0
    )
    assert aaa["encoder"]["f1_ci"] == found["f1_a"]["f1_ci"]
    assert aaa["direct"]["f1_ci"] == found["f1_b"]["f1_ci"]
    assert aaa["encoder"]["f1_ci"][0] < aaa["encoder"]["f1_mean"] < aaa["encoder"]["f1_ci"][1]
    comparisons = {(c["a"], c["b"]): c for c in result["comparisons"]}
    assert list(comparisons) == comparison_pairs(["cnn", "encoder", "encoder_t2"], [], True)
    vs_direct = comparisons["encoder", "direct"]
    mine = vs_direct["languages"]["aaa"]
    assert mine["difference_ci"] == found["difference_ci"]
    assert mine["difference"] == pytest.approx(found["difference"])
    assert (mine["seeds_a"], mine["seeds_b"]) == (2, 1)
    # 0.8 against 0.4 of the entities: a finding in each language and on the average
    for where in (*vs_direct["languages"].values(), vs_direct["average"]):
        assert where["finding"] and where["a_better_share"] > 0.95 and where["difference"] > 0
    # encoder_t2 has encoder's counts: no difference anywhere, never a finding
    tie = comparisons["encoder_t2", "encoder"]
    for where in (*tie["languages"].values(), tie["average"]):
        assert where["difference_ci"] == [0.0, 0.0] and not where["finding"]
        assert where["a_better_share"] == 0.0
    # the average: each seed's F1 averaged over languages, then mean ± sd over the seeds
    average = result["average"]["scores"]
    per_seed = np.mean([result["languages"][lang]["scores"]["cnn"]["f1_per_seed"]
                        for lang in SENTENCES], axis=0)  # fmt: skip
    assert average["cnn"]["f1_per_seed"] == pytest.approx(per_seed)
    assert average["cnn"]["f1_sd"] == pytest.approx(np.std(per_seed, ddof=1))
    assert average["direct"]["seeds"] == [None] and average["direct"]["f1_sd"] == 0.0
    diffs = [vs_direct["languages"][lang]["difference"] for lang in SENTENCES]
    assert vs_direct["average"]["difference"] == pytest.approx(np.mean(diffs))
    # the average resamples each language on its own, with the seeds of the rows' draws
    tests = [(_counts_of(result, lang, "encoder"), _counts_of(result, lang, "direct"))
             for lang in SENTENCES]  # fmt: skip
    both = averaged_difference(tests, 300, seed=0)
    assert vs_direct["average"]["difference_ci"] == both["difference_ci"]
    assert average["encoder"]["f1_ci"] == both["f1_a"]["f1_ci"]
    assert average["direct"]["f1_ci"] == both["f1_b"]["f1_ci"]


def test_the_markdown_shows_mean_and_sd_and_the_comparisons(tmp_path: Path) -> None:
    f1s = {("aaa", "cnn"): [0.50, 0.60], ("bbb", "cnn"): [0.40, 0.44],
           ("aaa", "direct"): [0.30], ("bbb", "direct"): [0.20]}  # fmt: skip
    result = _result(tmp_path, f1s)
    add_statistics(result, 300, seed=0)
    table = languages_table(result)
    lines = table.splitlines()
    assert lines[0] == (
        "| language | source | silver train | direct F1 | cnn F1 | encoder F1 | encoder_t2 F1 "
        "| cnn train s | encoder train s | encoder_t2 train s |"
    )
    aaa = next(line for line in lines if line.startswith("| aaa |"))
    # direct transfer is one model: its F1 alone; a variant's is mean ± sd over its seeds
    assert aaa.startswith("| aaa | en | 1,200 | 30.0 | 55.0 ± 7.1 | ")
    assert aaa.endswith(" | 10 | 10 | 10 |")
    # the average row: per seed (45.0, 52.0), then mean ± sd
    assert "| average |  |  | **25.0** | **48.5 ± 4.9** |" in table
    assert "mean ± sd over training seeds 0, 1 (direct transfer" in table
    head = next(line for line in lines if line.startswith("| A − B |"))
    assert head == "| A − B | seeds A / B | aaa | bbb | average | A better (average) |"
    row = next(line for line in lines if line.startswith("| encoder − direct |"))
    cell = r"\*\*[+-]\d+\.\d \[[+-]\d+\.\d, [+-]\d+\.\d\]\*\*"  # bold: the interval excludes 0
    assert re.fullmatch(
        rf"\| encoder − direct \| 2 / 1 \| {cell} \| {cell} \| {cell} \| \d+ % \|", row
    )
    tie = next(line for line in lines if line.startswith("| encoder_t2 − encoder |"))
    assert tie == ("| encoder_t2 − encoder | 2 / 2 | +0.0 [+0.0, +0.0] | +0.0 [+0.0, +0.0] | "
                   "+0.0 [+0.0, +0.0] | 0 % |")  # fmt: skip
    assert "300 resamples of each language's test sentences" in table


def test_one_language_has_no_average(tmp_path: Path) -> None:
    result = _result(tmp_path)
    del result["languages"]["bbb"]
    add_statistics(result, 100, seed=0)
    assert "average" not in result
    assert all("average" not in c for c in result["comparisons"])
    table = languages_table(result)
    assert "| average |" not in table and "| A − B | seeds A / B | aaa | A better (aaa) |" in table
