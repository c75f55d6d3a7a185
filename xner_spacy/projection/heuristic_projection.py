"""Alignment-based heuristic projection of source entities onto the target sentence.

Two rule sets, both pure functions of (src words, tgt words, src entities, alignment):

``gf2022``
    García-Ferrero et al. (2022), "Model and Data Transfer for Cross-Lingual Sequence
    Labelling in Zero-Resource Settings" (Easy-Label-Projection).  For each source entity:
    the target words aligned to any of its words, minus punctuation-only words, are split
    into contiguous groups; groups separated by at most ``max_gap`` words are merged; the
    largest group is kept (ties: the leftmost).  Collisions are then resolved: overlapping
    projections with the *same* label are merged into their union (``merge_same_label``),
    and among overlapping projections with different labels the winner is the longer
    target span, then the one with more alignment links, then the longer source entity,
    then the source entity that starts first (then label order), so the result does not
    depend on the order of ``src_ents``.  The losers are dropped (never trimmed).

    Differences from the reference script, all deliberate: the gap rule there is written
    as ``last(next) - first(prev) <= 2`` (which only ever merges groups spanning ≤ 3
    words); here it is the documented "gap ≤ max_gap words".  Collisions there only
    compare neighbours in source order; here every pair is resolved with the total order
    above, so the result does not depend on the input order of entities.

``paper``
    Politov et al. (2025), "Revisiting Projection-based Data Transfer for Cross-Lingual
    NER in Low-Resource Languages", heuristic baseline (as in the authors' code).  For
    each source entity, shortest first (ties: leftmost): maximal runs of target words
    aligned to it are grown; consecutive runs separated by ≤ ``max_gap`` words are
    merged, except (with ``merge_only_inside``) when the later run starts on a word
    aligned to the entity's first word, which suggests a second mention rather than a
    split one; runs whose length ratio to the source entity is ≤ ``min_length_ratio``
    are dropped (the authors use the one-sided ratio ``len(tgt) / len(src)``;
    ``symmetric_ratio=True`` uses ``min/max`` of the two lengths instead, which also
    rejects over-long runs); of the survivors the shortest is kept (ties: leftmost),
    then its punctuation edges are trimmed (ratio and length are those of the untrimmed
    run, as in the authors' code, which does not trim); a run overlapping an already
    projected entity is skipped.

In both variants the label is copied from the source entity, a projected span never
starts or ends on a punctuation-only word (edges are trimmed), and the output is sorted,
in range and non-overlapping.
"""

from __future__ import annotations

import functools
from bisect import bisect_left
from collections.abc import Container, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from ..text import is_punct
from ..types import Alignment, Entity, Words

VARIANTS = ("gf2022", "paper")

_is_punct = functools.lru_cache(maxsize=1 << 16)(is_punct)


def links_by_src(alignment: Alignment, n_src: int, n_tgt: int) -> dict[int, list[int]]:
    """Map each source index to its aligned target indices (out-of-range pairs ignored)."""
    by_src: dict[int, list[int]] = {}
    for i, j in alignment:
        if 0 <= i < n_src and 0 <= j < n_tgt:
            if i in by_src:
                by_src[i].append(j)
            else:
                by_src[i] = [j]
    return by_src


#: Up to this many entities, scanning the alignment once per entity is faster than indexing it.
_SCAN_MAX_ENTS = 3


def entity_links(
    alignment: Alignment, src_ents: Sequence[Entity], n_src: int, n_tgt: int
) -> list[list[int]]:
    """Per entity, the sorted target indices of its in-range links (one per link, repeats kept).

    The same lists as gathering ``links_by_src`` over each entity's words, computed by one
    scan of the alignment per entity when there are few entities (the common case, and
    cheaper than building the index), by the index otherwise.
    """
    out: list[list[int]] = []
    if len(src_ents) <= _SCAN_MAX_ENTS:
        for ent in src_ents:
            lo, hi = max(ent.start, 0), min(ent.end, n_src)
            js = [j for i, j in alignment if lo <= i < hi and 0 <= j < n_tgt]
            js.sort()
            out.append(js)
        return out
    by_src = links_by_src(alignment, n_src, n_tgt)
    for ent in src_ents:
        js = []
        for i in range(ent.start, ent.end):
            found = by_src.get(i)
            if found:
                js.extend(found)
        js.sort()
        out.append(js)
    return out


