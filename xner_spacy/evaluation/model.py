"""Evaluate a spaCy pipeline on gold CoNLL sentences: the pipeline sees the gold words."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from typing import Any

from ..types import Entity
from .spans import DEFAULT_LABELS, score_spans


def predict_entities(
    nlp: Any, sentences: Iterable[list[str]], batch_size: int = 256
) -> Iterator[list[Entity]]:
    """Run the pipeline on pre-tokenised sentences (the gold words), yield its entities."""
    from spacy.tokens import Doc

    docs = (Doc(nlp.vocab, words=words) for words in sentences)
    for doc in nlp.pipe(docs, batch_size=batch_size):
        yield [Entity(e.start, e.end, e.label_) for e in doc.ents]


def evaluate_pipeline(
    nlp: Any,
    gold: Iterable[tuple[list[str], list[Entity]]],
    labels: Collection[str] | None = DEFAULT_LABELS,
    label_map: dict[str, str | None] | None = None,
) -> dict[str, Any]:
    """Exact-span P/R/F1 of ``nlp`` against gold ``(words, entities)``; labels mapped first."""
    gold = list(gold)
    preds = predict_entities(nlp, (words for words, _ in gold))
    if label_map:
        from ..labelling.label_maps import map_label

        preds = (
            [Entity(e.start, e.end, lab) for e in ents if (lab := map_label(e.label, label_map))]
            for ents in preds
        )
    return score_spans((ents for _, ents in gold), preds, labels)
