"""`xner evaluate` on a tiny ruler pipeline: the metrics JSON with and without --bootstrap."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from xner_spacy.cli import app

runner = CliRunner()


def _evaluate(model: Path, test: Path, out: Path, *extra: str) -> dict:
    result = runner.invoke(app, ["evaluate", str(model), str(test), "--output", str(out), *extra])
    assert result.exit_code == 0, result.output
    return json.loads(out.read_text(encoding="utf8"))


def test_evaluate_bootstrap_writes_f1_intervals(
    ruler_models: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    test, model_a, _ = ruler_models
    plain = _evaluate(model_a, test, tmp_path / "plain.json")
    assert "f1_ci" not in plain and "bootstrap" not in plain  # --bootstrap 0: as before
    assert all("f1_ci" not in v for v in plain["per_label"].values())
    args = ("--bootstrap", "200", "--seed", "3")
    boot = _evaluate(model_a, test, tmp_path / "boot.json", *args)
    assert set(boot) == set(plain) | {"f1_ci", "bootstrap"}
    assert boot["f1"] == plain["f1"] and 0 < plain["f1"] < 1
    low, high = boot["f1_ci"]
    assert low < boot["f1"] < high
    assert boot["bootstrap"] == {"n": 200, "seed": 3, "unit": "sentence"}
    for label, scores in boot["per_label"].items():
        assert scores["f1_ci"][0] <= scores["f1"] <= scores["f1_ci"][1], label
    assert _evaluate(model_a, test, tmp_path / "again.json", *args)["f1_ci"] == boot["f1_ci"]