def aligned_targets(by_src: dict[int, list[int]], ent: Entity) -> list[int]:
    """Sorted distinct target indices aligned to any word of ``ent``."""
    found: set[int] = set()
    for i in range(ent.start, ent.end):
        js = by_src.get(i)
        if js:
            found.update(js)
    return sorted(found)


def group_runs(positions: Sequence[int], max_gap: int) -> list[tuple[int, int]]:
    """Half-open spans of sorted ``positions``, merging runs separated by ≤ ``max_gap`` words."""
    runs: list[tuple[int, int]] = []
    if not positions:
        return runs
    start = prev = positions[0]
    for p in positions[1:]:
        if p - prev - 1 > max_gap:
            runs.append((start, prev + 1))
            start = p
        prev = p
    runs.append((start, prev + 1))
    return runs


def trim_punct(tgt_words: Words, start: int, end: int) -> tuple[int, int]:
    """Shrink ``[start, end)`` until neither edge is a punctuation-only word (may become empty)."""
    while start < end and _is_punct(tgt_words[start]):
        start += 1
    while end > start and _is_punct(tgt_words[end - 1]):
        end -= 1
    return start, end


def count_links(by_src: dict[int, list[int]], ent: Entity, start: int, end: int) -> int:
    """Number of alignment pairs between source ``ent`` and target words ``[start, end)``."""
    n = 0
    for i in range(ent.start, ent.end):
        for j in by_src.get(i, ()):
            if start <= j < end:
                n += 1
    return n


class _Proj(NamedTuple):
    """A projected span with the evidence used to settle collisions (a tuple: cheap to make)."""

    start: int
    end: int
    label: str
    links: int
    src_len: int
    src_start: int


def _merge_same_label(projs: list[_Proj]) -> list[_Proj]:
    """Union overlapping projections that share a label (gf2022 collision rule 1)."""
    out: list[_Proj] = []
    for label in sorted({p.label for p in projs}):
        same = sorted((p for p in projs if p.label == label), key=lambda p: (p.start, p.end))
        cur = same[0]
        for p in same[1:]:
            if p.start < cur.end:
                cur = _Proj(
                    cur.start,
                    max(cur.end, p.end),
                    label,
                    cur.links + p.links,
                    cur.src_len + p.src_len,
                    min(cur.src_start, p.src_start),
                )
            else:
                out.append(cur)
                cur = p
        out.append(cur)
    return out


def _resolve_collisions(projs: list[_Proj]) -> list[_Proj]:
    """Keep a non-overlapping subset: longer span, more links, longer source, earlier source."""
    ranked = sorted(
        projs, key=lambda p: (p.start - p.end, -p.links, -p.src_len, p.src_start, p.label)
    )
    kept: list[_Proj] = []
    for p in ranked:
        if all(p.end <= q.start or q.end <= p.start for q in kept):
            kept.append(p)
    return kept


