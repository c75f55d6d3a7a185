"""xner languages-table: translate-train for several languages and target configs, one table."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from spacy.util import load_config
from toy_data import NAMES

from xner_spacy.evaluation.bootstrap import save_counts
from xner_spacy.experiments.languages_table import (
    Step,
    language_steps,
    run_languages,
    run_step,
)
from xner_spacy.experiments.languages_table_report import languages_table
from xner_spacy.experiments.languages_table_settings import (
    Labeller,
    LanguagesSettings,
    parse_variants,
)

REPO = Path(__file__).resolve().parents[2]
LABELS = ["PER", "ORG", "LOC"]
CNN = ["train:cnn/seed0", "evaluate:cnn/seed0"]


def test_labeller_and_variant_options_parse() -> None:
    assert Labeller.parse("en=training/source_en/model-best:conll") == Labeller(
        "en", "training/source_en/model-best", "conll"
    )
    assert Labeller.parse("fr=fr_core_news_md") == Labeller("fr", "fr_core_news_md", "conll")
    assert list(parse_variants(["cnn=a.cfg", "encoder=b.cfg"])) == ["cnn", "encoder"]
    for bad in ("en", "=model", "en="):  # the syntax of xner distill-experiment --source
        with pytest.raises(ValueError, match="LANG=MODEL"):
            Labeller.parse(bad)
    with pytest.raises(ValueError, match="twice"):
        parse_variants(["cnn=a.cfg", "cnn=b.cfg"])


@pytest.fixture(scope="module")
def two_languages(toy_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The toy data plus a French-paired target 'www' (same sentences, fr-www parallel text)."""
    root = tmp_path_factory.mktemp("langs") / "data"
    shutil.copytree(toy_data_dir, root)
    shutil.copytree(root / "masakhaner2/zzz", root / "masakhaner2/www")
    fr = root / "mafand/fr-www"
    fr.mkdir()
    for split in ("train", "dev"):
        shutil.copy(root / f"mafand/en-zzz/{split}.en", fr / f"{split}.fr")
        shutil.copy(root / f"mafand/en-zzz/{split}.zzz", fr / f"{split}.www")
    return root


def settings(data: Path, tmp_path: Path, **kw: object) -> LanguagesSettings:
    base = dict(
        data_dir=data,
        languages=["zzz", "www"],
        labellers=[Labeller("en", "m_en", "conll"), Labeller("fr", "m_fr", "identity")],
        variants={"cnn": REPO / "configs/ner_cnn.cfg"},
        work_dir=tmp_path / "work",
        projection_config=REPO / "configs/projection.cfg",
        encoder="enc_dir",
    )
    base.update(kw)
    return LanguagesSettings(**base)  # type: ignore[arg-type]


def test_each_language_takes_the_first_labeller_with_parallel_text(
    two_languages: Path, tmp_path: Path
) -> None:
    s = settings(two_languages, tmp_path)
    s.check()
    assert s.source_of("zzz").lang == "en" and s.source_of("www").lang == "fr"
    steps = {st.name: st for st in language_steps(s, "www")}
    assert list(steps) == ["prepare", "label", "align", "project", "convert", "direct",
                           "train:cnn/seed0", "evaluate:cnn/seed0"]  # fmt: skip
    label = steps["label"].command
    assert label[label.index("--labeller.model") + 1] == "m_fr"
    assert label[label.index("--paths.encoder") + 1] == "enc_dir"
    train = steps["train:cnn/seed0"].command
    assert train[train.index("--nlp.lang") + 1] == "xx" and steps["train:cnn/seed0"].folder
    assert train[train.index("--output") + 1].endswith("models/cnn/seed0.tmp")
    assert train[train.index("--system.seed") + 1] == "0"  # the default --seeds 0
    assert "--paths.feature_cache" not in train  # ner_cnn.cfg reads no encoder features
    direct = steps["direct"].command
    assert direct[direct.index("evaluate") + 1] == "m_fr"
    assert direct[direct.index("--label-map") + 1] == "identity"
    assert direct[direct.index("--counts") + 1].endswith("www/scores/direct.npz")
    evaluate = steps["evaluate:cnn/seed0"].command
    assert evaluate[evaluate.index("evaluate") + 1].endswith("www/models/cnn/seed0/model-best")
    assert evaluate[evaluate.index("--counts") + 1].endswith("www/scores/cnn.seed0.npz")
    assert steps["train:cnn/seed0"].setup is None


