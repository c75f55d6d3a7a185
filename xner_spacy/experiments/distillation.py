"""The multi-source distillation experiment (``xner distill-experiment``) for one target language.

For sources ``s_1 … s_K`` (in the given order) it builds, resumably:

1. **silver data per source**: NTREX-128 ``s_i``–target pairs (test sentences removed), the
   source side labelled by ``s_i``'s pipeline, word-aligned by the projection config's
   statistical aligner (trained on the NTREX pair plus the MAFAND-MT pair where one exists),
   projected, converted to train/dev DocBins (silver dev held out by id hash);
2. **voted projections** for ``k = 2 … K``:
   :func:`xner_spacy.runner.multisource_steps.vote_records` over the first ``k`` projections;
3. **unlabelled target text**: MAFAND-MT target sides and MasakhaNER 2.0 *train* sentences
   without labels, held-out test sentences removed (:mod:`.text`);

then trains and scores (MasakhaNER 2.0 test, and WikiANN test where the language has one):

* ``teacher`` — one ``xner_student_ner`` per source, on its own silver data (``k = 1``);
* ``voted`` — the same student on the voted projections of the first ``k`` sources (the
  multi-source projection baseline; for ``k = 1`` it *is* the first teacher);
* ``distill-<weights>`` — a student distilled from the first ``k`` teachers on the unlabelled
  text (``xner.TeacherCorpus.v1``; ``uniform`` and/or ``similarity`` weights; with one
  teacher every weighting is the same, so ``k = 1`` runs once).

All models share one architecture (``configs/student.cfg`` and ``configs/distill.cfg``);
``vectors`` adds static vectors (e.g. the in-project floret vectors) to every one of them.
Every run's exact config is written next to its model; results go to one JSON file that
``xner distill-report`` turns into a table and a plot.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from .job_running import (
    cached_step,
    count_docs,
    map_jobs,
    run_logged,
    train_unless_current,
    training_parts,
)

logger = logging.getLogger("xner_spacy")

#: The entity labels every student predicts (the source corpora's; MasakhaNER's DATE is not
#: projected and not scored).
LABELS = ("LOC", "ORG", "PER")
WEIGHTINGS = ("uniform", "similarity")
ORDERS = ("given", "agreement")
SOURCE_ORDER_RULES = {
    "given": "the order of --source (project default en, fr, de, es: English first, as the "
    "best source labeller and the only source with MAFAND-MT text for its aligner); fixed "
    "before any target result was seen",
    "agreement": "by decreasing mean span F1 of a source's NTREX projections against the "
    "other sources' projections (label-free, no target gold), ties in --source order",
}


@dataclass(frozen=True)
class SourceSpec:
    """A source language and the spaCy pipeline that labels it: ``LANG=MODEL[:LABEL_MAP]``."""

    lang: str
    model: str
    label_map: str = "conll"

    @classmethod
    def parse(cls, spec: str) -> SourceSpec:
        lang, sep, rest = spec.partition("=")
        if not sep or not lang or not rest:
            raise ValueError(f"expected LANG=MODEL[:LABEL_MAP], got {spec!r}")
        model, _, label_map = rest.partition(":")
        return cls(lang.strip(), model.strip(), label_map.strip() or "conll")


@dataclass
class ExperimentSettings:
    """Where the data, silver corpora and models go, and how long everything trains."""

    data_dir: Path
    target: str
    sources: list[SourceSpec]
    corpus_dir: Path
    training_dir: Path
    projection_config: Path = Path("configs/projection.cfg")
    student_config: Path = Path("configs/student.cfg")
    distill_config: Path = Path("configs/distill.cfg")
    teacher_steps: int = 500
    student_steps: int = 500
    eval_frequency: int = 100
    weightings: tuple[str, ...] = WEIGHTINGS
    text_limit: int = 5000
    vectors: Path | None = None
    threshold: float = 0.5
    similarity_temperature: float = 0.1
    doubtful: str = "drop"
    order: str = "given"
    jobs: int = 1
    #: Retrain every model; or keep every trained model even where its fingerprint differs.
    force: bool = False
    reuse_stale: bool = False
    overrides: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.order not in ORDERS:
            raise ValueError(f"unknown source order {self.order!r}; use {ORDERS}")
        unknown = set(self.weightings) - set(WEIGHTINGS)
        if unknown:
            raise ValueError(f"unknown weightings {sorted(unknown)}; use {WEIGHTINGS}")
        if not self.sources:
            raise ValueError("at least one source is needed")
        langs = [s.lang for s in self.sources]
        if len(set(langs)) != len(langs):
            raise ValueError(f"a source language is given twice: {langs}")


@dataclass
class TrainJob:
    """One model to train and score; ``config`` is written before training."""

    name: str
    method: str
    k: int
    sources: list[str]
    config: dict[str, Any]
    train_docs: Path | None = None
    weights: dict[str, float] | None = None


# --- data ------------------------------------------------------------------------------------


def _silver_dir(settings: ExperimentSettings, lang: str) -> Path:
    return settings.corpus_dir / "silver" / lang


def _voted_dir(settings: ExperimentSettings, k: int) -> Path:
    return settings.corpus_dir / "voted" / f"k{k}"


def build_silver(settings: ExperimentSettings, source: SourceSpec) -> dict[str, Any]:
    """NTREX-128 pairs → labelled → aligned → projected → train/dev DocBins for one source."""
    from spacy.util import load_config

    from ..io.parallel import pair_dir
    from ..labelling.spacy_labeller import SpacyLabeller
    from ..registry import resolve_section
    from ..runner.batch_steps import align_records, convert_records, label_records, prepare_parallel
    from ..runner.batch_steps import project_records as project
    from ..runner.multisource_steps import prepare_ntrex

    folder = _silver_dir(settings, source.lang)
    folder.mkdir(parents=True, exist_ok=True)
    src, tgt, data = source.lang, settings.target, settings.data_dir
    cfg = load_config(settings.projection_config, interpolate=True)
    log: dict[str, Any] = {"labeller": asdict(source)}
    pairs, labelled = folder / "pairs.jsonl", folder / "labelled.jsonl"
    aligned, projected = folder / "aligned.jsonl", folder / "projected.jsonl"
    ran = cached_step(pairs, "prepare", partial(prepare_ntrex, data, src, tgt, pairs), log)
    labeller = SpacyLabeller(model=source.model, label_map=source.label_map)
    label = partial(label_records, pairs, labelled, labeller)
    ran = cached_step(
        labelled, "label", label, log, asdict(source), force=ran, models=[source.model]
    )
    extra: list[Path] = []
    try:
        pair_dir(Path(data), src, tgt)
    except FileNotFoundError:
        log["aligner_extra"] = "none: no MAFAND-MT pair"
    else:
        mafand = folder / "mafand_pairs.jsonl"
        prepare = partial(prepare_parallel, data, src, tgt, mafand)
        cached_step(mafand, "prepare_mafand", prepare, log)
        extra = [mafand]
    aligner, projector = resolve_section(cfg, "aligner"), resolve_section(cfg, "projector")
    align = partial(align_records, labelled, aligned, aligner, extra=extra)
    ran = cached_step(aligned, "align", align, log, force=ran)
    ran = cached_step(
        projected, "project", partial(project, aligned, projected, projector), log, force=ran
    )
    convert = partial(convert_records, projected, folder, doubtful=settings.doubtful)
    ran = cached_step(folder / "train.spacy", "convert", convert, log, force=ran)
    log["rebuilt"] = ran
    return log


def build_votes(settings: ExperimentSettings, k: int, force: bool = False) -> dict[str, Any]:
    """Voted projections of the first ``k`` sources, converted to train/dev DocBins."""
    from ..runner.batch_steps import convert_records
    from ..runner.multisource_steps import vote_records

    folder = _voted_dir(settings, k)
    folder.mkdir(parents=True, exist_ok=True)
    inputs = [_silver_dir(settings, s.lang) / "projected.jsonl" for s in settings.sources[:k]]
    voted = folder / "projected.jsonl"
    log: dict[str, Any] = {}
    params = {"inputs": inputs, "threshold": settings.threshold}
    vote = partial(vote_records, inputs, voted, threshold=settings.threshold)
    ran = cached_step(voted, "vote", vote, log, params, force=force)
    convert = partial(convert_records, voted, folder, doubtful=settings.doubtful)
    cached_step(folder / "train.spacy", "convert", convert, log, force=ran)
    return log


def build_text(settings: ExperimentSettings) -> dict[str, Any]:
    """The unlabelled target text the distilled students learn from."""
    from .unlabelled_text import write_target_text

    path = settings.corpus_dir / "unlabelled.txt"
    log: dict[str, Any] = {}
    cached_step(
        path,
        "target_text",
        partial(
            write_target_text,
            settings.data_dir,
            settings.target,
            path,
            max_sentences=settings.text_limit,
        ),
        log,
        {"max_sentences": settings.text_limit},
    )
    return log["target_text"]


# --- models ----------------------------------------------------------------------------------


def _model_dir(settings: ExperimentSettings, name: str) -> Path:
    return settings.training_dir / name


def _common_overrides(settings: ExperimentSettings, steps: int) -> dict[str, Any]:
    overrides: dict[str, Any] = {
        "training.max_steps": steps,
        "training.eval_frequency": settings.eval_frequency,
    }
    if settings.vectors is not None:
        overrides["paths.vectors"] = str(settings.vectors)
        overrides["components.tok2vec.model.embed.include_static_vectors"] = True
    return {**overrides, **settings.overrides}


def hard_label_job(
    settings: ExperimentSettings, name: str, method: str, k: int, folder: Path
) -> TrainJob:
    """A student trained on silver entities (a teacher, or the student on voted projections)."""
    overrides = {
        "paths.train": str(folder / "train.spacy"),
        "paths.dev": str(folder / "dev.spacy"),
        **_common_overrides(settings, settings.teacher_steps),
    }
    sources = [s.lang for s in settings.sources[:k]] if method == "voted" else [name.split("_")[1]]
    return TrainJob(name, method, k, sources, overrides, train_docs=folder / "train.spacy")


def teacher_name(lang: str) -> str:
    return f"teacher_{lang}"


def reference_text(settings: ExperimentSettings, lang: str) -> Path:
    """A source's reference text for similarity weights: its NTREX-128 file."""
    from ..language_codes import to_iso3

    return settings.data_dir / "ntrex128" / f"{to_iso3(lang)}.txt"


