"""One progress bar on stderr for a long step: records done of the total, rate and ETA.

The bar (rich's) is on only when stderr is a terminal and ``XNER_QUIET`` is unset (``xner
--quiet`` sets it); ``XNER_PROGRESS=1`` forces it on (for a log file or a test). Records
count twice over, never more: a shard running in this process ticks per record it reads
(:func:`tick`, from :class:`~xner_spacy.runner.shards.RecordStream`), and a thread counts
the records of every shard whose completion marker exists, so shards finished by worker
processes or a Dask cluster move the same bar; it shows whichever count is higher. Off,
nothing is imported and :func:`tick` is one global lookup per record.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

_tick: Callable[[int], None] | None = None


def enabled() -> bool:
    """Whether a bar is shown: stderr a terminal (or ``XNER_PROGRESS=1``), not quiet."""
    if os.environ.get("XNER_QUIET", "") not in ("", "0"):
        return False
    return os.environ.get("XNER_PROGRESS") == "1" or sys.stderr.isatty()


def tick(n: int = 1) -> None:
    """Count ``n`` records done in this process (no-op without a bar)."""
    if _tick is not None:
        _tick(n)


def _columns() -> list[Any]:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        ProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class RateColumn(ProgressColumn):
        """Records per second."""

        def render(self, task: Any) -> Text:
            speed = task.finished_speed or task.speed
            return Text(f"{speed:,.0f} records/s" if speed else "– records/s")

    return [
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    ]


@contextlib.contextmanager
def step_progress(
    step: str, total: int, done: int = 0, finished: Callable[[], int] | None = None
) -> Iterator[None]:
    """Show a bar for ``step`` over ``total`` records, ``done`` of them already done.

    ``finished`` (polled twice a second) returns the records of every completed shard.
    """
    global _tick
    if not enabled() or total <= 0:
        yield
        return
    from rich.console import Console
    from rich.progress import Progress

    console = Console(stderr=True, force_terminal=os.environ.get("XNER_PROGRESS") == "1")
    stop = threading.Event()
    with Progress(*_columns(), console=console, refresh_per_second=4) as bar:
        task = bar.add_task(step, total=total, completed=done)
        lock = threading.Lock()
        counted = [done, done]  # records ticked here, records in finished shards

        def show() -> None:
            bar.update(task, completed=min(total, max(counted)))

        def on_tick(n: int) -> None:
            with lock:
                counted[0] += n
            show()

        def poll() -> None:
            while finished is not None and not stop.wait(0.5):
                counted[1] = finished()
                show()

        watcher = threading.Thread(target=poll, daemon=True)
        watcher.start()
        _tick = on_tick
        try:
            yield
            if finished is not None:
                counted[1] = finished()
            show()
        finally:
            _tick = None
            stop.set()
            watcher.join()
