"""The cross-lingual benchmark (xner crosslingual, project workflow conll-xl) on toy data."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest
import spacy
from spacy.tokens import DocBin
from toy_data import synthetic_pairs, write_conll

from xner_spacy.experiments.crosslingual import student_jobs
from xner_spacy.experiments.crosslingual_data import (
    BenchmarkSettings,
    GoldSplits,
    build_language,
    words_key,
)
from xner_spacy.io.conll import read_conll

REPO = Path(__file__).resolve().parents[2]
LABELS = ("LOC", "MISC", "ORG", "PER")


def _write_lang(folder: Path, side: int, seed: int, names: tuple[str, str, str]) -> None:
    """train/dev/test of one toy language; two test sentences planted in train."""
    test = synthetic_pairs(30, seed=seed + 2)
    write_conll(folder / names[0], synthetic_pairs(120, seed=seed) + test[:2], side)
    write_conll(folder / names[1], synthetic_pairs(30, seed=seed + 1), side)
    write_conll(folder / names[2], test, side)


def toy_conll_dir(root: Path) -> Path:
    """../shared/data's layout for the conll-xl workflow: en (IOB file names), de, es, nl."""
    _write_lang(root / "conll2003_en", 0, 10, ("eng.train", "eng.testa", "eng.testb"))
    for k, lang in enumerate(("de", "es", "nl")):
        names = ("train.txt", "dev.txt", "test.txt")
        _write_lang(root / "conll_4types" / lang, 1, 20 + 10 * k, names)
    write_conll(root / "germeval2014/de.txt", synthetic_pairs(25, seed=90), 1)
    write_conll(root / "europarl_ner/es.conll02", synthetic_pairs(25, seed=91), 1)
    ntrex = synthetic_pairs(60, seed=95)  # line-aligned "eng" and "deu" (no "spa", no "nld")
    (root / "ntrex128").mkdir()
    (root / "ntrex128/eng.txt").write_text("\n".join(p[0] for p in ntrex) + "\n", "utf8")
    (root / "ntrex128/deu.txt").write_text("\n".join(p[1] for p in ntrex) + "\n", "utf8")
    return root


def _settings(root: Path, tmp_path: Path, **kwargs: object) -> BenchmarkSettings:
    langs = {
        "en": GoldSplits.from_dir(root / "conll2003_en"),
        **{lang: GoldSplits.from_dir(root / "conll_4types" / lang) for lang in ("de", "es")},
    }
    base = {
        "languages": langs,
        "targets": ["de", "es"],
        "sources": ["en", "de", "es"],
        "output_dir": tmp_path / "out",
        "shift": {"de": [root / "germeval2014/de.txt"]},
    }
    return BenchmarkSettings(**{**base, **kwargs})  # type: ignore[arg-type]


def test_gold_splits_find_both_layouts(tmp_path: Path) -> None:
    root = toy_conll_dir(tmp_path / "data")
    assert GoldSplits.from_dir(root / "conll2003_en").dev.name == "eng.testa"
    assert GoldSplits.from_dir(root / "conll_4types/de").test.name == "test.txt"
    with pytest.raises(FileNotFoundError, match="train.txt"):
        GoldSplits.from_dir(root)


def test_plan_full_and_short_variants(tmp_path: Path) -> None:
    settings = _settings(toy_conll_dir(tmp_path / "data"), tmp_path, full_variants=("encoder",))
    assert settings.sources_for("de") == ["en", "es"]  # never its own source, order kept
    full = [(j.name, j.k, j.weighting) for j in student_jobs(settings, "encoder", "de", 0)]
    assert full == [
        ("de/hard_k1", 1, None),
        ("de/soft_k1", 1, None),
        ("de/soft_k2_uniform", 2, "uniform"),
        ("de/soft_k2_similarity", 2, "similarity"),
        ("de/soft_k2_langid", 2, "langid"),
    ]
    short = [(j.name, j.k, j.weighting) for j in student_jobs(settings, "cnn", "de", 0)]
    assert short == [("de/soft_k1", 1, None), ("de/soft_k2_uniform", 2, "uniform")]


