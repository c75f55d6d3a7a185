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

**Seeds.** Every teacher, student and translate-train model is trained once per seed of
``seeds`` (``system.seed``), under ``training/<variant>/seed<S>/``, one seed after the other,
so an interrupted run resumes seed by seed; each seed's wall time is logged and stored. What
does not depend on the training seed is made once and shared: the data samples (``data_seed``),
the encoder's feature cache, the floret vectors and the translate-train silver data. That
silver data is labelled by the first seed's teacher; eflomal takes no seed (it seeds itself from
``/dev/urandom``), so with ``align_per_seed = false`` (the default) one alignment is made, cached
and shared by every seed, and the spread over seeds is the training's alone; with ``true`` each
seed draws its own alignment, hence its own silver data, and the spread includes the alignment's.
A row of the result holds every seed's model and scores (:mod:`.crosslingual_scores`), and the
result's ``comparisons`` the paired claims (:mod:`xner_spacy.evaluation.crosslingual_claims`).
"""

from __future__ import annotations

import logging
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from ..evaluation.crosslingual_claims import benchmark_claims
from .crosslingual_data import (
    BenchmarkSettings,
    build_language,
    build_vectors,
    encode_all,
    variant_folder,
)
from .crosslingual_scores import evaluate, seed_row
from .crosslingual_translate import build_translate_train, has_ntrex, tt_silver_dir
from .job_running import (
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
    seed: int
    weighting: str | None = None
    weights: dict[str, float] | None = None

    @property
    def k(self) -> int:
        return len(self.sources)


def _base_config(settings: BenchmarkSettings, variant: str) -> Path:
    name = "student_encoder.cfg" if variant == "encoder" else "student.cfg"
    return settings.configs_dir / name


def model_dir(settings: BenchmarkSettings, job: Job) -> Path:
    """Where a job's model goes: ``training/<variant folder>/seed<S>/<name>``."""
    folder = variant_folder(settings, job.variant)
    return settings.output_dir / "training" / folder / f"seed{job.seed}" / job.name


def teacher_job(variant: str, source: str, seed: int) -> Job:
    return Job(f"teacher_{source}", variant, "teacher", None, [source], seed)


TT = "translate-train"


def _alignment_suffix(settings: BenchmarkSettings) -> str:
    """With ``align_per_seed`` the translate-train and ``soft+tt`` students get names of their
    own, so the models of both alignment settings keep their folders side by side."""
    return "_own_alignment" if settings.align_per_seed else ""


def tt_job(settings: BenchmarkSettings, variant: str, target: str, seed: int) -> Job:
    """The student trained on projected NTREX-128 silver data of the first source → ``target``."""
    source = settings.sources_for(target)[0]
    name = f"{target}/translate_train{_alignment_suffix(settings)}"
    return Job(name, variant, TT, target, [source], seed)


def _teacher_block(settings: BenchmarkSettings, job: Job, source: str) -> dict[str, Any]:
    """The teacher ``source`` of student ``job``: a teacher of the same seed and variant."""
    if source == TT:
        assert job.target is not None
        teacher = tt_job(settings, job.variant, job.target, job.seed)
    else:
        teacher = teacher_job(job.variant, source, job.seed)
    from ..distill.teachers import teacher_block

    return teacher_block(model_dir(settings, teacher) / "model-best")


