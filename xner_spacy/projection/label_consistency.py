"""Corpus-level label consistency: one label per name across a corpus.

A source labeller that has never seen a name guesses its type from the context, so the same
name gets different labels in different sentences ("President Buhari" PER, "Buhari's
administration" ORG; an unknown Ugandan surname PER in one sentence and LOC in the next).
Most occurrences are usually right, so a vote over every occurrence of the same surface
string in the corpus repairs the odd ones out (the "label consistency" of Krishnan & Manning,
2006, applied as a post-process). It runs twice:

- **source side**, before projection: each source entity takes the label most often given to
  its lowercased words in the corpus;
- **target side**, after projection: each projected span takes the label most often given to
  its lowercased words among all projected spans, where spans a target NER model proposed
  (``meta["ner_spans"]``, e.g. a translate-train student) vote too, with weight ``ner_weight``.

Plain Python over :class:`~xner_spacy.types.PairRecord` lists; the file-level step streams
records twice (count, then relabel).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..types import Entity, PairRecord
from .pair_context import NER_SPANS

Votes = dict[str, Counter[str]]


def surface(words: Sequence[str], start: int, end: int, lowercase: bool = True) -> str:
    """The key a span votes under: its words joined by spaces (lowercased by default)."""
    text = " ".join(words[start:end])
    return text.lower() if lowercase else text


def winner(votes: Counter[str], current: str, min_share: float) -> str:
    """The most-voted label if it holds at least ``min_share``; ties keep ``current``."""
    total = sum(votes.values())
    if total <= 0:
        return current
    best = max(votes.items(), key=lambda kv: (kv[1], kv[0] == current))
    if best[1] == votes.get(current, 0) or best[1] / total < min_share:
        return current
    return best[0]


@dataclass
class LabelConsistency:
    """Relabel entities by a corpus-wide vote over their surface string (see module doc).

    ``source``/``target``: which sides to vote on. ``ner_weight``: the vote of a span the
    target NER model proposed (0 ignores them). ``min_share``: the winning label must hold at
    least this share of the votes, otherwise the entity keeps its label (0: plurality).
    ``labels``: labels that vote and get relabelled (``None``: all); others are left alone.
    """

    source: bool = True
    target: bool = True
    ner_weight: float = 0.5
    min_share: float = 0.0
    lowercase: bool = True
    labels: Sequence[str] | None = None

    def __post_init__(self) -> None:
        if self.ner_weight < 0:
            raise ValueError(f"ner_weight must be >= 0, got {self.ner_weight}")
        if not 0.0 <= self.min_share <= 1.0:
            raise ValueError(f"min_share must be in [0, 1], got {self.min_share}")

    def _votes_for(self, label: str) -> bool:
        return self.labels is None or label in self.labels

    # --- counting --------------------------------------------------------------------------

    def count_source(self, records: Iterable[PairRecord], votes: Votes | None = None) -> Votes:
        """Add every source entity's label to ``votes`` (a new table by default)."""
        votes = defaultdict(Counter) if votes is None else votes
        for rec in records:
            for e in rec.src_ents or ():
                if self._votes_for(e.label):
                    votes[surface(rec.src_words, e.start, e.end, self.lowercase)][e.label] += 1
        return votes

    def count_target(self, records: Iterable[PairRecord], votes: Votes | None = None) -> Votes:
        """Add every projected span's label, and each proposed NER span's weighted label."""
        votes = defaultdict(Counter) if votes is None else votes
        for rec in records:
            for e in rec.tgt_ents or ():
                if self._votes_for(e.label):
                    votes[surface(rec.tgt_words, e.start, e.end, self.lowercase)][e.label] += 1
            if self.ner_weight > 0:
                for span in (rec.meta or {}).get(NER_SPANS, ()):
                    start, end, label = int(span[0]), int(span[1]), str(span[2])
                    if self._votes_for(label):
                        key = surface(rec.tgt_words, start, end, self.lowercase)
                        votes[key][label] += self.ner_weight  # type: ignore[assignment]
        return votes

    # --- relabelling -----------------------------------------------------------------------

    def _relabel(self, words: Sequence[str], ents: Sequence[Entity], votes: Votes) -> list[Entity]:
        out = []
        for e in ents:
            if self._votes_for(e.label):
                key = surface(words, e.start, e.end, self.lowercase)
                found = votes.get(key)
                if found:
                    e = Entity(e.start, e.end, winner(found, e.label, self.min_share))
            out.append(e)
        return out

    def relabel_source(self, rec: PairRecord, votes: Votes) -> PairRecord:
        """Give ``rec``'s source entities their corpus-majority labels (in place)."""
        if rec.src_ents is not None:
            rec.src_ents = self._relabel(rec.src_words, rec.src_ents, votes)
        return rec

    def relabel_target(self, rec: PairRecord, votes: Votes) -> PairRecord:
        """Give ``rec``'s projected entities their corpus-majority labels (in place)."""
        if rec.tgt_ents is not None:
            rec.tgt_ents = self._relabel(rec.tgt_words, rec.tgt_ents, votes)
        return rec

    # --- whole corpora in memory -----------------------------------------------------------

    def apply_source(self, records: Sequence[PairRecord]) -> Sequence[PairRecord]:
        """Source-side vote over ``records`` (a no-op when ``source`` is off)."""
        if self.source:
            votes = self.count_source(records)
            for rec in records:
                self.relabel_source(rec, votes)
        return records

    def apply_target(self, records: Sequence[PairRecord]) -> Sequence[PairRecord]:
        """Target-side vote over ``records`` (a no-op when ``target`` is off)."""
        if self.target:
            votes = self.count_target(records)
            for rec in records:
                self.relabel_target(rec, votes)
        return records
