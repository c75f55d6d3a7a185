"""Atomic file output: write to a temporary name beside the target, rename when complete."""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

_UMASK_LOCK = threading.Lock()


def _default_mode() -> int:
    """The permissions an ordinary ``open(path, "w")`` would give: 0o666 minus the umask."""
    with _UMASK_LOCK:  # os.umask can only be read by setting it
        mask = os.umask(0)
        os.umask(mask)
    return 0o666 & ~mask


@contextlib.contextmanager
def atomic_write(
    path: str | Path, mode: str = "w", encoding: str | None = "utf8"
) -> Iterator[IO[Any]]:
    """Open a temp file next to ``path``; on success fsync and rename it over ``path``.

    On any exception the temp file is removed and ``path`` is left untouched, so a crash
    never leaves a half-written output.
    """
    kwargs: dict[str, Any] = {} if "b" in mode else {"encoding": encoding}
    with atomic_path(path) as tmp, open(tmp, mode, **kwargs) as fh:
        yield fh
        fh.flush()
        os.fsync(fh.fileno())


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temp path next to ``path``; on success rename it over ``path``, else delete it.

    For writers that need a filename (e.g. ``DocBin.to_disk``); :func:`atomic_write` is the
    file-object form.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as err:
        raise write_error(err, path) from err
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, _default_mode())  # mkstemp creates 0o600 files
        os.replace(tmp, path)
    except BaseException as err:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(err, OSError):
            raise write_error(err, path) from err
        raise


def write_error(err: OSError, path: Path) -> OSError:
    """``err`` naming ``path`` when it names no file or the temporary one (disk full,
    permission denied, read-only file system…): the output is what the user asked for. An
    error naming any other file is returned unchanged."""
    named = err.filename
    ours = named is None or (
        Path(named).parent == path.parent
        and Path(named).name.startswith(f".{path.name}.")
        and str(named).endswith(".tmp")
    )
    if err.errno is None or not ours:
        return err
    return OSError(err.errno, err.strerror, str(path))
