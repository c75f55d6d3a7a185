"""Refining a word alignment through a back-translation (Politov et al., NoDaLiDa 2025).

Inputs, per sentence pair: source words ``S``, target words ``T``, the direct alignment
``A ⊆ S × T``, the back-translation ``B`` (``T`` machine-translated into the source language,
as words) and an alignment ``A_BT ⊆ B × T``.

Design. ``S`` and ``B`` are in the same language, so they can be matched by spelling: exact
matches first, then fuzzy ones (similar spelling above a threshold), one-to-one (see
:func:`match_words`). Composing that matching ``M ⊆ S × B`` with ``A_BT`` gives a second,
independent path from source to target words, ``P = M ∘ A_BT``. ``A_BT`` comes from running the
*same* aligner on ``(B, T)``: ``B`` is a literal machine translation of ``T``, closer to it in
word order and wording than the human or free source sentence, so the aligner does better on it,
and a statistical aligner can train on both pair sets at once. (The translator's own
cross-attention would be the other way to link ``B`` to ``T``; it is noisier per word and would
tie the refinement to one model, so it is not used.) Everything here is pure: word lists and
pairs in, pairs out.

How ``P`` and ``A`` combine (``rule``), for the source words ``P`` covers (those matched in ``B``
whose match is aligned to some target word); uncovered words always keep their links in ``A``:

- ``"union"``: ``A ∪ P``. Recall: adds links the direct aligner missed (names spelled alike in
  ``S`` and ``B`` but aligned nowhere), at the price of any error in ``A_BT``.
- ``"intersect"``: covered words keep only the links of ``A`` that ``P`` confirms. Precision:
  two independent alignments rarely make the same mistake, so spurious links that widen or
  misplace projected spans are dropped; a covered word may lose all its links.
- ``"replace"``: covered words take their links from ``P`` instead of ``A``. Trusts the
  literal back-translation path over the direct one wherever it exists.
"""

from __future__ import annotations

import difflib
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..text import is_punct
from ..types import Alignment, AlignPair, Words

RULES = ("replace", "intersect", "union")


def _norm(word: str) -> str:
    """Case-folded, compatibility-normalised, without combining marks (tones, accents)."""
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _monotone_pairs(ps: Sequence[int], qs: Sequence[int], n: int, m: int) -> list[AlignPair]:
    """Order-preserving one-to-one pairing of positions ``ps`` (of ``n``) with ``qs`` (of ``m``).

    ``min(len(ps), len(qs))`` pairs, chosen to minimise the summed difference of relative
    positions (dynamic programming), so repeated words pair up in reading order.
    """
    if len(ps) == len(qs):
        return list(zip(ps, qs, strict=True))
    swap = len(ps) > len(qs)
    short, long_ = (qs, ps) if swap else (ps, qs)
    ns, nl = (m, n) if swap else (n, m)

    def cost(a: int, b: int) -> float:
        return abs(short[a] / max(ns, 1) - long_[b] / max(nl, 1))

    inf = float("inf")
    # best[a][b]: cost of pairing short[:a] within long_[:b]
    best = [[inf] * (len(long_) + 1) for _ in range(len(short) + 1)]
    best[0] = [0.0] * (len(long_) + 1)
    for a in range(1, len(short) + 1):
        for b in range(a, len(long_) + 1):
            best[a][b] = min(best[a][b - 1], best[a - 1][b - 1] + cost(a - 1, b - 1))
    pairs: list[AlignPair] = []
    a, b = len(short), len(long_)
    while a:
        if b > a and best[a][b] == best[a][b - 1]:
            b -= 1
            continue
        pairs.append((short[a - 1], long_[b - 1]) if not swap else (long_[b - 1], short[a - 1]))
        a, b = a - 1, b - 1
    return sorted(pairs)