def student_jobs(settings: BenchmarkSettings, variant: str, target: str, seed: int) -> list[Job]:
    """The students of one target, variant and seed (see the module docstring).

    The translate-train students (:func:`tt_job` and ``soft+tt``) are planned separately.
    """
    sources = settings.sources_for(target)
    full = variant in settings.full_variants
    jobs = [Job(f"{target}/soft_k1", variant, "soft", target, sources[:1], seed)]
    if full:
        jobs.insert(0, Job(f"{target}/hard_k1", variant, "hard", target, sources[:1], seed))
    ks = range(2, len(sources) + 1) if full else [len(sources)] if len(sources) > 1 else []
    for k in ks:
        for weighting in settings.weightings if full else ("uniform",):
            name = f"{target}/soft_k{k}_{weighting}"
            jobs.append(Job(name, variant, "soft", target, sources[:k], seed, weighting))
    return jobs


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
        "system.seed": job.seed,
    }
    if job.variant == "encoder":
        overrides["paths.encoder"] = settings.encoder
        overrides["paths.feature_cache"] = str(settings.feature_cache)
        overrides["components.xner_encoder.trainable_layers"] = settings.trainable_layers
    if job.variant == "cnn-floret":
        vectors = settings.vectors or settings.output_dir / "vectors" / "spacy"
        overrides["paths.vectors"] = str(vectors)
        overrides["components.tok2vec.model.embed.include_static_vectors"] = True
    if job.method == "teacher":
        overrides["paths.train"] = str(settings.corpus_dir / first / "train.spacy")
    if job.method == TT:
        assert job.target is not None
        silver = tt_silver_dir(settings, job.variant, job.target, job.seed)
        overrides["paths.train"] = str(silver / "train.spacy")
    cfg = load_config(_base_config(settings, job.variant), overrides=overrides, interpolate=False)
    if job.method not in ("teacher", TT):
        assert job.target is not None and job.weights is not None
        from ..distill.teacher_corpus import teacher_corpus_block

        cfg["corpora"]["train"] = teacher_corpus_block(
            settings.corpus_dir / job.target / "unlabelled.spacy",
            {s: _teacher_block(settings, job, s) for s in job.sources},
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


class _Rows:
    """Each row's runs, one per seed, in the order the first seed scores them."""

    def __init__(self, settings: BenchmarkSettings) -> None:
        self.settings = settings
        self.found: dict[tuple[str, str, str, str], dict[str, Any]] = {}

    def score(self, job: Job, lang: str, method: str, seconds: float) -> None:
        """Score ``job``'s model on ``lang`` and keep it as the run of its seed."""
        folder = model_dir(self.settings, job)
        saved = folder / "train_seconds.txt"
        train_s = float(saved.read_text()) if saved.is_file() else round(seconds, 1)
        info = {
            "variant": job.variant,
            "target": lang,
            "method": method,
            "k": job.k,
            "sources": job.sources,
            "weighting": job.weighting,
            "weights": job.weights,
        }
        entry = self.found.setdefault((job.variant, lang, method, job.name), {"info": info})
        run = {"seed": job.seed, "model": str(folder / "model-best"), "train_seconds": train_s}
        entry.setdefault("runs", []).append(
            run | evaluate(self.settings, folder / "model-best", lang)
        )

    def rows(self) -> list[dict[str, Any]]:
        return [seed_row(self.settings, e["info"], e["runs"]) for e in self.found.values()]


def _run_seed(
    settings: BenchmarkSettings,
    variant: str,
    seed: int,
    found: _Rows,
    steps: dict[str, float],
    result: dict[str, Any],
) -> None:
    """Train and score one variant's models of one seed (resumable: current models are kept)."""
    teacher_langs = sorted({s for t in settings.targets for s in settings.sources_for(t)})
    t0 = time.perf_counter()
    teachers = [teacher_job(variant, s, seed) for s in teacher_langs]
    seconds = map_jobs(partial(train, settings), teachers, settings.jobs)
    steps[f"{variant}:teachers"] += time.perf_counter() - t0
    t0 = time.perf_counter()
    for job, s in zip(teachers, seconds, strict=True):
        for target in settings.targets:
            if job.sources[0] in settings.sources_for(target):
                found.score(job, target, "direct", s)
    steps[f"{variant}:direct"] += time.perf_counter() - t0
    for target in settings.targets:
        t0 = time.perf_counter()
        jobs = student_jobs(settings, variant, target, seed)
        for job in jobs:
            job.weights = estimate_weights(settings, job)
        seconds = map_jobs(partial(train, settings), jobs, settings.jobs)
        for job, s in zip(jobs, seconds, strict=True):
            found.score(job, target, job.method, s)
        if variant in settings.full_variants and has_ntrex(settings, target):
            first = teacher_job(variant, settings.sources_for(target)[0], settings.seeds[0])
            labeller = model_dir(settings, first) / "model-best"
            log = build_translate_train(settings, variant, target, seed, labeller)
            result.setdefault("translate_train", {})[f"{variant}:{target}:seed{seed}"] = log
            tt = tt_job(settings, variant, target, seed)
            found.score(tt, target, TT, train(settings, tt))
            sources = [*settings.sources_for(target), TT]
            name = f"{target}/soft_k{len(sources)}_tt_uniform{_alignment_suffix(settings)}"
            both = Job(name, variant, "soft+tt", target, sources, seed, "uniform")
            both.weights = estimate_weights(settings, both)
            found.score(both, target, both.method, train(settings, both))
        seconds_ = time.perf_counter() - t0
        steps[f"{variant}:students:{target}"] += seconds_
        logger.info("seed %d, %s %s: %.0f s", seed, variant, target, seconds_)


def run_benchmark(settings: BenchmarkSettings, command: str = "") -> dict[str, Any]:
    """Build the data, train and score every model once per seed; returns the result
    (module docstring), its rows summarised over the seeds and its paired claims."""
    t_start = time.perf_counter()
    steps: dict[str, float] = defaultdict(float)
    langs = sorted({*settings.sources, *settings.targets})
    result: dict[str, Any] = {
        "languages": {lang: vars(s) for lang, s in settings.languages.items() if lang in langs},
        "targets": settings.targets,
        "sources": {t: settings.sources_for(t) for t in settings.targets},
        "shift": {t: [str(p) for p in ps] for t, ps in settings.shift.items()},
        "labels": list(settings.labels),
        "ignored_labels": list(settings.ignore_labels),
        "variants": list(settings.variants),
        "seeds": list(settings.seeds),
        "settings": {
            "train_limit": settings.train_limit,
            "dev_limit": settings.dev_limit,
            "text_limit": settings.text_limit,
            "teacher_steps": settings.teacher_steps,
            "student_steps": settings.student_steps,
            "eval_frequency": settings.eval_frequency,
            "encoder": settings.encoder,
            "trainable_layers": settings.trainable_layers,
            "vectors": None if settings.vectors is None else str(settings.vectors),
            "similarity_temperature": settings.similarity_temperature,
            "langid_temperature": settings.langid_temperature,
            "shift_limit": settings.shift_limit,
            "ntrex_dir": None if settings.ntrex_dir is None else str(settings.ntrex_dir),
            "projection_config": str(settings.projection_config),
            "seeds": list(settings.seeds),
            "data_seed": settings.data_seed,
            "align_per_seed": settings.align_per_seed,
            "bootstrap": {"n": settings.bootstrap, "seed": settings.bootstrap_seed},
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
    found = _Rows(settings)
    seed_seconds: dict[str, float] = {}
    for seed in settings.seeds:
        t0 = time.perf_counter()
        for variant in settings.variants:
            _run_seed(settings, variant, seed, found, steps, result)
        seed_seconds[str(seed)] = round(time.perf_counter() - t0, 1)
        logger.info(
            "seed %d done in %.0f s (%.0f s since the start)",
            seed, seed_seconds[str(seed)], time.perf_counter() - t_start,
        )  # fmt: skip
    t0 = time.perf_counter()
    result["rows"] = found.rows()
    result["comparisons"] = benchmark_claims(result, settings.bootstrap, settings.bootstrap_seed)
    steps["intervals"] = time.perf_counter() - t0
    result["step_seconds"] = {k: round(v, 1) for k, v in steps.items()}
    result["seed_seconds"] = seed_seconds
    result["wall_seconds"] = round(time.perf_counter() - t_start, 1)
    logger.info("wall time %.0f s; per seed: %s", result["wall_seconds"], seed_seconds)
    return result
