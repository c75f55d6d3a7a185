"""Pair scores."""

from __future__ import annotations

import pytest

from xner_spacy.projection import (
    AlignmentDice,
    NerSpanScore,
    PairContext,
    StringSimilarity,
    TranslationProbability,
    WeightedScore,
)
from xner_spacy.projection.candidate_scores import normalise_name, weighted
from xner_spacy.types import Entity


def make_ctx(extras=None) -> PairContext:
    src = ["Jürgen", "Müller", "visited", "Москва"]
    tgt = ["Juergen", "Muller", "besuchte", "Moskva", "."]
    ents = [Entity(0, 2, "PER"), Entity(3, 4, "LOC")]
    align = [(0, 0), (1, 1), (1, 2), (3, 3)]
    return PairContext(src, tgt, ents, align, extras)


def test_alignment_dice() -> None:
    ctx = make_ctx()
    dice = AlignmentDice()
    assert dice(ctx, 0, (0, 2)) == pytest.approx(2 * 2 / 4)
    assert dice(ctx, 0, (0, 3)) == pytest.approx(2 * 3 / 5)  # one-to-many: above 2·2/5
    assert dice(ctx, 1, (3, 4)) == 1.0
    assert dice(ctx, 1, (0, 2)) == 0.0
    assert dice.alignment_bounded


def test_ner_span_score() -> None:
    ctx = make_ctx({"ner_spans": [(0, 2, "PER", 0.7), (0, 2, "ORG", 0.8), (3, 4, "PER", 0.3)]})
    assert NerSpanScore()(ctx, 0, (0, 2)) == 0.8
    assert NerSpanScore(same_label=True)(ctx, 0, (0, 2)) == 0.7
    assert NerSpanScore(same_label=True)(ctx, 1, (3, 4)) == 0.0
    assert NerSpanScore()(ctx, 0, (1, 2)) == 0.0
    assert NerSpanScore()(make_ctx(), 0, (0, 2)) == 0.0
    assert not NerSpanScore().alignment_bounded


def test_translation_probability() -> None:
    seen = []

    def prob(a: str, b: str) -> float:
        seen.append((a, b))
        return 0.25

    ctx = make_ctx()
    assert TranslationProbability(prob)(ctx, 0, (0, 2)) == 0.25
    assert seen == [("Jürgen Müller", "Juergen Muller")]
    assert TranslationProbability()(ctx, 0, (0, 2)) == 0.0
    pre = make_ctx({"translation_probs": {(1, 3, 4): 0.9}})
    assert TranslationProbability(prob)(pre, 1, (3, 4)) == 0.9
    assert TranslationProbability(prob)(pre, 1, (0, 1)) == 0.0
    assert not TranslationProbability().alignment_bounded


def test_string_similarity() -> None:
    ctx = make_ctx()
    sim = StringSimilarity()
    assert normalise_name("Jürgen  MÜLLER!") == "jurgen muller"
    assert sim(ctx, 1, (3, 4)) == 1.0  # Москва ~ Moskva via transliteration
    assert 0.8 < sim(ctx, 0, (0, 2)) < 1.0  # Jürgen ~ Juergen
    assert sim(ctx, 0, (2, 3)) < 0.5
    assert sim(ctx, 0, (4, 5)) == 0.0  # "." normalises to nothing
    assert StringSimilarity(min_similarity=0.99)(ctx, 0, (0, 2)) == 0.0
    assert not sim.alignment_bounded


def test_weighted_score() -> None:
    ctx = make_ctx({"ner_spans": [(0, 2, "PER", 0.5)]})
    w = WeightedScore(((AlignmentDice(), 2.0), (NerSpanScore(), 1.0)))
    assert w(ctx, 0, (0, 2)) == pytest.approx(2.0 + 0.5)
    assert not w.alignment_bounded
    assert WeightedScore(((AlignmentDice(), 0.5), (NerSpanScore(), 0.0))).alignment_bounded
    assert not WeightedScore(((AlignmentDice(), -1.0),)).alignment_bounded
    d = AlignmentDice()
    assert weighted([d]) is d
    assert weighted([d], [2.0])(ctx, 0, (0, 2)) == pytest.approx(2.0)
    with pytest.raises(ValueError):
        weighted([d], [1.0, 1.0])
