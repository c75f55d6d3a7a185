"""Multi-source projection: weighted voting over projections of one target sentence."""

from __future__ import annotations

from collections.abc import Sequence

from ..types import Entity

_EPS = 1e-12


def vote(
    projections: Sequence[tuple[Sequence[Entity], float]],
    threshold: float = 0.5,
    min_votes: int = 1,
) -> list[Entity]:
    """Weighted exact-span voting over projections of the same target sentence.

    Each projection (the entities projected from one source language, with that
    source's weight) votes once for every distinct ``(start, end, label)`` it contains.
    A span is kept when it has at least ``min_votes`` votes and its share of the total
    weight of *all* projections (those that projected nothing included: they vote
    against) is ``>= threshold``.  Overlaps among kept spans are resolved by higher
    weight, then longer span, then leftmost, then label order.  Returns sorted,
    non-overlapping entities.
    """
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"threshold must be in [0, 1], got {threshold}")
    if min_votes < 0:
        raise ValueError(f"min_votes must be >= 0, got {min_votes}")
    total = 0.0
    weight: dict[Entity, float] = {}
    votes: dict[Entity, int] = {}
    for ents, w in projections:
        if w < 0:
            raise ValueError(f"projection weights must be >= 0, got {w}")
        total += w
        for ent in {Entity(e[0], e[1], e[2]) for e in ents}:
            weight[ent] = weight.get(ent, 0.0) + w
            votes[ent] = votes.get(ent, 0) + 1
    if total <= 0:
        return []
    kept = [e for e, w in weight.items() if votes[e] >= min_votes and w / total >= threshold - _EPS]
    kept.sort(key=lambda e: (-weight[e], e.start - e.end, e.start, e.label))
    out: list[Entity] = []
    for ent in kept:
        if all(ent.end <= o.start or o.end <= ent.start for o in out):
            out.append(ent)
    return sorted(out)
