"""Hand-made and property tests for the alignment heuristics."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xner_spacy.projection.heuristic_projection import HeuristicProjector, group_runs, trim_punct
from xner_spacy.types import Entity

GF = HeuristicProjector()
PAPER = HeuristicProjector(variant="paper")


def words(n: int) -> list[str]:
    return [f"w{i}" for i in range(n)]


def test_group_runs_and_trim() -> None:
    assert group_runs([], 1) == []
    assert group_runs([1, 2, 4, 8], 1) == [(1, 5), (8, 9)]
    assert group_runs([1, 2, 4, 8], 0) == [(1, 3), (4, 5), (8, 9)]
    assert trim_punct(['"', "a", "b", "."], 0, 4) == (1, 3)
    assert trim_punct(['"', "."], 0, 2)[1] - trim_punct(['"', "."], 0, 2)[0] == 0


@pytest.mark.parametrize("proj", [GF, PAPER])
def test_multiword_entity(proj: HeuristicProjector) -> None:
    src = ["I", "visited", "New", "York", "yesterday"]
    tgt = ["Visité", "Nueva", "York", "ayer"]
    align = [(1, 0), (2, 1), (3, 2), (4, 3), (2, 2)]
    assert proj(src, tgt, [Entity(2, 4, "LOC")], align) == [Entity(1, 3, "LOC")]


def test_gap_one_merged_gap_three_largest_group() -> None:
    src = words(3)
    tgt = words(12)
    # gap of 1 word (index 2) is bridged
    assert GF(src, tgt, [Entity(0, 2, "PER")], [(0, 1), (1, 3)]) == [Entity(1, 4, "PER")]
    # gap of 3 words: two groups {1,2} and {6}: keep the larger
    assert GF(src, tgt, [Entity(0, 3, "PER")], [(0, 1), (1, 2), (2, 6)]) == [Entity(1, 3, "PER")]
    # equal-size groups: the first wins
    assert GF(src, tgt, [Entity(0, 2, "PER")], [(0, 1), (1, 6)]) == [Entity(1, 2, "PER")]
    # max_gap=0 splits a gap of one
    tight = HeuristicProjector(max_gap=0)
    assert tight(src, tgt, [Entity(0, 3, "PER")], [(0, 1), (1, 3), (2, 4)]) == [Entity(3, 5, "PER")]


def test_collision_different_labels_longer_wins() -> None:
    src = ["Bank", "of", "America", "Smith"]
    tgt = ["Banco", "de", "América", "Smith"]
    ents = [Entity(0, 3, "ORG"), Entity(3, 4, "PER")]
    # the PER source word is wrongly aligned into the ORG projection
    align = [(0, 0), (1, 1), (2, 2), (3, 2)]
    assert GF(src, tgt, ents, align) == [Entity(0, 3, "ORG")]
    # reversing the entity order gives the same result (deterministic)
    assert GF(src, tgt, ents[::-1], align) == [Entity(0, 3, "ORG")]


def test_collision_tie_broken_by_links_then_source_length() -> None:
    tgt = words(4)
    src = words(4)
    ents = [Entity(0, 1, "PER"), Entity(1, 3, "ORG")]
    # same target span length 1 at position 1: ORG has 2 links, PER 1
    align = [(0, 1), (1, 1), (2, 1)]
    assert GF(src, tgt, ents, align) == [Entity(1, 2, "ORG")]


def test_collision_same_label_merged() -> None:
    src = words(4)
    tgt = words(5)
    ents = [Entity(0, 1, "LOC"), Entity(2, 3, "LOC")]
    align = [(0, 1), (0, 2), (2, 2), (2, 3)]
    assert GF(src, tgt, ents, align) == [Entity(1, 4, "LOC")]
    nomerge = HeuristicProjector(merge_same_label=False)
    out = nomerge(src, tgt, ents, align)
    assert len(out) == 1 and out[0].label == "LOC"


def test_punctuation_trimmed() -> None:
    src = ["the", '"', "Times", '"']
    tgt = ["el", "«", "Times", "»", "."]
    ent = [Entity(1, 4, "ORG")]
    align = [(1, 1), (2, 2), (3, 3), (0, 0)]
    assert GF(src, tgt, ent, align) == [Entity(2, 3, "ORG")]
    assert PAPER(src, tgt, ent, align) == [Entity(2, 3, "ORG")]
    # only punctuation aligned: nothing
    assert GF(src, tgt, [Entity(1, 2, "ORG")], [(1, 1)]) == []
    assert PAPER(src, tgt, [Entity(1, 2, "ORG")], [(1, 1)]) == []


@pytest.mark.parametrize("proj", [GF, PAPER])
def test_no_alignment_gives_nothing(proj: HeuristicProjector) -> None:
    assert proj(words(3), words(3), [Entity(0, 1, "PER")], [(1, 1), (2, 2)]) == []
    assert proj(words(3), words(3), [Entity(0, 1, "PER")], []) == []
    assert proj(words(3), [], [Entity(0, 1, "PER")], [(0, 0)]) == []


@pytest.mark.parametrize("proj", [GF, PAPER])
def test_reordering(proj: HeuristicProjector) -> None:
    src = ["Merkel", "met", "Macron", "in", "Paris"]
    tgt = ["In", "Paris", "traf", "Merkel", "Macron"]
    ents = [Entity(0, 1, "PER"), Entity(2, 3, "PER"), Entity(4, 5, "LOC")]
    align = [(0, 3), (1, 2), (2, 4), (3, 0), (4, 1)]
    assert proj(src, tgt, ents, align) == [
        Entity(1, 2, "LOC"),
        Entity(3, 4, "PER"),
        Entity(4, 5, "PER"),
    ]


def test_one_to_many_links() -> None:
    src = ["Dresden", "is", "nice"]
    tgt = ["Dresden", "Stadt", "ist", "schön", "und", "alt"]
    # one source word aligned to two adjacent words and to a far one
    align = [(0, 0), (0, 1), (0, 4), (2, 3)]
    assert GF(src, tgt, [Entity(0, 1, "LOC")], align) == [Entity(0, 2, "LOC")]


def test_paper_length_ratio_and_shortest() -> None:
    src = words(4)
    tgt = words(12)
    ent = [Entity(0, 2, "ORG")]
    # runs (1,2) len1 and (5,7) len2: len1/2 = 0.5 <= 0.8 dropped
    align = [(0, 1), (0, 5), (1, 6)]
    assert PAPER(src, tgt, ent, align) == [Entity(5, 7, "ORG")]
    # one-sided ratio accepts a longer run; symmetric rejects 2/5
    align2 = [(0, 3), (0, 4), (1, 5), (1, 6), (1, 7)]
    assert PAPER(src, tgt, ent, align2) == [Entity(3, 8, "ORG")]
    sym = HeuristicProjector(variant="paper", symmetric_ratio=True)
    assert sym(src, tgt, ent, align2) == []
    # two surviving runs: the shortest wins
    align3 = [(0, 0), (1, 1), (0, 4), (1, 5), (1, 6)]
    assert PAPER(src, tgt, ent, align3) == [Entity(0, 2, "ORG")]


def test_paper_merge_only_inside() -> None:
    src = words(2)
    tgt = words(5)
    ent = [Entity(0, 2, "PER")]
    # run at 2 starts on a word aligned to the entity's first word: not merged
    align = [(0, 0), (1, 0), (0, 2)]
    no_ratio = HeuristicProjector(variant="paper", min_length_ratio=0.0)
    assert no_ratio(src, tgt, ent, align) == [Entity(0, 1, "PER")]
    loose = HeuristicProjector(variant="paper", merge_only_inside=False, min_length_ratio=0.0)
    assert loose(src, tgt, ent, align) == [Entity(0, 3, "PER")]


def test_paper_collision_shortest_source_first() -> None:
    src = words(3)
    tgt = words(3)
    ents = [Entity(0, 2, "ORG"), Entity(2, 3, "PER")]
    align = [(0, 0), (1, 1), (2, 1)]
    assert PAPER(src, tgt, ents, align) == [Entity(1, 2, "PER")]


def test_invalid_options() -> None:
    with pytest.raises(ValueError):
        HeuristicProjector(variant="nope")
    with pytest.raises(ValueError):
        HeuristicProjector(max_gap=-1)
    with pytest.raises(ValueError):
        HeuristicProjector(min_length_ratio=1.5)


@st.composite
def instances(draw: st.DrawFn) -> tuple[list[str], list[str], list[Entity], list[tuple[int, int]]]:
    vocab = st.sampled_from(["a", "b", "Ca", ".", ",", '"', "«", "x-y", "!"])
    src = draw(st.lists(vocab, min_size=1, max_size=12))
    tgt = draw(st.lists(vocab, min_size=0, max_size=12))
    ents: list[Entity] = []
    pos = 0
    while pos < len(src):
        length = draw(st.integers(0, 3))
        if length and pos + length <= len(src):
            ents.append(Entity(pos, pos + length, draw(st.sampled_from(["PER", "ORG", "LOC"]))))
        pos += max(length, 1)
    pairs = st.tuples(st.integers(0, len(src) + 1), st.integers(0, len(tgt) + 1))
    align = draw(st.lists(pairs, max_size=30))
    return src, tgt, ents, align


@settings(max_examples=300, deadline=None)
@given(instances(), st.sampled_from(["gf2022", "paper"]), st.integers(0, 3), st.booleans())
def test_properties(inst, variant: str, max_gap: int, flag: bool) -> None:
    src, tgt, ents, align = inst
    proj = HeuristicProjector(
        variant=variant, max_gap=max_gap, merge_same_label=flag, symmetric_ratio=flag
    )
    out = proj(src, tgt, ents, align)
    assert out == sorted(out)
    labels = {e.label for e in ents}
    for k, e in enumerate(out):
        assert 0 <= e.start < e.end <= len(tgt)
        assert e.label in labels
        assert tgt[e.start] not in {".", ",", '"', "«", "!"}
        assert tgt[e.end - 1] not in {".", ",", '"', "«", "!"}
        if k:
            assert out[k - 1].end <= e.start
    # input order of entities does not matter
    assert proj(src, tgt, ents[::-1], align) == out