def similarity_weights_for(settings: ExperimentSettings, langs: Sequence[str]) -> dict[str, float]:
    """The weights ``xner.TeacherCorpus.v1`` computes for ``weights = "similarity"``.

    The same estimator on the same text: the unlabelled target lines, tokenised as the
    student's NFC tokenizer does, against each source's reference text.
    """
    from ..distill.teacher_weights import teacher_weights
    from ..text import tokenize

    lines = (settings.corpus_dir / "unlabelled.txt").read_text(encoding="utf8").splitlines()
    target = [" ".join(tokenize(line, "xx")) for line in lines if line.strip()]
    refs = {lang: reference_text(settings, lang) for lang in langs}
    weights = teacher_weights(
        list(langs),
        "similarity",
        target=target,
        references=refs,
        temperature=settings.similarity_temperature,
    )
    return {lang: round(float(w), 4) for lang, w in zip(langs, weights, strict=True)}


def distill_job(settings: ExperimentSettings, k: int, weighting: str) -> TrainJob:
    """A student distilled from the first ``k`` teachers on the unlabelled target text."""
    langs = [s.lang for s in settings.sources[:k]]
    from ..distill.teachers import teacher_block

    teachers = {
        lang: teacher_block(_model_dir(settings, teacher_name(lang)) / "model-best")
        for lang in langs
    }
    dev = _voted_dir(settings, k) if k > 1 else _silver_dir(settings, langs[0])
    overrides = {
        "paths.train": str(settings.corpus_dir / "unlabelled.txt"),
        "paths.dev": str(dev / "dev.spacy"),
        "paths.teacher_cache": str(settings.training_dir / "teacher_cache"),
        "corpora.train.teachers": teachers,
        "corpora.train.weights": weighting,
        "corpora.train.references": {lang: str(reference_text(settings, lang)) for lang in langs},
        "corpora.train.similarity_temperature": settings.similarity_temperature,
        "corpora.train.labels": list(LABELS),
        **_common_overrides(settings, settings.student_steps),
    }
    weights = (
        similarity_weights_for(settings, langs)
        if weighting == "similarity"
        else {lang: round(1.0 / k, 4) for lang in langs}
    )
    return TrainJob(
        f"distill_{weighting}_k{k}", f"distill-{weighting}", k, langs, overrides, weights=weights
    )


