"""Corpus-level passes over projected records: what one sentence pair cannot decide alone.

Projection works sentence by sentence, but names recur across a corpus, and what the corpus
says about a name is evidence a single pair lacks. Each pass here is two-phase so that it can
stream over a records file as well as run over a list in memory:

1. ``count(records)`` reads the corpus (``records`` is a zero-argument callable returning a
   fresh iterable, so a pass may read it more than once) and returns its statistics;
2. ``apply(rec, stats)`` changes one record in place and returns how many entities changed.

The passes, in the order :func:`passes_from` runs them:

- **source label vote** (:class:`~xner_spacy.projection.label_consistency.LabelConsistency`,
  ``source = true``): before projection, each source name takes its corpus-majority label;
- *projection*;
- **supported fallback** (:class:`SupportedFallback`): a second projector (e.g. the
  alignment heuristic) re-projects the source entities; a span it finds is added where the
  first projector left the target words free *and* the same words were projected (or
  proposed by a target NER model) somewhere else in the corpus. Candidate matching over NER
  proposals drops an entity whenever the model proposed nothing for it in that sentence;
  corpus support restores the ones the corpus vouches for without letting in every noisy
  heuristic span;
- **target label vote** (``target = true``): each projected name takes its corpus-majority
  label, with NER proposals voting;
- **name propagation** (:class:`NamePropagation`): a name projected as an entity in some
  sentences is marked in every other sentence where it occurs, if it was projected in at
  least ``min_share`` of its occurrences. Projection misses names the source labeller or
  the aligner missed in that sentence; the same surface string projected elsewhere is
  strong evidence (one sense per discourse, Gale et al. 1992, and the document-level label
  propagation of silver NER data).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Container, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from ..types import Entity, PairRecord, Projector
from .label_consistency import LabelConsistency, surface
from .pair_context import NER_SPANS

Records = Callable[[], Iterable[PairRecord]]

SUPPORTS = ("corpus", "none")


class CorpusPass(Protocol):
    """A two-phase corpus-level pass (see module doc)."""

    @property
    def name(self) -> str: ...

    def count(self, records: Records) -> Any: ...

    def apply(self, rec: PairRecord, stats: Any) -> int: ...


def _free(ents: Sequence[Entity], span: tuple[int, int]) -> bool:
    return not any(e.overlaps(span) for e in ents)


def _insert(ents: Sequence[Entity], new: Entity) -> list[Entity]:
    return sorted([*ents, new], key=lambda e: (e.start, e.end))


@dataclass(frozen=True)
class LabelVote:
    """One side of a :class:`LabelConsistency` as a corpus pass."""

    consistency: LabelConsistency
    side: str

    def __post_init__(self) -> None:
        if self.side not in ("source", "target"):
            raise ValueError(f"side must be 'source' or 'target', got {self.side!r}")

    @property
    def name(self) -> str:
        return f"{self.side}_vote"

    def count(self, records: Records) -> Any:
        if self.side == "source":
            return self.consistency.count_source(records())
        return self.consistency.count_target(records())

    def apply(self, rec: PairRecord, stats: Any) -> int:
        ents = rec.src_ents if self.side == "source" else rec.tgt_ents
        before = [e.label for e in ents or ()]
        if self.side == "source":
            self.consistency.relabel_source(rec, stats)
        else:
            self.consistency.relabel_target(rec, stats)
        after = rec.src_ents if self.side == "source" else rec.tgt_ents
        return sum(a != b.label for a, b in zip(before, after or (), strict=True))


@dataclass(frozen=True)
class SupportedFallback:
    """Add a second projector's spans where the target is free and the corpus supports them.

    ``projector``: the fallback (any :class:`~xner_spacy.types.Projector`, usually
    ``xner.HeuristicProjector.v1``), run on every source entity of a scored label; its spans
    that overlap no entity already projected are candidates. ``support``: ``"corpus"`` keeps a
    candidate only if its lowercased words were projected (``tgt_ents``) or, with
    ``ner_support``, proposed by a target NER model (``meta["ner_spans"]``) somewhere in the
    corpus; ``"none"`` keeps every candidate (the plain union of both projectors).
    ``labels``: source labels to re-project (``None``: all).
    """

    projector: Projector
    support: str = "corpus"
    ner_support: bool = True
    lowercase: bool = True
    labels: Sequence[str] | None = None
    name: str = "fallback"

    def __post_init__(self) -> None:
        if self.support not in SUPPORTS:
            raise ValueError(f"support must be one of {SUPPORTS}, got {self.support!r}")
        if self.labels is not None:
            object.__setattr__(self, "labels", tuple(self.labels))

    def _scored(self, label: str) -> bool:
        return self.labels is None or label in self.labels

    def count(self, records: Records) -> frozenset[str] | None:
        """The set of supported surface strings (``None`` when ``support = "none"``)."""
        if self.support == "none":
            return None
        seen: set[str] = set()
        for rec in records():
            for e in rec.tgt_ents or ():
                if self._scored(e.label):
                    seen.add(surface(rec.tgt_words, e.start, e.end, self.lowercase))
            if self.ner_support:
                for span in (rec.meta or {}).get(NER_SPANS, ()):
                    if self._scored(str(span[2])):
                        seen.add(surface(rec.tgt_words, int(span[0]), int(span[1]), self.lowercase))
        return frozenset(seen)

    def apply(self, rec: PairRecord, stats: frozenset[str] | None) -> int:
        if rec.alignment is None:
            raise ValueError(f"record {rec.id!r} has no alignment: align before projecting")
        src = [e for e in rec.src_ents or () if self._scored(e.label)]
        if not src:
            return 0
        found = self.projector(rec.src_words, rec.tgt_words, src, rec.alignment, extras=rec.meta)
        ents = list(rec.tgt_ents or ())
        added = 0
        for e in found:
            if not _free(ents, (e.start, e.end)):
                continue
            key = surface(rec.tgt_words, e.start, e.end, self.lowercase)
            if stats is not None and key not in stats:
                continue
            ents = _insert(ents, e)
            added += 1
        rec.tgt_ents = ents
        return added


def _by_first_word(shapes: Iterable[tuple[str, int]]) -> dict[str, tuple[int, ...]]:
    """First word → the lengths (in words) of the names that start with it.

    ``shapes``: ``(first word, number of words)`` per name, taken from the word lists, since
    a token may itself hold a space (so a name's string does not split back into its words).
    """
    starts: dict[str, set[int]] = {}
    for first, n in shapes:
        starts.setdefault(first, set()).add(n)
    return {w: tuple(sorted(ns)) for w, ns in starts.items()}


def _split_shapes(names: Iterable[str]) -> Iterator[tuple[str, int]]:
    """Shapes of names given as plain strings: split on spaces."""
    for key in names:
        words = key.split(" ")
        yield words[0], len(words)


def _occurrences(
    words: Sequence[str], starts: Mapping[str, tuple[int, ...]], names: Container[str]
) -> list[tuple[int, int, str]]:
    """``(start, length, name)`` of every occurrence of ``names`` in ``words``.

    Only positions whose word starts some name are tried, so a sentence costs one dictionary
    lookup per word rather than one string join per n-gram.
    """
    found = []
    for i, w in enumerate(words):
        for n in starts.get(w, ()):
            if i + n <= len(words):
                key = " ".join(words[i : i + n])
                if key in names:
                    found.append((i, n, key))
    return found


class Names(dict[str, str]):
    """:meth:`NamePropagation.count`'s result: ``{name: label}`` with a first-word index."""

    def __init__(
        self, names: Mapping[str, str], shapes: Mapping[str, tuple[str, int]] | None = None
    ) -> None:
        super().__init__(names)
        found = (shapes[k] for k in self) if shapes is not None else _split_shapes(self)
        self.starts = _by_first_word(found)


@dataclass(frozen=True)
class NamePropagation:
    """Mark every occurrence of a name that was projected in enough of its occurrences.

    Statistics (two reads of the corpus): for each projected surface string of at most
    ``max_len`` words, its label counts, then how often those words occur anywhere in the
    target sentences. A string is propagated if it was projected at least ``min_count`` times
    and in at least ``min_share`` of its occurrences; it takes its most frequent label.
    Occurrences are matched longest first, left to right, where no entity is yet.
    ``labels``: labels that propagate (``None``: all).
    """

    min_share: float = 0.5
    min_count: int = 2
    max_len: int = 6
    lowercase: bool = True
    labels: Sequence[str] | None = None
    name: str = "propagation"

    def __post_init__(self) -> None:
        if not 0.0 <= self.min_share <= 1.0:
            raise ValueError(f"min_share must be in [0, 1], got {self.min_share}")
        if self.min_count < 1:
            raise ValueError(f"min_count must be >= 1, got {self.min_count}")
        if self.max_len < 1:
            raise ValueError(f"max_len must be >= 1, got {self.max_len}")
        if self.labels is not None:
            object.__setattr__(self, "labels", tuple(self.labels))

    def _words(self, words: Sequence[str]) -> list[str]:
        return [w.lower() for w in words] if self.lowercase else list(words)

    def count(self, records: Records) -> Names:
        """``{surface: label}`` of the names to propagate."""
        labelled: dict[str, Counter[str]] = {}
        shapes: dict[str, tuple[str, int]] = {}
        for rec in records():
            for e in rec.tgt_ents or ():
                if (self.labels is None or e.label in self.labels) and len(e) <= self.max_len:
                    words = self._words(rec.tgt_words[e.start : e.end])
                    key = " ".join(words)
                    labelled.setdefault(key, Counter())[e.label] += 1
                    shapes.setdefault(key, (words[0], len(words)))
        starts = _by_first_word(shapes.values())
        occurrences: Counter[str] = Counter()
        for rec in records():
            for _, _, name in _occurrences(self._words(rec.tgt_words), starts, labelled):
                occurrences[name] += 1
        out = {}
        for key, labels in labelled.items():
            n_labelled = sum(labels.values())
            # every labelled span is itself an occurrence; max() only guards the division
            share = n_labelled / max(occurrences[key], n_labelled)
            if n_labelled >= self.min_count and share >= self.min_share:
                out[key] = max(labels.items(), key=lambda kv: (kv[1], kv[0]))[0]
        return Names(out, shapes)

    def apply(self, rec: PairRecord, stats: Mapping[str, str]) -> int:
        if not stats:
            return 0
        starts = stats.starts if isinstance(stats, Names) else _by_first_word(_split_shapes(stats))
        found = _occurrences(self._words(rec.tgt_words), starts, stats)
        ents = list(rec.tgt_ents or ())
        added = 0
        # longest first, then left to right
        for i, n, key in sorted(found, key=lambda f: (-f[1], f[0])):
            if _free(ents, (i, i + n)):
                ents = _insert(ents, Entity(i, i + n, stats[key]))
                added += 1
        rec.tgt_ents = ents
        return added


def passes_from(
    consistency: LabelConsistency | None = None,
    fallback: SupportedFallback | None = None,
    propagation: NamePropagation | None = None,
    labels: Sequence[str] | None = None,
) -> tuple[list[CorpusPass], list[CorpusPass]]:
    """The passes to run before and after projection, in order.

    ``labels`` (e.g. the scored labels of an evaluation) fills each part's ``labels`` where
    the config left it unset.
    """

    def scoped(part: Any) -> Any:
        return replace(part, labels=labels) if labels is not None and part.labels is None else part

    before: list[CorpusPass] = []
    after: list[CorpusPass] = []
    if consistency is not None:
        consistency = scoped(consistency)
        if consistency.source:
            before.append(LabelVote(consistency, "source"))
    if fallback is not None:
        after.append(scoped(fallback))
    if consistency is not None and consistency.target:
        after.append(LabelVote(consistency, "target"))
    if propagation is not None:
        after.append(scoped(propagation))
    return before, after


def run_passes(records: Sequence[PairRecord], passes: Iterable[CorpusPass]) -> dict[str, int]:
    """Run ``passes`` over in-memory ``records`` in order; ``{pass name: entities changed}``."""
    changed: dict[str, int] = {}
    for p in passes:
        stats = p.count(lambda: records)
        changed[p.name] = sum(p.apply(rec, stats) for rec in records)
    return changed


#: Config sections holding corpus-level parts, in the keyword order of :func:`passes_from`.
SECTIONS = ("consistency", "fallback", "propagation")
