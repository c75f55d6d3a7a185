"""Multi-source voting."""

from __future__ import annotations

import pytest

from xner_spacy.projection import vote
from xner_spacy.types import Entity

PER = Entity(0, 2, "PER")
ORG = Entity(0, 2, "ORG")
LOC = Entity(3, 4, "LOC")
LONG = Entity(0, 4, "ORG")


def test_majority() -> None:
    projs = [([PER, LOC], 1.0), ([PER], 1.0), ([ORG], 1.0)]
    assert vote(projs) == [PER]
    assert vote(projs, threshold=0.3) == [PER, LOC]
    assert vote(projs, threshold=0.3, min_votes=2) == [PER]


def test_weights_and_empty_sources_vote_against() -> None:
    assert vote([([ORG], 3.0), ([PER], 1.0)]) == [ORG]
    assert vote([([PER], 1.0), ([], 1.0), ([], 1.0)]) == []
    assert vote([([PER], 1.0), ([PER], 1.0), ([], 1.0), ([], 1.0)]) == [PER]
    assert vote([]) == [] and vote([([PER], 0.0)]) == []


def test_overlap_resolution() -> None:
    # same weight: the longer span wins; higher weight beats length
    assert vote([([PER], 1.0), ([LONG], 1.0)], threshold=0.5) == [LONG]
    assert vote([([PER], 2.0), ([LONG], 1.0)], threshold=0.3) == [PER]
    # duplicates inside one projection count once
    assert vote([([PER, PER], 1.0), ([LONG], 1.0)]) == [LONG]


def test_invalid() -> None:
    with pytest.raises(ValueError):
        vote([([PER], 1.0)], threshold=1.5)
    with pytest.raises(ValueError):
        vote([([PER], -1.0)])
    with pytest.raises(ValueError):
        vote([([PER], 1.0)], min_votes=-1)
