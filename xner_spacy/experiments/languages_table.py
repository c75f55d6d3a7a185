"""Translate-train for many target languages, every target pipeline variant, one table.

:func:`run_languages` runs, for each target language that has parallel text
(``mafand/<src>-<lang>``) and a gold test split (``masakhaner2/<lang>/test.txt``), the steps of
the project's main job as the same ``xner`` commands (``prepare``, ``label``, ``align``,
``project``, ``convert``), once per language, and then ``spacy train`` + ``xner evaluate`` once
per target config (variant: the CNN, the frozen encoder, ...) on the same silver data, so the
variants differ only in the target model. It also scores the source labeller itself on the
target test split (direct model transfer), the baseline the projection has to beat.

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
the step ends, so a resumed run still reports them); :func:`languages_table` turns the result
into a Markdown table.
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from ..io.atomic import atomic_write
from ..runner.step_fingerprints import decide, step_parts, store
from .distillation import SourceSpec as Labeller

logger = logging.getLogger("xner_spacy")

#: Gold test split of a target language, relative to the data directory.
TEST_PATTERN = "masakhaner2/{lang}/test.txt"
#: Parallel text of a source–target pair, relative to the data directory.
PARALLEL_PATTERN = "mafand/{src}-{lang}"
#: The source labeller as a teacher / table column; the distilled student's model name.
DIRECT = "direct"
DISTIL = "distil"
#: Per language (in its work folder): the seconds of every step that ran, kept across resumes.
STEP_SECONDS = "step_seconds.json"


@dataclass
class LanguagesSettings:
    """What :func:`run_languages` runs; see ``xner languages-table --help``."""

    data_dir: Path
    languages: list[str]
    labellers: list[Labeller]
    variants: dict[str, Path]
    work_dir: Path
    projection_config: Path = Path("configs/projection.cfg")
    encoder: str | None = None
    steps: int = 2000
    eval_frequency: int = 250
    gpu_id: int = -1
    doubtful: str = "drop"
    direct: bool = True
    extra_args: list[str] = field(default_factory=list)
    #: Teachers of the distilled student: ``direct`` (the source labeller) and/or variant names.
    distil_teachers: list[str] = field(default_factory=list)
    distil_config: Path = Path("configs/student_encoder.cfg")
    #: ``xner target-text --source`` values: where the unlabelled target text comes from.
    text_sources: list[str] = field(default_factory=lambda: ["masakhaner-train"])
    #: Rerun every step; or keep every existing output even where its fingerprint differs.
    force: bool = False
    reuse_stale: bool = False

    def check(self) -> None:
        if not self.languages:
            raise ValueError("no target language given")
        if not self.labellers:
            raise ValueError("no source labeller given (--labeller LANG=MODEL[:MAP])")
        if not self.variants:
            raise ValueError("no target config given (--variant NAME=CONFIG)")
        for name, config in self.variants.items():
            if name in (DIRECT, DISTIL):
                raise ValueError(f"variant name {name!r} is reserved (a table column)")
            if not Path(config).is_file():
                raise ValueError(f"variant {name!r}: config {config} does not exist")
        if not Path(self.projection_config).is_file():
            raise ValueError(f"projection config {self.projection_config} does not exist")
        for teacher in self.distil_teachers:
            if teacher != DIRECT and teacher not in self.variants:
                known = ", ".join([DIRECT, *self.variants])
                raise ValueError(f"distillation teacher {teacher!r} is none of: {known}")
        if self.distil_teachers and not Path(self.distil_config).is_file():
            raise ValueError(f"distillation config {self.distil_config} does not exist")
        if self.steps < 1 or self.eval_frequency < 1:
            raise ValueError("steps and eval_frequency must be >= 1")
        for lang in self.languages:
            test = self.data_dir / TEST_PATTERN.format(lang=lang)
            if not test.is_file():
                raise ValueError(f"{lang}: no gold test split at {test}")
            self.source_of(lang)

    def source_of(self, lang: str) -> Labeller:
        """The first labeller whose language has parallel text with ``lang``."""
        for labeller in self.labellers:
            if (self.data_dir / PARALLEL_PATTERN.format(src=labeller.lang, lang=lang)).is_dir():
                return labeller
        tried = ", ".join(
            str(self.data_dir / PARALLEL_PATTERN.format(src=lab.lang, lang=lang))
            for lab in self.labellers
        )
        raise ValueError(f"{lang}: no parallel text with a labelled source language ({tried})")


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
    reads = {"configs": [s.projection_config], "models": _encoder_models(s)}
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
        steps.append(
            Step("direct", _xner("evaluate", source.model, test, "--label-map", source.label_map,
                                 "--output", str(d / "direct.json")), d / "direct.json",
                 models=[source.model], inputs=[Path(test)])
        )  # fmt: skip
    silver_files = [d / "silver" / "train.spacy", d / "silver" / "dev.spacy"]
    for name, config in s.variants.items():
        silver = ["--paths.train", str(d / "silver" / "train.spacy")]
        train = _train_step(s, lang, name, config, silver)
        train.inputs = silver_files
        steps += [train, _evaluate_step(name, test, d)]
    if s.distil_teachers:
        sources = [arg for src in s.text_sources for arg in ("--source", src)]
        steps.append(
            Step("text", _xner("target-text", "--data-dir", str(s.data_dir), "--lang", lang,
                               *sources, "--output", str(d / "text.txt"),
                               "--stats", str(d / "text.json")), d / "text.json",
                 inputs=gold)
        )  # fmt: skip
        # the config is written when the step runs: the teachers it names exist by then
        distil = _train_step(s, lang, DISTIL, d / "distil.cfg", [])
        distil.setup = partial(write_distil_config, s, lang)
        distil.configs = [s.distil_config]
        distil.models += [_teacher_model(s, lang, name) for name in s.distil_teachers]
        distil.inputs = [d / "text.txt", d / "silver" / "dev.spacy"]
        steps += [distil, _evaluate_step(DISTIL, test, d)]
    return steps


def _encoder_models(s: LanguagesSettings) -> list[str]:
    return [s.encoder] if s.encoder else []


def _teacher_model(s: LanguagesSettings, lang: str, name: str) -> str:
    """The model behind a distillation teacher's name: the labeller or a trained variant."""
    if name == DIRECT:
        return s.source_of(lang).model
    return str(s.work_dir / lang / "models" / name / "model-best")


