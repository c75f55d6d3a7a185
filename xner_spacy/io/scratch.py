"""Scratch folders that never outlive their run, even a killed one.

A folder is named ``<prefix><pid>-<random>`` in the system's temporary directory and removed
when the ``with`` block ends, however it ends. A run killed with SIGKILL cannot clean up, so
every new scratch folder first removes the folders of its prefix whose process is gone.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def remove_stale(prefix: str, root: str | Path | None = None) -> list[Path]:
    """Remove ``<prefix><pid>-*`` folders whose process no longer runs; returns them."""
    root = Path(root or tempfile.gettempdir())
    pattern = re.compile(rf"{re.escape(prefix)}(\d+)-")
    removed = []
    for path in root.glob(f"{prefix}*"):
        match = pattern.match(path.name)
        if match and path.is_dir() and not _alive(int(match.group(1))):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


@contextlib.contextmanager
def scratch_dir(prefix: str) -> Iterator[Path]:
    """A fresh folder ``<tmp>/<prefix><pid>-…``, removed on exit; stale ones removed first."""
    remove_stale(prefix)
    path = Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
