"""Input errors that name their file and line, and counters readers fill in as they go."""

from __future__ import annotations

import contextlib
import logging
from collections import Counter
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path

logger = logging.getLogger("xner_spacy.io")


class DataFormatError(ValueError):
    """Malformed input; the message always starts with ``path:line: `` (1-based line)."""

    def __init__(self, path: str | Path, line: int, message: str) -> None:
        self.path = str(path)
        self.line = line
        self.message = message
        super().__init__(f"{self.path}:{line}: {message}")

    def __reduce__(self) -> tuple[type[DataFormatError], tuple[str, int, str]]:
        """Pickle by the three constructor arguments, so errors cross process boundaries."""
        return type(self), (self.path, self.line, self.message)


@dataclass
class ReadStats:
    """What a reader did: sentences read, lines skipped (by reason), tags repaired, entity
    types dropped (by type) and lines that look like mojibake (see :mod:`.mojibake`)."""

    sentences: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    repaired: int = 0
    dropped_labels: Counter[str] = field(default_factory=Counter)
    mojibake: int = 0


_LOG_SKIPS: ContextVar[bool] = ContextVar("xner_log_skips", default=True)


def note_skip(stats: ReadStats | None, reason: str, path: str | Path, line: int) -> None:
    """Count a skipped line under ``reason`` and log it, so silent data loss is visible."""
    if stats is not None:
        stats.skipped[reason] += 1
    if _LOG_SKIPS.get():
        logger.warning("%s:%d: skipped (%s)", path, line, reason)


@contextlib.contextmanager
def skips_logged_already() -> Iterator[None]:
    """A second pass over a file whose skipped lines were logged in the first: no repeats."""
    token = _LOG_SKIPS.set(False)
    try:
        yield
    finally:
        _LOG_SKIPS.reset(token)


def iter_decoded_lines(
    path: str | Path,
    *,
    start: int = 0,
    stop: int | None = None,
    first_line: int = 1,
    skip_invalid: bool = False,
    stats: ReadStats | None = None,
) -> Iterator[tuple[int, str]]:
    """Stream ``(line_no, text)`` splitting on ``\\n`` only, raising on invalid UTF-8 by line.

    Reading bytes and decoding each line keeps line numbers exact (a stray ``\\r`` or
    U+2028 inside a sentence never splits it) and lets a decoding error name its line.
    ``start``/``stop`` read a byte range that begins a line (a shard), numbered from
    ``first_line``, so errors inside a shard still name the line of the whole file.
    With ``skip_invalid`` a line that is not UTF-8 is skipped, counted (``"invalid UTF-8"``)
    and logged instead: for readers whose lines stand alone (JSONL records), not for line-
    aligned or multi-line formats, where dropping a line would shift or split what follows.
    """
    with open(path, "rb") as fh:
        fh.seek(start)
        pos = start
        for line_no, raw in enumerate(fh, start=first_line):
            if stop is not None and pos >= stop:
                break
            pos += len(raw)
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as err:
                if skip_invalid:
                    note_skip(stats, "invalid UTF-8", path, line_no)
                    continue
                raise DataFormatError(
                    path, line_no, f"invalid UTF-8 at byte {err.start} of the line"
                ) from None
            if line_no == 1:
                text = text.removeprefix("\ufeff")
            yield line_no, text.rstrip("\r\n")
