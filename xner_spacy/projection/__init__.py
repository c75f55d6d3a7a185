"""Annotation projection: pure functions from (src, tgt, src entities, alignment) to tgt entities.

Light to import: scipy is imported only inside ``ilp_match``.
"""

from __future__ import annotations

from .candidates import CandidateExtractor, NerCandidates, NgramCandidates, SpanCandidates
from .context import NER_SPANS, TRANSLATION_PROBS, PairContext
from .heuristic import HeuristicProjector
from .matching import CandidateMatcher, greedy_match, ilp_match
from .multisource import vote
from .scores import (
    AlignmentDice,
    NerSpanScore,
    PairScore,
    StringSimilarity,
    TranslationProbability,
    TranslationScorer,
    WeightedScore,
)

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