def test_trainable_layers_reach_the_encoder_jobs_and_their_own_folders(tmp_path: Path) -> None:
    from xner_spacy.experiments.crosslingual import job_config, model_dir, teacher_job

    root = toy_conll_dir(tmp_path / "data")
    frozen = _settings(root, tmp_path)
    tuned = _settings(root, tmp_path, trainable_layers=2)
    job = teacher_job("encoder", "en", 1)
    assert model_dir(frozen, job).relative_to(frozen.output_dir).parts[1:3] == ("encoder", "seed1")
    assert model_dir(tuned, job).relative_to(tuned.output_dir).parts[1:3] == ("encoder-t2", "seed1")
    cfg = job_config(tuned, job)
    assert cfg["components"]["xner_encoder"]["trainable_layers"] == 2
    assert cfg["system"]["seed"] == 1
    assert job_config(frozen, job)["components"]["xner_encoder"]["trainable_layers"] == 0


@pytest.mark.parametrize(
    "change,message",
    [
        ({"variants": ("bert",)}, "unknown variant"),
        ({"weightings": ("softmax",)}, "unknown weighting"),
        ({"targets": ["fr"]}, "no data for"),
        ({"sources": ["de"], "targets": ["de"]}, "no source other than itself"),
        ({"shift": {"xx": [Path("x")]}}, r"\[benchmark.shift\] names \[.xx.\], not in"),
    ],
)
def test_settings_errors(tmp_path: Path, change: dict[str, object], message: str) -> None:
    root = toy_conll_dir(tmp_path / "data")
    with pytest.raises(ValueError, match=message):
        _settings(root, tmp_path, **change)


def test_shift_files_of_languages_that_are_not_targets_are_left_out(tmp_path: Path) -> None:
    root = toy_conll_dir(tmp_path / "data")
    settings = _settings(root, tmp_path, shift={"en": [root / "germeval2014/de.txt"]})
    assert settings.shift == {}


def test_no_test_sentence_reaches_the_unlabelled_text(tmp_path: Path) -> None:
    root = toy_conll_dir(tmp_path / "data")
    settings = _settings(root, tmp_path, text_limit=0)
    log = build_language(settings, "de")
    held_out = {
        words_key(s.words)
        for path in (root / "conll_4types/de/test.txt", root / "germeval2014/de.txt")
        for s in read_conll(path, labels=LABELS)
    }
    train = [words_key(s.words) for s in read_conll(settings.languages["de"].train, labels=LABELS)]
    planted = sum(key in held_out for key in train)
    assert planted >= 2  # the two planted test sentences (templates repeat, so maybe more)
    assert log["unlabelled"]["removed_test_sentences"] == planted
    nlp = spacy.blank("xx")
    docs = list(DocBin().from_disk(settings.corpus_dir / "de/unlabelled.spacy").get_docs(nlp.vocab))
    assert len(docs) == len(train) - planted
    assert not {words_key([t.text for t in doc]) for doc in docs} & held_out
    assert all(not doc.ents for doc in docs)  # no labels
    lines = (settings.corpus_dir / "de/unlabelled.txt").read_text("utf8").splitlines()
    assert len(lines) == len(docs) and not set(lines) & held_out


def _run(cmd: list[str]) -> str:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    assert proc.returncode == 0, f"{cmd} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


