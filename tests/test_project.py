"""End to end: `spacy project run all` on a toy data directory, then install and load the wheel."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from spacy.util import load_config

REPO = Path(__file__).resolve().parents[1]


def _run(cmd: list[str], path: Path | None = None) -> str:
    """Run ``cmd`` offline (Hugging Face too), with ``path`` first on PYTHONPATH if given."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    if path is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(path), env.get("PYTHONPATH")]))
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    assert proc.returncode == 0, f"{cmd} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


def _encoder_vars(project: Path, tmp_path: Path) -> tuple[list[str], Path]:
    """The project vars of an encoder run and the encoder directory they name.

    A tiny random XLM-R-style encoder with 8 layers (the configs read hidden layer 8, as
    shipped, with no layer override) in a folder of its own, outside the project, so the
    default ``assets/encoder`` does not exist: a step that ignored ``--vars.encoder`` fails.
    Source labeller and target pipeline both on ``configs/ner_encoder.cfg`` (the default
    ``--vars.arch encoder``); the align step
    on the intersection of SimAlign over the encoder (``configs/align/simalign.cfg``) and
    ``projection_fast.cfg``'s fast_align (a random encoder's links alone are noise; fast_align
    keeps the silver names clean), written into the project copy.
    """
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    pytest.importorskip("simalign")
    from thinc.api import Config
    from tiny_models import save_tiny_xlmr

    encoder = save_tiny_xlmr(tmp_path / "tiny-encoder-8", num_layers=8)
    cfg = Config().from_disk(project / "configs/projection_fast.cfg", interpolate=False)
    simalign = Config().from_disk(project / "configs/align/simalign.cfg", interpolate=False)
    assert simalign["aligner"]["model"] == "${paths.encoder}"
    cfg["aligner"] = {"@misc": "xner.CombinedAligner.v1", "rule": "intersection",
                      "first": simalign["aligner"], "second": cfg["aligner"]}  # fmt: skip
    cfg.to_disk(project / "configs/projection_encoder.cfg")
    # No --vars.arch: the default (encoder) puts the source labeller and the target on it.
    args = ["--vars.encoder", str(encoder), "--vars.encoder_name", "null",
            "--vars.projection_config", "configs/projection_encoder.cfg"]  # fmt: skip
    return args, encoder


def _copy_project(tmp_path: Path) -> Path:
    """A copy of the repository's project files and package source in ``tmp_path/project``
    (the package step also builds the xner-spacy wheel from it)."""
    project = tmp_path / "project"
    project.mkdir()
    for name in ("project.yml", "setup.cfg", "pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(REPO / name, project)
    for name in ("configs", "xner_spacy"):
        shutil.copytree(REPO / name, project / name, ignore=shutil.ignore_patterns("__pycache__"))
    return project


# Run with the installed wheel on the path (and, for an encoder run, the encoder directory
# gone): the trained pipeline's directory and the installed package must load and agree.
_LOAD_BOTH = """
import json, sys, spacy
text = "Ada lo si Lagos lana ."
out = {}
for key, name in (("dir", sys.argv[1]), ("package", "xx_xner_zzz")):
    nlp = spacy.load(name)
    doc = nlp(text)
    feats = doc._.xner_features if doc.has_extension("xner_features") else None
    states = doc._.xner_states if doc.has_extension("xner_states") else None
    out[key] = {
        "pipes": nlp.pipe_names,
        "requirements": nlp.meta.get("requirements", []),
        "ents": [[e.text, e.label_] for e in doc.ents],
        "features": None if feats is None else [list(feats.shape), float(abs(feats).sum())],
        "states": None if states is None else [
            int(states["layer"]), states["states"].shape[1], float(abs(states["states"]).sum())
        ],
    }
print(json.dumps(out))
"""


@pytest.mark.slow
@pytest.mark.parametrize("target", ["cnn", "encoder"])
def test_project_all_then_pip_install_and_load(
    target: str, toy_data_dir: Path, tmp_path: Path
) -> None:
    project = _copy_project(tmp_path)
    args = ["--vars.projection_config", "configs/projection_fast.cfg", "--vars.arch", "cnn",
            "--vars.source_config", "configs/ner_cnn.cfg"]  # fmt: skip
    encoder = None
    if target == "encoder":
        args, encoder = _encoder_vars(project, tmp_path)
    steps = "200" if encoder is None else "100"  # the encoder's features: learnt sooner
    _run(
        [sys.executable, "-m", "spacy", "project", "run", "all", str(project),
         "--vars.data_dir", str(toy_data_dir), "--vars.lang", "zzz",
         "--vars.source_steps", steps, "--vars.target_steps", steps, "--vars.eval_frequency", "50",
         *args]
    )  # fmt: skip
    assert not (project / "assets/encoder").exists()
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
    model = project / "training/zzz/model-best"
    pipes = {"cnn": ["tok2vec", "ner"], "encoder": ["xner_encoder", "ner"]}[target]
    for pipeline in (project / "training/source_en/model-best", model):
        assert load_config(pipeline / "config.cfg")["nlp"]["pipeline"] == pipes, pipeline
    if encoder is not None:
        # the saved pipelines hold their own copy of the encoder, not a path to it
        for pipeline in (project / "training/source_en/model-best", model):
            assert (pipeline / "xner_encoder/model/config.json").is_file()
        card = json.loads((project / "packages/xx_xner_zzz-0.1.0/meta.json").read_text())
        assert any(str(encoder) in s["name"] for s in card["sources"]), card["sources"]
        (used,) = card["encoders"]  # the default (trainable_layers 2) trains layers 7 and 8
        assert used["layers_frozen"] == [0, 6] and used["layers_trained"] == [7, 8], used
        assert "en_core_web_sm" not in json.dumps(card), "the encoder labeller has no tok2vec base"
        # a new venv gets what the encoder component imports
        assert {r.split(">")[0].split("<")[0] for r in card["requirements"]} >= {
            "torch",
            "transformers",
            "xner-spacy",
        }, card["requirements"]
        shutil.rmtree(encoder)

    # The wheel alone, installed offline into a fresh folder; this environment provides its
    # requirements (spaCy, xner-spacy), as a venv with --system-site-packages would.
    target_dir = tmp_path / "site"
    _run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--target",
          str(target_dir), str(wheels[0])])  # fmt: skip
    assert not importlib.util.find_spec("xx_xner_zzz")  # only there
    loaded = json.loads(_run([sys.executable, "-c", _LOAD_BOTH, str(model)], path=target_dir))
    assert any(r.startswith("xner-spacy") for r in loaded["package"]["requirements"])
    for found in loaded.values():
        del found["requirements"]  # the package's meta adds them
    assert loaded["dir"] == loaded["package"]  # the same pipeline, with the same predictions
    assert loaded["package"]["pipes"] == pipes
    ents = loaded["package"]["ents"]
    assert ["Ada", "PER"] in ents or ["Lagos", "LOC"] in ents, ents
    features, states = loaded["package"]["features"], loaded["package"]["states"]
    if encoder is None:
        assert features is None and states is None
    else:  # the default trains layers 7-8: the packaged encoder caches layer 6's sub-tokens
        assert features is None
        assert states[:2] == [6, 32] and states[2] > 0