def _encoder_args(s: LanguagesSettings) -> list[str]:
    return ["--paths.encoder", s.encoder] if s.encoder else []


def _train_step(s: LanguagesSettings, lang: str, name: str, config: Path, train: list[str]) -> Step:
    """``spacy train`` of target model ``name`` (silver dev split for model selection)."""
    d = s.work_dir / lang
    model = d / "models" / name
    return Step(f"train:{name}", [sys.executable, "-m", "spacy", "train", str(config),
                                  "--output", str(model) + ".tmp", *train,
                                  "--paths.dev", str(d / "silver" / "dev.spacy"),
                                  "--nlp.lang", "xx", *_encoder_args(s),
                                  "--training.max_steps", str(s.steps),
                                  "--training.eval_frequency", str(s.eval_frequency),
                                  "--gpu-id", str(s.gpu_id), *s.extra_args],
                model, folder=True, configs=[config],
                models=_encoder_models(s))  # fmt: skip


def _evaluate_step(name: str, test: str, d: Path) -> Step:
    out = d / f"scores_{name}.json"
    model = d / "models" / name / "model-best"
    return Step(f"evaluate:{name}", _xner("evaluate", str(model), test,
                                          "--output", str(out)), out,
                inputs=[model, Path(test)])  # fmt: skip


