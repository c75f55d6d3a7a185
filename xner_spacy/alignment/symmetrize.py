"""Symmetrisation of two directional word alignments (Koehn et al. 2003; Moses heuristics).

Both inputs are sets of ``(src_i, tgt_j)`` pairs: ``fwd`` from the src→tgt model (each
target word picks at most one source word), ``rev`` from the tgt→src model (each source word
picks at most one target word), already flipped into ``(src_i, tgt_j)`` order.

Hand-written because it is ~40 lines of logic and the library versions (NLTK's
``nltk.translate.gdfa``) would bring a heavy dependency for it. The grid loops follow the
pseudocode of Koehn et al. (2003) / the Moses manual exactly, including its visiting order,
so results are deterministic.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable

Pair = tuple[int, int]

# Koehn's order: the four direct neighbours first, then the diagonals.
_NEIGHBOURS = ((-1, 0), (0, -1), (1, 0), (0, 1), (-1, -1), (-1, 1), (1, -1), (1, 1))

METHODS = ("intersection", "union", "grow-diag", "grow-diag-final", "grow-diag-final-and")


def intersection(fwd: Iterable[Pair], rev: Iterable[Pair]) -> list[Pair]:
    """Links proposed by both directions: high precision."""
    return sorted(set(fwd) & set(rev))


def union(fwd: Iterable[Pair], rev: Iterable[Pair]) -> list[Pair]:
    """Links proposed by either direction: high recall."""
    return sorted(set(fwd) | set(rev))


def _grow_diag(fwd: set[Pair], rev: set[Pair], n_src: int, n_tgt: int) -> set[Pair]:
    union_ = fwd | rev
    links = fwd & rev
    src_aligned = {i for i, _ in links}
    tgt_aligned = {j for _, j in links}
    added = True
    while added:  # "iterate until no new points added"
        added = False
        # Visit aligned points in grid order (i, then j); a point added ahead of the current
        # one is visited in the same pass, exactly as the grid loop of the pseudocode does.
        heap = sorted(links)
        while heap:
            i, j = heapq.heappop(heap)
            for di, dj in _NEIGHBOURS:
                ni, nj = i + di, j + dj
                if not (0 <= ni < n_src and 0 <= nj < n_tgt) or (ni, nj) in links:
                    continue
                if (ni not in src_aligned or nj not in tgt_aligned) and (ni, nj) in union_:
                    links.add((ni, nj))
                    src_aligned.add(ni)
                    tgt_aligned.add(nj)
                    added = True
                    if (ni, nj) > (i, j):
                        heapq.heappush(heap, (ni, nj))
    return links


def _final(links: set[Pair], direction: set[Pair], both_unaligned: bool) -> None:
    src_aligned = {i for i, _ in links}
    tgt_aligned = {j for _, j in links}
    for i, j in sorted(direction):
        if (i, j) in links:
            continue
        free_src, free_tgt = i not in src_aligned, j not in tgt_aligned
        if (free_src and free_tgt) if both_unaligned else (free_src or free_tgt):
            links.add((i, j))
            src_aligned.add(i)
            tgt_aligned.add(j)


def grow_diag(fwd: Iterable[Pair], rev: Iterable[Pair], n_src: int, n_tgt: int) -> list[Pair]:
    """Intersection, grown into neighbouring (incl. diagonal) union links of unaligned words."""
    return sorted(_grow_diag(set(fwd), set(rev), n_src, n_tgt))


def grow_diag_final(fwd: Iterable[Pair], rev: Iterable[Pair], n_src: int, n_tgt: int) -> list[Pair]:
    """grow-diag, then add fwd then rev links where either word is still unaligned."""
    fwd, rev = set(fwd), set(rev)
    links = _grow_diag(fwd, rev, n_src, n_tgt)
    _final(links, fwd, both_unaligned=False)
    _final(links, rev, both_unaligned=False)
    return sorted(links)


def grow_diag_final_and(
    fwd: Iterable[Pair], rev: Iterable[Pair], n_src: int, n_tgt: int
) -> list[Pair]:
    """grow-diag, then add fwd then rev links where both words are still unaligned."""
    fwd, rev = set(fwd), set(rev)
    links = _grow_diag(fwd, rev, n_src, n_tgt)
    _final(links, fwd, both_unaligned=True)
    _final(links, rev, both_unaligned=True)
    return sorted(links)


_DISPATCH: dict[str, Callable[[set[Pair], set[Pair], int, int], list[Pair]]] = {
    "intersection": lambda f, r, n, m: intersection(f, r),
    "union": lambda f, r, n, m: union(f, r),
    "grow-diag": grow_diag,
    "grow-diag-final": grow_diag_final,
    "grow-diag-final-and": grow_diag_final_and,
}


def check_method(method: str) -> str:
    """Return ``method`` if it is a known heuristic, else raise ``ValueError`` listing them."""
    if method not in _DISPATCH:
        raise ValueError(f"unknown symmetrization {method!r}; choose one of: {', '.join(METHODS)}")
    return method


def symmetrize(
    fwd: Iterable[Pair], rev: Iterable[Pair], n_src: int, n_tgt: int, method: str
) -> list[Pair]:
    """Combine two directional alignments with the named heuristic; a sorted list of pairs.

    ``method``: ``"intersection"``, ``"union"``, ``"grow-diag"``, ``"grow-diag-final"`` or
    ``"grow-diag-final-and"``.
    """
    return _DISPATCH[check_method(method)](set(fwd), set(rev), n_src, n_tgt)
