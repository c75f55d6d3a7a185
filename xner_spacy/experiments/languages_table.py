"""Translate-train for many target languages, every target pipeline variant, one table.

:func:`run_languages` runs, for each target language that has parallel text
(``mafand/<src>-<lang>``) and a gold test split (``masakhaner2/<lang>/test.txt``), the steps of
the project's main job as the same ``xner`` commands (``prepare``, ``label``, ``align``,
``project``, ``convert``), once per language, and then ``spacy train`` + ``xner evaluate`` once
per target config (variant: the CNN, the frozen encoder, ...) and training seed on the same
silver data, so the variants differ only in the target model (and ``variant_overrides``, the
settings given to one variant only). It also scores the source labeller itself on the target
test split (direct model transfer, one model), the baseline the projection has to beat. The
silver data, its alignment included, is made once per language and shared by every seed; the
encoder's features are cached on disk once per language and shared by every seed and variant.

With ``distil_teachers`` (e.g. ``direct`` and ``encoder``) it adds Wu et al.'s (ACL 2020)
teacher–student step: those teachers (the source labeller applied unchanged, and/or targets
trained on the silver data) label unlabelled target text (``xner target-text``: MasakhaNER's
train split without its labels, test sentences removed), and a student
(``configs/student_encoder.cfg``) learns their averaged per-token distributions. It needs no
target labels and learns from text of the test's domain, which the parallel corpus may not be.

Every step runs as a subprocess (the exact command is stored), writes its outputs atomically
(``spacy train`` into a temporary folder renamed when it finishes) and is skipped while its
output exists with the same fingerprint (:class:`Step`), so an interrupted run resumes where it
stopped and a run with another labeller, encoder or config reruns what they decide. Each
step's seconds are printed and stored (in ``<work_dir>/<lang>/step_seconds.json`` as soon as
the step ends, so a resumed run still reports them). Every evaluation also keeps its test
sentences' counts, from which :mod:`.languages_table_report` adds bootstrap intervals and paired
comparisons and :func:`languages_table` writes the Markdown.
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from ..io.atomic import atomic_write
from ..runner.step_fingerprints import decide, step_parts, store
from .languages_table_report import DIRECT, DISTIL, add_statistics, column_entry, languages_table
from .languages_table_settings import PARALLEL_PATTERN, TEST_PATTERN, LanguagesSettings

logger = logging.getLogger("xner_spacy")

#: Per language (in its work folder): the seconds of every step that ran, kept across resumes.
STEP_SECONDS = "step_seconds.json"


@dataclass
class Step:
    """One command of the run: skipped while ``output`` exists with the same fingerprint.

    The fingerprint (:mod:`xner_spacy.runner.step_fingerprints`) is the command, the content
    of ``configs``, the identity of ``models`` and the state of ``inputs`` (the outputs of
    earlier steps and the data it reads), so a changed labeller, encoder, config or upstream
    output makes the step run again.
    """

    name: str
    command: list[str]
    output: Path
    #: ``spacy train`` writes a folder: run into ``<output>.tmp``, renamed when it succeeds.
    folder: bool = False
    #: Run (in this process) before the command, only when the step is not skipped.
    setup: Callable[[], object] | None = None
    configs: list[Path] = field(default_factory=list)
    models: list[str] = field(default_factory=list)
    inputs: list[Path] = field(default_factory=list)

    def parts(self) -> dict[str, Any]:
        return step_parts(
            self.command, configs=self.configs, models=self.models, inputs=self.inputs
        )


Runner = Callable[[list[str]], None]


def run_command(command: list[str]) -> None:
    """Run one step's command; a failure is an error that names the command."""
    proc = subprocess.run(command, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"command failed (exit {proc.returncode}): {' '.join(command)}")


def _xner(*args: str) -> list[str]:
    return [sys.executable, "-m", "xner_spacy.cli", *args]