def write_distil_config(settings: LanguagesSettings, lang: str) -> Path:
    """``<work_dir>/<lang>/distil.cfg``: ``distil_config`` reading the unlabelled target text
    through ``xner.TeacherCorpus.v1`` with ``distil_teachers`` (uniform weights)."""
    from spacy.util import load_config

    from ..distill.teacher_corpus import teacher_corpus_block
    from ..distill.teachers import detect_kind, teacher_block

    d = settings.work_dir / lang
    source = settings.source_of(lang)
    teachers = {}
    for name in settings.distil_teachers:
        model, label_map = (
            (source.model, source.label_map)
            if name == DIRECT
            else (str(d / "models" / name / "model-best"), "identity")
        )
        teachers[name] = teacher_block(model, kind=detect_kind(model), label_map=label_map)
    cfg = load_config(settings.distil_config, interpolate=False)
    cfg["corpora"]["train"] = teacher_corpus_block(
        d / "text.txt", teachers, cache_dir=d / "teacher_cache"
    )
    path = d / "distil.cfg"
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
    result: dict[str, Any] = {
        "settings": {
            "data_dir": str(settings.data_dir),
            "languages": settings.languages,
            "labellers": [vars(lab) for lab in settings.labellers],
            "variants": {k: str(v) for k, v in settings.variants.items()},
            "projection_config": str(settings.projection_config),
            "encoder": settings.encoder,
            "steps": settings.steps,
            "eval_frequency": settings.eval_frequency,
            "doubtful": settings.doubtful,
            "distil_teachers": settings.distil_teachers,
            "distil_config": str(settings.distil_config),
            "text_sources": settings.text_sources,
        },
        "languages": {},
    }
    previous = _read(output) if output.exists() else {}
    for lang in settings.languages:
        d = settings.work_dir / lang
        # a skipped step's seconds: from the language's own record, written after every step
        # (so a run stopped mid-language keeps them), else from an older run's table
        old = previous.get("languages", {}).get(lang, {}).get("step_seconds", {})
        times_path = d / STEP_SECONDS
        recorded = _read(times_path) if times_path.exists() else {}
        seconds: dict[str, float | None] = {}
        commands = {}
        for step in language_steps(settings, lang):
            logger.info("[%s] %s", lang, step.name)
            took = run_step(step, runner, force=settings.force, reuse_stale=settings.reuse_stale)
            if took is not None:
                recorded[step.name] = took
                _write(times_path, recorded)
            seconds[step.name] = recorded.get(step.name, old.get(step.name))
            commands[step.name] = " ".join(step.command)
        source = settings.source_of(lang)
        entry: dict[str, Any] = {
            "source": source.lang,
            "labeller": vars(source),
            "silver": _read(d / "convert.json"),
            "scores": {name: _scores(d / f"scores_{name}.json") for name in _models(settings)},
            "step_seconds": seconds,
            "commands": commands,
        }
        if settings.direct:
            entry["direct"] = _scores(d / "direct.json")
        result["languages"][lang] = entry
        _write(output, result)  # after each language: a partial table is readable
        if markdown is not None:
            with atomic_write(markdown) as fh:
                fh.write(languages_table(result))
    result["wall_seconds"] = round(time.perf_counter() - t0, 1)
    _write(output, result)
    return result


def _models(settings: LanguagesSettings) -> list[str]:
    """The trained target models: every variant, then the distilled student if any."""
    return [*settings.variants, *([DISTIL] if settings.distil_teachers else [])]


def _scores(path: Path) -> dict[str, Any]:
    data = _read(path)
    keep = ("precision", "recall", "f1", "per_label", "words_per_s", "test", "model")
    return {k: data[k] for k in keep if k in data}


def _write(path: Path, data: Mapping[str, Any]) -> None:
    with atomic_write(path) as fh:
        fh.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def languages_table(result: Mapping[str, Any]) -> str:
    """Markdown: one row per language (F1 ×100 of direct transfer and each variant), average."""
    variants = list(result["settings"]["variants"])
    if result["settings"].get("distil_teachers"):
        variants.append(DISTIL)
    langs = result["languages"]
    direct = any("direct" in e for e in langs.values())
    cols = (["direct"] if direct else []) + variants
    head = ["language", "source", "silver train"] + [f"{c} F1 (P / R)" for c in cols]
    head += [f"{v} train s" for v in variants]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * 3 + "---:|" * (len(head) - 3)]
    sums: dict[str, list[float]] = {c: [] for c in cols}
    for lang, e in langs.items():
        row = [lang, e["source"], f"{e['silver']['train']['docs']:,}"]
        for c in cols:
            sc = e.get("direct") if c == "direct" else e["scores"].get(c)
            if sc:
                sums[c].append(100 * sc["f1"])
                row.append(
                    f"{100 * sc['f1']:.1f} ({100 * sc['precision']:.1f} / {100 * sc['recall']:.1f})"
                )
            else:
                row.append("–")
        row += [_fmt_s(e["step_seconds"].get(f"train:{v}")) for v in variants]
        lines.append("| " + " | ".join(row) + " |")
    if len(langs) > 1:
        avg = ["average", "", ""]
        for c in cols:
            vals = sums[c]
            avg.append(f"**{sum(vals) / len(vals):.1f}**" if len(vals) == len(langs) else "–")
        avg += [""] * len(variants)
        lines.append("| " + " | ".join(avg) + " |")
    return "\n".join(lines) + "\n"


def _fmt_s(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f}"


def parse_variants(values: Sequence[str]) -> dict[str, Path]:
    """``NAME=CONFIG`` items into an ordered mapping (names unique)."""
    out: dict[str, Path] = {}
    for value in values:
        name, sep, config = value.partition("=")
        if not sep or not name.strip() or not config.strip():
            raise ValueError(f"expected NAME=CONFIG, got {value!r}")
        if name.strip() in out:
            raise ValueError(f"variant {name.strip()!r} given twice")
        out[name.strip()] = Path(config.strip())
    return out