@pytest.mark.slow
def test_conll_xl_workflow_end_to_end(tmp_path: Path) -> None:
    """projects/conll-xl's conll-xl-run and conll-xl-report, with a tiny encoder, two seeds."""
    pytest.importorskip("transformers")
    pytest.importorskip("sklearn")
    pytest.importorskip("matplotlib")
    from tiny_models import save_tiny_xlmr

    data = toy_conll_dir(tmp_path / "data")
    encoder = save_tiny_xlmr(tmp_path / "tiny-encoder-8", num_layers=8)
    project = tmp_path / "project"
    shutil.copytree(REPO / "projects/conll-xl", project)  # project.yml and configs/conll_xl.cfg
    args = ["--vars.data_dir", str(data), "--vars.encoder", str(encoder),
            "--vars.configs", str(REPO / "configs"),
            "--vars.xl_targets", "de", "--vars.xl_sources", "en,es",
            "--vars.xl_variants", "encoder", "--vars.xl_seeds", "0,1",
            "--vars.xl_teacher_steps", "20", "--vars.xl_student_steps", "20",
            "--vars.xl_eval_frequency", "10",
            "--vars.xl_train_limit", "100", "--vars.xl_jobs", "1"]  # fmt: skip
    for command in ("conll-xl-run", "conll-xl-report"):
        _run([sys.executable, "-m", "spacy", "project", "run", command, str(project), *args])
    result = json.loads((project / "metrics/conll_xl.json").read_text("utf8"))
    got = {(r["variant"], r["method"], r["k"], r["weighting"]) for r in result["rows"]}
    assert got == {
        ("encoder", "direct", 1, None),  # the en and the es teacher, each applied to de
        ("encoder", "hard", 1, None),
        ("encoder", "soft", 1, None),
        ("encoder", "soft", 2, "uniform"),
        ("encoder", "soft", 2, "similarity"),
        ("encoder", "soft", 2, "langid"),
        ("encoder", "translate-train", 1, None),  # NTREX-128 has eng and deu
        ("encoder", "soft+tt", 3, "uniform"),  # the two teachers and the translate-train student
    }
    for row in result["rows"]:
        assert set(row["scores"]) == {"in_domain", "shift:germeval2014/de.txt"}
        assert row["seeds"] == [0, 1] and len(set(row["models"])) == 2
        assert all(Path(m).is_dir() for m in row["models"])
        for scores in row["scores"].values():
            assert len(scores["f1_per_seed"]) == 2 and 0.0 <= scores["f1_mean"] <= 1.0
            assert scores["f1_ci"][0] <= scores["f1_mean"] <= scores["f1_ci"][1]
        if row["method"] not in ("direct", "translate-train"):  # trained on gold or silver
            assert sum(row["weights"].values()) == pytest.approx(1.0, abs=1e-4)
    # the encoder ran once per sentence: every training read the disk cache
    assert result["encode"]["encoded"] > 0
    assert list((project / "training/conll_xl/feature_cache").glob("features-*.sqlite"))
    assert result["data"]["de"]["unlabelled"]["removed_test_sentences"] >= 2
    tt = result["translate_train"]["encoder:de:seed0"]
    assert tt["prepare"]["written"] + tt["prepare"]["removed_test_overlap"] == 60
    assert tt["label"]["records"] == tt["prepare"]["written"]
    assert {"data", "encode", "encoder:teachers", "encoder:students:de"} <= set(
        result["step_seconds"]
    )
    assert set(result["seed_seconds"]) == {"0", "1"}
    claims = {(c["claim"], c["domain"]) for c in result["comparisons"]}
    assert ("soft vs hard", "out_of_domain") in claims and ("k=2 vs k=1", "in_domain") in claims
    table = json.loads((project / "metrics/conll_xl_table.json").read_text("utf8"))
    methods = {(r["variant"], r["method"]) for r in table["rows"]}
    assert ("encoder", "soft k=2 langid") in methods and ("encoder", "direct (en)") in methods
    md = (project / "metrics/conll_xl_table.md").read_text("utf8")
    assert "| encoder | soft k=1 | " in md and " ± " in md and "Wu et al. 2020" in md
    assert "| encoder | soft vs hard | soft k=1 | hard k=1 | out | de |" in md
    assert (project / "metrics/conll_xl_f1.png").stat().st_size > 1000


def test_the_shipped_benchmark_configs_read_into_settings_with_overrides(tmp_path: Path) -> None:
    """conll_xl.cfg and lowres_xl.cfg, with the project's --paths and --benchmark overrides."""
    from spacy.util import load_config

    root = toy_conll_dir(tmp_path / "data")
    cfg = load_config(
        REPO / "projects/conll-xl/configs/conll_xl.cfg",
        overrides={"paths.data": str(root), "benchmark.targets": "de", "benchmark.jobs": "1"},
        interpolate=True,
    )
    settings = BenchmarkSettings.from_config(cfg["benchmark"])
    assert settings.targets == ["de"] and settings.sources == ["en", "de", "es", "nl"]
    assert settings.variants == ("encoder", "cnn") and settings.jobs == 1
    assert settings.seeds == (0, 1, 2) and settings.data_seed == 0
    assert not settings.align_per_seed and settings.bootstrap == 1000
    assert settings.languages["en"].dev.name == "eng.testa"
    assert settings.shift == {"de": [root / "germeval2014/de.txt"]}  # es: not a target
    assert settings.ntrex_dir == root / "ntrex128" and settings.max_sources == 3
    lowres = load_config(REPO / "projects/lowres-xl/configs/lowres_xl.cfg", interpolate=True)
    assert set(lowres["benchmark"]) - {"languages", "shift_patterns"} <= {
        f.name for f in fields(BenchmarkSettings)
    }
    assert lowres["benchmark"]["targets"] == ["yor", "swa", "hau", "ibo", "kin", "zul"]
    one = load_config(
        REPO / "projects/conll-xl/configs/conll_xl.cfg",
        overrides={"paths.data": str(root), "benchmark.targets": "de", "benchmark.seeds": 4},
        interpolate=True,
    )
    assert BenchmarkSettings.from_config(one["benchmark"]).seeds == (4,)


