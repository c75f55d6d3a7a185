"""xner crosslingual-report: table rows, averages, the in/out-of-domain drop, anchors, plot."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from xner_spacy.evaluation.crosslingual_report import ANCHORS, method_label, report, table_rows


def _row(target: str, method: str, k: int, f1: float, shift: float | None, **kw: object) -> dict:
    scores = {"in_domain": {"f1": f1, "per_label": {"PER": f1, "LOC": f1 / 2}}}
    if shift is not None:
        scores["shift:germeval2014/de.txt"] = {"f1": shift, "per_label": {}}
    sources = kw.pop("sources", ["en", "es"][:k])
    return {"variant": "encoder", "target": target, "method": method, "k": k,
            "sources": sources, "weighting": kw.get("weighting"), "weights": kw.get("weights"),
            "scores": scores}  # fmt: skip


def _result() -> dict:
    rows = [
        _row("de", "direct", 1, 0.60, 0.40),
        _row("de", "direct", 1, 0.50, 0.30, sources=["es"]),  # not the first source: left out
        _row("es", "direct", 1, 0.70, None),
        _row("de", "soft", 1, 0.64, 0.44),
        _row("es", "soft", 1, 0.72, None),
        _row("de", "soft", 2, 0.66, 0.50, weighting="langid", weights={"en": 0.7, "es": 0.3}),
        _row("es", "soft", 2, 0.74, None, weighting="langid", weights={"en": 0.6, "de": 0.4}),
    ]
    return {
        "targets": ["de", "es"],
        "sources": {"de": ["en", "es"], "es": ["en", "de"]},
        "shift": {"de": ["germeval2014/de.txt"]},
        "rows": rows,
        "step_seconds": {"data": 1.0},
        "wall_seconds": 2.0,
        "command": "xner crosslingual",
    }


def test_rows_average_targets_and_give_the_drop() -> None:
    rows = {r["method"]: r for r in table_rows([_result()])}
    assert list(rows) == ["direct (en)", "soft k=1", "soft k=2 langid"]
    direct = rows["direct (en)"]
    assert direct["in_domain"]["avg"] == pytest.approx(0.65)
    assert direct["out_of_domain"] == {"de": 0.40, "avg": 0.40}
    assert direct["drop"] == pytest.approx(0.20)  # de in-domain 0.60 minus de out 0.40
    assert rows["soft k=2 langid"]["weights"]["de"] == {"en": 0.7, "es": 0.3}
    assert method_label({"method": "hard", "k": 1, "sources": ["en"]}) == "hard k=1"


def test_report_writes_json_markdown_and_plot(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    path = tmp_path / "result.json"
    path.write_text(json.dumps(_result()), "utf8")
    table = report(
        [path],
        json_path=tmp_path / "t.json",
        markdown_path=tmp_path / "t.md",
        plot_path=tmp_path / "f1.png",
    )
    md = (tmp_path / "t.md").read_text("utf8")
    assert "| encoder | direct (en) | 60.0 | 70.0 | 65.0 | 40.0 | 40.0 | 20.0 |" in md
    for name, figures in ANCHORS.items():
        assert f"| {name} | {figures['de']:.1f} | {figures['es']:.1f} |" in md
    assert "de: en 0.70, es 0.30" in md
    assert json.loads((tmp_path / "t.json").read_text("utf8"))["rows"] == table["rows"]
    assert (tmp_path / "f1.png").stat().st_size > 1000


def test_anchors_only_for_their_targets(tmp_path: Path) -> None:
    result = _result()
    for row in result["rows"]:
        row["target"] = {"de": "yor", "es": "swa"}[row["target"]]
    result["targets"], result["labels"] = ["yor", "swa"], ["LOC", "ORG", "PER"]
    result["shift"] = {"yor": ["wikiann/yor/test.txt"]}
    result["sources"] = {"yor": ["en", "es"], "swa": ["en", "de"]}
    path = tmp_path / "result.json"
    path.write_text(json.dumps(result), "utf8")
    md = report([path])["markdown"]
    assert "published" not in md and md.startswith("F1 × 100 (LOC, ORG, PER)")


def test_report_refuses_other_json(tmp_path: Path) -> None:
    path = tmp_path / "other.json"
    path.write_text("{}", "utf8")
    with pytest.raises(ValueError, match="not an xner crosslingual result"):
        report([path])


def _seeded(f1s: list[float], ci: list[float]) -> dict:
    return {"f1_mean": sum(f1s) / len(f1s), "f1_per_seed": f1s, "f1_ci": ci,
            "per_label": {"PER": f1s[0]}}  # fmt: skip


def test_seeded_rows_show_mean_sd_intervals_and_claims(tmp_path: Path) -> None:
    """Two seeds: cells are mean ± sd (the average's sd over the per-seed averages), the
    intervals get a table, the result's claims a section."""
    pytest.importorskip("matplotlib")
    result = _result()
    rows = [r for r in result["rows"] if r["method"] == "direct" and r["sources"] == ["en"]]
    rows[0]["scores"] = {
        "in_domain": _seeded([0.58, 0.62], [0.57, 0.63]),
        "shift:germeval2014/de.txt": _seeded([0.40, 0.44], [0.39, 0.45]),
    }
    rows[1]["scores"] = {"in_domain": _seeded([0.70, 0.70], [0.69, 0.71])}
    result["rows"] = rows
    result["seed_seconds"] = {"0": 10.0, "1": 12.0}
    result["settings"] = {"bootstrap": {"n": 1000, "seed": 0}}
    result["comparisons"] = [
        {"variant": "encoder", "claim": "soft k=1 vs direct", "a": "soft k=1", "b": "direct",
         "domain": "in_domain", "target": "avg", "targets": ["de", "es"], "f1_a": 0.64,
         "f1_b": 0.60, "difference": 0.04, "difference_ci": [0.01, 0.07],
         "a_better_share": 0.99, "finding": True, "seeds_a": 2, "seeds_b": 2},
    ]  # fmt: skip
    path = tmp_path / "result.json"
    path.write_text(json.dumps(result), "utf8")
    table = report([path], plot_path=tmp_path / "f1.png")
    (entry,) = table["rows"]
    assert entry["seeds"] == 2 and entry["in_domain"]["avg"] == pytest.approx(0.65)
    assert entry["in_domain_sd"]["avg"] == pytest.approx(0.01414, abs=1e-4)  # sd of 0.64, 0.66
    assert entry["in_domain_sd"]["es"] == 0.0
    md = table["markdown"]
    assert "mean ± sd over 2 training seeds" in md
    row = (
        "| encoder | direct (en) | 60.0 ± 2.8 | 70.0 ± 0.0 | 65.0 ± 1.4 "
        "| 42.0 ± 2.8 | 42.0 ± 2.8 | 18.0 |"
    )
    assert row in md
    assert "| encoder | direct (en) | [57.0, 63.0] | [69.0, 71.0] | [39.0, 45.0] |" in md
    claim = ("| encoder | soft k=1 vs direct | soft k=1 | direct | in | avg | 64.0 | 60.0 | +4.0 "
             "| [+1.0, +7.0] | 99 % | 2/2 | **yes** |")  # fmt: skip
    assert claim in md and "1000 resamples" in md
    assert "seed 0 10 s, seed 1 12 s" in md
    assert (tmp_path / "f1.png").stat().st_size > 1000
