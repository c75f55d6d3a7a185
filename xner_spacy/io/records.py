"""JSONL pair records: one ``PairRecord`` per line, the format passed between pipeline steps."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path

from ..types import PairRecord, RecordError
from .atomic import atomic_write
from .errors import DataFormatError, ReadStats, iter_decoded_lines, note_skip


def _parse_line(path: str | Path, line_no: int, text: str) -> PairRecord:
    """Parse and validate one JSON line; errors name ``path:line``."""
    try:
        data = json.loads(text)
    except ValueError as err:
        raise DataFormatError(path, line_no, f"invalid JSON: {err}") from None
    return PairRecord.from_dict(data, where=f"{path}:{line_no}")


def read_records(
    path: str | Path, *, skip_invalid: bool = False, stats: ReadStats | None = None
) -> Iterator[PairRecord]:
    """Stream validated records; blank lines are ignored.

    Invalid JSON raises ``DataFormatError`` and an invalid record ``RecordError``, both
    naming ``path:line``; with ``skip_invalid`` the line is skipped, counted and logged.
    """
    for line_no, text in iter_decoded_lines(path):
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
        yield record


def write_records(path: str | Path, records: Iterable[PairRecord]) -> int:
    """Stream records to ``path`` as JSONL via an atomic temp file; returns how many."""
    n = 0
    with atomic_write(path) as fh:
        for record in records:
            fh.write(json.dumps(record.to_dict(), ensure_ascii=False) + "\n")
            n += 1
    return n