def plan_jobs(settings: ExperimentSettings) -> tuple[list[TrainJob], list[TrainJob]]:
    """The hard-label jobs (teachers, voted students) and the distillation jobs that need them."""
    first: list[TrainJob] = []
    for source in settings.sources:
        folder = _silver_dir(settings, source.lang)
        first.append(hard_label_job(settings, teacher_name(source.lang), "teacher", 1, folder))
    for k in range(2, len(settings.sources) + 1):
        first.append(hard_label_job(settings, f"voted_k{k}", "voted", k, _voted_dir(settings, k)))
    second: list[TrainJob] = []
    for k in range(1, len(settings.sources) + 1):
        for weighting in settings.weightings if k > 1 else settings.weightings[:1]:
            second.append(distill_job(settings, k, weighting))
    return first, second


def eval_sets(data_dir: Path, target: str) -> dict[str, Path | None]:
    """The gold test files: MasakhaNER 2.0 (news, in-domain) and WikiANN (domain shift)."""
    found: dict[str, Path | None] = {}
    for domain, rel in (("masakhaner", "masakhaner2"), ("wikiann", "wikiann")):
        path = data_dir / rel / target / "test.txt"
        found[domain] = path if path.is_file() else None
    return found


def _base_config(settings: ExperimentSettings, job: TrainJob) -> Path:
    return settings.distill_config if job.method.startswith("distill") else settings.student_config