@dataclass(frozen=True)
class HeuristicProjector:
    """Alignment-heuristic projector (callable per the ``Projector`` protocol).

    ``variant``: ``"gf2022"`` (García-Ferrero et al. 2022) or ``"paper"`` (Politov et
    al. 2025 heuristic baseline); ``max_gap``: largest gap (in words) between aligned
    groups that is bridged; ``min_length_ratio``, ``symmetric_ratio`` and
    ``merge_only_inside`` apply to ``"paper"`` only; ``merge_same_label`` to
    ``"gf2022"`` only.  See the module docstring for the exact rules.
    """

    variant: str = "gf2022"
    max_gap: int = 1
    min_length_ratio: float = 0.8
    symmetric_ratio: bool = False
    merge_only_inside: bool = True
    merge_same_label: bool = True

    def __post_init__(self) -> None:
        if self.variant not in VARIANTS:
            raise ValueError(f"variant must be one of {VARIANTS}, got {self.variant!r}")
        if self.max_gap < 0:
            raise ValueError(f"max_gap must be >= 0, got {self.max_gap}")
        if not 0.0 <= self.min_length_ratio <= 1.0:
            raise ValueError(f"min_length_ratio must be in [0, 1], got {self.min_length_ratio}")

    def __call__(
        self,
        src_words: Words,
        tgt_words: Words,
        src_ents: Sequence[Entity],
        alignment: Alignment,
        extras: Mapping[str, Any] | None = None,
    ) -> list[Entity]:
        """Project ``src_ents`` onto ``tgt_words``; sorted, in range, non-overlapping.

        ``extras`` is accepted for the ``Projector`` protocol and not used.
        """
        if not src_ents or not tgt_words or not alignment:
            return []
        links = entity_links(alignment, src_ents, len(src_words), len(tgt_words))
        if self.variant == "gf2022":
            return self._gf2022(tgt_words, src_ents, links)
        return self._paper(tgt_words, src_ents, alignment, links, len(src_words))

    def _gf2022(
        self, tgt_words: Words, src_ents: Sequence[Entity], links: list[list[int]]
    ) -> list[Entity]:
        """García-Ferrero et al. 2022 rules (module docstring)."""
        projs: list[_Proj] = []
        for ent, js in zip(src_ents, links, strict=True):
            if ent.end <= ent.start or not js:
                continue
            # distinct aligned target words (js is sorted), minus punctuation
            targets = [j for j in dict.fromkeys(js) if not _is_punct(tgt_words[j])]
            if not targets:
                continue
            runs = group_runs(targets, self.max_gap)
            start, end = runs[0]
            for s, e in runs[1:]:
                if e - s > end - start:
                    start, end = s, e
            n_links = bisect_left(js, end) - bisect_left(js, start)
            projs.append(_Proj(start, end, ent.label, n_links, ent.end - ent.start, ent.start))
        if len(projs) > 1:
            if self.merge_same_label:
                projs = _merge_same_label(projs)
            projs = _resolve_collisions(projs)
        return sorted(Entity(p.start, p.end, p.label) for p in projs)

    def _paper(
        self,
        tgt_words: Words,
        src_ents: Sequence[Entity],
        alignment: Alignment,
        links: list[list[int]],
        n_src: int,
    ) -> list[Entity]:
        """Politov et al. 2025 heuristic baseline (module docstring)."""
        if len(src_ents) == 1:
            order: Sequence[int] = (0,)
        else:
            order = sorted(
                range(len(src_ents)),
                key=lambda k: (len(src_ents[k]), src_ents[k].start, src_ents[k].label),
            )
        n_tgt = len(tgt_words)
        taken: list[tuple[int, int]] = []
        out: list[Entity] = []
        for k in order:
            ent = src_ents[k]
            src_len = ent.end - ent.start
            js = links[k]
            if src_len <= 0 or not js:
                continue
            targets = list(dict.fromkeys(js))
            first: Container[int] = ()
            if self.merge_only_inside:
                if src_len == 1:
                    first = targets  # the entity's only word
                elif 0 <= ent.start < n_src:
                    first = {j for i, j in alignment if i == ent.start and 0 <= j < n_tgt}
            runs = self._paper_runs(targets, first)
            best: tuple[int, int] | None = None
            best_len = 0
            for s0, e0 in runs:
                if best is not None and e0 - s0 >= best_len:
                    continue
                if not self._ratio_ok(e0 - s0, src_len):
                    continue
                s, e = trim_punct(tgt_words, s0, e0)
                if e > s:
                    best, best_len = (s, e), e0 - s0
            if best is None:
                continue
            s, e = best
            if any(s < te and ts < e for ts, te in taken):
                continue
            taken.append(best)
            out.append(Entity(s, e, ent.label))
        out.sort()
        return out

    def _paper_runs(
        self, targets: list[int], first_aligned: Container[int]
    ) -> list[tuple[int, int]]:
        """Runs of aligned words, merged across gaps ≤ max_gap unless a run restarts the entity."""
        runs = group_runs(targets, 0)
        merged = [runs[0]]
        for s, e in runs[1:]:
            ps, pe = merged[-1]
            if s - pe <= self.max_gap and s not in first_aligned:
                merged[-1] = (ps, e)
            else:
                merged.append((s, e))
        return merged

    def _ratio_ok(self, tgt_len: int, src_len: int) -> bool:
        """Length filter of the paper variant: ratio strictly above ``min_length_ratio``."""
        if self.symmetric_ratio:
            ratio = min(tgt_len, src_len) / max(tgt_len, src_len)
        else:
            ratio = tgt_len / src_len
        return ratio > self.min_length_ratio
