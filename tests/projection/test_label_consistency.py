"""Corpus-level label consistency: votes per surface string, on both sides of projection."""

from __future__ import annotations

from collections import Counter

import pytest

from xner_spacy.projection.label_consistency import LabelConsistency, winner
from xner_spacy.types import Entity, PairRecord


def rec(src: str, tgt: str, src_ents=(), tgt_ents=None, ner_spans=None) -> PairRecord:
    meta = {"ner_spans": [list(s) for s in ner_spans]} if ner_spans is not None else {}
    return PairRecord(
        id=src,
        src_lang="en",
        tgt_lang="xx",
        src_words=src.split(),
        tgt_words=tgt.split(),
        src_ents=[Entity(*e) for e in src_ents],
        tgt_ents=None if tgt_ents is None else [Entity(*e) for e in tgt_ents],
        meta=meta,
    )


def test_winner_plurality_ties_and_share() -> None:
    assert winner(Counter({"PER": 3, "ORG": 1}), "ORG", 0.0) == "PER"
    assert winner(Counter({"PER": 2, "ORG": 2}), "ORG", 0.0) == "ORG"  # a tie keeps the label
    assert winner(Counter({"PER": 2, "ORG": 2}), "PER", 0.0) == "PER"
    assert winner(Counter({"PER": 2, "ORG": 1, "LOC": 1}), "LOC", 0.6) == "LOC"  # 50% < 60%
    assert winner(Counter(), "LOC", 0.0) == "LOC"


def test_source_vote_repairs_the_odd_one_out_case_insensitively() -> None:
    records = [
        rec("President Buhari spoke", "x", [(1, 2, "PER")]),
        rec("Buhari travelled", "x", [(0, 1, "PER")]),
        rec("BUHARI 's government", "x", [(0, 1, "ORG")]),
        rec("Lagos is big", "x", [(0, 1, "LOC")]),
    ]
    LabelConsistency().apply_source(records)
    assert [e.label for r in records for e in r.src_ents] == ["PER", "PER", "PER", "LOC"]


def test_target_vote_counts_proposed_spans_with_their_weight() -> None:
    records = [
        rec("a", "Otunnu yogera", tgt_ents=[(0, 1, "ORG")], ner_spans=[(0, 1, "PER", 1.0)]),
        rec("b", "Otunnu agenze", tgt_ents=[(0, 1, "PER")], ner_spans=[(0, 1, "PER", 1.0)]),
        rec("c", "Otunnu ali wano", tgt_ents=[(0, 1, "ORG")]),
    ]
    # ORG 2 votes, PER 1 + 2 × 0.5 = 2: a tie, so each span keeps its label.
    LabelConsistency(ner_weight=0.5).apply_target(records)
    assert [r.tgt_ents[0].label for r in records] == ["ORG", "PER", "ORG"]
    # With the NER spans at full weight PER wins everywhere.
    LabelConsistency(ner_weight=1.0).apply_target(records)
    assert [r.tgt_ents[0].label for r in records] == ["PER", "PER", "PER"]


def test_labels_outside_the_voting_set_are_untouched() -> None:
    records = [
        rec("Euro 2020", "x", [(0, 2, "MISC")]),
        rec("Euro 2020 again", "x", [(0, 2, "ORG")]),
        rec("Euro 2020 once more", "x", [(0, 2, "ORG")]),
    ]
    LabelConsistency(labels=["PER", "ORG", "LOC"]).apply_source(records)
    assert [r.src_ents[0].label for r in records] == ["MISC", "ORG", "ORG"]


def test_switches_and_boundaries_are_respected() -> None:
    records = [
        rec("Kampala city", "x", [(0, 1, "LOC")], tgt_ents=[(0, 1, "LOC")]),
        rec("Kampala again", "x", [(0, 1, "PER")], tgt_ents=[(0, 1, "PER")]),
        rec("Kampala now", "x", [(0, 1, "LOC")], tgt_ents=[(0, 1, "LOC")]),
    ]
    cons = LabelConsistency(source=False, target=False)
    cons.apply_source(records)
    cons.apply_target(records)
    assert records[1].src_ents[0].label == "PER" and records[1].tgt_ents[0].label == "PER"
    LabelConsistency().apply_source(records)
    # spans and their boundaries never change, only labels
    assert [tuple(r.src_ents[0])[:2] for r in records] == [(0, 1)] * 3
    assert records[1].src_ents[0].label == "LOC"


@pytest.mark.parametrize("kwargs", [{"ner_weight": -1.0}, {"min_share": 1.5}])
def test_bad_settings_are_refused(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        LabelConsistency(**kwargs)
