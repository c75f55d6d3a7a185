"""``xner labeller-study``: frozen against trained top layers, over seeds, resumable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from xner_spacy.cli import app
from xner_spacy.experiments.labeller_study import markdown, parse_tests


def _data(root: Path) -> dict[str, Path]:
    """Train/dev DocBins (xner convert-gold) and two gold test files of the toy names."""
    from toy_data import synthetic_pairs, write_conll

    files = {}
    for name, n, seed, side in (("train", 24, 1, 0), ("dev", 6, 2, 0), ("own", 8, 3, 0),
                                ("other", 8, 4, 1), ("third", 8, 5, 1)):  # fmt: skip
        files[name] = root / f"{name}.txt"
        write_conll(files[name], synthetic_pairs(n, seed=seed), side)
    for split in ("train", "dev"):
        result = CliRunner().invoke(
            app, ["convert-gold", str(files[split]), str(root / f"{split}.spacy"), "--lang", "en"]
        )
        assert result.exit_code == 0, result.output
    return files


def _args(root: Path, files: dict[str, Path], encoder: Path, seeds: str) -> list[str]:
    tok2vec = "--components.ner.model.tok2vec"
    return ["labeller-study", "--train", str(root / "train.spacy"),
            "--dev", str(root / "dev.spacy"), "--test", f"en={files['own']}",
            "--test", f"xx={files['other']}", "--test", f"yy={files['third']}",
            "--work-dir", str(root / "study"), "--output", str(root / "study.json"),
            "--markdown", str(root / "study.md"), "--encoder", str(encoder),
            "--trainable-layers", "0,1", "--seeds", seeds, "--steps", "6",
            "--eval-frequency", "3", "--threads", "1", "--bootstrap", "50",
            "--components.xner_encoder.layer", "2", f"{tok2vec}.warmup_steps", "2"]  # fmt: skip


@pytest.mark.slow
def test_study_trains_each_setting_and_seed_then_resumes(
    tmp_path: Path, tiny_xlmr_dir: Path
) -> None:
    files = _data(tmp_path)
    result = CliRunner().invoke(app, _args(tmp_path, files, tiny_xlmr_dir, "0"))
    assert result.exit_code == 0, result.output
    found = json.loads((tmp_path / "study.json").read_text())
    assert [r["trainable_layers"] for r in found["rows"]] == [0, 1]
    models = sorted(p.parent.name for p in (tmp_path / "study").glob("*/model-best"))
    assert models == ["t0_s0", "t1_s0"]
    # the trained-top models hold the trained layer; the frozen ones do not
    cfg = (tmp_path / "study/t1_s0/model-best/config.cfg").read_text()
    assert "trainable_layers = 1" in cfg
    # a rerun with another seed trains and scores only that seed's two models
    stamps = {p: p.stat().st_mtime_ns for p in (tmp_path / "study").rglob("*.json")}
    result = CliRunner().invoke(app, _args(tmp_path, files, tiny_xlmr_dir, "0,1"))
    assert result.exit_code == 0, result.output
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps
    assert sorted(p.parent.name for p in (tmp_path / "study").glob("*/model-best")) == [
        "t0_s0", "t0_s1", "t1_s0", "t1_s1"
    ]  # fmt: skip
    again = json.loads((tmp_path / "study.json").read_text())
    for row, first in zip(again["rows"], found["rows"], strict=True):
        assert row["seeds"] == [0, 1] and set(row["tests"]) == {"en", "xx", "yy"}
        for name, test in row["tests"].items():
            assert len(test["f1_per_seed"]) == 2
            assert test["f1_per_seed"][0] == first["tests"][name]["f1_per_seed"][0]
            assert test["f1_mean"] == pytest.approx(sum(test["f1_per_seed"]) / 2)
            low, high = test["f1_ci"]
            assert 0 <= low <= high <= 1
        assert len(row["transfer_mean"]["f1_per_seed"]) == 2
    (comparison,) = again["comparisons"]
    assert (comparison["a"], comparison["b"]) == ("trainable_layers=1", "trainable_layers=0")
    assert set(comparison["tests"]) == {"en", "xx", "yy"}
    average = comparison["transfer_average"]
    assert average["test_sets"] == 2 and average["seeds_a"] == 2
    assert average["finding"] == (
        average["difference_ci"][0] > 0 or average["difference_ci"][1] < 0
    )
    table = (tmp_path / "study.md").read_text()
    assert "| trainable layers | seeds | dev | en | xx | yy | transfer avg |" in table
    assert " ± " in table and "trainable_layers=1 − trainable_layers=0" in table


def test_bad_options_are_refused_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="expected NAME=PATH"):
        parse_tests(["en"])
    with pytest.raises(ValueError, match="given twice"):
        parse_tests(["en=a", "en=b"])
    (tmp_path / "t.spacy").write_bytes(b"")
    base = ["labeller-study", "--train", str(tmp_path / "t.spacy"), "--dev",
            str(tmp_path / "t.spacy"), "--work-dir", str(tmp_path / "w"),
            "--output", str(tmp_path / "o.json")]  # fmt: skip
    result = CliRunner().invoke(app, [*base, "--test", "en=missing.txt"])
    assert result.exit_code == 1 and "en=missing.txt: no such file" in result.output
    result = CliRunner().invoke(app, [*base, "--test", "en=x", "--seeds", "0,0"])
    assert result.exit_code == 2 and "distinct integers" in result.output


def test_markdown_shows_one_seed_without_sd() -> None:
    entry = {"f1_per_seed": [0.5], "f1_mean": 0.5, "f1_sd": 0.0}
    result = {
        "settings": {"tests": {"en": "x"}},
        "rows": [
            {
                "trainable_layers": 0,
                "seeds": [0],
                "dev": entry,
                "tests": {"en": entry},
                "transfer_mean": None,
            }
        ],  # fmt: skip
        "comparisons": [],
    }
    assert markdown(result).splitlines()[2] == "| 0 | 1 | 50.0 | 50.0 |"