_MAIN_STEPS = ["train-source", "prepare", "label", "align", "project", "convert", "train",
               "evaluate", "package"]  # fmt: skip


def _ran(output: str) -> list[str]:
    """The main-job steps weasel ran, in order: it prints a divider with the name of every
    step of the workflow, then 'Skipping ...: nothing changed' for those it does not run."""
    seen = re.findall(r"={3,} ([\w-]+) ={3,}", output)
    skipped = set(re.findall(r"Skipping '([\w-]+)': nothing changed", output))
    return [step for step in seen if step in _MAIN_STEPS and step not in skipped]


@pytest.mark.slow
def test_switching_arch_encoder_or_source_model_reruns_what_depends_on_them(
    toy_data_dir: Path, tmp_path: Path
) -> None:
    """One project folder, the main job again and again: nothing stale is reused (issue 27)."""
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from tiny_models import save_tiny_xlmr

    project = _copy_project(tmp_path)
    first = save_tiny_xlmr(tmp_path / "enc-a", num_layers=8)
    base = ["--vars.data_dir", str(toy_data_dir), "--vars.lang", "zzz",
            "--vars.source_steps", "12", "--vars.target_steps", "12",
            "--vars.eval_frequency", "6", "--vars.encoder", str(first),
            "--vars.projection_config", "configs/projection_fast.cfg"]  # fmt: skip
    cnn = ["--vars.arch", "cnn", "--vars.source_config", "configs/ner_cnn.cfg"]

    def run(*args: str, workflow: str = "all") -> list[str]:
        cmd = [sys.executable, "-m", "spacy", "project", "run", workflow, str(project)]
        return _ran(_run([*cmd, *base, *args]))

    assert run(*cnn) == _MAIN_STEPS
    assert run(*cnn) == []  # nothing changed: nothing reruns
    # the CNN → encoder switch: both pipelines retrain, and the silver data is relabelled with
    # the new labeller (before, label..convert were skipped and train read the old silver data)
    ran = run("--vars.arch", "encoder")
    assert {"train-source", "label", "train", "evaluate", "package"} <= set(ran), ran
    assert "prepare" not in ran
    labeller = json.loads((project / "corpus/models/labeller.json").read_text())
    assert "xner_encoder/model/config.json" in json.dumps(labeller)  # the encoder labeller
    # another encoder at another path: what reads it reruns; prepare does not
    second = save_tiny_xlmr(tmp_path / "enc-b", num_layers=8, seed=1)
    ran = run("--vars.arch", "encoder", "--vars.encoder", str(second))
    assert "prepare" not in ran and {"train-source", "label", "train"} <= set(ran)
    # another source model by var (a folder here; an installed package works the same way)
    ruler = _ruler(tmp_path / "ruler_en", "en")
    args = ["--vars.arch", "encoder", "--vars.encoder", str(second), "--vars.source_model",
            ruler, "--vars.source_label_map", "identity"]  # fmt: skip
    ran = run(*args, workflow="translate-train")
    assert ran[0] == "label" and "prepare" not in ran, ran
    metrics = json.loads((project / "metrics/zzz.json").read_text())
    assert metrics["provenance"]["labeller"][ruler]["path"] == ruler  # what the model came from
    assert set(metrics["provenance"]) == {"labeller", "encoder", "silver"}
    card = json.loads((project / "packages/xx_xner_zzz-0.1.0/meta.json").read_text())
    assert card["xner_provenance"] == metrics["provenance"] and "Provenance" in card["notes"]


