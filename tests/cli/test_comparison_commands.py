"""`xner compare`: a paired bootstrap of two tiny ruler pipelines on the same gold sentences."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from xner_spacy.cli import app

runner = CliRunner()


def test_compare_prints_and_writes_the_difference(
    ruler_models: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    test, model_a, model_b = ruler_models
    out = tmp_path / "compare.json"
    args = ["compare", str(model_a), str(model_b), str(test), "--bootstrap", "200"]
    result = runner.invoke(app, [*args, "--seed", "1", "--output", str(out)])
    assert result.exit_code == 0, result.output
    found = json.loads(out.read_text(encoding="utf8"))
    assert found["step"] == "compare" and found["bootstrap"]["n"] == 200
    assert found["sentences"] == 60 and found["f1_a"] > found["f1_b"]
    assert found["difference"] == found["f1_a"] - found["f1_b"]
    low, high = found["difference_ci"]
    assert 0 < low < found["difference"] < high  # the ruler knowing more names is better
    assert found["a_better_share"] > 0.9
    assert set(found["per_label"]) == {"PER", "ORG", "LOC"}
    assert f"A − B {found['difference']:+.4f}" in result.output
    assert "A better in" in result.output
    # each model's F1 is the one `xner evaluate` reports
    for key, model in (("f1_a", model_a), ("f1_b", model_b)):
        metrics = tmp_path / f"{key}.json"
        done = runner.invoke(app, ["evaluate", str(model), str(test), "--output", str(metrics)])
        assert done.exit_code == 0, done.output
        assert json.loads(metrics.read_text(encoding="utf8"))["f1"] == found[key]


def test_a_model_compared_with_itself(
    ruler_models: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    test, model_a, _ = ruler_models
    out = tmp_path / "same.json"
    args = ["compare", str(model_a), str(model_a), str(test), "--bootstrap", "50"]
    result = runner.invoke(app, [*args, "--output", str(out)])
    assert result.exit_code == 0, result.output
    found = json.loads(out.read_text(encoding="utf8"))
    assert found["difference"] == 0 and found["difference_ci"] == [0.0, 0.0]
    assert found["a_better_share"] == 0.0


def test_compare_refuses_zero_resamples(ruler_models: tuple[Path, Path, Path]) -> None:
    test, model_a, model_b = ruler_models
    result = runner.invoke(
        app, ["compare", str(model_a), str(model_b), str(test), "--bootstrap", "0"]
    )
    assert result.exit_code == 2