def language_steps(settings: LanguagesSettings, lang: str) -> list[Step]:
    """The silver-data steps of one target language, then training and scoring per variant."""
    s = settings
    source = s.source_of(lang)
    d = s.work_dir / lang
    proj = ["--config", str(s.projection_config), *_encoder_args(s)]
    test = str(s.data_dir / TEST_PATTERN.format(lang=lang))
    # what the projection steps read besides their input: its config and the encoder
    reads: dict[str, Any] = {"configs": [s.projection_config], "models": _encoder_models(s)}
    gold = [s.data_dir / d_ for d_ in (f"masakhaner2/{lang}", f"wikiann/{lang}")]
    parallel = s.data_dir / PARALLEL_PATTERN.format(src=source.lang, lang=lang)
    steps = [
        Step("prepare", _xner("prepare", "--data-dir", str(s.data_dir), "--src", source.lang,
                              "--tgt", lang, "--output", str(d / "pairs.jsonl"),
                              "--stats", str(d / "prepare.json")), d / "prepare.json",
             inputs=[parallel, *gold]),
        Step("label", _xner("label", str(d / "pairs.jsonl"), str(d / "labelled.jsonl"), *proj,
                            "--labeller.model", source.model, "--labeller.label_map",
                            source.label_map, "--stats", str(d / "label.json")),
             d / "label.json", configs=[s.projection_config],
             models=[source.model, *_encoder_models(s)], inputs=[d / "pairs.jsonl"]),
        Step("align", _xner("align", str(d / "labelled.jsonl"), str(d / "aligned.jsonl"), *proj,
                            "--stats", str(d / "align.json")), d / "align.json",
             inputs=[d / "labelled.jsonl"], **reads),
        Step("project", _xner("project", str(d / "aligned.jsonl"), str(d / "projected.jsonl"),
                              *proj, "--stats", str(d / "project.json")), d / "project.json",
             inputs=[d / "aligned.jsonl"], **reads),
        Step("convert", _xner("convert", str(d / "projected.jsonl"), str(d / "silver"),
                              "--doubtful", s.doubtful, "--stats", str(d / "convert.json")),
             d / "convert.json", inputs=[d / "projected.jsonl"]),
    ]  # fmt: skip
    if s.direct:
        out, counts = scores_path(s, lang, DIRECT), scores_path(s, lang, DIRECT, counts=True)
        steps.append(
            Step(DIRECT, _xner("evaluate", source.model, test, "--label-map", source.label_map,
                               "--output", str(out), "--counts", str(counts)), out,
                 models=[source.model], inputs=[Path(test)])
        )  # fmt: skip
    silver_files = [d / "silver" / "train.spacy", d / "silver" / "dev.spacy"]
    for name, config in s.variants.items():
        for seed in s.seeds:
            silver = ["--paths.train", str(d / "silver" / "train.spacy")]
            train = _train_step(s, lang, name, seed, config, silver)
            train.inputs = silver_files
            steps += [train, _evaluate_step(s, lang, name, seed)]
    if s.distil_teachers:
        sources = [arg for src in s.text_sources for arg in ("--source", src)]
        steps.append(
            Step("text", _xner("target-text", "--data-dir", str(s.data_dir), "--lang", lang,
                               *sources, "--output", str(d / "text.txt"),
                               "--stats", str(d / "text.json")), d / "text.json",
                 inputs=gold)
        )  # fmt: skip
        for seed in s.seeds:
            # the config is written when the step runs: the teachers it names exist by then
            distil = _train_step(s, lang, DISTIL, seed, distil_config_path(s, lang, seed), [])
            distil.setup = partial(write_distil_config, s, lang, seed)
            distil.configs = [s.distil_config]
            distil.models += [_teacher_model(s, lang, name, seed) for name in s.distil_teachers]
            distil.inputs = [d / "text.txt", d / "silver" / "dev.spacy"]
            steps += [distil, _evaluate_step(s, lang, DISTIL, seed)]
    return steps


def step_name(kind: str, name: str, seed: int) -> str:
    """``train:NAME/seedK`` or ``evaluate:NAME/seedK``."""
    return f"{kind}:{name}/seed{seed}"


def model_path(s: LanguagesSettings, lang: str, name: str, seed: int) -> Path:
    """The folder ``spacy train`` writes for one trained column and seed."""
    return s.work_dir / lang / "models" / name / f"seed{seed}"


def scores_path(
    s: LanguagesSettings, lang: str, name: str, seed: int | None = None, *, counts: bool = False
) -> Path:
    """``xner evaluate``'s metrics (``.json``) or per-sentence counts (``.npz``) of a column
    (and seed; direct transfer has none)."""
    stem = name if seed is None else f"{name}.seed{seed}"
    return s.work_dir / lang / "scores" / (stem + (".npz" if counts else ".json"))


def distil_config_path(s: LanguagesSettings, lang: str, seed: int) -> Path:
    return s.work_dir / lang / f"distil.seed{seed}.cfg"


