"""CombinedAligner: two aligners' links by union, intersection or fill."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from spacy.util import registry

from xner_spacy.alignment.combined_aligner import CombinedAligner, combine


class Fixed:
    """An aligner that returns given links and records what it was asked."""

    def __init__(self, links: list[list[tuple[int, int]]], per_pair: bool) -> None:
        self.links = links
        self.per_pair = per_pair
        self.extra: Sequence[Sequence[str]] | None = None

    def align(self, src, tgt, extra_src=None, extra_tgt=None):  # type: ignore[no-untyped-def]
        self.extra = extra_src
        return self.links


A = [(0, 0), (1, 2)]
B = [(0, 0), (1, 1), (2, 2), (3, 3)]


def test_rules() -> None:
    assert combine(A, B, "union") == [(0, 0), (1, 1), (1, 2), (2, 2), (3, 3)]
    assert combine(A, B, "intersection") == [(0, 0)]
    # fill: B's (1,1) and (2,2) touch words A already links (source 1, target 2); (3,3) does not
    assert combine(A, B, "fill") == [(0, 0), (1, 2), (3, 3)]
    with pytest.raises(ValueError, match="rule must be one of"):
        combine(A, B, "both")


def test_aligner_combines_per_pair_and_passes_extra_text() -> None:
    neural, statistical = Fixed([A], per_pair=True), Fixed([B], per_pair=False)
    aligner = CombinedAligner(neural, statistical, rule="fill")
    assert not aligner.per_pair  # a statistical part trains on the corpus: no sharding
    extra = [["more", "text"]]
    out = aligner.align([["a", "b", "c", "d"]], [["w", "x", "y", "z"]], extra, extra)
    assert out == [[(0, 0), (1, 2), (3, 3)]]
    assert neural.extra == extra and statistical.extra == extra
    assert CombinedAligner(neural, Fixed([B], per_pair=True)).per_pair


def test_resolves_from_config_and_aligns_real_words() -> None:
    block = {
        "@misc": "xner.CombinedAligner.v1",
        "first": {"@misc": "xner.FastAlignAligner.v1"},
        "second": {"@misc": "xner.FastAlignAligner.v1", "prefix_len": 3},
        "rule": "intersection",
    }
    aligner = registry.resolve({"a": block})["a"]
    src = [["the", "house", "is", "small"]] * 20 + [["the", "car", "is", "red"]] * 20
    tgt = [["das", "Haus", "ist", "klein"]] * 20 + [["das", "Auto", "ist", "rot"]] * 20
    links = aligner.align(src, tgt)
    assert len(links) == 40 and (1, 1) in links[0]
    with pytest.raises(Exception, match="rule"):
        registry.resolve({"a": {**block, "rule": "nope"}})
