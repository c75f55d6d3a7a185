"""The projection fast paths give exactly what the plain computations they replace give."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xner_spacy.projection import AlignmentDice, PairContext, greedy_match, ilp_match
from xner_spacy.projection.candidate_scores import NerSpanScore, WeightedScore, span_scores
from xner_spacy.projection.heuristic_projection import entity_links, links_by_src
from xner_spacy.projection.pair_context import punct_flags
from xner_spacy.text import is_punct
from xner_spacy.types import Entity


def gathered(alignment, ents, n_src, n_tgt):
    """The reference: each entity's targets gathered from the by-source index."""
    by_src = links_by_src(alignment, n_src, n_tgt)
    return [sorted(j for i in range(e.start, e.end) for j in by_src.get(i, ())) for e in ents]


@st.composite
def pair_inputs(draw: st.DrawFn):
    n_src = draw(st.integers(0, 12))
    n_tgt = draw(st.integers(0, 12))
    spans = st.tuples(st.integers(-2, n_src + 1), st.integers(0, 4))
    ents = [Entity(s, s + n, "X") for s, n in draw(st.lists(spans, max_size=7))]
    links = st.tuples(st.integers(-1, n_src + 1), st.integers(-1, n_tgt + 1))
    return n_src, n_tgt, ents, draw(st.lists(links, max_size=30))


@settings(max_examples=300, deadline=None)
@given(pair_inputs())
def test_entity_links_match_index(inp) -> None:
    n_src, n_tgt, ents, alignment = inp
    assert entity_links(alignment, ents, n_src, n_tgt) == gathered(alignment, ents, n_src, n_tgt)
    ctx = PairContext(["w"] * n_src, ["w"] * n_tgt, ents, alignment)
    assert [ctx.targets(k) for k in range(len(ents))] == gathered(alignment, ents, n_src, n_tgt)
    assert ctx.by_src == links_by_src(alignment, n_src, n_tgt)


@given(st.lists(st.text(min_size=1, max_size=4)))
def test_punct_flags(words: list[str]) -> None:
    assert punct_flags(words) == [is_punct(w) for w in words]
    assert punct_flags(["Ọlá", "2019", "U.S.", "«", "—", "$"]) == [False, False, False] + [True] * 3


def test_batch_scores_equal_single() -> None:
    tgt = ["a", "b", "c", "d", "e"]
    extras = {"ner_spans": [(1, 3, "PER", 0.7), (0, 1, "LOC", 0.2)]}
    ctx = PairContext(["x", "y", "z"], tgt, [Entity(0, 2, "PER"), Entity(2, 3, "LOC")],
                      [(0, 1), (1, 2), (1, 2), (2, 4)], extras)  # fmt: skip
    spans = [(s, e) for s in range(5) for e in range(s + 1, 6)]
    for score in (AlignmentDice(), WeightedScore(((AlignmentDice(), 0.3), (NerSpanScore(), 2.0)))):
        for k in (0, 1):
            assert span_scores(score, ctx, k, spans) == [score(ctx, k, s) for s in spans]


@st.composite
def matching_instances(draw: st.DrawFn):
    n_tgt = draw(st.integers(1, 14))
    spans = draw(
        st.lists(
            st.tuples(st.integers(0, n_tgt - 1), st.integers(1, 5)).map(
                lambda x: (x[0], min(n_tgt, x[0] + x[1]))
            ),
            min_size=1,
            max_size=16,
            unique=True,
        )
    )
    n_ent = draw(st.integers(1, 7))
    cells = st.tuples(st.integers(0, n_ent - 1), st.integers(0, len(spans) - 1))
    scores = st.sampled_from([-0.2, 0.0, 0.1, 0.25, 1 / 3, 0.5, 2 / 3, 0.75, 1.0, 1.5, 40.0])
    pairs = [(k, t, draw(scores)) for k, t in draw(st.lists(cells, max_size=40, unique=True))]
    return pairs, spans, draw(st.sampled_from([0.0, -0.5, 0.3]))


@settings(max_examples=300, deadline=None)
@given(matching_instances())
def test_ilp_search_gives_solver_result(inst) -> None:
    pairs, spans, min_score = inst
    assert ilp_match(pairs, spans, min_score) == ilp_match(pairs, spans, min_score, search_budget=0)


def test_ilp_search_spares_the_solver(monkeypatch: pytest.MonkeyPatch) -> None:
    import scipy.optimize

    def no_solver(*args, **kwargs):
        raise AssertionError("solver called")

    monkeypatch.setattr(scipy.optimize, "milp", no_solver)
    # greedy takes (0, 2) for entity 0, blocking entity 1; the per-entity bound (1.5) says
    # nothing, but the search shows 0.4 + 0.5 < 1.0, so greedy is optimal without HiGHS
    spans = [(0, 2), (0, 1), (1, 2)]
    pairs = [(0, 0, 1.0), (0, 1, 0.4), (1, 2, 0.5)]
    assert ilp_match(pairs, spans) == greedy_match(pairs, spans) == [(0, 0, 1.0)]
    with pytest.raises(AssertionError, match="solver called"):
        ilp_match(pairs, spans, search_budget=0)
