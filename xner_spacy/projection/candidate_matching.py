"""Projection as matching source entities to target candidates (Politov et al. 2025).

Source entities ``s`` and target candidate spans ``t`` form a weighted bipartite graph
with the pair score ``c[s, t]``; a projection picks pairs so that every source entity is
used at most once and the chosen target spans do not overlap, maximising ``Σ c``.
``greedy_match`` is the fast approximation, ``ilp_match`` the exact solution (HiGHS via
``scipy.optimize.milp``).  Both take the sparse list of scored pairs
``(ent_idx, cand_idx, score)`` plus the candidate spans, and return the chosen pairs in
the same form, sorted by target position.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

from ..types import Alignment, Entity, Words
from .candidate_scores import AlignmentDice, PairScore, span_scores, weighted
from .candidate_spans import CandidateExtractor, NgramCandidates
from .pair_context import NER_SPANS, PairContext, Span

ScoredPair = tuple[int, int, float]
SOLVERS = ("greedy", "ilp")
LABEL_SOURCES = ("source", "ner")


def _greedy_key(pair: ScoredPair, spans: Sequence[Span]) -> tuple[float, int, int, int]:
    """Greedy order: higher score, then lower entity index, then leftmost, then shorter."""
    start, end = spans[pair[1]]
    return (-pair[2], pair[0], start, end)


def _by_position(chosen: list[ScoredPair], spans: Sequence[Span]) -> list[ScoredPair]:
    """Sort chosen pairs by their target span."""
    return sorted(chosen, key=lambda p: spans[p[1]])


def greedy_match(
    pairs: Sequence[ScoredPair], spans: Sequence[Span], min_score: float = 0.0
) -> list[ScoredPair]:
    """Repeatedly take the best remaining pair, then drop its entity and overlapping spans.

    Stops at the first pair scoring ``<= min_score``.  Ties follow ``_greedy_key``, so the
    result does not depend on the order of ``pairs`` or the numbering of candidates
    (beyond the span coordinates).
    """
    ranked = [(-c, k, *spans[t], t) for k, t, c in pairs if c > min_score]
    if not ranked:
        return []
    first_ent = ranked[0][1]
    if all(r[1] == first_ent for r in ranked):  # one entity (the common case): its best pair
        neg, k, _, _, t = min(ranked)
        return [(k, t, -neg)]
    ranked.sort()  # the order of _greedy_key, then candidate index
    used_ents: set[int] = set()
    taken = bytearray(max(r[3] for r in ranked))
    chosen: list[ScoredPair] = []
    for neg, k, start, end, t in ranked:
        if k in used_ents or any(taken[start:end]):
            continue
        used_ents.add(k)
        taken[start:end] = b"\x01" * (end - start)
        chosen.append((k, t, -neg))
    return _by_position(chosen, spans)


def _upper_bound(pairs: Sequence[ScoredPair]) -> float:
    """Σ over entities of their best pair score: no feasible matching can exceed it."""
    best: dict[int, float] = {}
    for k, _, c in pairs:
        if c > best.get(k, 0.0):
            best[k] = c
    return sum(best.values())


#: Largest number of search nodes spent proving greedy optimal before asking the solver.
SEARCH_BUDGET = 2000
#: The solver's answer replaces greedy's only when it scores more than this above it.
_SOLVER_GAIN = 1e-12
#: A matching must beat greedy by more than this to count as better in the search.  With
#: float rounding (bounded per instance, see ``_improves_on``) it stays below
#: ``_SOLVER_GAIN``, so a proof that nothing beats greedy by the margin means the solver's
#: answer would not have replaced greedy either.
_SEARCH_MARGIN = 1e-13


def _improves_on(
    live: Sequence[ScoredPair], spans: Sequence[Span], target: float, budget: int
) -> bool | None:
    """Is there a feasible matching scoring above ``target``?  None: search budget spent.

    Depth-first branch and bound over entities (strongest first), each taking one of its
    spans that overlaps no span taken so far (a bit mask of target words) or none; a
    branch is cut when its score plus every later entity's best score cannot pass
    ``target``.  Small in practice: the instances that reach it have a handful of
    entities whose candidates overlap.
    """
    by_ent: dict[int, list[tuple[float, int]]] = {}
    for k, t, c in live:
        start, end = spans[t]
        if start < 0 or end <= start:
            return None
        by_ent.setdefault(k, []).append((c, ((1 << (end - start)) - 1) << start))
    options = sorted(
        (sorted(opts, key=lambda o: -o[0]) for opts in by_ent.values()), key=lambda o: -o[0][0]
    )
    suffix = [0.0] * (len(options) + 1)  # best completion: leaving an entity out scores 0
    for i in range(len(options) - 1, -1, -1):
        suffix[i] = suffix[i + 1] + max(options[i][0][0], 0.0)
    # Sums of n floats, in any order, are within n·eps·Σ|c| of the exact sum: give up
    # (ask the solver) unless that slack, counted twice, stays below the solver's gain.
    scale = abs(target) + sum(max(abs(c) for c, _ in opts) for opts in options)
    slack = 2.0 * (len(options) + 1) * sys.float_info.epsilon * scale
    if _SEARCH_MARGIN + 2.0 * slack >= _SOLVER_GAIN:
        return None
    nodes = 0

    def search(i: int, used: int, total: float) -> bool | None:
        nonlocal nodes
        nodes += 1
        if nodes > budget:
            return None
        if total > target:
            return True
        if i == len(options) or total + suffix[i] <= target:
            return False
        for c, mask in options[i]:
            if not mask & used:
                found = search(i + 1, used | mask, total + c)
                if found is not False:
                    return found
        return search(i + 1, used, total)

    return search(0, 0, 0.0)


def ilp_match(
    pairs: Sequence[ScoredPair],
    spans: Sequence[Span],
    min_score: float = 0.0,
    time_limit: float | None = None,
    search_budget: int = SEARCH_BUDGET,
) -> list[ScoredPair]:
    """Exact maximum-weight matching with non-overlapping spans (0/1 ILP, HiGHS).

    One binary ``x`` per pair with score ``> min_score``; maximise ``Σ c x`` subject to
    ``Σ_t x[s, t] <= 1`` per entity and, per target word position, ``Σ`` over pairs whose
    span covers it ``<= 1`` (equivalent to forbidding every overlapping pair of spans, but
    with one row per word instead of one per overlapping pair; rows with a single pair
    and duplicate rows are dropped).  Deterministic: greedy is solved first and returned
    whenever it already reaches the optimum (always when it meets the per-entity upper
    bound, which skips the solver for most sentences, or when a small branch-and-bound
    search within ``search_budget`` nodes proves that nothing beats it: the solver would
    then return greedy too), so ties are broken as in greedy; otherwise the solver's
    optimum is returned (identical input, identical output).  ``search_budget=0`` skips
    the search and leaves every such proof to the solver (same results, slower).
    """
    live = [p for p in pairs if p[2] > min_score]
    greedy = greedy_match(live, spans, min_score)
    if not live:
        return greedy
    greedy_total = sum(p[2] for p in greedy)
    if greedy_total >= _upper_bound(live) - 1e-12:
        return greedy
    if search_budget > 0:
        target = greedy_total + _SEARCH_MARGIN
        if _improves_on(live, spans, target, search_budget) is False:
            return greedy

    import numpy as np
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import csr_array

    rows: list[tuple[int, ...]] = []
    by_ent: dict[int, list[int]] = {}
    by_pos: dict[int, list[int]] = {}
    for v, (k, t, _) in enumerate(live):
        by_ent.setdefault(k, []).append(v)
        start, end = spans[t]
        for pos in range(start, end):
            by_pos.setdefault(pos, []).append(v)
    seen: set[tuple[int, ...]] = set()
    for group in (*by_ent.values(), *by_pos.values()):
        row = tuple(group)
        if len(row) > 1 and row not in seen:
            seen.add(row)
            rows.append(row)
    n_var = len(live)
    cost = -np.array([p[2] for p in live], dtype=float)
    constraints = []
    if rows:
        indptr = np.cumsum([0] + [len(r) for r in rows])
        indices = np.fromiter((v for r in rows for v in r), dtype=np.int64, count=int(indptr[-1]))
        data = np.ones(len(indices))
        a = csr_array((data, indices, indptr), shape=(len(rows), n_var))
        constraints.append(LinearConstraint(a, -np.inf, 1.0))
    options: dict[str, Any] = {"mip_rel_gap": 0.0}
    if time_limit is not None:
        options["time_limit"] = time_limit
    res = milp(
        cost,
        constraints=constraints,
        integrality=np.ones(n_var),
        bounds=Bounds(0.0, 1.0),
        options=options,
    )
    if res.x is None:
        return greedy
    chosen = [live[v] for v in range(n_var) if res.x[v] > 0.5]
    if sum(p[2] for p in chosen) <= greedy_total + _SOLVER_GAIN:
        return greedy
    return _by_position(chosen, spans)


@dataclass(frozen=True)
class CandidateMatcher:
    """Projector: candidates → weighted pair scores → matching (callable per ``Projector``).

    ``candidates``: extractors whose spans are pooled per source entity;
    ``scores`` / ``weights``: combined as ``Σ w_i * score_i`` (weights default to 1);
    ``solver``: ``"greedy"`` or ``"ilp"``; ``min_score``: pairs scoring ``<= min_score``
    are never matched.  The window restriction of ``NgramCandidates`` is enabled only
    when the combined score is alignment-bounded.  ``extras`` (optional) carries
    per-pair side inputs: ``"ner_spans"`` and ``"translation_probs"``.  ``label_from``:
    ``"source"`` copies the source entity's label; ``"ner"`` takes the target NER model's
    label where it proposed exactly the matched span (a model trained on target text can
    know a name's type better than the source labeller does), else the source label.
    """

    candidates: Sequence[CandidateExtractor] = field(default_factory=lambda: (NgramCandidates(),))
    scores: Sequence[PairScore] = field(default_factory=lambda: (AlignmentDice(),))
    weights: Sequence[float] | None = None
    solver: str = "greedy"
    min_score: float = 0.0
    label_from: str = "source"

    def __post_init__(self) -> None:
        if self.solver not in SOLVERS:
            raise ValueError(f"solver must be one of {SOLVERS}, got {self.solver!r}")
        if self.label_from not in LABEL_SOURCES:
            raise ValueError(f"label_from must be one of {LABEL_SOURCES}, got {self.label_from!r}")
        object.__setattr__(self, "candidates", tuple(self.candidates))
        object.__setattr__(self, "scores", tuple(self.scores))
        if self.weights is not None:
            object.__setattr__(self, "weights", tuple(float(w) for w in self.weights))
        object.__setattr__(self, "_score", weighted(self.scores, self.weights))

    @property
    def score(self) -> PairScore:
        """The combined pair score."""
        return self._score  # type: ignore[attr-defined]

    def __call__(
        self,
        src_words: Words,
        tgt_words: Words,
        src_ents: Sequence[Entity],
        alignment: Alignment,
        extras: Mapping[str, Any] | None = None,
    ) -> list[Entity]:
        """Projected target entities, sorted and non-overlapping, labels from the source."""
        found = self.project_with_scores(src_words, tgt_words, src_ents, alignment, extras)
        return [ent for ent, _, _ in found]

    def project_with_scores(
        self,
        src_words: Words,
        tgt_words: Words,
        src_ents: Sequence[Entity],
        alignment: Alignment,
        extras: Mapping[str, Any] | None = None,
    ) -> list[tuple[Entity, float, int]]:
        """``(target entity, pair score, source entity index)`` per match, by position."""
        if not src_ents or not tgt_words:
            return []
        ctx = PairContext(src_words, tgt_words, src_ents, alignment, extras)
        spans, pairs = self.scored_pairs(ctx)
        if self.solver == "greedy":
            chosen = greedy_match(pairs, spans, self.min_score)
        else:
            chosen = ilp_match(pairs, spans, self.min_score)
        labels: dict[Span, str] = {}
        if self.label_from == "ner":
            labels = {(s[0], s[1]): s[2] for s in ctx.extras.get(NER_SPANS, ())}
        return [
            (Entity(spans[t][0], spans[t][1], labels.get(spans[t], src_ents[k].label)), c, k)
            for k, t, c in chosen
        ]

    def scored_pairs(self, ctx: PairContext) -> tuple[list[Span], list[ScoredPair]]:
        """Candidate pool and the sparse list of pairs scoring above ``min_score``."""
        score = self._score  # type: ignore[attr-defined]
        bounded = bool(score.alignment_bounded)
        extractors = self.candidates
        index: dict[Span, int] = {}
        spans: list[Span] = []
        pairs: list[ScoredPair] = []
        min_score = self.min_score
        for k, ent in enumerate(ctx.src_ents):
            if ent.end <= ent.start:
                continue
            if len(extractors) == 1:
                found: Iterable[Span] = extractors[0](ctx, k, bounded)
            else:
                found = chain.from_iterable(e(ctx, k, bounded) for e in extractors)
            mine = list(dict.fromkeys(found))  # pooled, first appearance kept
            if not mine:
                continue
            for span, c in zip(mine, span_scores(score, ctx, k, mine), strict=True):
                if c > min_score:
                    t = index.get(span)
                    if t is None:
                        t = index[span] = len(spans)
                        spans.append(span)
                    pairs.append((k, t, c))
        return spans, pairs
