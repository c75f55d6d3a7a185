"""Combine several source labellers: spans by weighted vote, labels by a second vote.

Labellers trained on different data fail differently: ``en_core_web_sm`` (OntoNotes) finds
more names in modern news, a CoNLL-trained pipeline labels them with CoNLL's conventions.
Separating the two votes lets one model decide *where* entities are and another *what*
they are, which a single vote over labelled spans cannot express.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from ..types import Entity, Labeller, Words


@dataclass
class EnsembleLabeller:
    """Runs every labeller on each sentence and merges their entities.

    A span (start, end) is kept when the summed ``span_weights`` of the labellers proposing
    it (with any label) reach ``threshold``; overlapping kept spans are resolved by higher
    weight, then longer span, then leftmost. Its label is the one with the largest summed
    ``label_weights`` among the labellers that proposed exactly that span. Missing weights
    default to 1.
    """

    labellers: Mapping[str, Labeller]
    span_weights: Mapping[str, float] | None = None
    label_weights: Mapping[str, float] | None = None
    threshold: float = 0.5

    def __post_init__(self) -> None:
        if not self.labellers:
            raise ValueError("EnsembleLabeller needs at least one labeller")
        for weights in (self.span_weights, self.label_weights):
            unknown = set(weights or {}) - set(self.labellers)
            if unknown:
                raise ValueError(f"weights for unknown labellers: {sorted(unknown)}")

    def _weight(self, weights: Mapping[str, float] | None, name: str) -> float:
        return float((weights or {}).get(name, 1.0))

    def label(self, sentences: Iterable[Words]) -> Iterator[list[Entity]]:
        batch = [list(s) for s in sentences]
        outputs = {name: list(lab.label(batch)) for name, lab in self.labellers.items()}
        for k in range(len(batch)):
            yield self.combine({name: out[k] for name, out in outputs.items()})

    def combine(self, proposals: Mapping[str, list[Entity]]) -> list[Entity]:
        """Merge one sentence's entities from each labeller (keyed by labeller name)."""
        span_score: dict[tuple[int, int], float] = defaultdict(float)
        label_score: dict[tuple[int, int], dict[str, float]] = defaultdict(
            lambda: defaultdict(float)
        )
        for name, ents in proposals.items():
            for e in ents:
                span_score[e.start, e.end] += self._weight(self.span_weights, name)
                label_score[e.start, e.end][e.label] += self._weight(self.label_weights, name)
        kept: list[Entity] = []
        ranked = sorted(span_score.items(), key=lambda kv: (-kv[1], kv[0][0] - kv[0][1], kv[0]))
        for (start, end), score in ranked:
            if score < self.threshold or any(start < e.end and e.start < end for e in kept):
                continue
            labels = label_score[start, end]
            label = max(sorted(labels), key=lambda lab: labels[lab])
            kept.append(Entity(start, end, label))
        return sorted(kept)
