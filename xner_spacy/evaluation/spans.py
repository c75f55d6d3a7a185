"""Exact-span precision, recall and F1, micro-averaged and per label.

The arithmetic is spaCy's own ``PRFScore`` (the class ``spacy train`` reports ``ents_f``
with), so figures here and in spaCy's training log are computed the same way.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import Any

import numpy as np
from spacy.scorer import PRFScore

from ..types import Entity

DEFAULT_LABELS = ("PER", "ORG", "LOC")


def _keep(
    ents: Iterable[Sequence[Any]], labels: Collection[str] | None
) -> set[tuple[int, int, str]]:
    return {(e[0], e[1], e[2]) for e in ents if labels is None or e[2] in labels}


def score_spans(
    gold: Iterable[Sequence[Entity]],
    pred: Iterable[Sequence[Entity]],
    labels: Collection[str] | None = DEFAULT_LABELS,
) -> dict[str, Any]:
    """Score predicted against gold entities sentence by sentence (exact start, end and label).

    Entities whose label is not in ``labels`` are ignored on both sides (e.g. MasakhaNER's DATE);
    ``labels=None`` scores every label. Returns ``precision``, ``recall``, ``f1`` (0-1),
    ``per_label`` and the counts, plus ``unlabelled`` F1 (span boundaries only).
    """
    micro, unlabelled = PRFScore(), PRFScore()
    per_label: dict[str, PRFScore] = {}
    n_sents = n_gold = n_pred = 0
    for gold_ents, pred_ents in zip(gold, pred, strict=True):
        n_sents += 1
        g, p = _keep(gold_ents, labels), _keep(pred_ents, labels)
        n_gold += len(g)
        n_pred += len(p)
        micro.score_set(p, g)
        unlabelled.score_set({e[:2] for e in p}, {e[:2] for e in g})
        for label in {e[2] for e in g | p}:
            per_label.setdefault(label, PRFScore()).score_set(
                {e for e in p if e[2] == label}, {e for e in g if e[2] == label}
            )
    wanted = sorted(per_label) if labels is None else list(labels)
    return {
        "precision": micro.precision,
        "recall": micro.recall,
        "f1": micro.fscore,
        "per_label": {label: _prf_dict(per_label.get(label, PRFScore())) for label in wanted},
        "unlabelled_f1": unlabelled.fscore,
        "sentences": n_sents,
        "gold_entities": n_gold,
        "pred_entities": n_pred,
    }


def sentence_counts(
    gold: Iterable[Sequence[Entity]],
    pred: Iterable[Sequence[Entity]],
    labels: Collection[str] | None = DEFAULT_LABELS,
) -> tuple[list[str], np.ndarray]:
    """Each sentence's (tp, fp, fn) per label, with the exact-span matching of :func:`score_spans`.

    Returns the labels (those of ``score_spans``'s ``per_label``, in its order) and an integer
    array of shape (sentences, labels, 3). Summed over sentences, a label's row is its
    ``PRFScore`` in ``score_spans``; summed over labels too, the micro counts (the labels
    partition the spans).
    """
    rows: list[dict[str, tuple[int, int, int]]] = []
    for gold_ents, pred_ents in zip(gold, pred, strict=True):
        g, p = _keep(gold_ents, labels), _keep(pred_ents, labels)
        row = {}
        for label in {e[2] for e in g | p}:
            gl, pl = {e for e in g if e[2] == label}, {e for e in p if e[2] == label}
            row[label] = (len(pl & gl), len(pl - gl), len(gl - pl))
        rows.append(row)
    wanted = sorted({k for row in rows for k in row}) if labels is None else list(labels)
    counts = np.zeros((len(rows), len(wanted), 3), dtype=np.int64)
    column = {label: j for j, label in enumerate(wanted)}
    for i, row in enumerate(rows):
        for label, tp_fp_fn in row.items():
            counts[i, column[label]] = tp_fp_fn
    return wanted, counts


def _prf_dict(score: PRFScore) -> dict[str, float | int]:
    return {
        "precision": score.precision,
        "recall": score.recall,
        "f1": score.fscore,
        "support": score.tp + score.fn,
    }


def error_breakdown(
    gold: Iterable[Sequence[Entity]],
    pred: Iterable[Sequence[Entity]],
    labels: Collection[str] | None = DEFAULT_LABELS,
) -> dict[str, int]:
    """Count gold entities by what the prediction did to them, and spurious predictions.

    ``correct``: same span and label; ``wrong_label``: same span, other label;
    ``wrong_boundary``: overlapped by a prediction with other boundaries; ``missed``: no
    overlapping prediction; ``spurious``: predictions overlapping no gold entity.
    """
    counts = dict.fromkeys(("correct", "wrong_label", "wrong_boundary", "missed", "spurious"), 0)
    for gold_ents, pred_ents in zip(gold, pred, strict=True):
        g, p = _keep(gold_ents, labels), _keep(pred_ents, labels)
        spans = {e[:2] for e in p}
        for e in g:
            if e in p:
                counts["correct"] += 1
            elif e[:2] in spans:
                counts["wrong_label"] += 1
            elif any(q[0] < e[1] and e[0] < q[1] for q in p):
                counts["wrong_boundary"] += 1
            else:
                counts["missed"] += 1
        counts["spurious"] += sum(1 for q in p if not any(q[0] < e[1] and e[0] < q[1] for e in g))
    return counts