def _job_config(settings: ExperimentSettings, job: TrainJob) -> Any:
    from spacy.util import load_config

    return load_config(_base_config(settings, job), overrides=job.config, interpolate=False)


def run_job(settings: ExperimentSettings, job: TrainJob) -> dict[str, Any]:
    """Train (unless ``model-best`` exists with the same fingerprint) and score one model;
    returns its result row."""
    folder = _model_dir(settings, job.name)
    model = folder / "model-best"
    row: dict[str, Any] = {
        "name": job.name,
        "method": job.method,
        "k": job.k,
        "sources": job.sources,
        "model": str(model),
    }
    if job.weights is not None:
        row["weights"] = job.weights
    t0 = time.perf_counter()
    cfg = _job_config(settings, job)

    def run() -> None:
        folder.mkdir(parents=True, exist_ok=True)
        config = folder / "config.cfg"
        cfg.to_disk(config)
        logger.info("training %s", job.name)
        cmd = [sys.executable, "-m", "spacy", "train", str(config), "--output", str(folder)]
        run_logged(cmd, folder / "train.log")

    vectors = [settings.vectors] if settings.vectors else []
    if train_unless_current(
        job.name, model, training_parts(cfg, vectors), run,
        force=settings.force, reuse_stale=settings.reuse_stale,
    ):  # fmt: skip
        for stale in folder.glob("metrics_*.json"):  # scores of the model it replaced
            stale.unlink()
    row["train_seconds"] = round(time.perf_counter() - t0, 1)
    if job.train_docs is not None:
        row["train_docs"] = count_docs(job.train_docs)
    for domain, test in eval_sets(settings.data_dir, settings.target).items():
        if test is None:
            row[domain] = None
            continue
        out = folder / f"metrics_{domain}.json"
        if not out.is_file():
            cmd = [
                sys.executable,
                "-m",
                "xner_spacy.cli",
                "evaluate",
                str(model),
                str(test),
                "--output",
                str(out),
            ]
            run_logged(cmd, folder / f"evaluate_{domain}.log")
        metrics = json.loads(out.read_text(encoding="utf8"))
        row[domain] = {key: metrics[key] for key in ("precision", "recall", "f1")}
        row[domain]["per_label"] = {
            lab: round(m["f1"], 4) for lab, m in metrics.get("per_label", {}).items()
        }
    row["seconds"] = round(time.perf_counter() - t0, 1)
    logger.info(
        "%s: %s",
        job.name,
        {d: row[d] and round(row[d]["f1"], 4) for d in ("masakhaner", "wikiann")},
    )
    return row