def test_a_distilled_student_learns_from_the_named_teachers_on_target_text(
    two_languages: Path, tmp_path: Path
) -> None:
    s = settings(two_languages, tmp_path, distil_teachers=["direct", "cnn"],
                 text_sources=["mafand", "masakhaner-train"])  # fmt: skip
    s.check()
    steps = {st.name: st for st in language_steps(s, "www")}
    assert list(steps)[-5:] == ["train:cnn/seed0", "evaluate:cnn/seed0", "text",
                                "train:distil/seed0", "evaluate:distil/seed0"]  # fmt: skip
    text = steps["text"].command
    assert text[text.index("target-text") :].count("--source") == 2
    train = steps["train:distil/seed0"]
    assert train.folder and train.output == tmp_path / "work/www/models/distil/seed0"
    assert train.command[train.command.index("train") + 1].endswith("www/distil.seed0.cfg")
    assert train.setup is not None
    # student_encoder.cfg reads the encoder's features: cached on disk for every seed
    cache = train.command[train.command.index("--paths.feature_cache") + 1]
    assert cache == str(tmp_path / "work/www/feature_cache")
    # the config: the student's, reading www's text through the two teachers
    (tmp_path / "work/www/models/cnn/seed0/model-best").mkdir(parents=True)
    (tmp_path / "work/www/models/cnn/seed0/model-best/config.cfg").write_text(
        (REPO / "configs/ner_cnn.cfg").read_text()
    )
    from xner_spacy.experiments.languages_table import write_distil_config

    cfg = load_config(write_distil_config(s, "www", 0), interpolate=False)
    reader = cfg["corpora"]["train"]
    assert reader["@readers"] == "xner.TeacherCorpus.v1"
    assert reader["path"].endswith("www/text.txt") and reader["weights"] == "uniform"
    teachers = reader["teachers"]
    assert teachers["direct"]["model"] == "m_fr" and teachers["direct"]["label_map"] == "identity"
    assert teachers["cnn"]["model"].endswith("www/models/cnn/seed0/model-best")
    assert teachers["cnn"]["kind"] == "spacy_ner"
    assert (
        cfg["nlp"]["pipeline"]
        == load_config(REPO / "configs/student_encoder.cfg")["nlp"]["pipeline"]
    )
    with pytest.raises(ValueError, match="none of: direct, cnn"):
        settings(two_languages, tmp_path, distil_teachers=["encoder"]).check()
    with pytest.raises(ValueError, match="reserved"):
        settings(two_languages, tmp_path, variants={"distil": REPO / "configs/ner_cnn.cfg"}).check()


def test_bad_settings_name_what_is_missing(two_languages: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no parallel text"):
        settings(two_languages, tmp_path, labellers=[Labeller("de", "m")]).check()
    with pytest.raises(ValueError, match="no gold test split"):
        settings(two_languages, tmp_path, languages=["zzz", "qqq"],
                 labellers=[Labeller("en", "m")]).check()  # fmt: skip
    with pytest.raises(ValueError, match="does not exist"):
        settings(two_languages, tmp_path, variants={"x": tmp_path / "none.cfg"}).check()


def test_steps_are_skipped_when_done_and_a_failed_train_leaves_no_model(tmp_path: Path) -> None:
    ran: list[list[str]] = []
    out = tmp_path / "a.json"

    def write(cmd: list[str]) -> None:
        ran.append(cmd)
        out.write_text("{}")

    assert run_step(Step("a", ["a"], out), write) is not None
    assert run_step(Step("a", ["a"], out), write) is None and len(ran) == 1
    model = tmp_path / "models" / "cnn"

    def crash(cmd: list[str]) -> None:
        (tmp_path / "models" / "cnn.tmp").mkdir(parents=True)
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError, match="killed"):
        run_step(Step("train", ["t"], model, folder=True), crash)
    assert not model.exists()

    def train(cmd: list[str]) -> None:  # a rerun starts from an empty temporary folder
        tmp = tmp_path / "models" / "cnn.tmp"
        tmp.mkdir()
        (tmp / "model-best").mkdir()

    run_step(Step("train", ["t"], model, folder=True), train)
    assert (model / "model-best").is_dir() and not (tmp_path / "models" / "cnn.tmp").exists()
    with pytest.raises(RuntimeError, match="did not write"):
        run_step(Step("b", ["b"], tmp_path / "b.json"), lambda cmd: None)


