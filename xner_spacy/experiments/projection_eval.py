"""Intrinsic projection evaluation: project onto gold-labelled target sentences and score.

Two protocols (DESIGN.md, "Evaluation protocols" 1 and 2), both scored with exact-span micro
P/R/F1 by :func:`~xner_spacy.evaluation.spans.score_spans`:

``masakhaner``
    MasakhaNER 2.0 test sentences that are the target side of a MAFAND-MT pair (lug, luo,
    pcm, twi from English; bam, bbj, wol from French). The human source sentence is labelled
    by a source NER model, word-aligned to the *gold* target words and projected; gold target
    entities are PER/ORG/LOC (DATE dropped). Sentences are joined on normalised text, never on
    split names, because a MasakhaNER test sentence can sit in any MAFAND split.
``europarl``
    Europarl-NER (799 line-aligned sentences annotated on both sides): gold *source* entities
    are projected, so the score measures alignment + projection alone, on PER/ORG/LOC/MISC.

Word alignment is unsupervised, so the aligner may learn from all parallel text of the
language pair (every MAFAND split, plus ``extra_parallel`` files such as NTREX-128); only the
evaluation pairs are returned. Labelling and alignment are the expensive part and do not
depend on the projector, so :func:`prepare_eval_records` caches the labelled, aligned records
(JSONL) under a hash of the data files and the labeller/aligner settings; every projector is
then scored on exactly the same alignments (which also matters because eflomal is not
deterministic).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..evaluation.spans import error_breakdown, score_spans
from ..io.atomic import atomic_write
from ..io.parallel import mafand_splits
from ..io.records import read_records, write_records
from ..projection.corpus_passes import SECTIONS as CORPUS_SECTIONS
from ..projection.corpus_passes import NamePropagation, SupportedFallback, passes_from, run_passes
from ..projection.label_consistency import LabelConsistency
from ..registry import resolve_section
from ..types import Aligner, Entity, Labeller, PairRecord, Projector
from .projection_eval_data import (
    DATASET_LABELS,
    DATASETS,
    EUROPARL_FILE,
    MASAKHANER_TEST,
    aligner_corpus,
    europarl_records,
    match_test_to_parallel,
)

logger = logging.getLogger("xner_spacy")

#: Bump when the cached record layout changes, so old cache files are never read.
CACHE_VERSION = 1


# --- building the evaluation pairs -------------------------------------------------------------


# --- the cached label + align stage ------------------------------------------------------------


def _check_dataset(dataset: str) -> None:
    if dataset not in DATASETS:
        raise ValueError(f"dataset must be one of {DATASETS}, got {dataset!r}")


def _input_files(
    data_dir: Path, src: str, tgt: str, dataset: str, extra: Sequence[tuple[Any, Any]]
) -> list[Path]:
    if dataset == "europarl":
        files = [data_dir / EUROPARL_FILE.format(lang=lang) for lang in (src, tgt)]
    else:
        files = [data_dir / MASAKHANER_TEST.format(tgt=tgt)]
        files += [p for _, s, t in mafand_splits(data_dir, src, tgt) for p in (s, t)]
    return files + [Path(p) for pair in extra for p in pair]


def describe(part: Any) -> dict[str, Any]:
    """Settings of a labeller or aligner object for the cache key (dataclass fields or attrs)."""
    if dataclasses.is_dataclass(part) and not isinstance(part, type):
        values = {f.name: getattr(part, f.name) for f in dataclasses.fields(part) if f.init}
    else:
        values = dict(vars(part))
    public = {k: v for k, v in values.items() if not k.startswith("_")}
    return {"class": f"{type(part).__module__}.{type(part).__qualname__}", **public}


def cache_key(
    data_dir: str | Path,
    src: str,
    tgt: str,
    *,
    dataset: str,
    labeller: Any,
    aligner: Any,
    extra_parallel: Sequence[tuple[str | Path, str | Path]] = (),
) -> str:
    """Hash of everything the labelled, aligned records depend on.

    ``labeller``/``aligner`` are their settings (config sections, or :func:`describe`);
    data files enter by resolved path, size and modification time, and so does a labeller
    ``model`` that is a local directory (its ``meta.json``), so retraining the source model
    invalidates the cache. The labeller is left out for Europarl, whose source entities are gold.
    """
    files = _input_files(Path(data_dir), src, tgt, dataset, extra_parallel)
    if dataset == "europarl":
        labeller = None
    elif isinstance(labeller, Mapping) and isinstance(labeller.get("model"), str):
        model = Path(labeller["model"])
        if model.is_dir():
            stamp = model / "meta.json" if (model / "meta.json").is_file() else model
            files.append(stamp)
    spec = {
        "version": CACHE_VERSION,
        "dataset": dataset,
        "src": src,
        "tgt": tgt,
        "files": [[str(p.resolve()), p.stat().st_size, p.stat().st_mtime_ns] for p in files],
        "labeller": labeller,
        "aligner": aligner,
    }
    text = json.dumps(spec, sort_keys=True, ensure_ascii=False, default=repr)
    return hashlib.sha1(text.encode("utf8")).hexdigest()[:16]


def prepare_eval_records(
    data_dir: str | Path,
    src: str,
    tgt: str,
    *,
    aligner: Aligner,
    labeller: Labeller | None = None,
    dataset: str = "masakhaner",
    extra_parallel: Sequence[tuple[str | Path, str | Path]] = (),
    cache_dir: str | Path | None = None,
    settings: Mapping[str, Any] | None = None,
) -> tuple[list[PairRecord], dict[str, Any]]:
    """Evaluation pairs with ``src_ents`` and ``alignment`` filled, and what was done.

    Builds the pairs (:func:`match_test_to_parallel` or :func:`europarl_records`), labels
    the source side (MasakhaNER; Europarl keeps its gold source entities) and aligns them
    with the aligner trained on the pairs plus :func:`aligner_corpus`. With ``cache_dir``
    the result is stored as ``<dataset>-<src>-<tgt>-<key>.jsonl`` (+ ``.json`` with the
    counts) and reused while the data files and the settings are unchanged: ``settings``
    (``{"labeller": ..., "aligner": ...}``, e.g. the config sections) name them, by default
    :func:`describe` of the objects.
    """
    _check_dataset(dataset)
    if dataset == "masakhaner" and labeller is None:
        raise ValueError("the masakhaner protocol needs a labeller for the source side")
    data_dir = Path(data_dir)
    extra_parallel = [(Path(s), Path(t)) for s, t in extra_parallel]
    path = info_path = None
    if cache_dir is not None:
        settings = settings or {
            "labeller": describe(labeller) if labeller is not None else None,
            "aligner": describe(aligner),
        }
        key = cache_key(
            data_dir,
            src,
            tgt,
            dataset=dataset,
            labeller=settings.get("labeller"),
            aligner=settings.get("aligner"),
            extra_parallel=extra_parallel,
        )
        path = Path(cache_dir) / f"{dataset}-{src}-{tgt}-{key}.jsonl"
        info_path = path.with_suffix(".json")
        if path.is_file() and info_path.is_file():
            cached = json.loads(info_path.read_text(encoding="utf8"))
            logger.info("reusing labelled, aligned records from %s", path)
            return list(read_records(path)), {**cached, "cache": "hit", "cache_file": str(path)}

    t0 = time.perf_counter()
    if dataset == "europarl":
        records, stats = europarl_records(data_dir, src, tgt)
    else:
        records, stats = match_test_to_parallel(data_dir, src, tgt)
    if not records:
        raise ValueError(
            f"no {dataset} test sentence of {tgt} matched a {src}-{tgt} sentence pair under "
            f"{data_dir} ({stats.to_dict()}); this protocol needs test sentences that are the "
            "target side of parallel pairs (e.g. lug, luo, pcm, twi from en; bam, bbj, wol from fr)"
        )
    t1 = time.perf_counter()
    if labeller is not None and dataset != "europarl":
        for rec, ents in zip(records, labeller.label(r.src_words for r in records), strict=True):
            rec.src_ents = list(ents)
    t2 = time.perf_counter()
    skip = {str(r.meta["parallel"]) for r in records} if dataset == "masakhaner" else set()
    extra_src, extra_tgt = aligner_corpus(
        data_dir, src, tgt, dataset=dataset, skip=skip, extra_parallel=extra_parallel
    )
    src_words = [r.src_words for r in records]
    tgt_words = [r.tgt_words for r in records]
    links = aligner.align(src_words, tgt_words, extra_src=extra_src, extra_tgt=extra_tgt)
    if len(links) != len(records):
        raise RuntimeError(f"aligner returned {len(links)} alignments for {len(records)} pairs")
    for rec, pairs in zip(records, links, strict=True):
        rec.set_alignment(pairs, f"{dataset} {src}-{tgt}")
    t3 = time.perf_counter()
    info: dict[str, Any] = {
        "dataset": dataset,
        "src": src,
        "tgt": tgt,
        **stats.to_dict(),
        "aligner_pairs": len(records) + len(extra_src),
        "extra_parallel": [[str(s), str(t)] for s, t in extra_parallel],
        "src_entities": sum(len(r.src_ents or ()) for r in records),
        "prepare_seconds": {
            "match": round(t1 - t0, 2),
            "label": round(t2 - t1, 2),
            "align": round(t3 - t2, 2),
        },
    }
    if path is not None and info_path is not None:
        write_records(path, records)
        with atomic_write(info_path) as fh:
            fh.write(json.dumps(info, indent=2, ensure_ascii=False) + "\n")
    return records, {**info, "cache": "miss" if path else "off", "cache_file": str(path or "")}


# --- projection and scoring --------------------------------------------------------------------


def project_eval_records(
    records: Iterable[PairRecord], projector: Projector, labels: Sequence[str] | None
) -> list[PairRecord]:
    """Fill ``tgt_ents`` by projecting the source entities whose label is scored.

    Entities of other labels (e.g. a labeller's MISC on MasakhaNER) are not projected, so
    they cannot take a target span from a scored entity.
    """
    out = []
    for rec in records:
        if rec.src_ents is None or rec.alignment is None:
            raise ValueError(f"record {rec.id!r} lacks src_ents or alignment")
        ents = [e for e in rec.src_ents if labels is None or e.label in labels]
        rec.tgt_ents = projector(rec.src_words, rec.tgt_words, ents, rec.alignment, extras=rec.meta)
        out.append(rec)
    return out


def evaluate_projection(
    records: Iterable[PairRecord],
    projector: Projector,
    labels: Sequence[str] | None = DATASET_LABELS["masakhaner"],
    consistency: LabelConsistency | None = None,
    *,
    fallback: SupportedFallback | None = None,
    propagation: NamePropagation | None = None,
) -> dict[str, Any]:
    """Exact-span P/R/F1 of the projector's output against the gold entities in ``meta["gold"]``.

    Returns :func:`score_spans`'s metrics (``precision``, ``recall``, ``f1``, ``per_label``,
    ``unlabelled_f1``, counts) plus ``src_entities``, the source entities projected, and
    ``corpus_passes`` (entities each corpus-level pass changed). The records get their
    ``tgt_ents`` filled (see :func:`project_eval_records`). The corpus-level parts
    (:mod:`xner_spacy.projection.corpus_passes`) run over the evaluation corpus: ``consistency``
    votes labels before (source side) and after (target side) projection, ``fallback`` adds
    a second projector's corpus-supported spans, ``propagation`` marks further occurrences
    of projected names; only the scored labels take part.
    """
    records = list(records)
    before, after = passes_from(consistency, fallback, propagation, labels)
    changed = run_passes(records, before)
    records = project_eval_records(records, projector, labels)
    changed.update(run_passes(records, after))
    gold = [[Entity(*e) for e in r.meta["gold"]] for r in records]
    pred = [r.tgt_ents or [] for r in records]
    metrics = score_spans(gold, pred, labels)
    metrics["errors"] = error_breakdown(gold, pred, labels)
    metrics["src_entities"] = sum(
        sum(1 for e in r.src_ents or () if labels is None or e.label in labels) for r in records
    )
    metrics["corpus_passes"] = changed
    return metrics


# --- configs: base config + method config + overrides ------------------------------------------


def load_eval_config(
    config: str | Path,
    method: str | Path | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Any:
    """The base config with each section of ``method`` replacing the base's, then overrides.

    A method config usually holds just ``[projector]`` (``configs/projection/*.cfg``) and
    takes ``[labeller]`` and ``[aligner]`` from the base; whole sections are replaced, never
    merged key by key, so a method's projector never inherits another projector's settings.
    """
    from spacy.util import load_config, load_config_from_str

    for path in (config, method):
        if path is not None and not Path(path).is_file():
            raise FileNotFoundError(f"config file not found: {path}")
    cfg = load_config(config, interpolate=False)
    if method is not None:
        for section, value in load_config(method, interpolate=False).items():
            cfg[section] = value
    return load_config_from_str(cfg.to_str(), overrides=dict(overrides or {}), interpolate=True)


def _ntrex_extra(data_dir: str | Path, src: str, tgt: str, use: bool) -> list[tuple[Path, Path]]:
    from ..io.parallel import ntrex_pair

    found = ntrex_pair(data_dir, src, tgt) if use else None
    return [found] if found is not None else []


def run_projection_eval(
    data_dir: str | Path,
    src: str,
    tgt: str,
    cfg: Mapping[str, Any],
    *,
    dataset: str = "masakhaner",
    extra_parallel: Sequence[tuple[str | Path, str | Path]] = (),
    cache_dir: str | Path | None = None,
    predictions: str | Path | None = None,
    ner_model: str | None = None,
    ntrex: bool = True,
) -> dict[str, Any]:
    """One evaluation cell: labeller/aligner/projector from ``cfg``; returns the metrics.

    ``ner_model`` (a target-language spaCy pipeline) proposes spans on the gold target words,
    stored as ``meta["ner_spans"]`` for candidate matching with NER candidates and scores.
    ``ntrex``: also train the aligner on NTREX-128 when it has both languages (e.g. en-es,
    fr-wol), see :func:`~xner_spacy.io.parallel.ntrex_pair`.

    Keys: ``precision``, ``recall``, ``f1``, ``per_label``, ``unlabelled_f1``, ``matched``,
    ``total`` and the other match counts, ``src_entities``, ``timings`` and ``cache``.
    ``predictions`` saves the projected records (JSONL) for error analysis.
    """
    _check_dataset(dataset)
    t0 = time.perf_counter()
    labeller = resolve_section(cfg, "labeller") if dataset == "masakhaner" else None
    settings = {
        "labeller": dict(cfg["labeller"]) if labeller is not None else None,
        "aligner": dict(cfg["aligner"]) if "aligner" in cfg else None,
    }
    records, info = prepare_eval_records(
        data_dir,
        src,
        tgt,
        aligner=resolve_section(cfg, "aligner"),
        labeller=labeller,
        dataset=dataset,
        extra_parallel=[*extra_parallel, *_ntrex_extra(data_dir, src, tgt, ntrex)],
        cache_dir=cache_dir,
        settings=settings,
    )
    if ner_model is not None:
        from ..labelling.spacy_labeller import load_pipeline
        from ..runner.batch_steps import predict_spans

        spans = predict_spans(load_pipeline(ner_model), [r.tgt_words for r in records])
        for rec, found in zip(records, spans, strict=True):
            rec.meta["ner_spans"] = found
    t1 = time.perf_counter()
    labels = DATASET_LABELS[dataset]
    parts = {name: resolve_section(cfg, name) for name in CORPUS_SECTIONS if name in cfg}
    metrics = evaluate_projection(records, resolve_section(cfg, "projector"), labels, **parts)
    t2 = time.perf_counter()
    if predictions is not None:
        write_records(predictions, records)
    prepared = info.pop("prepare_seconds", {})
    return {
        "dataset": dataset,
        "src": src,
        "tgt": tgt,
        "labels": list(labels),
        "precision": metrics.pop("precision"),
        "recall": metrics.pop("recall"),
        "f1": metrics.pop("f1"),
        "matched": info.pop("matched"),
        "total": info.pop("total"),
        "per_label": metrics.pop("per_label"),
        **metrics,
        **{k: v for k, v in info.items() if k not in ("dataset", "src", "tgt", "src_entities")},
        "seconds": round(t2 - t0, 2),
        "timings": {
            "prepare": round(t1 - t0, 2),
            "project_and_score": round(t2 - t1, 2),
            "prepared_on_cache_miss": prepared,
        },
    }
