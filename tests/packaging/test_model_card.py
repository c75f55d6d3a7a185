"""Model cards tell the truth: gold test F1 as Accuracy, silver dev labelled, sources, licences."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import spacy
from typer.testing import CliRunner

from xner_spacy.cli import app

REPO = Path(__file__).resolve().parents[2]
SILVER_F = 0.5708
runner = CliRunner()


def _run(cmd: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **kwargs.pop("env", {})}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, **kwargs)
    assert proc.returncode == 0, f"{cmd} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A tiny "trained" pipeline (silver dev F1 in its meta), its data and its gold metrics."""
    root = tmp_path_factory.mktemp("pkg")
    nlp = spacy.blank("xx")
    nlp.add_pipe("entity_ruler").add_patterns(
        [{"label": "PER", "pattern": "Bola"}, {"label": "LOC", "pattern": "Ibadan"}]
    )
    nlp.meta["performance"] = {"ents_f": SILVER_F, "ents_p": 0.6, "ents_r": 0.55, "speed": 9.0}
    model = root / "model-best"
    nlp.to_disk(model)
    labeller = root / "source_en" / "model-best"
    labeller.parent.mkdir()
    spacy.blank("en").to_disk(labeller)
    data = root / "data"
    test = data / "masakhaner2" / "yor" / "test.txt"
    test.parent.mkdir(parents=True)
    # Bola (PER), Ibadan (LOC) found; Ade (PER), Eko (LOC) missed: P = 1, R = 0.5, F1 = 2/3
    test.write_text(
        "Bola B-PER\nlọ O\nsí O\nIbadan B-LOC\n\nỌjọ́ B-DATE\nAde B-PER\nlọ O\nEko B-LOC\n\n",
        encoding="utf8",
    )
    metrics = root / "metrics" / "yor.json"
    result = runner.invoke(app, ["evaluate", str(model), str(test), "--output", str(metrics)])
    assert result.exit_code == 0, result.output
    return {"root": root, "model": model, "labeller": labeller, "data": data, "metrics": metrics}


def _meta_args(made: dict[str, Path]) -> list[str]:
    data = made["data"]
    return [
        "--metrics", str(made["metrics"]),
        "--meta", str(REPO / "configs" / "meta.json"),
        "--parallel", str(data / "mafand" / "en-yor"),
        "--labeller", str(made["labeller"]),
        "--labeller-data", str(data / "source_ner" / "en" / "train.txt"),
        "--projection-config", str(REPO / "configs" / "projection.cfg"),
    ]  # fmt: skip


def _check_card(readme: str, meta: dict[str, Any]) -> None:
    perf = meta["performance"]
    assert perf["ents_f"] == pytest.approx(2 / 3) and perf["silver_dev"]["ents_f"] == SILVER_F
    assert perf["ents_per_type"]["PER"]["r"] == pytest.approx(0.5)
    assert perf["gold_test"]["name"] == "MasakhaNER 2.0 (yor/test)"
    assert perf["gold_test"]["sentences"] == 2
    assert "57.08" not in readme  # the silver score is not the Accuracy
    assert "| `ENTS_F` | 66.67 |" in readme and "| `ENTS_R` | 50.00 |" in readme
    assert "**gold** MasakhaNER 2.0 (yor/test)" in readme and "Silver dev F1: 57.1" in readme
    assert "| **Sources** | n/a |" not in readme
    names = {s["name"]: s for s in meta["sources"]}
    assert names["MAFAND-MT (en-yor)"]["license"] == "CC BY-NC 4.0"
    conll = names["CoNLL-2003 English (Reuters news; PER/ORG/LOC) (train)"]
    assert "Reuters" in conll["license"] and "research use" in conll["license"]
    assert names["MasakhaNER 2.0 (yor/test)"]["license"] == "CC BY-NC 4.0"
    assert "xner.EflomalAligner.v1" in readme and "xner.HeuristicProjector.v1" in readme
    assert "a spaCy NER pipeline trained here on CoNLL-2003 English" in readme
    assert "### Known limits" in readme and "silver" in readme
    assert "Gold test F1 (PER/ORG/LOC, exact span) on MasakhaNER 2.0 (yor/test): 66.7" in readme


def test_package_meta_puts_gold_scores_and_sources_on_the_card(
    made: dict[str, Path], tmp_path: Path
) -> None:
    meta_path = tmp_path / "meta.json"
    result = runner.invoke(
        app, ["package-meta", str(made["model"]), str(meta_path), *_meta_args(made)]
    )
    assert result.exit_code == 0, result.output
    packages = tmp_path / "packages"
    packages.mkdir()
    _run(
        [sys.executable, "-m", "spacy", "package", str(made["model"]), str(packages),
         "--meta-path", str(meta_path), "--name", "xner_yor", "--version", "0.0.1",
         "--build", "none"]
    )  # fmt: skip
    main = packages / "xx_xner_yor-0.0.1"
    _check_card(
        (main / "README.md").read_text("utf8"), json.loads((main / "meta.json").read_text())
    )


