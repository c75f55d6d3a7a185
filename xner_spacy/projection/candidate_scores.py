"""Scores for a (source entity, target candidate) pair, combinable by weights.

A score is called as ``score(ctx, k, span)`` for source entity ``k`` of the context and
a target span, and says via ``alignment_bounded`` whether it may be restricted to the
entity's aligned window without loss (definition and proof in
``candidates.NgramCandidates``).  Higher is better; the matcher never matches a pair
whose combined score is ``<= min_score`` (default 0).
"""

from __future__ import annotations

import difflib
import functools
import unicodedata
from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from .pair_context import NER_SPANS, TRANSLATION_PROBS, PairContext, Span


@runtime_checkable
class PairScore(Protocol):
    """Score of matching source entity ``k`` to target ``span``; higher is better."""

    @property
    def alignment_bounded(self) -> bool:
        """May candidates be restricted to the entity's aligned window (``NgramCandidates``)."""
        ...

    def __call__(self, ctx: PairContext, k: int, span: Span) -> float: ...


@dataclass(frozen=True)
class AlignmentDice:
    """Alignment Dice: ``2 * links(s, t) / (|s| + |t|)`` (Politov et al. 2025).

    ``links`` counts alignment pairs ``(i, j)`` with ``i`` in the source entity and ``j``
    in the candidate.  Range ``[0, 1]`` for one-to-one alignments (1 = every word of both
    sides aligned inside the pair); one-to-many links can push it above 1, which
    rewards a candidate that soaks up all the links of a multiply-aligned entity.  The
    backbone score: it is alignment-bounded (0 without a link, grows when unaligned
    edge words are trimmed).
    """

    alignment_bounded: bool = field(default=True, init=False)

    def __call__(self, ctx: PairContext, k: int, span: Span) -> float:
        start, end = span
        js = ctx.targets(k)
        n = bisect_left(js, end) - bisect_left(js, start)
        if not n:
            return 0.0
        ent = ctx.src_ents[k]
        return 2.0 * n / (ent.end - ent.start + end - start)

    def many(self, ctx: PairContext, k: int, spans: Sequence[Span]) -> list[float]:
        """``[self(ctx, k, span) for span in spans]``, with the per-entity work done once."""
        js = ctx.targets(k)
        if not js:
            return [0.0] * len(spans)
        ent = ctx.src_ents[k]
        n_src = ent.end - ent.start
        out: list[float] = []
        for start, end in spans:
            n = bisect_left(js, end) - bisect_left(js, start)
            out.append(2.0 * n / (n_src + end - start) if n else 0.0)
        return out


@dataclass(frozen=True)
class NerSpanScore:
    """Confidence of a target-side NER model that ``span`` is an entity (0 if not proposed).

    Read from ``extras[key]`` (``(start, end, label, score)`` tuples; the best score
    for the exact span wins).  With ``same_label`` only proposals carrying the source
    entity's label count.  Range ``[0, 1]`` for probabilities.  Helps fix boundaries
    the aligner gets wrong and recover entities it misses; not alignment-bounded.
    """

    key: str = NER_SPANS
    same_label: bool = False
    alignment_bounded: bool = field(default=False, init=False)

    def __call__(self, ctx: PairContext, k: int, span: Span) -> float:
        table = _ner_table(ctx, self.key)
        if self.same_label:
            return table.get((span[0], span[1], ctx.src_ents[k].label), 0.0)
        return table.get((span[0], span[1], None), 0.0)


def _ner_table(ctx: PairContext, key: str) -> dict[tuple[int, int, str | None], float]:
    """Best NER score per (start, end, label) and per (start, end, None), cached on ctx."""
    cache_key = "ner_table:" + key
    cached = ctx.cache.get(cache_key)
    if cached is not None:
        return cached
    table: dict[tuple[int, int, str | None], float] = {}
    for start, end, label, score in ctx.extras.get(key, ()):
        for lab in (label, None):
            if score > table.get((start, end, lab), float("-inf")):
                table[(start, end, lab)] = float(score)
    ctx.cache[cache_key] = table
    return table


@runtime_checkable
class TranslationScorer(Protocol):
    """``prob(src_text, tgt_text)``: how likely ``tgt_text`` translates ``src_text``."""

    def __call__(self, src_text: str, tgt_text: str, /) -> float: ...


@dataclass(frozen=True)
class TranslationProbability:
    """Probability that the candidate is a translation of the source entity.

    Looked up in ``extras[key]`` as ``{(k, start, end): p}`` when present (scores
    precomputed in batch, e.g. by a neural translation model), otherwise computed by
    ``prob(src_text, tgt_text)`` on space-joined words; 0 when neither is available.
    Range ``[0, 1]``.  Helps with loose or missing alignments, at the cost of a model
    call per pair; not alignment-bounded.
    """

    prob: TranslationScorer | None = None
    key: str = TRANSLATION_PROBS
    alignment_bounded: bool = field(default=False, init=False)

    def __call__(self, ctx: PairContext, k: int, span: Span) -> float:
        table = ctx.extras.get(self.key)
        if table is not None:
            return float(table.get((k, span[0], span[1]), 0.0))
        if self.prob is None:
            return 0.0
        return float(self.prob(ctx.src_text(k), ctx.tgt_text(span)))


