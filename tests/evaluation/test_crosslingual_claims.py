"""Paired claims between rows of crosslingual results, on synthetic per-sentence counts."""

from __future__ import annotations

import statistics
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from xner_spacy.evaluation.bootstrap import save_counts
from xner_spacy.evaluation.crosslingual_claims import benchmark_claims, compare_runs

TESTS = {"in_domain": 300, "shift:wiki/test.txt": 200}


def _counts(n: int, hit_rate: float, rng: np.random.Generator) -> np.ndarray:
    """One gold PER per sentence, found with ``hit_rate`` (else missed and a wrong span)."""
    hit = rng.random(n) < hit_rate
    counts = np.zeros((n, 1, 3), dtype=np.int64)
    counts[:, 0, 0] = hit
    counts[:, 0, 1] = ~hit
    counts[:, 0, 2] = ~hit
    return counts


def row(
    folder: Path, target: str, method: str, k: int, rates: list[float], **kw: Any
) -> dict[str, Any]:
    """A result row of one model per seed (``rates``: each seed's hit rate), counts on disk."""
    sources = kw.get("sources", ["en", "de", "es"][:k])
    name = f"{target}_{method}_{k}_{sources[0]}_{kw.get('weighting')}"
    counts: dict[str, list[str]] = {}
    scores: dict[str, Any] = {}
    for test, n in TESTS.items():
        f1s = []
        for seed, rate in enumerate(rates):
            key = f"{name}_{seed}_{test.replace('/', '_')}"
            draw = key if "like" not in kw else key.replace(name, kw["like"])
            found = _counts(n, rate, np.random.default_rng(zlib.crc32(draw.encode())))
            if "like" in kw:  # the same totals as row ``like``, on other sentences
                found = np.roll(found, 1, axis=0)
            path = folder / f"{kw.get('prefix', '')}{key}.npz"
            save_counts(path, found, ["PER"])
            counts.setdefault(test, []).append(str(path))
            tp, fp, fn = found.sum(axis=(0, 1))
            f1s.append(2 * tp / (2 * tp + fp + fn))
        scores[test] = {
            "f1_mean": statistics.mean(f1s),
            "f1_sd": statistics.stdev(f1s) if len(f1s) > 1 else 0.0,
            "f1_per_seed": f1s,
            "f1_ci": [min(f1s) - 0.02, max(f1s) + 0.02],
            "per_label": {"PER": statistics.mean(f1s)},
        }
    return {"variant": "encoder", "target": target, "method": method, "k": k,
            "sources": sources, "weighting": kw.get("weighting"), "weights": None,
            "seeds": list(range(len(rates))), "scores": scores, "counts": counts}  # fmt: skip


def result(folder: Path, better: float = 0.8, prefix: str = "") -> dict[str, Any]:
    """Two targets: soft k=1 better than direct, k=3 uniform level with k=1 (with ``better``
    0.8), no hard row."""
    rows = []
    for target in ("de", "es"):
        kw = {"prefix": prefix}
        rows += [
            row(folder, target, "direct", 1, [0.5, 0.52, 0.48], **kw),
            row(folder, target, "direct", 1, [0.1, 0.1, 0.1], sources=["es"], **kw),
            row(folder, target, "soft", 1, [better, better + 0.02, better - 0.02], **kw),
            row(folder, target, "soft", 2, [0.3] * 3, weighting="uniform", **kw),
            row(
                folder,
                target,
                "soft",
                3,
                [0.8, 0.82, 0.78],
                weighting="uniform",
                like=f"{target}_soft_1_en_None",
                **kw,
            ),  # fmt: skip
            row(folder, target, "soft+tt", 4, [0.9] * 3, weighting="uniform", **kw),
        ]
    return {"targets": ["de", "es"], "sources": {"de": ["en", "es"], "es": ["en", "de"]},
            "shift": {t: ["wiki/test.txt"] for t in ("de", "es")}, "rows": rows}  # fmt: skip