def test_a_run_stopped_mid_language_keeps_the_seconds_of_its_finished_steps(
    two_languages: Path, tmp_path: Path
) -> None:
    s = settings(two_languages, tmp_path)
    outputs = {tuple(st.command): st for lang in s.languages for st in language_steps(s, lang)}
    scores = {"precision": 0.5, "recall": 0.5, "f1": 0.5, "train": {"docs": 3}}

    def fake(cmd: list[str]) -> None:  # writes what each step's command would
        step = outputs[tuple(cmd)]
        if step.folder:
            Path(str(step.output) + ".tmp").mkdir(parents=True)
        else:
            _write_counts(cmd, "")
            step.output.write_text(json.dumps(scores))

    def stopped(cmd: list[str]) -> None:
        if outputs[tuple(cmd)].name == "train:cnn/seed0":
            raise KeyboardInterrupt
        fake(cmd)

    out = tmp_path / "languages.json"
    with pytest.raises(KeyboardInterrupt):
        run_languages(s, out, stopped)
    assert not out.exists()  # the first language never finished: no table yet
    result = run_languages(s, out, fake)
    for lang in ("zzz", "www"):
        seconds = result["languages"][lang]["step_seconds"]
        assert list(seconds) == [st.name for st in language_steps(s, lang)]
        assert all(isinstance(v, float) for v in seconds.values()), seconds
    recorded = json.loads((tmp_path / "work/zzz/step_seconds.json").read_text())
    assert recorded == result["languages"]["zzz"]["step_seconds"]


def _ruler(path: Path, lang: str) -> str:
    """A rule-based 'source labeller' that knows the toy names (a spaCy pipeline on disk)."""
    import spacy

    nlp = spacy.blank(lang)
    ruler = nlp.add_pipe("entity_ruler", name="ner")  # the name SpacyLabeller looks for
    ruler.add_patterns([{"label": label, "pattern": name} for name, label in NAMES])  # type: ignore[attr-defined]
    nlp.to_disk(path)
    return str(path)