def _encoder_models(s: LanguagesSettings) -> list[str]:
    return [s.encoder] if s.encoder else []


def _teacher_model(s: LanguagesSettings, lang: str, name: str, seed: int) -> str:
    """The model behind a distillation teacher's name: the labeller, or the variant trained
    with the student's seed."""
    if name == DIRECT:
        return s.source_of(lang).model
    return str(model_path(s, lang, name, seed) / "model-best")


def _encoder_args(s: LanguagesSettings) -> list[str]:
    return ["--paths.encoder", s.encoder] if s.encoder else []


def _train_step(
    s: LanguagesSettings, lang: str, name: str, seed: int, config: Path, train: list[str]
) -> Step:
    """``spacy train`` of target model ``name`` with ``seed`` (silver dev split for model
    selection); then every run's options, then those of ``name`` alone."""
    d = s.work_dir / lang
    model = model_path(s, lang, name, seed)
    read = s.distil_config if name == DISTIL else config  # the distillation config is made later
    cache = ["--paths.feature_cache", str(d / "feature_cache")] if _caches_features(read) else []
    own = [
        arg
        for key, value in s.variant_overrides.get(name, {}).items()
        for arg in (f"--{key}", value)
    ]
    return Step(step_name("train", name, seed),
                [sys.executable, "-m", "spacy", "train", str(config),
                 "--output", str(model) + ".tmp", *train,
                 "--paths.dev", str(d / "silver" / "dev.spacy"),
                 "--nlp.lang", "xx", *_encoder_args(s), *cache,
                 "--training.max_steps", str(s.steps),
                 "--training.eval_frequency", str(s.eval_frequency),
                 "--system.seed", str(seed), "--gpu-id", str(s.gpu_id), *s.extra_args, *own],
                model, folder=True, configs=[config],
                models=_encoder_models(s))  # fmt: skip


def _caches_features(config: Path) -> bool:
    """Whether a training config takes ``--paths.feature_cache`` (the encoder configs do)."""
    from spacy.util import load_config

    return "feature_cache" in load_config(config, interpolate=False).get("paths", {})


def _evaluate_step(s: LanguagesSettings, lang: str, name: str, seed: int) -> Step:
    out, counts = scores_path(s, lang, name, seed), scores_path(s, lang, name, seed, counts=True)
    model = model_path(s, lang, name, seed) / "model-best"
    test = s.data_dir / TEST_PATTERN.format(lang=lang)
    return Step(step_name("evaluate", name, seed),
                _xner("evaluate", str(model), str(test), "--output", str(out),
                      "--counts", str(counts)), out,
                inputs=[model, test])  # fmt: skip


def write_distil_config(settings: LanguagesSettings, lang: str, seed: int) -> Path:
    """``<work_dir>/<lang>/distil.seed<K>.cfg``: ``distil_config`` reading the unlabelled
    target text through ``xner.TeacherCorpus.v1`` with ``distil_teachers`` (uniform weights;
    variant teachers trained with the same seed)."""
    from spacy.util import load_config

    from ..distill.teacher_corpus import teacher_corpus_block
    from ..distill.teachers import detect_kind, teacher_block

    d = settings.work_dir / lang
    source = settings.source_of(lang)
    teachers = {}
    for name in settings.distil_teachers:
        model = _teacher_model(settings, lang, name, seed)
        label_map = source.label_map if name == DIRECT else "identity"
        teachers[name] = teacher_block(model, kind=detect_kind(model), label_map=label_map)
    cfg = load_config(settings.distil_config, interpolate=False)
    # the cache is keyed by each teacher's model files: seeds share the direct teacher's outputs
    cfg["corpora"]["train"] = teacher_corpus_block(
        d / "text.txt", teachers, cache_dir=d / "teacher_cache"
    )
    path = distil_config_path(settings, lang, seed)
    with atomic_write(path) as fh:
        fh.write(cfg.to_str())
    return path


