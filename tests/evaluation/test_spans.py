from __future__ import annotations

import pytest

from xner_spacy.evaluation.spans import score_spans
from xner_spacy.types import Entity as E


def test_exact_span_micro_and_per_label() -> None:
    gold = [[E(0, 2, "PER"), E(3, 4, "LOC"), E(5, 6, "DATE")], [E(0, 1, "ORG")]]
    pred = [[E(0, 2, "PER"), E(3, 5, "LOC")], [E(0, 1, "LOC")]]
    m = score_spans(gold, pred)
    # tp=1 (PER); pred has 3 scored spans, gold 3 (DATE ignored)
    assert m["precision"] == pytest.approx(1 / 3)
    assert m["recall"] == pytest.approx(1 / 3)
    assert m["per_label"]["PER"]["f1"] == 1.0
    assert m["per_label"]["LOC"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert m["per_label"]["ORG"]["support"] == 1
    assert m["unlabelled_f1"] == pytest.approx(2 / 3)  # (0,2) and (0,1) match unlabelled
    assert m["gold_entities"] == 3 and m["sentences"] == 2


def test_all_labels_when_labels_none_and_length_mismatch() -> None:
    m = score_spans([[E(0, 1, "DATE")]], [[E(0, 1, "DATE")]], labels=None)
    assert m["f1"] == 1.0 and list(m["per_label"]) == ["DATE"]
    with pytest.raises(ValueError):
        score_spans([[]], [[], []])


def test_error_breakdown_categories() -> None:
    from xner_spacy.evaluation.spans import error_breakdown

    gold = [[E(0, 2, "PER"), E(3, 4, "LOC"), E(5, 6, "ORG"), E(7, 8, "PER"), E(9, 10, "DATE")]]
    pred = [[E(0, 2, "PER"), E(3, 4, "ORG"), E(5, 7, "ORG"), E(11, 12, "LOC")]]
    assert error_breakdown(gold, pred) == {
        "correct": 1,
        "wrong_label": 1,
        "wrong_boundary": 1,
        "missed": 1,
        "spurious": 1,
    }
