"""The cross-lingual benchmark's scores (see :mod:`xner_spacy.experiments.crosslingual`).

Each trained model is scored once on every test file of a target: P/R/F1 per label, and the
per-sentence (tp, fp, fn) counts, kept beside the model as ``.npz``
(:func:`~xner_spacy.evaluation.bootstrap.save_sentence_counts`), so intervals and paired comparisons
never run a model again. A row of the result gathers one model per training seed: per test
file the per-seed F1, their mean and sd, and the 95 % bootstrap interval of the seed mean.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from ..io.atomic import atomic_write
from ..runner.step_fingerprints import model_identity
from .crosslingual_data import BenchmarkSettings, eval_files, read_gold


def counts_path(model: Path, lang: str, test: str) -> Path:
    """Where the per-sentence counts of ``model`` on ``lang``'s test file ``test`` go."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", test)
    return model.parent / f"counts_{lang}_{safe}.npz"


def _scores(metrics: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {k: round(float(metrics[k]), 4) for k in ("precision", "recall", "f1")}
    out["per_label"] = {
        lab: round(float(m["f1"]), 4) for lab, m in sorted(metrics["per_label"].items())
    }
    return out


def evaluate(settings: BenchmarkSettings, model: Path, lang: str) -> dict[str, Any]:
    """``{"scores", "counts"}`` of ``model`` on every test file of ``lang``: the scores, and the
    paths of the per-sentence counts; both kept next to the model, reused while the model and
    the test files are the same."""
    cache = model.parent / f"scores_{lang}.json"
    tests = eval_files(settings, lang)
    files = {name: str(path) for name, path in tests.items()}
    counts = {name: str(counts_path(model, lang, name)) for name in tests}
    identity = json.loads(json.dumps(model_identity(model)))  # a retrained model: new scores
    if cache.is_file() and all(Path(p).is_file() for p in counts.values()):
        saved = json.loads(cache.read_text(encoding="utf8"))
        if saved.get("files") == files and saved.get("model") == identity:
            return {"scores": dict(saved["scores"]), "counts": counts}
    import spacy

    from ..evaluation.bootstrap import save_sentence_counts
    from ..evaluation.pipeline_scores import pipeline_predictions
    from ..evaluation.spans import score_spans

    nlp = spacy.load(model)
    scores = {}
    for name, path in tests.items():
        gold = read_gold(path, settings)
        gold_ents = [s.ents for s in gold]
        pred = pipeline_predictions(nlp, (s.words for s in gold))
        scores[name] = _scores(score_spans(gold_ents, pred, settings.labels))
        save_sentence_counts(counts[name], gold_ents, pred, settings.labels)
    with atomic_write(cache) as fh:
        fh.write(json.dumps({"files": files, "model": identity, "scores": scores}) + "\n")
    return {"scores": scores, "counts": counts}


def seed_scores(settings: BenchmarkSettings, runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Per test file, a row's scores over its seeds' ``runs`` (each an :func:`evaluate` result).

    ``f1_mean``, ``f1_sd`` (sample sd over seeds), ``f1_per_seed``, ``f1_ci`` (95 % percentile
    interval of the seed-mean F1 over resampled test sentences, every seed's model on the same
    draw), and the seed means of precision, recall and each label's F1.
    """
    from ..evaluation.bootstrap import load_counts, seed_averaged_f1

    out: dict[str, Any] = {}
    for name in runs[0]["scores"]:
        found = seed_averaged_f1(
            [load_counts(run["counts"][name])[1] for run in runs],
            settings.bootstrap,
            settings.bootstrap_seed,
        )
        scores = [run["scores"][name] for run in runs]
        labels = scores[0]["per_label"]
        out[name] = {
            "f1_mean": round(found["f1_mean"], 4),
            "f1_sd": round(found["f1_sd"], 4),
            "f1_per_seed": [round(f, 4) for f in found["f1_per_seed"]],
            "f1_ci": [round(x, 4) for x in found["f1_ci"]],
            "precision": round(float(np.mean([s["precision"] for s in scores])), 4),
            "recall": round(float(np.mean([s["recall"] for s in scores])), 4),
            "per_label": {
                lab: round(float(np.mean([s["per_label"][lab] for s in scores])), 4)
                for lab in labels
            },
        }
    return out


def seed_row(settings: BenchmarkSettings, info: dict[str, Any], runs: list[dict[str, Any]]) -> dict:
    """A result row: ``info`` (variant, target, method, k, sources, weighting, weights), the
    seeds, each seed's model, training seconds and count files, and :func:`seed_scores`."""
    return {
        **info,
        "seeds": [run["seed"] for run in runs],
        "models": [run["model"] for run in runs],
        "train_seconds": [run["train_seconds"] for run in runs],
        "scores": seed_scores(settings, runs),
        "counts": {name: [run["counts"][name] for run in runs] for name in runs[0]["counts"]},
    }
