"""Core data model: words, entities, alignments and the JSONL pair record.

Plain Python, no spaCy: a sentence is a list of words, an entity is a half-open
``(start, end, label)`` word span, an alignment a set of ``(src_i, tgt_j)`` pairs.
"""

from __future__ import annotations

import numbers
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol, runtime_checkable


class Entity(NamedTuple):
    """A labelled span over word indices, ``end`` exclusive."""

    start: int
    end: int
    label: str

    def __len__(self) -> int:
        return self.end - self.start

    def overlaps(self, other: tuple[int, int, Any] | tuple[int, int]) -> bool:
        return self.start < other[1] and other[0] < self.end


Words = Sequence[str]
AlignPair = tuple[int, int]
Alignment = Sequence[AlignPair]


class RecordError(ValueError):
    """A pair record that is malformed; the message names its file and line."""


_REQUIRED = {"id": str, "src_words": list, "tgt_words": list}
_OPTIONAL_LISTS = ("src_ents", "alignment", "tgt_ents")


@dataclass
class PairRecord:
    """One sentence pair flowing between steps (one JSON line).

    Each step reads records, fills in its own field and writes them on:
    ``label`` → ``src_ents``; ``align`` → ``alignment``; ``project`` → ``tgt_ents``.
    """

    id: str
    src_lang: str
    tgt_lang: str
    src_words: list[str]
    tgt_words: list[str]
    src_ents: list[Entity] | None = None
    alignment: list[AlignPair] | None = None
    tgt_ents: list[Entity] | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def set_alignment(self, pairs: Iterable[Any], where: str) -> None:
        """Store ``pairs`` as this record's alignment, checked by :func:`checked_alignment`."""
        self.alignment = checked_alignment(
            pairs,
            len(self.src_words),
            len(self.tgt_words),
            f"{where}: record {self.id!r}: alignment",
        )

    def check_labels(self, labels: Collection[str], where: str) -> None:
        """Refuse a target entity type outside ``labels`` (a typo or an unmapped type)."""
        for ent in self.tgt_ents:
            if ent.label not in labels:
                raise RecordError(
                    f"{where}: record {self.id!r}: entity type {ent.label!r} in tgt_ents is "
                    f"not one of {','.join(sorted(labels))} (--labels)"
                )

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "src_lang": self.src_lang,
            "tgt_lang": self.tgt_lang,
            "src_words": list(self.src_words),
            "tgt_words": list(self.tgt_words),
            "src_ents": None if self.src_ents is None else [list(e) for e in self.src_ents],
            "alignment": None if self.alignment is None else [list(a) for a in self.alignment],
            "tgt_ents": None if self.tgt_ents is None else [list(e) for e in self.tgt_ents],
            "meta": self.meta,
        }

    @classmethod
    def from_dict(cls, data: Any, where: str = "<record>") -> PairRecord:
        """Build and validate a record; ``where`` (``file:line``) prefixes every error."""
        if not isinstance(data, dict):
            raise RecordError(f"{where}: expected a JSON object, got {type(data).__name__}")
        for key, typ in _REQUIRED.items():
            if key not in data:
                raise RecordError(f"{where}: missing required field '{key}'")
            if not isinstance(data[key], typ):
                raise RecordError(
                    f"{where}: field '{key}' must be {typ.__name__}, got {type(data[key]).__name__}"
                )
        for key in ("src_words", "tgt_words"):
            if not all(isinstance(w, str) and w for w in data[key]):
                raise RecordError(f"{where}: field '{key}' must be a list of non-empty strings")
            for k, w in enumerate(data[key]):
                if "\0" in w:  # ends a word in C aligners' files
                    raise RecordError(f"{where}: {key}[{k}] {w[:40]!r} contains NUL")
        for key in ("src_lang", "tgt_lang"):
            if not isinstance(data.get(key, ""), str):
                raise RecordError(f"{where}: field '{key}' must be a string")
        for key in _OPTIONAL_LISTS:
            if data.get(key) is not None and not isinstance(data[key], list):
                raise RecordError(f"{where}: field '{key}' must be a list or null")
        n_src, n_tgt = len(data["src_words"]), len(data["tgt_words"])
        src_ents = _parse_ents(data.get("src_ents"), n_src, f"{where}: src_ents")
        tgt_ents = _parse_ents(data.get("tgt_ents"), n_tgt, f"{where}: tgt_ents")
        alignment = None
        if data.get("alignment") is not None:  # a list: checked with the optional lists above
            alignment = checked_alignment(data["alignment"], n_src, n_tgt, f"{where}: alignment")
        meta = {} if data.get("meta") is None else data["meta"]
        if not isinstance(meta, dict):
            raise RecordError(f"{where}: field 'meta' must be an object")
        return cls(
            id=data["id"],
            src_lang=data.get("src_lang", ""),
            tgt_lang=data.get("tgt_lang", ""),
            src_words=list(data["src_words"]),
            tgt_words=list(data["tgt_words"]),
            src_ents=src_ents,
            alignment=alignment,
            tgt_ents=tgt_ents,
            meta=meta,
        )


