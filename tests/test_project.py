"""End to end: `spacy project run all` on a toy data directory, then install and load the wheel."""

from __future__ import annotations

import json
import shutil
import site
import subprocess
import sys
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _run(cmd: list[str], cwd: Path | None = None) -> str:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    assert proc.returncode == 0, f"{cmd} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


@pytest.mark.slow
def test_project_all_then_pip_install_and_load(toy_data_dir: Path, tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    # The project directory is a copy of the repository's project files and package source
    # (the package step also builds the xner-spacy wheel from it).
    for name in ("project.yml", "setup.cfg", "pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(REPO / name, project)
    for name in ("configs", "xner_spacy"):
        shutil.copytree(REPO / name, project / name, ignore=shutil.ignore_patterns("__pycache__"))
    _run(
        [sys.executable, "-m", "spacy", "project", "run", "all", str(project),
         "--vars.data_dir", str(toy_data_dir), "--vars.lang", "zzz",
         "--vars.source_steps", "200", "--vars.target_steps", "200", "--vars.eval_frequency", "50",
         "--vars.projection_config", "configs/projection_fast.cfg",
         "--vars.source_config", "configs/ner_cnn.cfg"]
    )  # fmt: skip
    prepared = json.loads((project / "metrics/prepare_zzz.json").read_text())
    assert prepared["removed_test_overlap"] >= 2  # planted test sentences never train
    metrics = json.loads((project / "metrics/zzz.json").read_text())
    assert set(metrics) >= {"precision", "recall", "f1", "per_label"}
    assert metrics["f1"] > 0.5, metrics  # names in fixed templates: easy if the chain works
    timings = (project / "metrics/timings_zzz.jsonl").read_text().splitlines()
    assert {json.loads(t)["step"] for t in timings} >= {"train-source", "align", "train", "package"}
    dist = project / "packages/xx_xner_zzz-0.1.0/dist"
    wheels = list(dist.glob("xx_xner_zzz-*.whl"))
    assert len(wheels) == 1
    assert len(list(dist.glob("xner_spacy-*.whl"))) == 1  # the requirement, beside it

    # A new venv that sees this environment's packages (spaCy, xner-spacy) through a .pth
    # file, so only the wheel itself is installed, offline.
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    py = env_dir / "bin" / "python"
    purelib = _run([str(py), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"])
    Path(purelib.strip(), "_parent_env.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    _run([str(py), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheels[0])])
    code = (
        "import spacy; nlp = spacy.load('xx_xner_zzz'); print(nlp.meta['requirements']); "
        "print([(e.text, e.label_) for e in nlp('Ada lo si Lagos lana .').ents])"
    )
    out = _run([str(py), "-c", code])
    requirements, ents = out.strip().splitlines()
    assert "xner-spacy" in requirements
    assert "('Ada', 'PER')" in ents or "('Lagos', 'LOC')" in ents