def _ruler(path: Path, lang: str) -> str:
    """A rule-based source labeller that knows the toy names (PER/ORG/LOC)."""
    import spacy
    from toy_data import NAMES

    nlp = spacy.blank(lang)
    ruler = nlp.add_pipe("entity_ruler", name="ner")
    ruler.add_patterns([{"label": label, "pattern": name} for name, label in NAMES])  # type: ignore[attr-defined]
    nlp.to_disk(path)
    return str(path)


# --- project.yml itself, as explosion/projects' test_project_*.py check theirs ---------------
# The main job and each benchmark project under projects/ (tests/test_subprojects.py runs those).

PROJECTS = [REPO, *sorted(p.parent for p in (REPO / "projects").glob("*/project.yml"))]
_EACH_PROJECT = pytest.mark.parametrize(
    "path", PROJECTS, ids=["main", *(p.name for p in PROJECTS[1:])]
)
MAX_MAIN_LINES = 300


def _project(path: Path = REPO) -> dict:  # type: ignore[type-arg]
    from weasel.schemas import ProjectConfigSchema, validate
    from weasel.util import load_project_config

    config = load_project_config(path)  # substitutes ${vars.*}; fails on an unknown var
    assert not validate(ProjectConfigSchema, config)
    return config


def test_main_project_stays_short() -> None:
    lines = (REPO / "project.yml").read_text(encoding="utf8").count("\n")
    assert lines <= MAX_MAIN_LINES, f"project.yml has {lines} lines; benchmarks go to projects/"
    assert len(PROJECTS) > 1


@_EACH_PROJECT
def test_project_commands_declare_deps_and_outputs(path: Path) -> None:
    for cmd in _project(path)["commands"]:
        if not cmd.get("no_skip"):  # identify-*: run every time, to tell the others to rerun
            assert cmd.get("deps"), f"{cmd['name']} has no deps: weasel cannot tell when to rerun"
        assert cmd.get("outputs"), f"{cmd['name']} has no outputs: weasel cannot skip it"
        for item in cmd.get("deps", []) + cmd["outputs"]:  # two items merged by interpolation
            assert ", " not in item, f"{cmd['name']}: {item!r}"


@_EACH_PROJECT
def test_project_outputs_are_never_shared(path: Path) -> None:
    owner: dict[str, str] = {}
    for cmd in _project(path)["commands"]:
        for out in cmd["outputs"]:
            assert out not in owner, f"{out} is written by {owner.get(out)} and {cmd['name']}"
            owner[out] = cmd["name"]


@_EACH_PROJECT
def test_project_nests_no_project_runs_and_workflows_name_commands(path: Path) -> None:
    config = _project(path)
    names = {cmd["name"] for cmd in config["commands"]}
    for cmd in config["commands"]:
        for line in cmd["script"]:
            assert "project run" not in line, f"{cmd['name']} nests a project run: {line}"
    assert "all" in config["workflows"]
    for flow, steps in config["workflows"].items():
        assert set(steps) <= names, f"workflow {flow} names unknown commands"


@_EACH_PROJECT
def test_project_steps_read_what_earlier_steps_write(path: Path) -> None:
    """In each workflow, a dep under the project's own folders is an earlier step's output
    (another project's outputs, such as ../../training/source_en, are read through vars)."""
    config = _project(path)
    by_name = {cmd["name"]: cmd for cmd in config["commands"]}
    own = tuple(f"{d}/" for d in ("corpus", "training", "metrics", "packages"))
    for flow, steps in config["workflows"].items():
        made: set[str] = set()
        for step in steps:
            for dep in by_name[step].get("deps", []):
                if dep.startswith(own):
                    assert dep in made, f"{flow}: {step} reads {dep} before any step writes it"
            made.update(by_name[step]["outputs"])
