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


def test_evaluate_counts_keeps_each_sentences_counts_for_later_resampling(
    ruler_models: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    from xner_spacy.evaluation.bootstrap import load_counts, prf

    test, model_a, _ = ruler_models
    npz = tmp_path / "a.npz"
    scores = _evaluate(model_a, test, tmp_path / "a.json", "--counts", str(npz))
    labels, counts = load_counts(npz)
    assert labels == ["PER", "ORG", "LOC"] and scores["counts"] == str(npz)
    assert counts.shape == (scores["sentences"], 3, 3)
    # summed over the sentences, the counts give the metrics file's F1, micro and per label
    assert abs(float(prf(counts.sum(axis=(0, 1)))[2]) - scores["f1"]) < 1e-12
    for j, label in enumerate(labels):
        label_f1 = float(prf(counts[:, j].sum(axis=0))[2])
        assert abs(label_f1 - scores["per_label"][label]["f1"]) < 1e-12