def test_package_meta_fails_without_gold_metrics(made: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "meta.json"
    args = ["package-meta", str(made["model"]), str(out), "--metrics", str(tmp_path / "no.json")]
    result = runner.invoke(app, args)
    assert result.exit_code == 1 and "no gold metrics" in result.output and not out.exists()
    silver_only = tmp_path / "silver.json"
    silver_only.write_text(json.dumps({"ents_f": SILVER_F}), encoding="utf8")
    result = runner.invoke(app, [*args[:3], "--metrics", str(silver_only)])
    assert result.exit_code == 1 and "not the output of `xner evaluate`" in result.output


@pytest.mark.slow
def test_xner_package_builds_quietly_installs_and_shows_the_gold_card(
    made: dict[str, Path], tmp_path: Path
) -> None:
    packages = tmp_path / "packages"
    cmd = [sys.executable, "-c", "from xner_spacy.cli import main; main()", "package",
           str(made["model"]), str(packages), "--name", "xner_yor", "--version", "0.0.1",
           *_meta_args(made)]  # fmt: skip
    for _ in range(2):  # a rebuild must not keep the first build's README
        proc = _run(cmd, cwd=tmp_path)
    noise = proc.stdout + proc.stderr
    assert "eprecat" not in noise and "setup.py" not in noise and "!!" not in noise, noise
    summary = json.loads(proc.stdout)
    wheel = Path(tmp_path / summary["wheel"])
    assert wheel.name == "xx_xner_yor-0.0.1-py3-none-any.whl" and wheel.is_file()
    site = tmp_path / "site"
    _run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--target",
          str(site), str(wheel)])  # fmt: skip
    code = (
        "import json, spacy\n"
        "nlp = spacy.load('xx_xner_yor')\n"
        "ents = [e.text for e in nlp('Bola ni Ibadan').ents]\n"
        "print(json.dumps({'meta': nlp.meta, 'ents': ents}))"
    )
    out = json.loads(_run([sys.executable, "-c", code], env={"PYTHONPATH": str(site)}).stdout)
    assert out["ents"] == ["Bola", "Ibadan"]
    readme = (packages / "xx_xner_yor-0.0.1" / "README.md").read_text("utf8")
    _check_card(readme, out["meta"])


def test_card_names_the_frozen_encoder_of_an_xner_encoder_pipeline(
    made: dict[str, Path], tmp_path: Path
) -> None:
    """configs/ner_encoder.cfg's encoder (`model = ${paths.encoder}`) is a source of the model."""
    from spacy.util import load_config

    from xner_spacy.packaging.model_card import build_meta

    config = load_config(REPO / "configs" / "ner_encoder.cfg", interpolate=False)
    config["paths"]["encoder"] = "intfloat/multilingual-e5-small"
    model = tmp_path / "model"
    shutil.copytree(made["model"], model)
    config.to_disk(model / "config.cfg")  # the card reads the config only
    meta = build_meta(model, made["metrics"])
    role = "pretrained encoder of this pipeline"
    encoders = [s for s in meta["sources"] if s["role"] == role]
    assert encoders == [
        {
            "name": "intfloat/multilingual-e5-small",
            "url": "https://huggingface.co/intfloat/multilingual-e5-small",
            "license": "MIT",
            "role": role,
        }
    ]
    assert "intfloat/multilingual-e5-small" in meta["notes"]


def test_card_names_the_encoder_its_layers_and_quantisation(
    made: dict[str, Path], tmp_path: Path
) -> None:
    """A local encoder directory is named by its hub origin; frozen and trained layers listed."""
    from spacy.util import load_config

    from xner_spacy.packaging.model_card import build_meta

    config = load_config(REPO / "configs" / "ner_encoder.cfg", interpolate=False)
    config["paths"]["encoder_name"] = "intfloat/multilingual-e5-small"
    config["components"]["xner_encoder"]["trainable_layers"] = 2
    model = tmp_path / "model"
    shutil.copytree(made["model"], model)
    config.to_disk(model / "config.cfg")
    meta = build_meta(model, made["metrics"])
    role = "pretrained encoder of this pipeline"
    assert [s["name"] for s in meta["sources"] if s["role"] == role] == [
        "intfloat/multilingual-e5-small"
    ]
    assert "assets/encoder" not in [s["name"] for s in meta["sources"]]
    (found,) = meta["encoders"]
    assert found["layers_frozen"] == [0, 6] and found["layers_trained"] == [7, 8]
    assert found["license"] == "MIT" and found["quantize"] == "none"
    line = (
        "Encoder: `intfloat/multilingual-e5-small` (loaded from `assets/encoder`), licence MIT; "
        "layers 0–6 kept frozen (float16, 0 = embeddings), layers 7–8 trained with the NER "
        "(float32); no quantisation."
    )
    assert line in meta["notes"]


def test_labeller_base_is_named_only_when_the_labeller_config_reads_it(
    made: dict[str, Path], tmp_path: Path
) -> None:
    """The main job passes --labeller-base for both archs; the encoder labeller never used it."""
    notes = {}
    for arch in ("cnn", "encoder"):
        out = tmp_path / f"meta_{arch}.json"
        args = ["package-meta", str(made["model"]), str(out), *_meta_args(made),
                "--labeller-base", "en_core_web_sm",
                "--labeller-config", str(REPO / "configs" / f"source_{arch}.cfg")]  # fmt: skip
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
        meta = json.loads(out.read_text())
        notes[arch] = meta["notes"]
    assert "its encoder initialised from `en_core_web_sm`" in notes["cnn"]
    assert "en_core_web_sm" not in notes["encoder"]


def test_an_encoder_pipeline_requires_torch_and_transformers_with_the_extras_pins() -> None:
    """A new venv that installs the wheel must be able to run the xner_encoder component."""
    from importlib.metadata import requires

    from spacy.util import load_config

    from xner_spacy.packaging.model_card import runtime_requirements

    needs = runtime_requirements(load_config(REPO / "configs" / "ner_encoder.cfg"))
    names = {n.split("<")[0].split(">")[0] for n in needs}
    assert {"torch", "transformers"} <= names
    declared = " ".join(requires("xner-spacy") or [])
    for need in needs:  # the same pins as setup.cfg's transformers extra
        name = need.split("<")[0].split(">")[0]
        assert name in declared
    assert runtime_requirements(load_config(REPO / "configs" / "ner_cnn.cfg")) == []
