"""Fingerprints of a sharded step's settings and inputs: a shard is reused only when they match."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # shards imports this module
    from .shards import Part


def files_digest(value: Any, max_files: int = 1_000) -> list[list[Any]]:
    """``[path, size, mtime_ns]`` of every file a config value names (directories walked).

    Part of the fingerprint, so a model retrained at the same path invalidates old shards.
    The working directory and its ancestors are never walked: ``"."`` in a config is
    punctuation, not the project.
    """
    found: list[list[Any]] = []
    here = Path.cwd().resolve()
    for text in _strings(value):
        path = Path(text)
        with contextlib.suppress(OSError, ValueError):
            if path.is_file():
                found.append(_stat(path))
            elif path.is_dir() and path.resolve() not in (here, *here.parents):
                found.extend(_stat(p) for p in _files_under(path, max_files))
    return found


def _files_under(root: Path, limit: int) -> Iterator[Path]:
    """The first ``limit`` files under ``root`` in a stable (sorted) walk."""
    n = 0
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            if n == limit:
                return
            n += 1
            yield Path(folder) / name


def _stat(path: Path) -> list[Any]:
    st = path.stat()
    return [str(path), st.st_size, st.st_mtime_ns]


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        if value.strip() and len(value) < 4096:
            yield value
    elif isinstance(value, Mapping):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _strings(v)


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=repr)


def fingerprint(step: str, part: Part | None, params: Mapping[str, Any]) -> str:
    """Hash of everything besides the input that decides a step's output."""
    from .. import __version__

    described = None if part is None else part.describe()
    payload = {"step": step, "version": __version__, "part": described, "params": dict(params)}
    return hashlib.sha256(canonical_json(payload).encode()).hexdigest()


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
