"""Token-per-line NER files (CoNLL style): BIO, IOB1/IOB2, BIOES/BILUO; read and write.

Columns are split on spaces or tabs; the token is the first column and the tag the last,
so two-column MasakhaNER/WikiANN, tab-separated Europarl and four-column CoNLL-2003 all read
the same way. A blank line ends a sentence; ``-DOCSTART-`` lines are skipped.

Tag decoding is lenient: ``B-X``/``S-X``/``U-X`` always start an entity, ``I-X``/``E-X``/``L-X``
continue an open entity of type X on the previous token and otherwise start a new one. That
reads IOB1 (where ``I-`` starts entities), IOB2/BIO and BIOES/BILUO correctly. Every entity
started by ``I-``/``E-``/``L-`` is counted in ``ReadStats.repaired``: expected for IOB1 files,
a sign of broken BIO otherwise.

Entity types outside the allowed ``labels`` are an error naming ``file:line``, or with
``unknown_labels="drop"`` are read as ``O`` and counted in ``ReadStats.dropped_labels``. Tokens
that look like mojibake are counted and logged, repaired or refused (``mojibake``; see
:mod:`.mojibake`).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..text import nfc
from ..types import Entity
from .atomic import atomic_write
from .errors import DataFormatError, ReadStats, iter_decoded_lines, note_skip
from .mojibake import MojibakeCheck

_COL_RE = re.compile(r"[ \t]+")
_TAG_RE = re.compile(r"^([BIESLU])-(\S+)$")
_DOCSTART = "-DOCSTART-"
_STARTS = frozenset("BSU")
_ENDS = frozenset("ESLU")
UNKNOWN_LABELS = ("error", "drop")


@dataclass
class TaggedSentence:
    """One gold sentence: words, raw tags as in the file, decoded entities, and its origin."""

    words: list[str]
    tags: list[str]
    ents: list[Entity]
    path: str
    line: int


class _TagError(ValueError):
    """A tag that is neither ``O`` nor ``PREFIX-TYPE``."""


def _parse_tag(tag: str) -> tuple[str, str | None]:
    """Split a tag into (prefix, type); ``O`` gives ``("O", None)``."""
    if tag == "O":
        return "O", None
    m = _TAG_RE.match(tag)
    if m is None:
        raise _TagError(f"malformed tag {tag!r} (expected O or B-/I-/E-/S-/L-/U-TYPE)")
    return m.group(1), m.group(2)


@dataclass
class _Decoder:
    """Incremental lenient IOB/BIOES decoder over (prefix, type) per token."""

    ents: list[Entity] = field(default_factory=list)
    repaired: int = 0
    _open: tuple[int, str] | None = None
    _pos: int = 0

    def feed(self, prefix: str, label: str | None) -> None:
        """Consume the next token's tag."""
        i = self._pos
        self._pos += 1
        if label is None or prefix == "O":
            self._close(i)
            return
        continues = prefix not in _STARTS and self._open is not None and self._open[1] == label
        if not continues:
            self._close(i)
            if prefix not in _STARTS:
                self.repaired += 1
            self._open = (i, label)
        if prefix in _ENDS:
            self._close(i + 1)

    def finish(self) -> list[Entity]:
        """Close any open entity and return all entities."""
        self._close(self._pos)
        return self.ents

    def _close(self, end: int) -> None:
        if self._open is not None:
            self.ents.append(Entity(self._open[0], end, self._open[1]))
            self._open = None


def tags_to_ents(tags: Iterable[str]) -> list[Entity]:
    """Decode IOB1/BIO/BIOES/BILUO tags into entities (lenient; see module docstring)."""
    dec = _Decoder()
    for i, tag in enumerate(tags):
        try:
            dec.feed(*_parse_tag(tag))
        except _TagError as err:
            raise ValueError(f"position {i}: {err}") from None
    return dec.finish()


def ents_to_bio(n_words: int, ents: Iterable[Entity]) -> list[str]:
    """Encode entities as IOB2 (BIO) tags; raises on out-of-range or overlapping spans."""
    tags = ["O"] * n_words
    for start, end, label in sorted(ents):
        if not 0 <= start < end <= n_words:
            raise ValueError(f"entity ({start}, {end}, {label!r}) out of range for {n_words} words")
        if any(t != "O" for t in tags[start:end]):
            raise ValueError(f"entity ({start}, {end}, {label!r}) overlaps another entity")
        tags[start] = f"B-{label}"
        tags[start + 1 : end] = [f"I-{label}"] * (end - start - 1)
    return tags


