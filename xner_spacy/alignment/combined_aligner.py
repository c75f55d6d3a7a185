"""Two aligners' word links combined: e.g. a neural aligner with a statistical one.

Neural aligners (SimAlign, AWESoME-style) link names and rare words that a statistical model
trained on a few thousand pairs has seen too seldom, while the statistical aligner learns
the corpus' own function words and inflections, which a multilingual encoder knows least for
languages it was hardly trained on. Their links are combined per pair:

* ``"union"``: every link of either aligner (recall);
* ``"intersection"``: links both propose (precision);
* ``"fill"``: all of ``first``'s links, plus ``second``'s links whose source *and* target
  words ``first`` left unaligned (the final-and step of grow-diag-final-and, between two
  aligners instead of two directions).

The result is statistical (trains on the whole corpus) when either part is, so the align
step then runs it over the whole corpus; ``extra_src``/``extra_tgt`` reach both parts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..types import Aligner, AlignPair

RULES = ("union", "intersection", "fill")


@dataclass
class CombinedAligner:
    """``first`` and ``second`` align the same pairs; ``rule`` combines their links."""

    first: Aligner
    second: Aligner
    rule: str = "fill"

    def __post_init__(self) -> None:
        if self.rule not in RULES:
            raise ValueError(f"rule must be one of {RULES}, got {self.rule!r}")

    @property
    def per_pair(self) -> bool:
        """Pair by pair only when both parts are (then the align step may shard it)."""
        return bool(getattr(self.first, "per_pair", False)) and bool(
            getattr(self.second, "per_pair", False)
        )

    def load(self) -> None:
        """Load the parts' models now (neural parts), so the first batch does not."""
        for part in (self.first, self.second):
            load = getattr(part, "load", None)
            if callable(load):
                load()

    def align(
        self,
        src: Sequence[Sequence[str]],
        tgt: Sequence[Sequence[str]],
        extra_src: Sequence[Sequence[str]] | None = None,
        extra_tgt: Sequence[Sequence[str]] | None = None,
    ) -> list[list[AlignPair]]:
        a = self.first.align(src, tgt, extra_src=extra_src, extra_tgt=extra_tgt)
        b = self.second.align(src, tgt, extra_src=extra_src, extra_tgt=extra_tgt)
        if len(a) != len(src) or len(b) != len(src):
            raise ValueError(
                f"the aligners returned {len(a)} and {len(b)} alignments for {len(src)} pairs"
            )
        return [combine(x, y, self.rule) for x, y in zip(a, b, strict=True)]


def combine(first: Sequence[AlignPair], second: Sequence[AlignPair], rule: str) -> list[AlignPair]:
    """The links of one pair under ``rule`` (see the module docstring), sorted."""
    a = {(int(i), int(j)) for i, j in first}
    b = {(int(i), int(j)) for i, j in second}
    if rule == "union":
        return sorted(a | b)
    if rule == "intersection":
        return sorted(a & b)
    if rule == "fill":
        src_linked = {i for i, _ in a}
        tgt_linked = {j for _, j in a}
        return sorted(a | {(i, j) for i, j in b if i not in src_linked and j not in tgt_linked})
    raise ValueError(f"rule must be one of {RULES}, got {rule!r}")
