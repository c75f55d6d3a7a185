import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xner_spacy.alignment.symmetrize import (
    METHODS,
    grow_diag,
    grow_diag_final,
    grow_diag_final_and,
    intersection,
    symmetrize,
    union,
)

# 5 x 5 case where every heuristic gives a different, hand-checked answer:
#   (0,0) is in both directions; grow-diag reaches (1,1) diagonally, then (1,2) (target 2
#   unaligned) and (2,3) diagonally again; (3,0) only joins an unaligned source word to an
#   aligned target word (final yes, final-and no); (4,4) is isolated and joins two unaligned
#   words (both finals take it, grow-diag cannot reach it).
FWD = {(0, 0), (1, 1), (2, 3), (4, 4)}
REV = {(0, 0), (1, 2), (3, 0)}
EXPECTED = {
    "intersection": [(0, 0)],
    "union": [(0, 0), (1, 1), (1, 2), (2, 3), (3, 0), (4, 4)],
    "grow-diag": [(0, 0), (1, 1), (1, 2), (2, 3)],
    "grow-diag-final": [(0, 0), (1, 1), (1, 2), (2, 3), (3, 0), (4, 4)],
    "grow-diag-final-and": [(0, 0), (1, 1), (1, 2), (2, 3), (4, 4)],
}


@pytest.mark.parametrize("method", METHODS)
def test_hand_made_matrix(method):
    assert symmetrize(FWD, REV, 5, 5, method) == EXPECTED[method]


def test_functions_match_dispatch():
    assert intersection(FWD, REV) == EXPECTED["intersection"]
    assert union(FWD, REV) == EXPECTED["union"]
    assert grow_diag(FWD, REV, 5, 5) == EXPECTED["grow-diag"]
    assert grow_diag_final(FWD, REV, 5, 5) == EXPECTED["grow-diag-final"]
    assert grow_diag_final_and(FWD, REV, 5, 5) == EXPECTED["grow-diag-final-and"]


def test_grow_follows_a_chain_to_a_fixpoint():
    # Only (0,0) is shared; the diagonal chain in fwd is reached one neighbour at a time.
    fwd = {(0, 0), (1, 1), (2, 2), (3, 3)}
    assert grow_diag(fwd, {(0, 0)}, 4, 4) == sorted(fwd)
    # Growing backwards (towards smaller indices) needs a second pass.
    fwd = {(3, 3), (2, 2), (1, 1), (0, 0)}
    assert grow_diag(fwd, {(3, 3)}, 4, 4) == sorted(fwd)


def test_never_links_two_aligned_words():
    fwd = {(0, 0), (1, 1), (0, 1)}
    rev = {(0, 0), (1, 1)}
    for method in ("grow-diag", "grow-diag-final", "grow-diag-final-and"):
        assert symmetrize(fwd, rev, 2, 2, method) == [(0, 0), (1, 1)]
    assert symmetrize(fwd, rev, 2, 2, "union") == [(0, 0), (0, 1), (1, 1)]


def test_empty_and_unknown():
    for method in METHODS:
        assert symmetrize(set(), set(), 0, 0, method) == []
    with pytest.raises(ValueError, match="grow-diag-final-and"):
        symmetrize(FWD, REV, 5, 5, "gdfa")


@st.composite
def alignment_pairs(draw):
    n = draw(st.integers(1, 7))
    m = draw(st.integers(1, 7))
    cells = st.tuples(st.integers(0, n - 1), st.integers(0, m - 1))
    fwd = draw(st.sets(cells, max_size=n * m))
    rev = draw(st.sets(cells, max_size=n * m))
    return fwd, rev, n, m


@settings(max_examples=300, deadline=None)
@given(alignment_pairs())
def test_heuristics_are_nested(case):
    fwd, rev, n, m = case
    inter = set(intersection(fwd, rev))
    gd = set(grow_diag(fwd, rev, n, m))
    gdf = set(grow_diag_final(fwd, rev, n, m))
    gdfa = set(grow_diag_final_and(fwd, rev, n, m))
    uni = set(union(fwd, rev))
    assert inter <= gd <= gdfa <= uni
    assert gd <= gdf <= uni
    for method in METHODS:
        out = symmetrize(fwd, rev, n, m, method)
        assert out == sorted(set(out))
