"""Greedy vs exact matching, and the candidate-matching projector end to end."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xner_spacy.projection import (
    AlignmentDice,
    CandidateMatcher,
    NerSpanScore,
    NgramCandidates,
    SpanCandidates,
    StringSimilarity,
    greedy_match,
    ilp_match,
)
from xner_spacy.types import Entity


def total(chosen: list[tuple[int, int, float]]) -> float:
    return sum(c for _, _, c in chosen)


def feasible(chosen: list[tuple[int, int, float]], spans: list[tuple[int, int]]) -> bool:
    ents = [k for k, _, _ in chosen]
    if len(set(ents)) != len(ents):
        return False
    cover = [pos for _, t, _ in chosen for pos in range(*spans[t])]
    return len(set(cover)) == len(cover)


def test_greedy_optimal_and_ilp_agrees() -> None:
    spans = [(0, 1), (2, 4), (1, 3)]
    pairs = [(0, 0, 1.0), (1, 1, 0.9), (1, 2, 0.4), (0, 2, 0.2)]
    g = greedy_match(pairs, spans)
    assert g == [(0, 0, 1.0), (1, 1, 0.9)]
    assert ilp_match(pairs, spans) == g


def test_greedy_suboptimal_ilp_better() -> None:
    spans = [(0, 2), (0, 1), (1, 2)]
    pairs = [(0, 0, 1.0), (0, 1, 0.6), (1, 2, 0.6)]
    assert greedy_match(pairs, spans) == [(0, 0, 1.0)]
    assert ilp_match(pairs, spans) == [(0, 1, 0.6), (1, 2, 0.6)]


def test_min_score_and_empty() -> None:
    spans = [(0, 1), (1, 2)]
    pairs = [(0, 0, 0.5), (1, 1, 0.2)]
    assert greedy_match(pairs, spans, min_score=0.3) == [(0, 0, 0.5)]
    assert ilp_match(pairs, spans, min_score=0.3) == [(0, 0, 0.5)]
    assert greedy_match([], []) == [] and ilp_match([], []) == []
    assert greedy_match([(0, 0, 0.0)], [(0, 1)]) == []


def test_greedy_tie_break_is_order_independent() -> None:
    spans = [(3, 4), (1, 2)]
    a = greedy_match([(0, 0, 1.0), (0, 1, 1.0)], spans)
    b = greedy_match([(0, 1, 1.0), (0, 0, 1.0)], spans)
    assert a == b == [(0, 1, 1.0)]  # leftmost span wins the tie


@st.composite
def matching_instances(
    draw: st.DrawFn,
) -> tuple[list[tuple[int, int, float]], list[tuple[int, int]]]:
    n_tgt = draw(st.integers(1, 10))
    spans = draw(
        st.lists(
            st.tuples(st.integers(0, n_tgt - 1), st.integers(1, 4)).map(
                lambda x: (x[0], min(n_tgt, x[0] + x[1]))
            ),
            min_size=1,
            max_size=12,
            unique=True,
        )
    )
    n_ent = draw(st.integers(1, 5))
    cells = draw(
        st.lists(
            st.tuples(st.integers(0, n_ent - 1), st.integers(0, len(spans) - 1)),
            max_size=30,
            unique=True,
        )
    )
    scores = st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.5, 0.75, 1.0, 1.5, -0.3])
    pairs = [(k, t, draw(scores)) for k, t in cells]
    return pairs, spans


@settings(max_examples=200, deadline=None)
@given(matching_instances())
def test_ilp_never_worse_than_greedy(inst) -> None:
    pairs, spans = inst
    g = greedy_match(pairs, spans)
    x = ilp_match(pairs, spans)
    assert feasible(g, spans) and feasible(x, spans)
    assert all(c > 0 for _, _, c in g + x)
    assert total(x) >= total(g) - 1e-9


# --- the projector ---------------------------------------------------------------


def test_matcher_multiword() -> None:
    src = ["I", "visited", "New", "York", "yesterday"]
    tgt = ["Visité", "Nueva", "York", "ayer", "."]
    align = [(1, 0), (2, 1), (3, 2), (4, 3)]
    for solver in ("greedy", "ilp"):
        m = CandidateMatcher(solver=solver)
        assert m(src, tgt, [Entity(2, 4, "LOC")], align) == [Entity(1, 3, "LOC")]
        [(ent, score, k)] = m.project_with_scores(src, tgt, [Entity(2, 4, "LOC")], align)
        assert (ent, k) == (Entity(1, 3, "LOC"), 0) and score == pytest.approx(1.0)


def test_matcher_ilp_beats_greedy_on_shared_word() -> None:
    # entity 0 is aligned to target 0 and 1, entity 1 to target 1 only
    src = ["X", "Y"]
    tgt = ["x", "y"]
    ents = [Entity(0, 1, "PER"), Entity(1, 2, "ORG")]
    align = [(0, 0), (0, 1), (1, 1)]
    assert CandidateMatcher()(src, tgt, ents, align) == [Entity(0, 2, "PER")]
    assert CandidateMatcher(solver="ilp")(src, tgt, ents, align) == [
        Entity(0, 1, "PER"),
        Entity(1, 2, "ORG"),
    ]


def test_matcher_no_alignment_and_invalid() -> None:
    assert CandidateMatcher()(["a"], ["b"], [Entity(0, 1, "PER")], []) == []
    assert CandidateMatcher()(["a"], [], [Entity(0, 1, "PER")], [(0, 0)]) == []
    with pytest.raises(ValueError):
        CandidateMatcher(solver="magic")
    with pytest.raises(ValueError):
        CandidateMatcher(scores=[AlignmentDice()], weights=[1.0, 2.0])


def test_matcher_with_ner_spans_and_string_similarity() -> None:
    src = ["Angela", "Merkel", "spoke"]
    tgt = ["Sprach", "Frau", "Angela", "Merkel", "gestern"]
    ents = [Entity(0, 2, "PER")]
    align = [(0, 2), (2, 0)]  # "Merkel" unaligned
    dice_only = CandidateMatcher()
    assert dice_only(src, tgt, ents, align) == [Entity(2, 3, "PER")]
    extras = {"ner_spans": [(2, 4, "PER", 0.9), (1, 4, "PER", 0.4)]}
    m = CandidateMatcher(
        candidates=[NgramCandidates(), SpanCandidates()],
        scores=[AlignmentDice(), NerSpanScore(), StringSimilarity()],
        weights=[1.0, 1.0, 0.5],
    )
    assert m(src, tgt, ents, align, extras) == [Entity(2, 4, "PER")]
    # unbounded scores: candidates are not restricted to the aligned window
    m2 = CandidateMatcher(scores=[StringSimilarity()])
    assert m2(src, tgt, ents, []) == [Entity(2, 4, "PER")]


# --- the window restriction and pruning lose nothing ------------------------------


@st.composite
def pair_instances(draw: st.DrawFn):
    vocab = st.sampled_from(["a", "b", "c", ",", '"', ".", "?", "U.S."])
    src = draw(st.lists(vocab, min_size=1, max_size=8))
    tgt = draw(st.lists(vocab, min_size=1, max_size=10))
    ents = []
    pos = 0
    while pos < len(src):
        n = draw(st.integers(0, 3))
        if n and pos + n <= len(src):
            ents.append(Entity(pos, pos + n, draw(st.sampled_from(["PER", "LOC"]))))
        pos += max(n, 1)
    align = draw(
        st.lists(
            st.tuples(st.integers(0, len(src) - 1), st.integers(0, len(tgt) - 1)),
            max_size=16,
            unique=True,
        )
    )
    return src, tgt, ents, align


@settings(max_examples=300, deadline=None)
@given(pair_instances(), st.integers(1, 4))
def test_window_restriction_is_lossless(inst, max_len: int) -> None:
    src, tgt, ents, align = inst
    restricted = NgramCandidates(max_len=max_len)
    full = NgramCandidates(max_len=max_len, restrict_to_aligned_window=False)

    def objective(found: list[tuple[Entity, float, int]]) -> float:
        return sum(c for _, c, _ in found)

    for solver in ("greedy", "ilp"):
        a = CandidateMatcher(candidates=[restricted], solver=solver)
        b = CandidateMatcher(candidates=[full], solver=solver)
        ra = a.project_with_scores(src, tgt, ents, align)
        rb = b.project_with_scores(src, tgt, ents, align)
        assert objective(ra) == pytest.approx(objective(rb))
        if solver == "greedy":
            assert ra == rb
        for found in (ra, rb):
            out = [e for e, _, _ in found]
            assert all(0 <= e.start < e.end <= len(tgt) for e in out)
            assert all(x.end <= y.start for x, y in zip(out, out[1:], strict=False))
            assert len({k for _, _, k in found}) == len(found)


def test_window_extends_past_aligned_punctuation() -> None:
    # the entity's last link lands on a quote mark; the best span ends on the word after it
    src = ["the", "Big", "Apple"]
    tgt = ["la", "Gran", '"', "Manzana", "hoy"]
    ents = [Entity(1, 3, "LOC")]
    align = [(1, 1), (2, 2)]
    full = CandidateMatcher(candidates=[NgramCandidates(restrict_to_aligned_window=False)])
    fast = CandidateMatcher()
    assert fast.project_with_scores(src, tgt, ents, align) == full.project_with_scores(
        src, tgt, ents, align
    )
    [(ent, score, _)] = fast.project_with_scores(src, tgt, ents, align)
    assert ent == Entity(1, 4, "LOC") and score == pytest.approx(0.8)


def test_label_from_ner_takes_the_proposed_label() -> None:
    from xner_spacy.projection.candidate_spans import SpanCandidates

    extras = {"ner_spans": [[1, 2, "LOC", 1.0]]}
    args = (["Kampala", "x"], ["y", "Kampala"], [Entity(0, 1, "PER")], [(0, 1)])
    by_source = CandidateMatcher(candidates=[SpanCandidates()])
    by_ner = CandidateMatcher(candidates=[SpanCandidates()], label_from="ner")
    assert by_source(*args, extras=extras) == [Entity(1, 2, "PER")]
    assert by_ner(*args, extras=extras) == [Entity(1, 2, "LOC")]
    with pytest.raises(ValueError, match="label_from"):
        CandidateMatcher(label_from="gold")