@dataclass
class _SentenceBuilder:
    """Accumulates the lines of one sentence while reading."""

    path: str
    labels: Collection[str] | None
    label_map: Mapping[str, str | None]
    drop_unknown: bool = False
    stats: ReadStats | None = None
    words: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    parsed: list[tuple[str, str | None]] = field(default_factory=list)
    line: int = 0
    _dropping: str | None = None

    def add(self, line_no: int, word: str, tag: str, parsed: tuple[str, str | None]) -> None:
        """Append one token, mapping its entity type and checking it against ``labels``."""
        prefix, raw = parsed
        label = raw
        if raw is not None:
            label = self.label_map.get(raw, raw)
            if label is not None and self.labels is not None and label not in self.labels:
                if not self.drop_unknown:
                    allowed = ", ".join(sorted(self.labels))
                    raise DataFormatError(
                        self.path,
                        line_no,
                        f"unknown tag {tag!r} (allowed: {allowed}; map the type in the gold "
                        f"label map, e.g. {raw}=LOC, or drop it with --unknown-labels drop)",
                    )
                label = None
            if label is None:  # dropped, by the label map or as unknown: count entities
                if (prefix in _STARTS or self._dropping != raw) and self.stats is not None:
                    self.stats.dropped_labels[raw] += 1
                self._dropping = raw
                prefix = "O"
        if label is not None or raw is None:
            self._dropping = None
        if not self.words:
            self.line = line_no
        self.words.append(nfc(word))
        self.tags.append(tag)
        self.parsed.append((prefix, label))

    def flush(self, stats: ReadStats | None) -> TaggedSentence | None:
        """Return the finished sentence (or None if empty) and reset."""
        if not self.words:
            return None
        dec = _Decoder()
        for prefix, label in self.parsed:
            dec.feed(prefix, label)
        sent = TaggedSentence(self.words, self.tags, dec.finish(), self.path, self.line)
        if stats is not None:
            stats.sentences += 1
            stats.repaired += dec.repaired
        self.words, self.tags, self.parsed = [], [], []
        self._dropping = None
        return sent


def _split_line(text: str) -> tuple[str, str, tuple[str, str | None]]:
    """Split a token line into (token, tag, parsed tag); raises _TagError with a skip reason."""
    if text[:1] in (" ", "\t"):
        raise _TagError("empty token")
    cols = _COL_RE.split(text.rstrip(" \t"))
    if len(cols) < 2:
        raise _TagError("single column")
    try:
        parsed = _parse_tag(cols[-1])
    except _TagError:
        raise _TagError("malformed tag") from None
    return cols[0], cols[-1], parsed


def read_conll(
    path: str | Path,
    *,
    labels: Collection[str] | None = None,
    label_map: Mapping[str, str | None] | None = None,
    skip_malformed: bool = False,
    stats: ReadStats | None = None,
    unknown_labels: str = "error",
    mojibake: str = "warn",
) -> Iterator[TaggedSentence]:
    """Stream the sentences of a token-per-line NER file.

    ``label_map`` renames entity types (``None`` drops them, e.g. ``{"MISC": None}``);
    ``labels`` lists the allowed types after mapping. Any other type raises
    ``DataFormatError`` naming ``file:line`` and the allowed types, or with
    ``unknown_labels="drop"`` is read as ``O``; dropped entities are counted by type in
    ``stats.dropped_labels``. Malformed lines raise ``DataFormatError`` unless
    ``skip_malformed``, which drops the line, counts it by reason in ``stats`` and logs it.
    ``mojibake``: ``"warn"`` (count and log), ``"fix"`` (repair) or ``"error"``.
    """
    if unknown_labels not in UNKNOWN_LABELS:
        raise ValueError(f"unknown_labels must be one of {UNKNOWN_LABELS}, got {unknown_labels!r}")
    builder = _SentenceBuilder(
        str(path), labels, label_map or {}, drop_unknown=unknown_labels == "drop", stats=stats
    )
    check = MojibakeCheck(path, mojibake)
    for line_no, text in iter_decoded_lines(path):
        if not text.strip(" \t"):
            sent = builder.flush(stats)
            if sent is not None:
                yield sent
            continue
        if text.split(maxsplit=1)[:1] == [_DOCSTART]:  # [] for e.g. a lone vertical tab
            sent = builder.flush(stats)
            if sent is not None:
                yield sent
            continue
        try:
            word, tag, parsed = _split_line(text)
        except _TagError as err:
            if not skip_malformed:
                raise DataFormatError(path, line_no, f"malformed line ({err}): {text!r}") from None
            note_skip(stats, str(err), path, line_no)
            continue
        builder.add(line_no, check.text(word, line_no), tag, parsed)
    sent = builder.flush(stats)
    if sent is not None:
        yield sent
    check.report()
    if stats is not None:
        stats.mojibake += check.count


def _check_word(word: str) -> str:
    """Reject words that would break the column format when written."""
    if not word or any(ch in word for ch in " \t\r\n"):
        raise ValueError(f"cannot write word {word!r}: empty or contains whitespace")
    return word


def write_conll(path: str | Path, sentences: Iterable[tuple[list[str], list[Entity]]]) -> int:
    """Write ``word TAG`` BIO lines atomically (blank line between sentences); returns count."""
    n = 0
    with atomic_write(path) as fh:
        for words, ents in sentences:
            tags = ents_to_bio(len(words), ents)
            for word, tag in zip(words, tags, strict=True):
                fh.write(f"{_check_word(word)} {tag}\n")
            fh.write("\n")
            n += 1
    return n
