"""Evaluate a spaCy pipeline on gold CoNLL sentences: the pipeline sees the gold words."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

from ..labelling.spacy_labeller import predict_entities
from ..types import Entity, Words
from .spans import DEFAULT_LABELS, score_spans


def pipeline_predictions(
    nlp: Any, sentences: Iterable[Words], label_map: dict[str, str | None] | None = None
) -> list[list[Entity]]:
    """The entities ``nlp`` finds on each sentence's words, its labels mapped first."""
    preds = predict_entities(nlp, sentences)
    if not label_map:
        return list(preds)
    from ..labelling.label_maps import map_label

    return [
        [Entity(e.start, e.end, lab) for e in ents if (lab := map_label(e.label, label_map))]
        for ents in preds
    ]


def evaluate_pipeline(
    nlp: Any,
    gold: Iterable[tuple[list[str], list[Entity]]],
    labels: Collection[str] | None = DEFAULT_LABELS,
    label_map: dict[str, str | None] | None = None,
) -> dict[str, Any]:
    """Exact-span P/R/F1 of ``nlp`` against gold ``(words, entities)``; labels mapped first."""
    gold = list(gold)
    preds = pipeline_predictions(nlp, (words for words, _ in gold), label_map)
    return score_spans((ents for _, ents in gold), preds, labels)


def predicted_labels(nlp: Any, label_map: dict[str, str | None] | None = None) -> set[str] | None:
    """The entity types ``nlp`` can predict, after ``label_map``; None when unknown (a
    component that sets ``doc.ents`` without a label list)."""
    from ..labelling.label_maps import map_label

    found: set[str] = set()
    for name, pipe in nlp.pipeline:
        if "doc.ents" not in nlp.get_pipe_meta(name).assigns:
            continue
        labels = getattr(pipe, "labels", None)
        if labels is None:
            return None
        found.update(lab for label in labels if (lab := map_label(label, label_map or {})))
    return found