def _is_index(value: Any) -> bool:
    """An integer (numpy's too) that is not a bool (JSON ``true`` would pass as index 1)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _parse_ents(value: Any, n_words: int, where: str) -> list[Entity] | None:
    if value is None:
        return None
    ents = []
    for k, item in enumerate(value):
        if (
            not isinstance(item, (list, tuple))
            or len(item) != 3
            or not _is_index(item[0])
            or not _is_index(item[1])
            or not isinstance(item[2], str)
            or not item[2]
        ):
            raise RecordError(f"{where}[{k}]: expected [start, end, label], got {item!r}")
        start, end, label = item
        if not 0 <= start < end <= n_words:
            raise RecordError(
                f"{where}[{k}]: span [{start}, {end}) out of range for {n_words} words"
            )
        ents.append(Entity(start, end, label))
    return ents


def checked_alignment(value: Iterable[Any], n_src: int, n_tgt: int, where: str) -> list[AlignPair]:
    """``value`` as a sorted, duplicate-free alignment of ``n_src`` x ``n_tgt`` words.

    The one check every writer of an alignment goes through (records read from JSON, the
    aligners' output, back-translation refinement, the spaCy components): each link must
    be a pair of integer word indices inside both sentences, else :class:`RecordError`
    naming ``where`` and the link's position.
    """
    pairs = set()
    for k, item in enumerate(value):
        if (
            not isinstance(item, (list, tuple))
            or len(item) != 2
            or not all(_is_index(x) for x in item)
        ):
            raise RecordError(f"{where}[{k}]: expected [src_index, tgt_index], got {item!r}")
        i, j = item
        if not (0 <= i < n_src and 0 <= j < n_tgt):
            raise RecordError(
                f"{where}[{k}]: pair ({i}, {j}) out of range for {n_src}x{n_tgt} words"
            )
        pairs.add((int(i), int(j)))
    return sorted(pairs)


@runtime_checkable
class Projector(Protocol):
    """Pure projection: (src words, tgt words, src entities, alignment) → tgt entities.

    ``extras`` carries optional per-pair side inputs (a record's ``meta``), e.g.
    ``ner_spans``: spans a target NER model proposed, used by candidate matching; projectors
    that need none ignore it.
    """

    def __call__(
        self,
        src_words: Words,
        tgt_words: Words,
        src_ents: Sequence[Entity],
        alignment: Alignment,
        extras: Mapping[str, Any] | None = None,
    ) -> list[Entity]: ...


@runtime_checkable
class Aligner(Protocol):
    """Aligns a corpus of sentence pairs; statistical aligners train on the corpus itself.

    ``extra_src``/``extra_tgt`` are more parallel sentences to learn from; only the
    alignments of ``src``/``tgt`` are returned. An aligner that aligns each pair on its own
    (e.g. a neural one) sets a class attribute ``per_pair = True``, so the align step may
    split the corpus into shards (see :func:`xner_spacy.runner.batch_steps.align_records`).
    """

    def align(
        self,
        src: Sequence[Words],
        tgt: Sequence[Words],
        extra_src: Sequence[Words] | None = None,
        extra_tgt: Sequence[Words] | None = None,
    ) -> list[list[AlignPair]]: ...


@runtime_checkable
class Labeller(Protocol):
    """Labels source sentences (lists of words) with PER/ORG/LOC entities."""

    def label(self, sentences: Iterable[Words]) -> Iterator[list[Entity]]: ...


@runtime_checkable
class Translator(Protocol):
    """Translates raw sentences, one output per input in input order.

    ``src_lang``/``tgt_lang`` override the translator's default direction (ISO 639 codes),
    so one translator also back-translates.
    """

    def translate(
        self, texts: Sequence[str], src_lang: str | None = None, tgt_lang: str | None = None
    ) -> list[str]: ...
