"""Neural translation probability as a candidate-matching score, batched per sentence pair.

``TranslationProbability`` calls ``prob(entity, candidate)`` once per pair, which for a
neural model means one forward pass per candidate. This score instead scores, on its first
call for a sentence pair, every candidate the matcher can ask about (all n-grams up to
``max_len`` words, as ``NgramCandidates`` proposes them when the fused score is not
alignment-bounded, plus the NER proposals in ``extras``) for every source entity, in one
batched ``score_pairs`` call; later calls are lookups. Anything else is scored on demand.
The model lives behind the scorer (``xner.NMTScorer.v1``), so this module needs no torch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from .candidate_spans import NgramCandidates, SpanCandidates
from .pair_context import PairContext, Span


@runtime_checkable
class BatchTranslationScorer(Protocol):
    """Scores ``(source text, target text)`` pairs in batch, e.g. ``NMTScorer``."""

    def score_pairs(self, pairs: list[tuple[str, str]], /) -> list[float]: ...


@dataclass(frozen=True)
class NMTTranslationProbability:
    """How likely the candidate translates the source entity, under a translation model.

    Range ``[0, 1]`` (NMTScore's length-normalised probability, both directions averaged
    by ``NMTScorer``); not alignment-bounded. ``max_len`` bounds the n-grams pre-scored per
    sentence pair: set it to the ``max_len`` of the matcher's ``NgramCandidates`` (longer
    candidates are scored one by one when asked; 0: no pre-scoring at all).
    """

    scorer: BatchTranslationScorer
    max_len: int = 10
    alignment_bounded: bool = field(default=False, init=False)

    def __call__(self, ctx: PairContext, k: int, span: Span) -> float:
        tables = ctx.cache.setdefault("nmt_scores", {})  # per score object (equal ones share)
        table: dict[tuple[int, Span], float] | None = tables.get(self)
        if table is None:
            table = tables[self] = self._prefetch(ctx)
        got = table.get((k, span))
        if got is None:
            pair = (ctx.src_text(k), ctx.tgt_text(span))
            got = table[(k, span)] = self.scorer.score_pairs([pair])[0]
        return float(got)

    def _prefetch(self, ctx: PairContext) -> dict[tuple[int, Span], float]:
        """Score every likely (entity, candidate) pair of the sentence pair in one batch."""
        if self.max_len < 1 or not ctx.n_tgt:
            return {}
        spans = dict.fromkeys(NgramCandidates(max_len=self.max_len)(ctx, 0, False))
        spans.update(dict.fromkeys(SpanCandidates()(ctx, 0, False)))
        keys = [(k, s) for k in range(len(ctx.src_ents)) for s in spans]
        if not keys:
            return {}
        scores = self.scorer.score_pairs([(ctx.src_text(k), ctx.tgt_text(s)) for k, s in keys])
        return dict(zip(keys, scores, strict=True))
