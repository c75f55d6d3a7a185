from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

import pytest

from xner_spacy.labelling.ensemble import EnsembleLabeller
from xner_spacy.types import Entity as E


class _Fixed:
    def __init__(self, ents: list[E]) -> None:
        self.ents = ents

    def label(self, sentences: Iterable[Sequence[str]]) -> Iterator[list[E]]:
        for _ in sentences:
            yield list(self.ents)


A = _Fixed([E(0, 2, "PER"), E(4, 5, "LOC")])
B = _Fixed([E(0, 2, "ORG"), E(3, 5, "LOC"), E(7, 8, "PER")])


def test_spans_from_one_labels_from_other() -> None:
    ens = EnsembleLabeller(
        {"a": A, "b": B}, span_weights={"a": 0.0, "b": 1.0}, label_weights={"a": 1, "b": 0.5}
    )
    # b decides the spans; where a proposed the same span, a's label wins
    assert list(ens.label([["w"] * 8])) == [[E(0, 2, "PER"), E(3, 5, "LOC"), E(7, 8, "PER")]]


def test_union_vote_resolves_overlaps_by_weight_then_length() -> None:
    ens = EnsembleLabeller({"a": A, "b": B}, span_weights={"a": 0.6, "b": 0.4}, threshold=0.4)
    out = next(ens.label([["w"] * 8]))
    assert E(4, 5, "LOC") in out and E(3, 5, "LOC") not in out  # a's span outweighs b's
    assert E(7, 8, "PER") in out
    assert out[0].start == 0 and out[0].end == 2
    strict = EnsembleLabeller({"a": A, "b": B}, threshold=2.0)  # both must agree on the span
    assert next(strict.label([["w"] * 8])) == [E(0, 2, "ORG")]  # label tie: alphabetical


def test_unknown_weight_name_rejected() -> None:
    with pytest.raises(ValueError, match="unknown labellers"):
        EnsembleLabeller({"a": A}, span_weights={"z": 1.0})
