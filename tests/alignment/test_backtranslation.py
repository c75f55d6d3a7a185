"""Back-translation refinement: monolingual matching, composition, and the three rules."""

from __future__ import annotations

import pytest
from spacy.util import registry

from xner_spacy.alignment.backtranslation import (
    BackTranslationRefiner,
    combine,
    compose,
    match_words,
    refine_alignment,
)

# "Lagos" is "Èkó" in the target; the direct aligner linked it to the wrong word ("si").
SRC = ["Ada", "visited", "Lagos", "yesterday"]
TGT = ["Ada", "lo", "si", "Eko", "lana"]
BT = ["Ada", "went", "to", "Lagos", "yesterday"]  # TGT translated back into English
DIRECT = [(0, 0), (1, 1), (2, 2), (3, 4)]
BT_TGT = [(0, 0), (1, 1), (2, 2), (3, 3), (4, 4)]


def test_match_words_exact_then_nothing_for_unrelated() -> None:
    assert match_words(SRC, BT) == [(0, 0), (2, 3), (3, 4)]  # visited ≠ went


def test_path_through_the_back_translation() -> None:
    assert compose(match_words(SRC, BT), BT_TGT) == {(0, 0), (2, 3), (3, 4)}


@pytest.mark.parametrize(
    "rule,expected",
    [
        # every direct link plus Lagos–Eko found through the back-translation
        ("union", [(0, 0), (1, 1), (2, 2), (2, 3), (3, 4)]),
        # covered words keep only confirmed links: Lagos–si goes; visited is not covered
        ("intersect", [(0, 0), (1, 1), (3, 4)]),
        # covered words take the path's links: Lagos–Eko replaces Lagos–si
        ("replace", [(0, 0), (1, 1), (2, 3), (3, 4)]),
    ],
)
def test_rules(rule: str, expected: list[tuple[int, int]]) -> None:
    assert refine_alignment(SRC, BT, DIRECT, BT_TGT, rule=rule) == expected
    assert BackTranslationRefiner(rule)(SRC, BT, DIRECT, BT_TGT) == expected


def test_uncovered_words_keep_their_links_and_unaligned_bt_words_cover_nothing() -> None:
    # "Lagos" is matched in BT, but that BT word is aligned to nothing: no evidence
    bt_tgt = [(0, 0), (4, 4)]
    for rule in ("intersect", "replace"):
        got = refine_alignment(SRC, BT, DIRECT, bt_tgt, rule=rule)
        assert (2, 2) in got and (1, 1) in got


def test_intersect_may_leave_a_covered_word_unaligned() -> None:
    direct = [(0, 1)]  # Ada aligned to the wrong word; the path says Ada–Ada
    assert combine(direct, {(0, 0)}, "intersect") == []
    assert combine(direct, {(0, 0)}, "replace") == [(0, 0)]
    assert combine(direct, {(0, 0)}, "union") == [(0, 0), (0, 1)]


def test_fuzzy_matching_threshold_and_length() -> None:
    src, bt = ["Tinubu", "visited", "Ada"], ["Tinubuu", "went", "Adah"]
    assert match_words(src, bt) == [(0, 0)]  # Ada/Adah: too short to match fuzzily
    assert match_words(src, bt, min_fuzzy_len=3) == [(0, 0), (2, 2)]
    assert match_words(src, bt, threshold=0.95) == []
    assert match_words([","], [";"], min_fuzzy_len=1, threshold=0.1) == []  # punctuation: exact


def test_fuzzy_ties_go_to_the_nearest_position() -> None:
    src = ["Obama", "met", "Obama"]
    bt = ["Obamas", "x", "y", "z", "Obamas"]
    assert match_words(src, bt) == [(0, 0), (2, 4)]


def test_case_and_tone_marks_do_not_block_exact_matches() -> None:
    assert match_words(["Ọlá", "LAGOS"], ["ola", "Lagos"]) == [(0, 0), (1, 1)]


def test_repeated_words_pair_in_reading_order() -> None:
    src, bt = ["the", "man", "saw", "the", "dog"], ["the", "dog", "and", "the", "man"]
    assert match_words(src, bt) == [(0, 0), (1, 4), (3, 3), (4, 1)]
    # unequal counts: the occurrence nearest in relative position wins
    assert match_words(["a", "x", "a"], ["a"]) == [(0, 0)]
    assert match_words(["a", "x", "a"], ["y", "a"]) == [(2, 1)]
    assert match_words(["y", "a"], ["a", "x", "a"]) == [(1, 2)]


def test_bad_settings_and_registry() -> None:
    with pytest.raises(ValueError, match="rule"):
        BackTranslationRefiner("both")
    with pytest.raises(ValueError, match="rule"):
        combine([], set(), "both")
    with pytest.raises(ValueError, match="threshold"):
        BackTranslationRefiner(threshold=0.0)
    block = {"@misc": "xner.BackTranslationRefiner.v1", "rule": "replace", "threshold": 0.9}
    refiner = registry.resolve({"r": block})["r"]
    assert refiner == BackTranslationRefiner("replace", 0.9)
    assert refiner(SRC, BT, DIRECT, BT_TGT) == [(0, 0), (1, 1), (2, 3), (3, 4)]
