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