def test_claims_of_one_result_per_target_and_on_the_average(tmp_path: Path) -> None:
    claims = benchmark_claims(result(tmp_path), 500, seed=0)
    found = {(c["claim"], c["domain"], c["target"]): c for c in claims}
    # no hard row: no "soft vs hard"; k = 3 is the largest uniform k (soft+tt is not a soft k)
    assert {c for c, _, _ in found} == {"soft k=1 vs direct", "k=3 vs k=1"}
    assert {t for _, _, t in found} == {"de", "es", "avg"}
    for domain in ("in_domain", "out_of_domain"):
        direct = found["soft k=1 vs direct", domain, "avg"]
        assert direct["a"] == "soft k=1" and direct["b"] == "direct"
        assert direct["finding"] and direct["difference"] == pytest.approx(0.3, abs=0.06)
        low, high = direct["difference_ci"]
        assert 0 < low < direct["difference"] < high and direct["a_better_share"] == 1.0
        assert direct["seeds_a"] == direct["seeds_b"] == 3 and direct["targets"] == ["de", "es"]
        per_target = [found["soft k=1 vs direct", domain, t]["difference"] for t in ("de", "es")]
        assert direct["difference"] == pytest.approx(statistics.mean(per_target), abs=1e-4)
        level = found["k=3 vs k=1", domain, "avg"]  # the same totals on other sentences
        assert not level["finding"] and level["difference_ci"][0] < 0 < level["difference_ci"][1]
        assert 0.05 < level["a_better_share"] < 0.95
    # the same seed gives the same intervals
    assert benchmark_claims(result(tmp_path), 500, seed=0) == claims


def test_compare_runs_pairs_rows_of_the_same_name(tmp_path: Path) -> None:
    run_a = result(tmp_path, better=0.8, prefix="a")
    run_b = result(tmp_path, better=0.6, prefix="b")
    run_b["rows"] = [r for r in run_b["rows"] if r["method"] != "soft+tt"]  # only in A
    entries = compare_runs(run_a, run_b, 300, seed=1)
    names = {(e["claim"], tuple(e["sources"])) for e in entries}
    assert names == {
        ("direct (en)", ("en",)),
        ("direct (es)", ("es",)),
        ("soft k=1", ("en",)),
        ("soft k=2 uniform", ("en", "de")),
        ("soft k=3 uniform", ("en", "de", "es")),
    }
    soft = [e for e in entries if e["claim"] == "soft k=1" and e["target"] == "avg"]
    assert len(soft) == 2 and all(e["finding"] and e["difference"] > 0.1 for e in soft)
    same = [e for e in entries if e["claim"] == "direct (en)"]
    assert all(e["difference"] == 0 and not e["finding"] for e in same)  # identical draws
    with pytest.raises(ValueError, match="no row in common"):
        compare_runs(run_a, {"targets": [], "rows": []}, 10, seed=0)
    old = {**run_b, "rows": [{k: v for k, v in r.items() if k != "counts"} for r in run_b["rows"]]}
    with pytest.raises(ValueError, match="result B has rows without per-sentence counts"):
        compare_runs(run_a, old, 10, seed=0)


def test_crosslingual_compare_at_the_cli(tmp_path: Path) -> None:
    """Two result files (say trained top layers and frozen): rows paired by name, JSON and
    Markdown written, a missing count file a one-line error."""
    import json

    from typer.testing import CliRunner

    from xner_spacy.cli import app

    paths = []
    for name, better in (("t2", 0.8), ("frozen", 0.6)):
        paths.append(tmp_path / f"{name}.json")
        paths[-1].write_text(json.dumps(result(tmp_path, better, prefix=name)), "utf8")
    out, md = tmp_path / "compare.json", tmp_path / "compare.md"
    args = ["crosslingual-compare", *map(str, paths), "--output", str(out), "--markdown", str(md)]
    done = CliRunner().invoke(app, [*args, "--bootstrap", "300", "--seed", "2"])
    assert done.exit_code == 0, done.output
    found = json.loads(out.read_text("utf8"))
    assert found["bootstrap"] == {"n": 300, "seed": 2, "unit": "sentence"}
    soft = {(e["domain"], e["target"]): e for e in found["comparisons"] if e["claim"] == "soft k=1"}
    assert set(soft) == {
        (d, t) for d in ("in_domain", "out_of_domain") for t in ("de", "es", "avg")
    }
    assert all(e["finding"] and e["seeds_a"] == 3 for e in soft.values())
    line = next(
        x for x in md.read_text("utf8").splitlines() if "| soft k=1 | A | B | in | avg |" in x
    )
    assert line.endswith("| 3/3 | **yes** |") and line in done.output
    Path(json.loads(paths[1].read_text("utf8"))["rows"][0]["counts"]["in_domain"][0]).unlink()
    failed = CliRunner().invoke(app, args)
    assert failed.exit_code == 1 and "no per-sentence counts" in failed.output
    assert "Traceback" not in failed.output
