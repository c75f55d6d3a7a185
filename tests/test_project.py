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


# --- project.yml itself, as explosion/projects' test_project_*.py check theirs ---------------


def _project() -> dict:  # type: ignore[type-arg]
    from weasel.schemas import ProjectConfigSchema, validate
    from weasel.util import load_project_config

    config = load_project_config(REPO)  # substitutes ${vars.*}; fails on an unknown var
    assert not validate(ProjectConfigSchema, config)
    return config


def test_project_commands_declare_deps_and_outputs() -> None:
    for cmd in _project()["commands"]:
        assert cmd.get("deps"), f"{cmd['name']} has no deps: weasel cannot tell when to rerun it"
        assert cmd.get("outputs"), f"{cmd['name']} has no outputs: weasel cannot skip it"
        for path in cmd["deps"] + cmd["outputs"]:  # two list items merged by interpolation
            assert ", " not in path, f"{cmd['name']}: {path!r}"


def test_project_outputs_are_never_shared() -> None:
    owner: dict[str, str] = {}
    for cmd in _project()["commands"]:
        for out in cmd["outputs"]:
            assert out not in owner, f"{out} is written by {owner.get(out)} and {cmd['name']}"
            owner[out] = cmd["name"]


def test_project_nests_no_project_runs_and_workflows_name_commands() -> None:
    config = _project()
    names = {cmd["name"] for cmd in config["commands"]}
    for cmd in config["commands"]:
        for line in cmd["script"]:
            assert "project run" not in line, f"{cmd['name']} nests a project run: {line}"
    for flow, steps in config["workflows"].items():
        assert set(steps) <= names, f"workflow {flow} names unknown commands"


def test_project_steps_read_what_earlier_steps_write() -> None:
    """In each workflow, a dep under the project's own folders is an earlier step's output."""
    config = _project()
    by_name = {cmd["name"]: cmd for cmd in config["commands"]}
    own = tuple(f"{d}/" for d in ("corpus", "training", "metrics", "packages"))
    for flow, steps in config["workflows"].items():
        made: set[str] = set()
        for step in steps:
            for dep in by_name[step]["deps"]:
                if dep.startswith(own) and flow in ("all", "translate-train", "target-models"):
                    assert dep in made, f"{flow}: {step} reads {dep} before any step writes it"
            made.update(by_name[step]["outputs"])
