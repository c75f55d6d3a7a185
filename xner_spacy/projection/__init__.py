"""Annotation projection: pure functions from (src, tgt, src entities, alignment) to tgt entities.

Light to import: scipy is imported only inside ``ilp_match``.
"""

from __future__ import annotations

from .candidate_matching import CandidateMatcher, greedy_match, ilp_match
from .candidate_scores import (
    AlignmentDice,
    NerSpanScore,
    PairScore,
    StringSimilarity,
    TranslationProbability,
    TranslationScorer,
    WeightedScore,
)
from .candidate_spans import CandidateExtractor, NerCandidates, NgramCandidates, SpanCandidates
from .heuristic_projection import HeuristicProjector
from .multisource_vote import vote
from .pair_context import NER_SPANS, TRANSLATION_PROBS, PairContext

__all__ = [
    "NER_SPANS",
    "TRANSLATION_PROBS",
    "AlignmentDice",
    "CandidateExtractor",
    "CandidateMatcher",
    "HeuristicProjector",
    "NerCandidates",
    "NerSpanScore",
    "NgramCandidates",
    "PairContext",
    "PairScore",
    "SpanCandidates",
    "StringSimilarity",
    "TranslationProbability",
    "TranslationScorer",
    "WeightedScore",
    "greedy_match",
    "ilp_match",
    "vote",
]
