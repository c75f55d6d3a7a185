"""Worker processes that run shards on this machine, and die with their parent."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Protocol, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Executor(Protocol):
    """Maps a picklable function over shards; results in input order, first error raised."""

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]: ...


#: prctl(2) option: the signal the kernel sends this process when its parent dies (Linux).
_PR_SET_PDEATHSIG = 1


def _exit_with_parent(parent: int, interval: float = 0.5) -> None:
    """Worker initializer: end this worker as soon as the process that started it is gone.

    A killed main process (``SIGKILL``: no cleanup) would otherwise leave its workers running
    the shards already queued and then blocked on the task pipe for good, each holding a
    loaded model. On Linux the kernel sends ``SIGKILL`` on the parent's death
    (``PR_SET_PDEATHSIG``); on every POSIX system a daemon thread also checks every
    ``interval`` seconds that the parent is still this process's parent (an orphan is
    re-parented, so its parent id changes). Windows has neither; there workers still outlive
    a killed main process.
    """
    if sys.platform == "win32":
        return
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the kernel watch was set up
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval)
        os._exit(1)  # no cleanup: the shard in progress stays incomplete, as after a kill

    threading.Thread(target=watch, name="xner-parent-watch", daemon=True).start()


@dataclass(frozen=True)
class LocalExecutor:
    """Runs shards in this process, or in ``n_process`` spawned worker processes.

    Workers end with the main process, even when it is killed (see :func:`_exit_with_parent`).
    """

    n_process: int = 1

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        if self.n_process <= 1 or len(items) <= 1:
            return [fn(item) for item in items]
        context = multiprocessing.get_context("spawn")  # fork is unsafe with threads and torch
        workers = min(self.n_process, len(items))
        with ProcessPoolExecutor(
            workers, mp_context=context, initializer=_exit_with_parent, initargs=(os.getpid(),)
        ) as pool:
            futures = [pool.submit(fn, item) for item in items]
            try:
                return [f.result() for f in futures]
            except BaseException:
                pool.shutdown(cancel_futures=True)  # running shards finish and stay complete
                raise