def _run_all(settings: ExperimentSettings, jobs: list[TrainJob]) -> list[dict[str, Any]]:
    return map_jobs(partial(run_job, settings), jobs, settings.jobs)


def order_sources_by_agreement(settings: ExperimentSettings, result: dict[str, Any]) -> None:
    """Reorder ``settings.sources`` by projection agreement; record it in ``result``."""
    from ..runner.multisource_steps import projection_agreement

    paths = {s.lang: _silver_dir(settings, s.lang) / "projected.jsonl" for s in settings.sources}
    agreement = projection_agreement(paths)
    given = [s.lang for s in settings.sources]
    settings.sources.sort(key=lambda s: (-agreement[s.lang], given.index(s.lang)))
    result["source_agreement"] = agreement
    result["sources"] = [s.lang for s in settings.sources]
    logger.info("sources ordered by projection agreement %s: %s", agreement, result["sources"])


def run_experiment(settings: ExperimentSettings, command: str = "") -> dict[str, Any]:
    """Build the data, train and score every model; returns the result (see module doc)."""
    t0 = time.perf_counter()
    result: dict[str, Any] = {
        "target": settings.target,
        "sources": [s.lang for s in settings.sources],
        "source_order_rule": SOURCE_ORDER_RULES[settings.order],
        "labellers": {s.lang: f"{s.model}:{s.label_map}" for s in settings.sources},
        "vectors": None if settings.vectors is None else str(settings.vectors),
        "eval_sets": {
            d: p and str(p) for d, p in eval_sets(settings.data_dir, settings.target).items()
        },
        "settings": {
            "teacher_steps": settings.teacher_steps,
            "student_steps": settings.student_steps,
            "eval_frequency": settings.eval_frequency,
            "text_limit": settings.text_limit,
            "vote_threshold": settings.threshold,
            "similarity_temperature": settings.similarity_temperature,
            "doubtful": settings.doubtful,
            "order": settings.order,
            "overrides": settings.overrides,
        },
        "command": command,
    }
    if result["eval_sets"]["wikiann"] is None:
        result["notes"] = [f"WikiANN has no test set for {settings.target}: no domain-shift score"]
    result["silver"] = {s.lang: build_silver(settings, s) for s in settings.sources}
    if settings.order == "agreement":
        order_sources_by_agreement(settings, result)
    rebuilt = any(log["rebuilt"] for log in result["silver"].values())
    result["voted"] = {
        f"k{k}": build_votes(settings, k, force=rebuilt)
        for k in range(2, len(settings.sources) + 1)
    }
    result["unlabelled_text"] = build_text(settings)
    result["data_seconds"] = round(time.perf_counter() - t0, 1)
    first, second = plan_jobs(settings)
    rows = _run_all(settings, first) + _run_all(settings, second)
    teacher_one = next(r for r in rows if r["name"] == teacher_name(settings.sources[0].lang))
    rows.append(
        {**teacher_one, "name": "voted_k1", "method": "voted", "same_as": teacher_one["name"]}
    )
    result["rows"] = rows
    result["wall_seconds"] = round(time.perf_counter() - t0, 1)
    return result