# Cheap transliteration of Cyrillic and Greek letters, used when `unidecode` is absent.
_TRANSLIT = str.maketrans(
    {
        **dict(
            zip(
                "абвгдезийклмнопрстуфхцыэъьёєіїґў",
                [
                    "a", "b", "v", "g", "d", "e", "z", "i", "i", "k", "l", "m", "n", "o",
                    "p", "r", "s", "t", "u", "f", "kh", "ts", "y", "e", "", "", "e", "ie",
                    "i", "i", "g", "u",
                ],
                strict=True,
            )
        ),
        "ж": "zh", "ч": "ch", "ш": "sh", "щ": "shch", "ю": "iu", "я": "ia",
        **dict(
            zip(
                "αβγδεζηθικλμνξοπρσςτυφχψω",
                [
                    "a", "v", "g", "d", "e", "z", "i", "th", "i", "k", "l", "m", "n", "x",
                    "o", "p", "r", "s", "s", "t", "y", "f", "ch", "ps", "o",
                ],
                strict=True,
            )
        ),
    }
)  # fmt: skip


def _load_unidecode() -> Callable[[str], str] | None:
    """``unidecode.unidecode`` when installed, else ``None``."""
    try:
        from unidecode import unidecode
    except ImportError:
        return None
    return unidecode


def _load_ratio() -> Callable[[str, str], float]:
    """Normalised similarity in [0, 1]: rapidfuzz's Indel ratio if installed, else difflib."""
    try:
        from rapidfuzz.fuzz import ratio
    except ImportError:
        return lambda a, b: difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()
    return lambda a, b: float(ratio(a, b)) / 100.0


_UNIDECODE = _load_unidecode()
_RATIO = _load_ratio()


@functools.lru_cache(maxsize=1 << 16)
def normalise_name(text: str) -> str:
    """Case-folded, transliterated, diacritics-free letters/digits with single spaces."""
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn")
    text = _UNIDECODE(text) if _UNIDECODE is not None else text.translate(_TRANSLIT)
    kept = "".join(ch if ch.isalnum() else " " for ch in text.casefold())
    return " ".join(kept.split())


@dataclass(frozen=True)
class StringSimilarity:
    """Surface similarity of the two strings, for names copied across languages.

    Both sides are case-folded, NFKD-decomposed with combining marks dropped,
    transliterated (``unidecode`` if installed, else a built-in Cyrillic/Greek table)
    and reduced to letters/digits; the score is the normalised similarity ratio
    (``rapidfuzz`` Indel ratio if installed, else ``difflib``), in ``[0, 1]``, and 0
    when either side is empty after normalisation or when below ``min_similarity``.
    Helps for person and place names that alignment misses; useless for translated
    names (use translation probabilities); not alignment-bounded.
    """

    min_similarity: float = 0.0
    alignment_bounded: bool = field(default=False, init=False)

    def __call__(self, ctx: PairContext, k: int, span: Span) -> float:
        a = normalise_name(ctx.src_text(k))
        b = normalise_name(ctx.tgt_text(span))
        if not a or not b:
            return 0.0
        sim = 1.0 if a == b else _RATIO(a, b)
        return sim if sim >= self.min_similarity else 0.0


@dataclass(frozen=True)
class WeightedScore:
    """Weighted sum ``Σ w_i * score_i``; zero-weight scores are not evaluated.

    Alignment-bounded when every score with non-zero weight is, and no weight is
    negative (a non-negative sum of bounded scores keeps both properties).
    """

    scores: tuple[tuple[Any, float], ...]

    def __post_init__(self) -> None:
        pairs = tuple((s, float(w)) for s, w in self.scores if w != 0)
        object.__setattr__(self, "scores", pairs)

    @property
    def alignment_bounded(self) -> bool:
        """True when the restriction to the aligned window is lossless (see module doc)."""
        return all(w > 0 and s.alignment_bounded for s, w in self.scores)

    def __call__(self, ctx: PairContext, k: int, span: Span) -> float:
        total = 0.0
        for score, weight in self.scores:
            total += weight * score(ctx, k, span)
        return total

    def many(self, ctx: PairContext, k: int, spans: Sequence[Span]) -> list[float]:
        """``[self(ctx, k, span) for span in spans]`` (same additions, in the same order)."""
        totals = [0.0] * len(spans)
        for score, weight in self.scores:
            values = span_scores(score, ctx, k, spans)
            totals = [t + weight * v for t, v in zip(totals, values, strict=True)]
        return totals


def span_scores(score: PairScore, ctx: PairContext, k: int, spans: Sequence[Span]) -> list[float]:
    """Scores of entity ``k`` against each span: the score's ``many`` method when it has one.

    ``many`` is an optional batch form of ``__call__`` (same values) that lets a score do its
    per-entity work once per entity instead of once per candidate.
    """
    many = getattr(score, "many", None)
    if many is not None:
        return many(ctx, k, spans)
    return [score(ctx, k, span) for span in spans]


def weighted(scores: Sequence[PairScore], weights: Sequence[float] | None = None) -> PairScore:
    """One score from parallel lists; a single unit-weight score is returned as is."""
    if weights is None:
        weights = [1.0] * len(scores)
    if len(weights) != len(scores):
        raise ValueError(f"{len(scores)} scores but {len(weights)} weights")
    if len(scores) == 1 and weights[0] == 1.0:
        return scores[0]
    return WeightedScore(tuple(zip(scores, weights, strict=True)))