@pytest.mark.parametrize(
    "change,message",
    [
        ({"max_source": 2}, r"unknown settings \['max_source'\]"),
        ({"shift_patterns": ["no-placeholder.txt"]}, "has no {lang}"),
        ({"shift": {"de": "missing.txt"}}, "no such file missing.txt"),
        ({"teacher_steps": "many"}, "teacher_steps must be int"),
        ({"seed": 1}, "seed is now two settings: data_seed"),
        ({"seeds": "0,x"}, "seeds must be integers"),
        ({"seeds": "1,1"}, "seeds must be distinct"),
    ],
)
def test_config_errors_name_the_setting(
    tmp_path: Path, change: dict[str, object], message: str
) -> None:
    root = toy_conll_dir(tmp_path / "data")
    section = {
        "languages": {"en": str(root / "conll2003_en"), "de": str(root / "conll_4types/de")},
        "targets": "de",
        "sources": "en",
        "output_dir": str(tmp_path / "out"),
        **change,
    }
    with pytest.raises((ValueError, FileNotFoundError), match=message):
        BenchmarkSettings.from_config(section)


def test_cli_refuses_a_config_without_a_benchmark_section_in_one_line(tmp_path: Path) -> None:
    config = tmp_path / "bench.cfg"
    config.write_text('[paths]\ndata = "x"\n', encoding="utf8")
    proc = subprocess.run(
        [sys.executable, "-m", "xner_spacy.cli", "crosslingual", str(config),
         "--output", str(tmp_path / "out.json")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == 1
    assert "has no [benchmark] section" in proc.stderr and "Traceback" not in proc.stderr


def test_a_config_may_list_languages_whose_data_is_missing_if_the_run_does_not_use_them(
    tmp_path: Path,
) -> None:
    root = toy_conll_dir(tmp_path / "data")
    section = {
        "languages": {
            "en": str(root / "conll2003_en"),
            "de": str(root / "conll_4types/de"),
            "fr": str(root / "missing"),
        },  # fmt: skip
        "targets": "de",
        "sources": "en",
        "output_dir": str(tmp_path / "out"),
    }
    assert set(BenchmarkSettings.from_config(section).languages) == {"en", "de"}
    with pytest.raises(FileNotFoundError, match="missing"):
        BenchmarkSettings.from_config({**section, "sources": "en,fr"})


def _fake_training(calls: list[int]) -> object:
    """Stands in for ``spacy train``: an entity ruler that knows PER and LOC names under seed 0
    and only PER names under other seeds (so seeds differ), saved as ``model-best``."""
    from toy_data import NAMES

    def run_logged(cmd: list[str], log: Path) -> None:
        seed = int(spacy.util.load_config(cmd[4])["system"]["seed"])
        calls.append(seed)
        kept = {"PER", "LOC"} if seed == 0 else {"PER"}
        nlp = spacy.blank("xx")
        ruler = nlp.add_pipe("entity_ruler")
        ruler.add_patterns([{"label": lab, "pattern": n} for n, lab in NAMES if lab in kept])
        nlp.to_disk(Path(cmd[cmd.index("--output") + 1]) / "model-best")

    return run_logged


@pytest.mark.parametrize("align_per_seed", [False, True])
def test_seeds_train_every_model_once_per_seed_and_a_rerun_trains_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, align_per_seed: bool
) -> None:
    """Two seeds: two models per row (seed folders, system.seed), per-seed F1, mean, sd, the
    interval and the claims; translate-train's alignment shared or drawn per seed."""
    import statistics

    from xner_spacy.experiments import crosslingual

    calls: list[int] = []
    monkeypatch.setattr(crosslingual, "run_logged", _fake_training(calls))
    root = toy_conll_dir(tmp_path / "data")
    settings = _settings(
        root, tmp_path, variants=("cnn",), full_variants=("cnn",), weightings=("uniform",),
        seeds=(0, 1), align_per_seed=align_per_seed, bootstrap=200, ntrex_dir=root / "ntrex128",
        configs_dir=REPO / "configs", projection_config=REPO / "configs/projection.cfg",
        targets=["de"],
    )  # fmt: skip
    result = crosslingual.run_benchmark(settings)
    # per seed: teachers en, es; hard k1, soft k1, soft k2; translate-train; soft+tt
    assert sorted(calls) == [0] * 7 + [1] * 7 and calls[:7] == [0] * 7  # seed by seed
    assert set(result["seed_seconds"]) == {"0", "1"}
    methods = sorted((r["method"], r["k"], r["sources"][0]) for r in result["rows"])
    assert methods == [("direct", 1, "en"), ("direct", 1, "es"), ("hard", 1, "en"),
                       ("soft", 1, "en"), ("soft", 2, "en"), ("soft+tt", 3, "en"),
                       ("translate-train", 1, "en")]  # fmt: skip
    for row in result["rows"]:
        assert row["seeds"] == [0, 1]
        assert all(f"/seed{s}/" in m for s, m in zip((0, 1), row["models"], strict=True))
        assert set(row["scores"]) == {"in_domain", "shift:germeval2014/de.txt"}
        for name, scores in row["scores"].items():
            per_seed = scores["f1_per_seed"]
            assert len(per_seed) == 2 and per_seed[0] > per_seed[1]  # seed 0 knows LOC too
            assert scores["f1_mean"] == pytest.approx(statistics.mean(per_seed), abs=1e-4)
            assert scores["f1_sd"] == pytest.approx(statistics.stdev(per_seed), abs=1e-4)
            low, high = scores["f1_ci"]
            assert low <= scores["f1_mean"] <= high
            assert all(Path(p).is_file() for p in row["counts"][name])
    teacher = Path(next(r for r in result["rows"] if r["method"] == "direct")["models"][1])
    assert spacy.util.load_config(teacher.parent / "config.cfg")["system"]["seed"] == 1
    # translate-train: labels (first seed's teacher) shared; the alignment shared or per seed
    tt = settings.corpus_dir / "de/translate_train_cnn"
    assert (tt / "labelled.jsonl").is_file()
    silver = {
        s: spacy.util.load_config(
            Path(next(r for r in result["rows"] if r["method"] == "translate-train")["models"][s])
            .parent / "config.cfg"
        )["paths"]["train"]
        for s in (0, 1)
    }  # fmt: skip
    tt_model = next(r for r in result["rows"] if r["method"] == "translate-train")["models"][0]
    own = Path(tt_model).parent.name == "translate_train_own_alignment"  # beside the shared one's
    assert own == align_per_seed
    if align_per_seed:
        assert silver == {s: str(tt / f"seed{s}/train.spacy") for s in (0, 1)}
        assert not (tt / "aligned.jsonl").exists()
        assert all((tt / f"seed{s}/aligned.jsonl").is_file() for s in (0, 1))
    else:
        assert silver == {0: str(tt / "train.spacy"), 1: str(tt / "train.spacy")}
        assert (tt / "aligned.jsonl").is_file() and not (tt / "seed0").exists()
    claims = {(c["claim"], c["domain"], c["target"]) for c in result["comparisons"]}
    assert claims == {
        (claim, domain, "de")
        for claim in ("soft k=1 vs direct", "k=2 vs k=1", "soft vs hard")
        for domain in ("in_domain", "out_of_domain")
    }
    assert all(c["seeds_a"] == c["seeds_b"] == 2 for c in result["comparisons"])
    # a rerun trains nothing and gives the same rows
    calls.clear()
    again = crosslingual.run_benchmark(settings)
    assert calls == []
    assert [r["scores"] for r in again["rows"]] == [r["scores"] for r in result["rows"]]