@pytest.mark.slow
def test_languages_table_end_to_end(two_languages: Path, tmp_path: Path) -> None:
    """Two languages (en- and fr-paired), the frozen tiny encoder and one whose top two layers
    are trained (a per-variant override), trained with seed 1 (two seeds' folders and reruns:
    test_each_seed_trains_its_own_models_and_another_seed_trains_only_itself), a student, then
    a resume."""
    pytest.importorskip("torch")
    from tiny_models import save_tiny_xlmr

    encoder = save_tiny_xlmr(tmp_path / "tiny-encoder-8", num_layers=8)  # the config's layer 8
    en, fr = _ruler(tmp_path / "ruler_en", "en"), _ruler(tmp_path / "ruler_fr", "fr")
    en, fr = en + ":identity", fr + ":identity"  # the ruler's labels are PER/ORG/LOC already
    out, md = tmp_path / "languages.json", tmp_path / "languages.md"
    config = REPO / "configs/ner_encoder.cfg"
    cmd = [sys.executable, "-m", "xner_spacy.cli", "languages-table",
           "--data-dir", str(two_languages), "--langs", "zzz,www",
           "--labeller", f"en={en}", "--labeller", f"fr={fr}",
           "--variant", f"encoder={config}", "--variant", f"encoder_t2={config}",
           "--variant-override", "encoder_t2:paths.trainable_layers=2",
           "--seeds", "1", "--bootstrap", "200",
           "--encoder", str(encoder), "--steps", "12", "--eval-frequency", "6",
           "--projection-config", str(REPO / "configs/projection.cfg"),
           "--work-dir", str(tmp_path / "work"), "--output", str(out), "--markdown", str(md),
           "--distil-teachers", "direct,encoder", "--text-source", "mafand",
           "--distil-config", str(REPO / "configs/student_encoder.cfg"),
           "--training.dropout", "0.15"]  # fmt: skip
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1200)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    result = json.loads(out.read_text())
    assert list(result["languages"]) == ["zzz", "www"]
    trained = ["distil", "encoder", "encoder_t2"]
    for lang, source in (("zzz", "en"), ("www", "fr")):
        entry = result["languages"][lang]
        assert entry["source"] == source
        assert entry["silver"]["train"]["docs"] > 200  # 300 train pairs, 2 test sentences out
        assert list(entry["scores"]) == ["direct", "encoder", "encoder_t2", "distil"]
        # the ruler knows every toy name: direct transfer is perfect on the copied names
        assert entry["scores"]["direct"]["f1_per_seed"] == [1.0]
        assert entry["scores"]["direct"]["seeds"] == [None]  # one model, scored once
        for name in trained:
            sc = entry["scores"][name]
            assert sc["seeds"] == [1] and len(sc["f1_per_seed"]) == 1
            assert all(0.0 <= f1 <= 1.0 for f1 in sc["f1_per_seed"])
            assert all(p["words_per_s"] > 0 for p in sc["per_seed"])
            assert sc["f1_ci"][0] <= sc["f1_mean"] <= sc["f1_ci"][1]
            models = tmp_path / "work" / lang / "models" / name
            assert sorted(p.name for p in models.iterdir() if p.is_dir()) == ["seed1"]
        assert all(v is not None and v >= 0 for v in entry["step_seconds"].values())
        text = json.loads((tmp_path / "work" / lang / "text.json").read_text())
        assert text["written"] > 100  # distinct target-side sentences of the toy MAFAND text
    student = load_config(tmp_path / "work/www/models/distil/seed1/model-best/config.cfg")
    assert "xner_student_ner" in student["nlp"]["pipeline"]
    for name in trained:
        for seed in (1,):
            best = tmp_path / f"work/zzz/models/{name}/seed{seed}/model-best"
            cfg = load_config(best / "config.cfg", interpolate=True)
            assert cfg["training"]["seed"] == seed
            assert cfg["training"]["dropout"] == 0.15  # the extra option reached every train
            # the override reached encoder_t2 alone
            layers = cfg["components"]["xner_encoder"]["trainable_layers"]
            assert layers == (2 if name == "encoder_t2" else 0), (name, layers)
    # the encoder's features were cached on disk once per language, for every seed and variant
    assert any((tmp_path / "work/zzz/feature_cache").iterdir())
    pairs = [(c["a"], c["b"]) for c in result["comparisons"]]
    assert pairs == [("encoder", "direct"), ("encoder_t2", "direct"), ("encoder_t2", "encoder"),
                     ("distil", "direct"), ("distil", "encoder")]  # fmt: skip
    assert set(result["comparisons"][2]) == {"a", "b", "languages", "average"}
    assert result["average"]["scores"]["encoder_t2"]["seeds"] == [1]
    table = md.read_text()
    assert table.splitlines()[0].startswith(
        "| language | source | silver train | direct F1 | encoder F1 | encoder_t2 F1 | distil F1 |"
    )
    assert "| zzz | en |" in table and "| www | fr |" in table and "| average |" in table
    assert "| A − B | seeds A / B | zzz | www | average |" in table
    # a rerun skips every step and keeps the first run's seconds
    again = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "up to date, skipped" in again.stderr and "rerun" not in again.stderr
    rerun = json.loads(out.read_text())
    for lang in ("zzz", "www"):
        assert rerun["languages"][lang]["step_seconds"] == result["languages"][lang]["step_seconds"]
    assert languages_table(rerun) == table
    # another --doubtful: convert is stale; --reuse-stale keeps it, with a warning
    stale = [*cmd, "--doubtful", "keep", "--reuse-stale"]
    proc = subprocess.run(stale, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "convert: " in proc.stderr and "kept (--reuse-stale) though command" in proc.stderr
    assert "rerun" not in proc.stderr


def _write_counts(cmd: list[str], seen: str) -> None:
    """What ``xner evaluate --counts`` writes: counts of 20 test sentences, drawn from what the
    step saw (so another model gives other counts)."""
    if "--counts" not in cmd:
        return
    rng = np.random.default_rng(int(hashlib.sha1(seen.encode()).hexdigest()[:8], 16))
    save_counts(cmd[cmd.index("--counts") + 1], rng.integers(0, 3, (20, 3, 3)), LABELS)


def _fake_runner(steps: dict[tuple[str, ...], Step], ran: list[str]) -> Callable[[list[str]], None]:
    """Writes what each step's command would: its outputs, whose content follows from the
    command and the content of the record file it reads (so a change flows downstream)."""

    def run(cmd: list[str]) -> None:
        step = steps[tuple(cmd)]
        ran.append(step.name)
        seen = "|".join(cmd)
        for path in step.inputs:
            if path.is_file():
                seen += path.read_text()
        of = hashlib.sha1(seen.encode()).hexdigest()
        f1 = int(of[:8], 16) / 0xFFFFFFFF  # another model, another F1 (32 bits: no ties)
        content = json.dumps({"of": of, "f1": f1, "precision": 0.5, "recall": 0.5,
                              "train": {"docs": 3}})  # fmt: skip
        if step.folder:  # spacy train: a model-best whose content follows from its inputs
            best = Path(str(step.output) + ".tmp") / "model-best"
            best.mkdir(parents=True)
            (best / "meta.json").write_text(content)
            (best / "config.cfg").write_text(f"# {of}\n")  # a spaCy pipeline, for a teacher
            return
        _write_counts(cmd, seen)
        step.output.write_text(content)
        if cmd[3] in ("label", "align", "project"):  # xner STEP INPUT OUTPUT
            Path(cmd[5]).write_text(content)
        if cmd[3] == "convert":
            for split in ("train", "dev"):
                (Path(cmd[5]) / f"{split}.spacy").parent.mkdir(parents=True, exist_ok=True)
                (Path(cmd[5]) / f"{split}.spacy").write_text(content)

    return run


def _run_all(s: LanguagesSettings, out: Path) -> list[str]:
    ran: list[str] = []
    steps = {tuple(st.command): st for lang in s.languages for st in language_steps(s, lang)}
    run_languages(s, out, _fake_runner(steps, ran))
    return ran


def _steps(names: list[str], seeds: list[int]) -> list[str]:
    return [f"{kind}:{name}/seed{seed}" for name in names for seed in seeds
            for kind in ("train", "evaluate")]  # fmt: skip


def test_each_seed_trains_its_own_models_and_another_seed_trains_only_itself(
    two_languages: Path, tmp_path: Path
) -> None:
    out = tmp_path / "languages.json"
    encoder = REPO / "configs/ner_encoder.cfg"
    kw = {"variants": {"cnn": REPO / "configs/ner_cnn.cfg", "encoder": encoder},
          "distil_teachers": ["direct", "encoder"], "text_sources": ["mafand"],
          "bootstrap": 50}  # fmt: skip
    s = settings(two_languages, tmp_path, seeds=[0, 1], **kw)
    first = _run_all(s, out)
    silver = ["prepare", "label", "align", "project", "convert", "direct"]
    per_language = [*silver, *_steps(["cnn", "encoder"], [0, 1]), "text",
                    *_steps(["distil"], [0, 1])]  # fmt: skip
    assert first == per_language * 2  # the silver data once per language, a model per seed
    for variant in ("cnn", "encoder", "distil"):
        models = tmp_path / "work/zzz/models" / variant
        assert sorted(p.name for p in models.iterdir() if p.is_dir()) == ["seed0", "seed1"]
    steps = {st.name: st.command for st in language_steps(s, "zzz")}
    for seed in (0, 1):
        train = steps[f"train:encoder/seed{seed}"]
        assert train[train.index("--system.seed") + 1] == str(seed)
        # every seed (and the student) reads the same on-disk cache of the encoder's features
        cache = train[train.index("--paths.feature_cache") + 1]
        assert cache == str(tmp_path / "work/zzz/feature_cache")
    # the student of seed 1 learns from the encoder trained with seed 1
    distil = {st.name: st for st in language_steps(s, "zzz")}["train:distil/seed1"]
    assert str(tmp_path / "work/zzz/models/encoder/seed1/model-best") in distil.models
    result = json.loads(out.read_text())
    row = result["languages"]["zzz"]["scores"]
    assert row["direct"]["seeds"] == [None] and len(row["direct"]["f1_per_seed"]) == 1
    for variant in ("cnn", "encoder", "distil"):
        sc = row[variant]
        assert sc["seeds"] == [0, 1] and [p["seed"] for p in sc["per_seed"]] == [0, 1]
        assert sc["f1_per_seed"] == [p["f1"] for p in sc["per_seed"]]
        assert sc["f1_per_seed"][0] != sc["f1_per_seed"][1]  # two models
        assert sc["f1_mean"] == pytest.approx(np.mean(sc["f1_per_seed"]))
        assert sc["f1_sd"] == pytest.approx(np.std(sc["f1_per_seed"], ddof=1))
        assert len(sc["f1_ci"]) == 2 and len(sc["train_seconds"]) == 2
        assert [Path(c).name for c in sc["counts"]] == [f"{variant}.seed0.npz",
                                                        f"{variant}.seed1.npz"]  # fmt: skip
    assert result["average"]["scores"]["cnn"]["seeds"] == [0, 1]
    pairs = [(c["a"], c["b"]) for c in result["comparisons"]]
    assert pairs == [("cnn", "direct"), ("encoder", "direct"), ("encoder", "cnn"),
                     ("distil", "direct"), ("distil", "encoder")]  # fmt: skip
    assert _run_all(s, out) == []  # a rerun: every step is up to date
    # a third seed: only its models are trained and scored, nothing else reruns
    third = _run_all(settings(two_languages, tmp_path, seeds=[0, 1, 2], **kw), out)
    assert third == [*_steps(["cnn", "encoder"], [2]), *_steps(["distil"], [2])] * 2
    result = json.loads(out.read_text())
    assert result["languages"]["www"]["scores"]["encoder"]["seeds"] == [0, 1, 2]
    assert len(result["average"]["scores"]["distil"]["f1_per_seed"]) == 3


def test_a_variant_override_reaches_only_its_variant(two_languages: Path, tmp_path: Path) -> None:
    out = tmp_path / "languages.json"
    encoder = REPO / "configs/ner_encoder.cfg"
    kw = {"variants": {"encoder": encoder, "encoder_t2": encoder},
          "extra_args": ["--training.dropout", "0.2"], "languages": ["zzz"]}  # fmt: skip
    t2 = {"encoder_t2": {"paths.trainable_layers": "2"}}
    s = settings(two_languages, tmp_path, variant_overrides=t2, **kw)
    steps = {st.name: st.command for st in language_steps(s, "zzz")}
    frozen, trained = steps["train:encoder/seed0"], steps["train:encoder_t2/seed0"]
    assert "--paths.trainable_layers" not in frozen
    # after the options of every spacy train, so a variant's own setting wins
    assert trained[-4:] == ["--training.dropout", "0.2", "--paths.trainable_layers", "2"]
    assert frozen == [a.replace("encoder_t2", "encoder") for a in trained[:-2]]
    _run_all(s, out)
    # the override is part of that variant's fingerprint: another value reruns it alone
    t1 = {"encoder_t2": {"paths.trainable_layers": "1"}}
    again = _run_all(settings(two_languages, tmp_path, variant_overrides=t1, **kw), out)
    assert again == _steps(["encoder_t2"], [0])
    recorded = json.loads(out.read_text())["settings"]
    assert recorded["variant_overrides"] == t1 and recorded["seeds"] == [0]


def test_a_step_reruns_when_its_labeller_encoder_or_config_changes_and_only_then(
    two_languages: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    out = tmp_path / "languages.json"
    first = _run_all(settings(two_languages, tmp_path), out)
    assert first.count("prepare") == 2 and first.count("train:cnn/seed0") == 2
    assert _run_all(settings(two_languages, tmp_path), out) == []  # all up to date
    # another English labeller: zzz (en-paired) relabels and everything after label reruns;
    # prepare does not, and www (fr-paired) is untouched
    other = [Labeller("en", "m_en2", "conll"), Labeller("fr", "m_fr", "identity")]
    with caplog.at_level(logging.INFO, logger="xner_spacy"):
        ran = _run_all(settings(two_languages, tmp_path, labellers=other), out)
    assert ran == ["label", "align", "project", "convert", "direct", *CNN]
    assert "label: rerun, command: 'm_en' → 'm_en2'" in caplog.text
    assert "model m_en2 changed" in caplog.text
    # another encoder: every step that reads it, in both languages, and what follows
    ran = _run_all(settings(two_languages, tmp_path, labellers=other, encoder="enc2"), out)
    assert ran.count("label") == 2 and ran.count(CNN[0]) == 2 and "prepare" not in ran
    # the CNN config's content changed: only its training and scoring rerun
    config = tmp_path / "ner_cnn.cfg"
    config.write_text((REPO / "configs/ner_cnn.cfg").read_text())
    kw = {"labellers": other, "encoder": "enc2", "variants": {"cnn": config}}
    _run_all(settings(two_languages, tmp_path, **kw), out)  # the config's path is new
    config.write_text(config.read_text() + "\n# changed\n")
    assert _run_all(settings(two_languages, tmp_path, **kw), out) == CNN * 2


def test_force_reruns_everything_and_reuse_stale_keeps_everything_with_a_warning(
    two_languages: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    out = tmp_path / "languages.json"
    first = _run_all(settings(two_languages, tmp_path), out)
    assert _run_all(settings(two_languages, tmp_path, force=True), out) == first
    with caplog.at_level(logging.WARNING, logger="xner_spacy"):
        kept = _run_all(settings(two_languages, tmp_path, encoder="enc2", reuse_stale=True), out)
    assert kept == []
    assert caplog.text.count("kept (--reuse-stale) though") >= 8  # every step reading the encoder
    assert "model enc2 changed" in caplog.text


def test_an_output_without_a_fingerprint_is_rerun_and_a_stale_model_folder_replaced(
    tmp_path: Path,
) -> None:
    out = tmp_path / "a.json"
    out.write_text("{}")  # made before fingerprints existed
    ran: list[list[str]] = []
    assert run_step(Step("a", ["a"], out), lambda cmd: ran.append(cmd)) is not None
    assert ran and (tmp_path / "a.json.fingerprint.json").is_file()
    model = tmp_path / "models" / "cnn"

    def train(cmd: list[str]) -> None:
        (tmp_path / "models" / "cnn.tmp" / cmd[0]).mkdir(parents=True)

    run_step(Step("train", ["v1"], model, folder=True), train)
    run_step(Step("train", ["v2"], model, folder=True), train)  # the command changed
    assert [p.name for p in model.iterdir()] == ["v2"]
