"""Per-sentence-pair context shared by candidate extractors and scores.

Everything here is computed lazily and cached on the context, so a score or extractor
that needs e.g. the aligned window of an entity pays for it once per sentence pair.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping, Sequence
from typing import Any

from ..text import is_punct
from ..types import Alignment, Entity, Words
from .heuristic_projection import entity_links, links_by_src

Span = tuple[int, int]

#: ``extras`` key: NER proposals on the target, a list of ``(start, end, label, score)``.
NER_SPANS = "ner_spans"
#: ``extras`` key: precomputed translation probabilities, ``{(ent_idx, start, end): p}``.
TRANSLATION_PROBS = "translation_probs"


_PUNCT_CACHE: dict[str, bool] = {}


def punct_flags(words: Words) -> list[bool]:
    """``text.is_punct`` per word, memoised in a module-level dict (cleared when large).

    Alphabetic words (``str.isalpha``: Unicode letters only, never P*/S*) are answered
    without the lookup, which is most words and spares a large dictionary's cache misses.
    """
    cache = _PUNCT_CACHE
    flags = [False if w.isalpha() else cache.get(w) for w in words]
    if None in flags:
        if len(cache) > 1_000_000:
            cache.clear()
        for n, w in enumerate(words):
            if flags[n] is None:
                flags[n] = cache[w] = is_punct(w)
    return flags  # type: ignore[return-value]


class PairContext:
    """One sentence pair plus lazily cached views of its alignment (no spaCy, no I/O)."""

    __slots__ = (
        "src_words",
        "tgt_words",
        "src_ents",
        "alignment",
        "extras",
        "n_tgt",
        "_by_src",
        "_punct",
        "_targets",
        "_aligned",
        "_window",
        "cache",
    )

    def __init__(
        self,
        src_words: Words,
        tgt_words: Words,
        src_ents: Sequence[Entity],
        alignment: Alignment,
        extras: Mapping[str, Any] | None = None,
    ) -> None:
        self.src_words = src_words
        self.tgt_words = tgt_words
        self.src_ents = src_ents
        self.alignment = alignment
        self.extras: Mapping[str, Any] = extras if extras is not None else {}
        self.n_tgt = len(tgt_words)
        self._by_src: dict[int, list[int]] | None = None
        self._punct: list[bool] | None = None
        self._targets: list[list[int]] | None = None
        self._aligned: dict[int, frozenset[int]] = {}
        self._window: dict[int, Span | None] = {}
        #: free-form per-pair cache for scores and extractors (never the caller's extras)
        self.cache: dict[str, Any] = {}

    @property
    def by_src(self) -> dict[int, list[int]]:
        """Source index → its aligned target indices, in range (built on first use)."""
        if self._by_src is None:
            self._by_src = links_by_src(self.alignment, len(self.src_words), self.n_tgt)
        return self._by_src

    def punct(self) -> list[bool]:
        """Per target word: is it punctuation-only (``text.is_punct``)."""
        if self._punct is None:
            self._punct = punct_flags(self.tgt_words)
        return self._punct

    def targets(self, k: int) -> list[int]:
        """Sorted target indices of the links from entity ``k``, one per link (repeats kept)."""
        if self._targets is None:  # every entity at once: one pass per entity or one index
            n_src = len(self.src_words)
            self._targets = entity_links(self.alignment, self.src_ents, n_src, self.n_tgt)
        return self._targets[k]

    def aligned(self, k: int) -> frozenset[int]:
        """Target indices aligned to some word of entity ``k``."""
        got = self._aligned.get(k)
        if got is None:
            got = self._aligned[k] = frozenset(self.targets(k))
        return got

    def links(self, k: int, start: int, end: int) -> int:
        """Number of alignment pairs between source entity ``k`` and target ``[start, end)``."""
        js = self.targets(k)
        return bisect_left(js, end) - bisect_left(js, start)

    def window(self, k: int) -> Span | None:
        """Aligned window of entity ``k``: see ``NgramCandidates`` for why it is lossless.

        ``[L, R + 1)`` where L (R) is the leftmost (rightmost) target word aligned to the
        entity, moved outwards past punctuation-only words to the nearest ordinary word
        (or the sentence edge).  ``None`` when the entity has no aligned word.
        """
        if k in self._window:
            return self._window[k]
        js = self.targets(k)
        win: Span | None = None
        if js:
            lo, hi = js[0], js[-1]
            punct = self.punct()
            while lo > 0 and punct[lo]:
                lo -= 1
            while hi < self.n_tgt - 1 and punct[hi]:
                hi += 1
            win = (lo, hi + 1)
        self._window[k] = win
        return win

    def src_text(self, k: int) -> str:
        """Source entity ``k`` as space-joined words."""
        ent = self.src_ents[k]
        return " ".join(self.src_words[ent.start : ent.end])

    def tgt_text(self, span: Span) -> str:
        """Target span as space-joined words."""
        return " ".join(self.tgt_words[span[0] : span[1]])
