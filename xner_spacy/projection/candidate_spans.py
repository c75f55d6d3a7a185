"""Target-side candidate spans for the candidate-matching projector (Politov et al. 2025).

An extractor is called once per source entity with the shared ``PairContext`` and
returns half-open target spans ``(start, end)``.  ``bounded`` tells it whether every
active score is *alignment-bounded* (see ``NgramCandidates``), which licenses it to
look only inside the entity's aligned window.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from .pair_context import NER_SPANS, PairContext, Span

#: Punctuation that ends or splits a sentence; an n-gram may not contain it.
SENTENCE_PUNCT: tuple[str, ...] = (".", "!", "?", ";", "…", "。", "！", "？", "؟", "।", "።")


@runtime_checkable
class CandidateExtractor(Protocol):
    """Proposes target spans that source entity ``k`` may be matched to."""

    def __call__(self, ctx: PairContext, k: int, bounded: bool) -> Iterable[Span]: ...


@dataclass(frozen=True)
class NgramCandidates:
    """All target n-grams of 1..``max_len`` words, minus implausible ones.

    An n-gram is skipped when it starts or ends on a punctuation-only word, or contains
    a punctuation-only word made of characters from ``sentence_punct`` (".", "?!", ...;
    "U.S." is a word, not punctuation, and is allowed).

    **Window restriction** (``restrict_to_aligned_window``, applied only when the matcher
    says every active score is *alignment-bounded*): only n-grams inside the entity's
    window ``W = [L', R']`` are proposed, where L/R are the leftmost/rightmost target
    words aligned to the entity and L'/R' move outwards past punctuation-only words to
    the nearest ordinary word (``PairContext.window``).  A score ``f`` is
    alignment-bounded when (a) ``f(s, t) <= 0`` if no word of ``t`` is aligned to
    ``s``, and (b) ``f(s, t') >= f(s, t)`` when ``t'`` is ``t`` with edge words that are
    not aligned to ``s`` removed.  Alignment Dice satisfies both, strictly in (b) when
    ``f(s, t) > 0`` (same number of links, smaller denominator), and so does any
    non-negative weighting of such scores.

    *Claim: the restriction loses nothing.*  Take a candidate ``t ⊄ W`` with
    ``f(s, t) > 0`` (pairs with ``f <= 0`` are never matched).  By (a) ``t`` holds an
    aligned word, at a position in ``[L, R] ⊆ W``; say ``t`` runs past ``R'`` (the left
    side is symmetric).  Then ``R' ∈ t``; ``R'`` is an ordinary word (if it were still
    punctuation it would be the last word of the sentence, and ``t`` could not run past
    it).  Let ``t' = t ∩ W``: its edges are ordinary words, it is a sub-span of ``t`` so it
    contains no sentence punctuation and is at most ``max_len`` long, hence ``t'`` is
    itself an in-window candidate; the dropped words lie beyond ``R`` (or before ``L``)
    so none is aligned to ``s``, and by (b) ``f(s, t') >= f(s, t)``.  Since ``t' ⊆ t``,
    any set of matched pairs that is feasible with ``(s, t)`` stays feasible with
    ``(s, t')``.  So every solution using an out-of-window pair is matched or beaten by
    one using in-window pairs only: the ILP optimum is unchanged; and with strict (b)
    greedy never picks an out-of-window pair either (whenever ``(s, t)`` is available,
    ``(s, t')`` is too, with a higher score), so greedy's output is unchanged.
    An entity with no aligned word gets no candidate (all its scores are ``<= 0``).

    *Pruning* (same condition).  Inside the window, an n-gram ``t`` of length ≥ 2 whose
    first word is not aligned to ``s`` while its second word is ordinary is dropped: ``t``
    minus its first word is a valid candidate (ordinary edges, sub-span, in window) and,
    by (b), scores at least as much (strictly for Dice when ``f(s, t) > 0``) while
    overlapping less; symmetrically for the last word; and single words not aligned to
    ``s`` are dropped by (a).  Each dropped n-gram is dominated by a one-word-shorter
    n-gram, which is kept or in turn dominated, so by induction on length by a kept one:
    the same argument as above shows the ILP optimum is unchanged and, with strict (b),
    greedy's output too.  The candidates that remain mostly start and end on aligned
    words, which is what makes matching fast.  (With only non-strict bounded scores
    greedy may break an exact tie differently; the score it reaches is unchanged for
    the ILP.)
    """

    max_len: int = 10
    restrict_to_aligned_window: bool = True
    sentence_punct: Sequence[str] = SENTENCE_PUNCT

    def __post_init__(self) -> None:
        if self.max_len < 1:
            raise ValueError(f"max_len must be >= 1, got {self.max_len}")
        # config files give lists; keep the dataclass hashable
        object.__setattr__(self, "sentence_punct", tuple(self.sentence_punct))
        object.__setattr__(self, "_chars", frozenset("".join(self.sentence_punct)))

    def __call__(self, ctx: PairContext, k: int, bounded: bool) -> list[Span]:
        """N-grams for entity ``k`` (inside its aligned window, pruned, when ``bounded``)."""
        splitter = self._splitters(ctx)
        if not (self.restrict_to_aligned_window and bounded):
            return ngram_spans(ctx, 0, ctx.n_tgt, self.max_len, splitter, None)
        win = ctx.window(k)
        if win is None:
            return []
        return ngram_spans(ctx, win[0], win[1], self.max_len, splitter, ctx.aligned(k))

    def _splitters(self, ctx: PairContext) -> list[bool]:
        """Per target word: is it punctuation made only of ``sentence_punct`` characters."""
        key = "splitters"
        got: tuple[frozenset[str], list[bool]] | None = ctx.cache.get(key)
        chars: frozenset[str] = self._chars  # type: ignore[attr-defined]
        if got is not None and (got[0] is chars or got[0] == chars):
            return got[1]
        punct, words = ctx.punct(), ctx.tgt_words
        flags = [False] * len(punct)
        i = -1
        while True:  # visit only the punctuation words (few), found by C-level search
            try:
                i = punct.index(True, i + 1)
            except ValueError:
                break
            flags[i] = chars.issuperset(words[i])
        ctx.cache[key] = (chars, flags)
        return flags


def ngram_spans(
    ctx: PairContext,
    lo: int,
    hi: int,
    max_len: int,
    splitter: Sequence[bool],
    aligned: Container[int] | None = None,
) -> list[Span]:
    """N-grams inside ``[lo, hi)`` with ordinary edge words and no sentence punctuation.

    With ``aligned`` (the target words aligned to the entity) dominated n-grams are
    pruned too: those without an aligned word at length 1, and those whose first (last)
    word is unaligned while the next (previous) word is ordinary (see
    ``NgramCandidates``).
    """
    punct = ctx.punct()
    out: list[Span] = []
    for start in range(lo, hi):
        if punct[start]:
            continue
        if aligned is None:
            out.append((start, start + 1))
        else:
            if start in aligned:
                out.append((start, start + 1))
            elif start + 1 < hi and not punct[start + 1]:
                continue
        for end in range(start + 2, min(hi, start + max_len) + 1):
            last = end - 1
            if splitter[last]:
                break
            if punct[last]:
                continue
            if aligned is not None and last not in aligned and not punct[last - 1]:
                continue
            out.append((start, end))
    return out


@dataclass(frozen=True)
class SpanCandidates:
    """Spans proposed by a NER model run on the target (any class), from ``extras``.

    ``extras[key]`` holds ``(start, end, label, score)`` tuples computed elsewhere.
    Proposals below ``min_score`` or out of range are ignored; ``labels`` (optional)
    keeps only those classes.  The same spans are offered to every source entity.
    """

    key: str = NER_SPANS
    min_score: float = 0.0
    labels: Sequence[str] | None = None

    def __post_init__(self) -> None:
        if self.labels is not None:
            object.__setattr__(self, "labels", tuple(self.labels))

    def __call__(self, ctx: PairContext, k: int, bounded: bool) -> list[Span]:
        """Distinct in-range proposed spans, in order of first appearance."""
        seen: dict[Span, None] = {}
        for start, end, label, score in ctx.extras.get(self.key, ()):
            if score < self.min_score or not 0 <= start < end <= ctx.n_tgt:
                continue
            if self.labels is not None and label not in self.labels:
                continue
            seen[(start, end)] = None
        return list(seen)


#: Name under which the lead registers ``SpanCandidates`` (``xner.NerCandidates.v1``).
NerCandidates = SpanCandidates
