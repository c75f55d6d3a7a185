"""What the experiment drivers share to run their steps: a resumable data step kept beside its
output with its parameters, a logged subprocess, jobs run a few at a time.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from ..io.atomic import atomic_write

logger = logging.getLogger("xner_spacy")

T = TypeVar("T")
R = TypeVar("R")


def cached_step(
    path: Path,
    name: str,
    run: Callable[[], dict[str, Any]],
    log: dict[str, Any],
    params: dict[str, Any] | None = None,
    force: bool = False,
) -> bool:
    """Run a data step unless its output exists with the same ``params`` (resumable).

    The step's counts (and ``params``) are kept beside the output and in ``log``. Returns
    whether it ran, so the steps after it run again too (``force``).
    """
    stats = path.with_name(path.name + ".stats.json")
    params = json.loads(json.dumps(params or {}, default=str))
    if path.exists() and stats.is_file() and not force:
        saved = json.loads(stats.read_text(encoding="utf8"))
        if saved.get("params", {}) == params:
            log[name] = saved
            return False
    t0 = time.perf_counter()
    counts = run()
    counts["params"] = params
    counts["seconds"] = round(time.perf_counter() - t0, 1)
    with atomic_write(stats) as fh:
        fh.write(json.dumps(counts, ensure_ascii=False, default=str) + "\n")
    log[name] = counts
    logger.info("%s: %s", name, {k: v for k, v in counts.items() if not isinstance(v, list)})
    return True


def run_logged(cmd: list[str], log: Path) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    with log.open("w", encoding="utf8") as fh:
        code = subprocess.call(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env)
    if code != 0:
        tail = log.read_text(encoding="utf8", errors="replace")[-2000:]
        raise RuntimeError(f"{' '.join(cmd)} failed ({code}); {log}:\n{tail}")


def count_docs(path: Path) -> int:
    from spacy.tokens import DocBin

    return len(DocBin().from_disk(path))


def map_jobs(fn: Callable[[T], R], items: Sequence[T], jobs: int) -> list[R]:
    """``[fn(item) ...]``, ``jobs`` at a time (threads: each item runs its own process)."""
    if jobs <= 1:
        return [fn(item) for item in items]
    with ThreadPoolExecutor(jobs) as pool:
        return list(pool.map(fn, items))
