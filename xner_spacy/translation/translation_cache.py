"""A persistent translation cache: an append-only JSONL file of ``{"key", "text"}`` lines.

Each finished batch is appended and flushed, so a run that is killed keeps everything it
translated and the next run resumes where it stopped. A kill can leave the last line
partial: on opening, a last line without its newline is cut off (and logged) before anything
is appended, and any line that is not valid JSON is skipped, so a damaged tail never breaks
a resume. One process should write a cache file at a time.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

logger = logging.getLogger("xner_spacy.translation")


def cache_key(*parts: Any) -> str:
    """Stable hex digest of JSON-serialisable parts (model, languages, settings, text)."""
    blob = json.dumps(parts, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return hashlib.sha256(blob.encode("utf8")).hexdigest()


class TranslationCache:
    """Key → translation, in memory and, with a ``path``, appended to a JSONL file."""

    def __init__(self, path: str | Path | None = None) -> None:
        # "" as well as None: a project var left empty means "no cache".
        self.path = Path(path) if path else None
        self._table: dict[str, str] = {}
        self.skipped_lines = 0
        if self.path is not None:
            self._load(self.path)

    def _load(self, path: Path) -> None:
        if not path.is_file():
            return
        data = path.read_bytes()
        complete = data.rfind(b"\n") + 1
        if complete < len(data):
            logger.warning(
                "%s: dropped a partial last line (%d bytes) left by an interrupted run",
                path,
                len(data) - complete,
            )
            with open(path, "r+b") as fh:
                fh.truncate(complete)
        for line_no, raw in enumerate(data[:complete].splitlines(), start=1):
            if not raw.strip():
                continue
            try:
                item = json.loads(raw)
                self._table[str(item["key"])] = str(item["text"])
            except (ValueError, KeyError, TypeError):
                self.skipped_lines += 1
                logger.warning("%s:%d: skipped an unreadable cache line", path, line_no)

    def __len__(self) -> int:
        return len(self._table)

    def __contains__(self, key: object) -> bool:
        return key in self._table

    def get(self, key: str) -> str | None:
        return self._table.get(key)

    def put_many(self, items: Iterable[tuple[str, str]]) -> None:
        """Store translations; with a file, append them as one flushed, fsynced write."""
        new = [(k, v) for k, v in items if self._table.get(k) != v]
        if not new:
            return
        self._table.update(new)
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        text = "".join(json.dumps({"key": k, "text": v}, ensure_ascii=False) + "\n" for k, v in new)
        with open(self.path, "a", encoding="utf8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
