"""The distillation report: a table and a plot made only from the experiment's result files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from xner_spacy.evaluation.distill_report import best_single, markdown, report


def _row(name: str, method: str, k: int, sources: list[str], news: float, wiki: float | None):
    scores = lambda f: None if f is None else {"precision": f, "recall": f, "f1": f}  # noqa: E731
    return {"name": name, "method": method, "k": k, "sources": sources, "model": name,
            "masakhaner": scores(news), "wikiann": scores(wiki)}  # fmt: skip


def _result(target: str, wiki: bool, vectors: str | None = None) -> dict:
    w = (lambda f: f) if wiki else (lambda f: None)
    rows = [
        _row("teacher_en", "teacher", 1, ["en"], 0.40, w(0.30)),
        _row("teacher_fr", "teacher", 1, ["fr"], 0.45, w(0.20)),
        _row("voted_k2", "voted", 2, ["en", "fr"], 0.47, w(0.31)),
        _row("distill_uniform_k1", "distill-uniform", 1, ["en"], 0.41, w(0.32)),
        _row("distill_uniform_k2", "distill-uniform", 2, ["en", "fr"], 0.50, w(0.33)),
        {**_row("distill_similarity_k2", "distill-similarity", 2, ["en", "fr"], 0.49, w(0.34)),
         "weights": {"en": 0.6, "fr": 0.4}},
        {**_row("teacher_en", "voted", 1, ["en"], 0.40, w(0.30)), "same_as": "teacher_en"},
    ]  # fmt: skip
    sets = {"masakhaner": "m", "wikiann": "w" if wiki else None}
    return {"target": target, "sources": ["en", "fr"], "vectors": vectors, "eval_sets": sets,
            "rows": rows, "wall_seconds": 12.0,
            "notes": [] if wiki else [f"WikiANN has no test set for {target}"]}  # fmt: skip


def test_markdown_and_best_single() -> None:
    result = _result("yor", wiki=True)
    assert best_single(result, "masakhaner") == ("fr", 0.45)
    assert best_single(result, "wikiann") == ("en", 0.30)
    text = markdown([result])
    assert "| 2 | en+fr | 47.0 | 31.0 | 50.0 | 33.0 | 49.0 | 34.0 |" in text
    assert "| 1 | en | 40.0 | 30.0 | 41.0 | 32.0 | 41.0 | 32.0 |" in text
    assert "fr 45.0 / 20.0" in text and "{'en': 0.6, 'fr': 0.4}" in text


def test_report_writes_json_markdown_and_png(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    paths = []
    for name, result in {
        "a": _result("yor", wiki=True),
        "b": _result("yor", wiki=True, vectors="training/vectors"),
        "c": _result("hau", wiki=False),
        "d": {**_result("yor", wiki=True), "settings": {"order": "agreement"}},
    }.items():
        paths.append(tmp_path / f"{name}.json")
        paths[-1].write_text(json.dumps(result), "utf8")
    out = tmp_path / "out"
    table = report(paths, json_path=out / "t.json", markdown_path=out / "t.md",
                   plot_path=out / "f1.png")  # fmt: skip
    saved = json.loads((out / "t.json").read_text())
    assert len(saved["rows"]) == 28 and saved["notes"] == ["WikiANN has no test set for hau"]
    settings = {"no vectors", "floret vectors", "no vectors, agreement order"}
    assert {r["vectors"] for r in saved["rows"]} == settings
    assert "WikiANN has no test set for hau" in table["markdown"]
    assert (out / "f1.png").read_bytes()[:4] == b"\x89PNG"