def match_words(
    src_words: Words, bt_words: Words, *, threshold: float = 0.8, min_fuzzy_len: int = 4
) -> list[AlignPair]:
    """One-to-one monolingual matching ``(src_i, bt_k)`` of two same-language sentences.

    1. Exact: words equal after case folding and removing accents/tone marks; a word that
       occurs several times on a side pairs up in reading order (``_monotone_pairs``).
    2. Fuzzy, among words still unmatched, both at least ``min_fuzzy_len`` characters and
       not punctuation: pairs whose similarity ratio (difflib) is ``>= threshold``, best
       first, ties to the pair closest in relative position, each word used once.
    """
    n, m = len(src_words), len(bt_words)
    src_norm = [_norm(w) for w in src_words]
    bt_norm = [_norm(w) for w in bt_words]
    by_form_src: dict[str, list[int]] = defaultdict(list)
    by_form_bt: dict[str, list[int]] = defaultdict(list)
    for i, w in enumerate(src_norm):
        by_form_src[w].append(i)
    for k, w in enumerate(bt_norm):
        by_form_bt[w].append(k)
    pairs: list[AlignPair] = []
    for form, ps in by_form_src.items():
        qs = by_form_bt.get(form)
        if qs and form:
            pairs.extend(_monotone_pairs(ps, qs, n, m))
    used_src = {i for i, _ in pairs}
    used_bt = {k for _, k in pairs}

    def fuzzy_ok(w: str, word: str) -> bool:
        return len(w) >= min_fuzzy_len and not is_punct(word)

    left = [i for i in range(n) if i not in used_src and fuzzy_ok(src_norm[i], src_words[i])]
    right = [k for k in range(m) if k not in used_bt and fuzzy_ok(bt_norm[k], bt_words[k])]
    scored: list[tuple[float, float, int, int]] = []
    for i in left:
        a = src_norm[i]
        matcher = difflib.SequenceMatcher(None, autojunk=False)
        matcher.set_seq2(a)
        for k in right:
            b = bt_norm[k]
            if 2.0 * min(len(a), len(b)) / (len(a) + len(b)) < threshold:
                continue  # the ratio can never reach the threshold
            matcher.set_seq1(b)
            if matcher.quick_ratio() < threshold:
                continue
            ratio = matcher.ratio()
            if ratio >= threshold:
                scored.append((-ratio, abs(i / max(n, 1) - k / max(m, 1)), i, k))
    for _, _, i, k in sorted(scored):
        if i not in used_src and k not in used_bt:
            used_src.add(i)
            used_bt.add(k)
            pairs.append((i, k))
    return sorted(pairs)


def compose(src_bt: Iterable[AlignPair], bt_tgt: Iterable[AlignPair]) -> set[AlignPair]:
    """``{(i, j) : (i, k) ∈ src_bt and (k, j) ∈ bt_tgt}``: source–target links via ``B``."""
    by_bt: dict[int, list[int]] = defaultdict(list)
    for k, j in bt_tgt:
        by_bt[k].append(j)
    return {(i, j) for i, k in src_bt for j in by_bt.get(k, ())}


def combine(alignment: Alignment, path: set[AlignPair], rule: str) -> list[AlignPair]:
    """Combine the direct alignment with the back-translation path (see module docstring)."""
    if rule not in RULES:
        raise ValueError(f"rule must be one of {RULES}, got {rule!r}")
    direct = set(map(tuple, alignment))
    if rule == "union":
        return sorted(direct | path)  # type: ignore[arg-type]
    covered = {i for i, _ in path}
    kept = {(i, j) for i, j in direct if i not in covered}
    if rule == "intersect":
        return sorted(kept | (direct & path))  # type: ignore[operator]
    return sorted(kept | path)


def refine_alignment(
    src_words: Words,
    bt_words: Words,
    alignment: Alignment,
    bt_alignment: Alignment,
    *,
    rule: str = "union",
    threshold: float = 0.8,
    min_fuzzy_len: int = 4,
) -> list[AlignPair]:
    """The direct ``alignment`` (src, tgt) refined through the back-translation ``bt_words``.

    ``bt_alignment`` holds ``(bt_index, tgt_index)`` pairs; the target words themselves are
    not needed. Returns sorted ``(src_index, tgt_index)`` pairs.
    """
    matches = match_words(src_words, bt_words, threshold=threshold, min_fuzzy_len=min_fuzzy_len)
    return combine(alignment, compose(matches, bt_alignment), rule)


@dataclass(frozen=True)
class BackTranslationRefiner:
    """``refine_alignment`` with fixed settings, callable per sentence pair."""

    rule: str = "union"
    threshold: float = 0.8
    min_fuzzy_len: int = 4

    def __post_init__(self) -> None:
        if self.rule not in RULES:
            raise ValueError(f"rule must be one of {RULES}, got {self.rule!r}")
        if not 0.0 < self.threshold <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], got {self.threshold}")

    def __call__(
        self, src_words: Words, bt_words: Words, alignment: Alignment, bt_alignment: Alignment
    ) -> list[AlignPair]:
        return refine_alignment(
            src_words,
            bt_words,
            alignment,
            bt_alignment,
            rule=self.rule,
            threshold=self.threshold,
            min_fuzzy_len=self.min_fuzzy_len,
        )