def run_step(
    step: Step, runner: Runner = run_command, *, force: bool = False, reuse_stale: bool = False
) -> float | None:
    """Run ``step`` unless its output exists with the same fingerprint (see :class:`Step`);
    its seconds, or None when it was skipped. ``force`` reruns it; ``reuse_stale`` keeps an
    existing output whatever its fingerprint (with a warning naming what changed)."""
    parts = step.parts()
    if not decide(step.name, step.output, parts, force=force, reuse_stale=reuse_stale):
        return None
    step.output.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    if step.setup is not None:
        step.setup()
    if step.folder:
        tmp = Path(str(step.output) + ".tmp")
        if tmp.exists():  # a crashed earlier run's partial output
            shutil.rmtree(tmp)
        runner(step.command)
        if step.output.exists():  # a stale model: replaced only once the new one is complete
            shutil.rmtree(step.output)
        tmp.rename(step.output)
    else:
        runner(step.command)
    if not step.output.exists():
        raise RuntimeError(f"{step.name}: the command did not write {step.output}")
    store(step.output, parts)
    seconds = round(time.perf_counter() - t0, 1)
    logger.info("%s: %.1f s", step.name, seconds)
    return seconds


def _read(path: Path) -> dict[str, Any]:
    return dict(json.loads(path.read_text(encoding="utf8")))


def run_languages(
    settings: LanguagesSettings,
    output: Path,
    runner: Runner = run_command,
    markdown: Path | None = None,
) -> dict:
    """Run every language's steps (resumably); the result JSON goes to ``output`` and the
    table to ``markdown``, both rewritten after each language (a stopped run leaves both)."""
    settings.check()
    t0 = time.perf_counter()
    s = settings
    result: dict[str, Any] = {
        "settings": {
            "data_dir": str(s.data_dir),
            "languages": s.languages,
            "labellers": [vars(lab) for lab in s.labellers],
            "variants": {k: str(v) for k, v in s.variants.items()},
            "variant_overrides": s.variant_overrides,
            "seeds": s.seeds,
            "projection_config": str(s.projection_config),
            "encoder": s.encoder,
            "steps": s.steps,
            "eval_frequency": s.eval_frequency,
            "doubtful": s.doubtful,
            "direct": s.direct,
            "distil_teachers": s.distil_teachers,
            "distil_config": str(s.distil_config),
            "text_sources": s.text_sources,
            "extra_args": s.extra_args,
            "bootstrap": {"n": s.bootstrap, "seed": s.bootstrap_seed, "unit": "sentence"},
        },
        "languages": {},
    }
    previous = _read(output) if output.exists() else {}
    for lang in s.languages:
        d = s.work_dir / lang
        # a skipped step's seconds: from the language's own record, written after every step
        # (so a run stopped mid-language keeps them), else from an older run's table
        old = previous.get("languages", {}).get(lang, {}).get("step_seconds", {})
        times_path = d / STEP_SECONDS
        recorded = _read(times_path) if times_path.exists() else {}
        seconds: dict[str, float | None] = {}
        commands = {}
        for step in language_steps(s, lang):
            logger.info("[%s] %s", lang, step.name)
            took = run_step(step, runner, force=s.force, reuse_stale=s.reuse_stale)
            if took is not None:
                recorded[step.name] = took
                _write(times_path, recorded)
            seconds[step.name] = recorded.get(step.name, old.get(step.name))
            commands[step.name] = " ".join(step.command)
        source = s.source_of(lang)
        columns = {}
        if s.direct:
            columns[DIRECT] = column_entry(
                [None], [scores_path(s, lang, DIRECT)], [scores_path(s, lang, DIRECT, counts=True)]
            )
        for name in _models(s):
            columns[name] = column_entry(
                s.seeds,
                [scores_path(s, lang, name, seed) for seed in s.seeds],
                [scores_path(s, lang, name, seed, counts=True) for seed in s.seeds],
                [seconds.get(step_name("train", name, seed)) for seed in s.seeds],
            )
        result["languages"][lang] = {
            "source": source.lang,
            "labeller": vars(source),
            "silver": _read(d / "convert.json"),
            "scores": columns,
            "step_seconds": seconds,
            "commands": commands,
        }
        # after each language: a partial table is readable
        add_statistics(result, s.bootstrap, s.bootstrap_seed)
        _write(output, result)
        if markdown is not None:
            with atomic_write(markdown) as fh:
                fh.write(languages_table(result))
    result["wall_seconds"] = round(time.perf_counter() - t0, 1)
    _write(output, result)
    return result


def _models(settings: LanguagesSettings) -> list[str]:
    """The trained target models: every variant, then the distilled student if any."""
    return [*settings.variants, *([DISTIL] if settings.distil_teachers else [])]


def _write(path: Path, data: Mapping[str, Any]) -> None:
    with atomic_write(path) as fh:
        fh.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
