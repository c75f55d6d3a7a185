"""Candidate extractors."""

from __future__ import annotations

import pytest

from xner_spacy.projection import NgramCandidates, PairContext, SpanCandidates
from xner_spacy.types import Entity


def ctx_for(tgt: list[str], align: list[tuple[int, int]], extras=None) -> PairContext:
    src = ["A", "B", "C"]
    return PairContext(src, tgt, [Entity(0, 2, "PER"), Entity(2, 3, "LOC")], align, extras)


def test_ngrams_unrestricted_skip_punctuation() -> None:
    tgt = ["a", ",", "b", ".", "c", '"']
    ctx = ctx_for(tgt, [])
    spans = NgramCandidates(max_len=3, restrict_to_aligned_window=False)(ctx, 0, True)
    # no edge punctuation, nothing across ".", at most 3 words
    assert spans == [(0, 1), (0, 3), (2, 3), (4, 5)]
    assert NgramCandidates(max_len=3)(ctx, 0, False) == spans


def test_ngrams_sentence_punct_configurable_and_abbrev() -> None:
    tgt = ["U.S.", "and", ";", "x"]
    ctx = ctx_for(tgt, [])
    full = NgramCandidates(restrict_to_aligned_window=False)
    assert (0, 2) in full(ctx, 0, True) and (0, 4) not in full(ctx, 0, True)
    no_semicolon = NgramCandidates(restrict_to_aligned_window=False, sentence_punct=["."])
    assert (0, 4) in no_semicolon(ctx, 0, True)


def test_ngrams_window_and_pruning() -> None:
    tgt = ["w0", "w1", "w2", "w3", "w4", "w5"]
    # entity 0 (src 0..2) aligned to 1 and 3; entity 1 unaligned
    ctx = ctx_for(tgt, [(0, 1), (1, 3)])
    spans = NgramCandidates()(ctx, 0, True)
    # within window [1, 4): edges must be aligned (or next to punctuation)
    assert spans == [(1, 2), (1, 4), (3, 4)]
    assert NgramCandidates()(ctx, 1, True) == []
    assert len(NgramCandidates()(ctx, 1, False)) == 21


def test_ngrams_window_moves_past_punctuation() -> None:
    tgt = ["x", "Gran", '"', "Manzana", "y"]
    ctx = ctx_for(tgt, [(0, 1), (1, 2)])
    spans = NgramCandidates()(ctx, 0, True)
    assert (1, 4) in spans and (1, 2) in spans
    assert all(s >= 1 and e <= 4 for s, e in spans)


def test_ngrams_invalid() -> None:
    with pytest.raises(ValueError):
        NgramCandidates(max_len=0)


def test_span_candidates() -> None:
    extras = {
        "ner_spans": [
            (0, 2, "PER", 0.9),
            (0, 2, "ORG", 0.5),
            (3, 9, "LOC", 0.9),
            (2, 3, "MISC", 0.1),
        ]
    }
    ctx = ctx_for(["a", "b", "c", "d"], [], extras)
    assert SpanCandidates()(ctx, 0, True) == [(0, 2), (2, 3)]
    assert SpanCandidates(min_score=0.2)(ctx, 1, False) == [(0, 2)]
    assert SpanCandidates(labels=["MISC"])(ctx, 0, True) == [(2, 3)]
    assert SpanCandidates()(ctx_for(["a"], []), 0, True) == []
