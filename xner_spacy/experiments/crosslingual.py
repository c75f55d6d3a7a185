"""The cross-lingual benchmark (``xner crosslingual``; project workflow ``conll-xl``).

Zero labelled target data: for every target language ``t`` the models see gold NER only in the
*source* languages, and unlabelled text of ``t`` (its train split with the labels removed). By
default the languages are English (CoNLL-2003) and German, Spanish, Dutch (CoNLL-2003/2002),
all four types, as in Wu & Dredze (2019) and Wu et al. (ACL 2020); any set of languages with
``token TAG`` train/dev/test files works (``--lang LANG=DIR``).

For each embedding **variant** (``encoder``: frozen pretrained multilingual encoder features,
``cnn``: a CNN from scratch, ``cnn-floret``: the CNN with in-project floret vectors) it builds:

* **teachers**: one ``xner_student_ner`` pipeline per source language, on its gold train split
  (model selection on its own dev split);
* **direct** transfer: every teacher applied to every other language's test set unchanged;
* per target ``t``, with the sources ``S_t`` = the configured sources without ``t``, in order:
  the **hard**-label student (the first teacher's Viterbi tags on ``t``'s unlabelled text),
  the **soft** student (its per-token distributions, Wu et al.'s single-source
  teacher–student), and multi-source soft students from the first ``k`` teachers for
  ``k = 2 … |S_t|``, weighted ``uniform``, by ``similarity`` of character n-gram profiles, or
  by a ``langid`` source-language identifier applied to the target text
  (:mod:`.weights`). Students select checkpoints on the first source's gold dev split (no
  target labels anywhere).

With ``ntrex_dir`` (NTREX-128: the same sentences in many languages, line-aligned), a full
variant also runs **projection-based translate-train** where the first source and ``t`` both
have an NTREX file: the first teacher labels the source side, the projection config's aligner
and projector carry the entities over, and a student trains on the silver target side
(``translate-train``); then ``soft+tt``: a student distilled from all ``|S_t|`` teachers and
that translate-train student, uniform weights.

Every model is scored on ``t``'s test split (in-domain) and on any out-of-domain test files
given for ``t`` (``--shift de=germeval.txt``). No test sentence reaches training: the
unlabelled text drops every sentence whose words occur in a test file of that language (counted
in the result). With the ``encoder`` variant the encoder's features of every sentence are
computed once (step ``encode``) into a disk cache that all trainings and evaluations read.
Everything is resumable (a model with ``model-best`` is not retrained; a data step whose output
and parameters exist is skipped) and every step's seconds are logged and stored.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from ..io.atomic import atomic_write
from ..runner.step_fingerprints import model_identity
from .crosslingual_data import (
    BenchmarkSettings,
    build_language,
    build_vectors,
    encode_all,
    eval_files,
    read_gold,
    test_files,
)
from .job_running import (
    cached_step,
    map_jobs,
    run_logged,
    train_unless_current,
    training_parts,
)

logger = logging.getLogger("xner_spacy")


# --- models ----------------------------------------------------------------------------------


@dataclass
class Job:
    """One model: a teacher (gold source data) or a student (teachers on target text)."""

    name: str
    variant: str
    method: str
    target: str | None
    sources: list[str]
    weighting: str | None = None
    weights: dict[str, float] | None = None

    @property
    def k(self) -> int:
        return len(self.sources)


def _base_config(settings: BenchmarkSettings, variant: str) -> Path:
    name = "student_encoder.cfg" if variant == "encoder" else "student.cfg"
    return settings.configs_dir / name


def model_dir(settings: BenchmarkSettings, job: Job) -> Path:
    return settings.output_dir / "training" / job.variant / job.name


def teacher_job(variant: str, source: str) -> Job:
    return Job(f"teacher_{source}", variant, "teacher", None, [source])


TT = "translate-train"


def tt_job(variant: str, target: str, source: str) -> Job:
    """The student trained on projected NTREX-128 silver data of ``source`` → ``target``."""
    return Job(f"{target}/translate_train", variant, TT, target, [source])


def _teacher_block(
    settings: BenchmarkSettings, variant: str, source: str, target: str | None = None
) -> dict[str, Any]:
    if source == TT:
        assert target is not None
        job = tt_job(variant, target, settings.sources_for(target)[0])
    else:
        job = teacher_job(variant, source)
    from ..distill.teachers import teacher_block

    return teacher_block(model_dir(settings, job) / "model-best")


def student_jobs(settings: BenchmarkSettings, variant: str, target: str) -> list[Job]:
    """The students of one target and variant (see the module docstring).

    The translate-train students (:func:`tt_job` and ``soft+tt``) are planned separately.
    """
    sources = settings.sources_for(target)
    full = variant in settings.full_variants
    jobs = [Job(f"{target}/soft_k1", variant, "soft", target, sources[:1])]
    if full:
        jobs.insert(0, Job(f"{target}/hard_k1", variant, "hard", target, sources[:1]))
    ks = range(2, len(sources) + 1) if full else [len(sources)] if len(sources) > 1 else []
    for k in ks:
        for weighting in settings.weightings if full else ("uniform",):
            name = f"{target}/soft_k{k}_{weighting}"
            jobs.append(Job(name, variant, "soft", target, sources[:k], weighting))
    return jobs


def _tt_dir(settings: BenchmarkSettings, variant: str, target: str) -> Path:
    return settings.corpus_dir / target / f"translate_train_{variant}"


def has_ntrex(settings: BenchmarkSettings, target: str) -> bool:
    """Whether NTREX-128 has both the first source of ``target`` and ``target``."""
    from ..language_codes import to_iso3

    if settings.ntrex_dir is None:
        return False
    langs = (settings.sources_for(target)[0], target)
    return all((settings.ntrex_dir / f"{to_iso3(lang)}.txt").is_file() for lang in langs)


class _PipelineLabeller:
    """Entities of any spaCy pipeline that sets ``doc.ents`` (here: a student teacher)."""

    def __init__(self, model: Path) -> None:
        self.model = model
        self._nlp: Any = None

    def label(self, sentences: Iterable[Sequence[str]]) -> Any:
        import spacy

        from ..labelling.spacy_labeller import predict_entities

        if self._nlp is None:
            self._nlp = spacy.load(self.model)
        return predict_entities(self._nlp, (list(s) for s in sentences))


def build_translate_train(settings: BenchmarkSettings, variant: str, target: str) -> dict[str, Any]:
    """NTREX-128 first source → target: label, align, project, convert (resumable steps).

    Test sentences of the target (in-domain and shift files) are removed from the pairs.
    """
    from spacy.util import load_config

    from ..registry import resolve_section
    from ..runner.batch_steps import align_records, convert_records, label_records, project_records
    from ..runner.multisource_steps import prepare_ntrex

    assert settings.ntrex_dir is not None
    source = settings.sources_for(target)[0]
    folder = _tt_dir(settings, variant, target)
    folder.mkdir(parents=True, exist_ok=True)
    log: dict[str, Any] = {"source": source}
    pairs, labelled = folder / "pairs.jsonl", folder / "labelled.jsonl"
    aligned, projected = folder / "aligned.jsonl", folder / "projected.jsonl"
    exclude = list(test_files(settings, target).values())
    prepare = partial(
        prepare_ntrex, settings.ntrex_dir.parent, source, target, pairs, exclude=exclude
    )
    ran = cached_step(pairs, "prepare", prepare, log, {"exclude": exclude})
    teacher = model_dir(settings, teacher_job(variant, source)) / "model-best"
    label = partial(label_records, pairs, labelled, _PipelineLabeller(teacher))
    ran = cached_step(
        labelled, "label", label, log, {"teacher": teacher}, force=ran, models=[teacher]
    )
    cfg = load_config(settings.projection_config, interpolate=True)
    aligner, projector = resolve_section(cfg, "aligner"), resolve_section(cfg, "projector")
    align = partial(align_records, labelled, aligned, aligner)
    configs = [settings.projection_config]
    ran = cached_step(aligned, "align", align, log, force=ran, configs=configs)
    project = partial(project_records, aligned, projected, projector)
    ran = cached_step(projected, "project", project, log, force=ran, configs=configs)
    convert = partial(convert_records, projected, folder)
    cached_step(folder / "train.spacy", "convert", convert, log, force=ran)
    return log


def estimate_weights(settings: BenchmarkSettings, job: Job) -> dict[str, float]:
    """The teacher weights of a student (what ``xner.TeacherCorpus.v1`` computes from them)."""
    from ..distill.teacher_weights import teacher_weights

    assert job.target is not None
    weighting = job.weighting or "uniform"
    if TT in job.sources and weighting != "uniform":
        raise ValueError("the translate-train student has no reference text: uniform only")
    target = _text(settings, job.target)
    refs = {s: settings.corpus_dir / s / "unlabelled.txt" for s in job.sources}
    weights = teacher_weights(
        job.sources,
        weighting,
        target=target,
        references=refs,
        temperature=settings.similarity_temperature,
        langid_temperature=settings.langid_temperature,
    )
    return {s: round(float(w), 6) for s, w in zip(job.sources, weights, strict=True)}


def _text(settings: BenchmarkSettings, lang: str) -> list[str]:
    path = settings.corpus_dir / lang / "unlabelled.txt"
    return path.read_text(encoding="utf8").splitlines()


def job_config(settings: BenchmarkSettings, job: Job) -> Any:
    """The full training config of a job (written next to its model)."""
    from spacy.util import load_config

    first = job.sources[0]
    overrides: dict[str, Any] = {
        "paths.dev": str(settings.corpus_dir / first / "dev.spacy"),
        "training.max_steps": settings.teacher_steps
        if job.method == "teacher"
        else settings.student_steps,
        "training.eval_frequency": settings.eval_frequency,
        "system.seed": settings.seed,
    }
    if job.variant == "encoder":
        overrides["paths.encoder"] = settings.encoder
        overrides["paths.feature_cache"] = str(settings.feature_cache)
    if job.variant == "cnn-floret":
        vectors = settings.vectors or settings.output_dir / "vectors" / "spacy"
        overrides["paths.vectors"] = str(vectors)
        overrides["components.tok2vec.model.embed.include_static_vectors"] = True
    if job.method == "teacher":
        overrides["paths.train"] = str(settings.corpus_dir / first / "train.spacy")
    if job.method == TT:
        assert job.target is not None
        overrides["paths.train"] = str(_tt_dir(settings, job.variant, job.target) / "train.spacy")
    cfg = load_config(_base_config(settings, job.variant), overrides=overrides, interpolate=False)
    if job.method not in ("teacher", TT):
        assert job.target is not None and job.weights is not None
        from ..distill.teacher_corpus import teacher_corpus_block

        cfg["corpora"]["train"] = teacher_corpus_block(
            settings.corpus_dir / job.target / "unlabelled.spacy",
            {s: _teacher_block(settings, job.variant, s, job.target) for s in job.sources},
            weights=job.weights,
            cache_dir=settings.output_dir / "teacher_cache" / job.variant,
            labels=settings.labels,
            hard=job.method == "hard",
            similarity_temperature=settings.similarity_temperature,
            langid_temperature=settings.langid_temperature,
        )
    return cfg


def train(settings: BenchmarkSettings, job: Job) -> float:
    """Train a job's model unless ``model-best`` exists with the same fingerprint (its full
    training config, the encoder, the teachers and the data it reads); the seconds spent."""
    folder = model_dir(settings, job)
    cfg = job_config(settings, job)
    t0 = time.perf_counter()

    def run() -> None:
        folder.mkdir(parents=True, exist_ok=True)
        config = folder / "config.cfg"
        cfg.to_disk(config)
        logger.info("training %s/%s", job.variant, job.name)
        cmd = [sys.executable, "-m", "spacy", "train", str(config), "--output", str(folder)]
        run_logged(cmd, folder / "train.log")

    name = f"{job.variant}/{job.name}"
    models = [settings.encoder] if job.variant == "encoder" else []
    if not train_unless_current(
        name, folder / "model-best", training_parts(cfg, models), run,
        force=settings.force, reuse_stale=settings.reuse_stale,
    ):  # fmt: skip
        return 0.0
    seconds = time.perf_counter() - t0
    (folder / "train_seconds.txt").write_text(f"{seconds:.1f}\n", encoding="utf8")
    logger.info("trained %s/%s in %.0f s", job.variant, job.name, seconds)
    return seconds


def _scores(metrics: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {k: round(float(metrics[k]), 4) for k in ("precision", "recall", "f1")}
    out["per_label"] = {
        lab: round(float(m["f1"]), 4) for lab, m in sorted(metrics["per_label"].items())
    }
    return out


def evaluate(settings: BenchmarkSettings, model: Path, lang: str) -> dict[str, Any]:
    """Scores of ``model`` on every test file of ``lang`` (cached next to the model)."""
    cache = model.parent / f"scores_{lang}.json"
    files = {name: str(path) for name, path in eval_files(settings, lang).items()}
    identity = json.loads(json.dumps(model_identity(model)))  # a retrained model: new scores
    if cache.is_file():
        saved = json.loads(cache.read_text(encoding="utf8"))
        if saved.get("files") == files and saved.get("model") == identity:
            return dict(saved["scores"])
    import spacy

    from ..evaluation.pipeline_scores import evaluate_pipeline

    nlp = spacy.load(model)
    scores = {}
    for name, path in eval_files(settings, lang).items():
        gold = [(s.words, s.ents) for s in read_gold(path, settings)]
        scores[name] = _scores(evaluate_pipeline(nlp, gold, settings.labels))
    with atomic_write(cache) as fh:
        fh.write(json.dumps({"files": files, "model": identity, "scores": scores}) + "\n")
    return scores


def _row(
    settings: BenchmarkSettings, job: Job, lang: str, method: str, seconds: float
) -> dict[str, Any]:
    folder = model_dir(settings, job)
    saved = folder / "train_seconds.txt"
    train_s = float(saved.read_text()) if saved.is_file() else round(seconds, 1)
    return {
        "variant": job.variant,
        "target": lang,
        "method": method,
        "k": job.k,
        "sources": job.sources,
        "weighting": job.weighting,
        "weights": job.weights,
        "model": str(folder / "model-best"),
        "train_seconds": train_s,
        "scores": evaluate(settings, folder / "model-best", lang),
    }


def run_benchmark(settings: BenchmarkSettings, command: str = "") -> dict[str, Any]:
    """Build the data, train and score every model; returns the result (module docstring)."""
    t_start = time.perf_counter()
    steps: dict[str, float] = {}
    langs = sorted({*settings.sources, *settings.targets})
    teacher_langs = sorted({s for t in settings.targets for s in settings.sources_for(t)})
    result: dict[str, Any] = {
        "languages": {lang: vars(s) for lang, s in settings.languages.items() if lang in langs},
        "targets": settings.targets,
        "sources": {t: settings.sources_for(t) for t in settings.targets},
        "shift": {t: [str(p) for p in ps] for t, ps in settings.shift.items()},
        "labels": list(settings.labels),
        "ignored_labels": list(settings.ignore_labels),
        "variants": list(settings.variants),
        "settings": {
            "train_limit": settings.train_limit,
            "dev_limit": settings.dev_limit,
            "text_limit": settings.text_limit,
            "teacher_steps": settings.teacher_steps,
            "student_steps": settings.student_steps,
            "eval_frequency": settings.eval_frequency,
            "encoder": settings.encoder,
            "vectors": None if settings.vectors is None else str(settings.vectors),
            "similarity_temperature": settings.similarity_temperature,
            "langid_temperature": settings.langid_temperature,
            "shift_limit": settings.shift_limit,
            "ntrex_dir": None if settings.ntrex_dir is None else str(settings.ntrex_dir),
            "projection_config": str(settings.projection_config),
            "seed": settings.seed,
            "model_selection": "the first source's gold dev split (no target labels)",
        },
        "command": command,
    }
    t0 = time.perf_counter()
    result["data"] = {lang: build_language(settings, lang) for lang in langs}
    steps["data"] = time.perf_counter() - t0
    if "encoder" in settings.variants:
        t0 = time.perf_counter()
        result["encode"] = encode_all(settings, langs)
        steps["encode"] = time.perf_counter() - t0
    if "cnn-floret" in settings.variants and settings.vectors is None:
        t0 = time.perf_counter()
        result["vectors"] = build_vectors(settings, langs)
        steps["vectors"] = time.perf_counter() - t0
    rows: list[dict[str, Any]] = []
    for variant in settings.variants:
        t0 = time.perf_counter()
        teachers = [teacher_job(variant, s) for s in teacher_langs]
        seconds = map_jobs(partial(train, settings), teachers, settings.jobs)
        steps[f"{variant}:teachers"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        for job, s in zip(teachers, seconds, strict=True):
            for target in settings.targets:
                if job.sources[0] in settings.sources_for(target):
                    rows.append(_row(settings, job, target, "direct", s))
        steps[f"{variant}:direct"] = time.perf_counter() - t0
        for target in settings.targets:
            t0 = time.perf_counter()
            jobs = student_jobs(settings, variant, target)
            for job in jobs:
                job.weights = estimate_weights(settings, job)
            seconds = map_jobs(partial(train, settings), jobs, settings.jobs)
            rows.extend(
                _row(settings, job, target, job.method, s)
                for job, s in zip(jobs, seconds, strict=True)
            )
            if variant in settings.full_variants and has_ntrex(settings, target):
                result.setdefault("translate_train", {})[f"{variant}:{target}"] = (
                    build_translate_train(settings, variant, target)
                )
                tt = tt_job(variant, target, settings.sources_for(target)[0])
                rows.append(_row(settings, tt, target, TT, train(settings, tt)))
                sources = [*settings.sources_for(target), TT]
                name = f"{target}/soft_k{len(sources)}_tt_uniform"
                both = Job(name, variant, "soft+tt", target, sources, "uniform")
                both.weights = estimate_weights(settings, both)
                rows.append(_row(settings, both, target, both.method, train(settings, both)))
            steps[f"{variant}:students:{target}"] = time.perf_counter() - t0
            logger.info("%s %s: %.0f s", variant, target, steps[f"{variant}:students:{target}"])
    result["rows"] = rows
    result["step_seconds"] = {k: round(v, 1) for k, v in steps.items()}
    result["wall_seconds"] = round(time.perf_counter() - t_start, 1)
    return result
