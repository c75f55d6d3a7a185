"""JSONL pair records: one ``PairRecord`` per line, the format passed between pipeline steps."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path

from ..types import PairRecord, RecordError
from .atomic import atomic_write
from .errors import DataFormatError, ReadStats, iter_decoded_lines, note_skip
from .mojibake import MojibakeCheck


def _parse_line(path: str | Path, line_no: int, text: str) -> PairRecord:
    """Parse and validate one JSON line; errors name ``path:line``."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as err:  # RecursionError: absurdly deep nesting
        raise DataFormatError(path, line_no, f"invalid JSON: {err}") from None
    return PairRecord.from_dict(data, where=f"{path}:{line_no}")


def read_records(
    path: str | Path,
    *,
    skip_invalid: bool = False,
    stats: ReadStats | None = None,
    mojibake: str = "warn",
) -> Iterator[PairRecord]:
    """Stream validated records; blank lines are ignored.

    Invalid JSON raises ``DataFormatError`` and an invalid record ``RecordError``, both
    naming ``path:line``; with ``skip_invalid`` the line is skipped, counted and logged.
    """
    numbered = read_numbered_records(
        path, skip_invalid=skip_invalid, stats=stats, mojibake=mojibake
    )
    for _, record in numbered:
        yield record


def read_numbered_records(
    path: str | Path,
    *,
    skip_invalid: bool = False,
    stats: ReadStats | None = None,
    start: int = 0,
    stop: int | None = None,
    first_line: int = 1,
    mojibake: str = "warn",
) -> Iterator[tuple[int, PairRecord]]:
    """:func:`read_records` yielding ``(line_no, record)``, optionally over a byte range.

    The range (``start``, ``stop``, ``first_line``) is how a shard reads its part of a
    file while errors keep naming the line of the whole file. Records whose words look like
    mojibake are counted and logged (``mojibake="warn"``), repaired word by word (``"fix"``) or
    refused (``"error"``).
    """
    check = MojibakeCheck(path, mojibake)
    lines = iter_decoded_lines(
        path,
        start=start,
        stop=stop,
        first_line=first_line,
        skip_invalid=skip_invalid,  # a line of bad bytes is a malformed record too
        stats=stats,
    )
    for line_no, text in lines:
        if not text.strip():
            continue
        try:
            record = _parse_line(path, line_no, text)
        except (DataFormatError, RecordError) as err:
            if not skip_invalid:
                raise
            reason = "invalid JSON" if isinstance(err, DataFormatError) else "invalid record"
            note_skip(stats, reason, path, line_no)
            continue
        if stats is not None:
            stats.sentences += 1
        words = [*record.src_words, *record.tgt_words]
        checked = check.words(words, line_no)
        if checked is not words:  # repaired word by word: word indices stay valid
            n = len(record.src_words)
            record.src_words, record.tgt_words = checked[:n], checked[n:]
        yield line_no, record
    check.report()
    if stats is not None:
        stats.mojibake += check.count


def write_records(path: str | Path, records: Iterable[PairRecord]) -> int:
    """Stream records to ``path`` as JSONL via an atomic temp file; returns how many."""
    n = 0
    with atomic_write(path) as fh:
        for record in records:
            fh.write(json.dumps(record.to_dict(), ensure_ascii=False) + "\n")
            n += 1
    return n
