"""Run one benchmark step in this (fresh) process and write its figures as JSON.

Usage: ``python -m benchmarks.worker JOB.json RESULT.json`` (``run.py`` does this).

Peak memory is the process's high-water resident set size, read after the step's set-up and
again after its work. A fresh process per step and size is what makes that number the
step's own: in one long process the high-water mark only ever rises, and memory freed by an
earlier step is seldom handed back to the OS. RSS is used rather than ``tracemalloc``
because most of the memory here is not Python objects (spaCy's Cython structures,
numpy/thinc arrays, HiGHS, torch), which tracemalloc cannot see; tracemalloc also slows
pure-Python code several-fold, which would falsify the throughput measured in the same run.

On Linux the figure is ``VmHWM`` from ``/proc/self/status``, not ``getrusage``'s
``ru_maxrss``: ``exec`` carries the parent's high-water mark into the child's
``ru_maxrss``, so a worker started by a large parent would report the parent's size.
Helper processes a step waits for (the eflomal binary) are counted through
``RUSAGE_CHILDREN``; theirs carries the worker's size at spawn time, so the larger of the
two is a lower bound on the step's peak, without double counting.
"""

from __future__ import annotations

import gc
import json
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _scale() -> int:
    """``ru_maxrss`` units per MiB: macOS reports bytes, Linux KiB."""
    return 1024 * 1024 if sys.platform == "darwin" else 1024


def proc_status_mb(field: str) -> float | None:
    """A ``/proc/self/status`` memory field (``VmHWM``, ``VmRSS``) in MiB; None without /proc."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(f"{field}:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def own_peak_mb() -> float:
    """This process's peak RSS in MiB (``VmHWM`` where /proc has it, else ``ru_maxrss``)."""
    peak = proc_status_mb("VmHWM")
    if peak is not None:
        return peak
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / _scale()


def peak_rss_mb() -> float:
    """Peak RSS of this process or of the largest helper process it waited for, in MiB."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / _scale()
    return max(own_peak_mb(), children)


def _profiled(
    work: Callable[[], Any], top: int = 25
) -> tuple[Callable[[], Any], Callable[[], str]]:
    """``work`` under cProfile, and a function giving the top functions by own time."""
    import cProfile
    import io
    import pstats

    prof = cProfile.Profile()

    def run() -> Any:
        return prof.runcall(work)

    def report() -> str:
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(top)
        return buf.getvalue()

    return run, report


def cpu_time() -> float:
    """CPU seconds used so far by this process and the helper processes it waited for.

    On a shared machine wall-clock time includes waiting for a core; CPU time does not,
    so throughput per CPU-second is the steadier figure of the two.
    """
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def run_job(spec: dict[str, Any]) -> dict[str, Any]:
    """Prepare (untimed), run ``repeat`` times (best time kept), report throughput and memory."""
    from .steps import STEPS, Job

    job = Job(**spec)
    step = STEPS[job.step]
    t0 = time.perf_counter()
    work = step.prepare(job)
    setup_s = time.perf_counter() - t0
    setup_rss = peak_rss_mb()
    # The inputs sit in memory for the timing, where the pipeline streams them; frozen, the
    # garbage collector no longer rescans them on every full collection, as it would not
    # in the streaming pipeline either.
    gc.collect()
    gc.freeze()
    if job.options.get("profile"):
        work, report = _profiled(work)
    best_s, cpu_s, out = float("inf"), 0.0, None
    for _ in range(max(1, int(job.options.get("repeat", 1)))):
        t, c = time.perf_counter(), cpu_time()
        got = work()
        secs = got.seconds if got.seconds is not None else time.perf_counter() - t
        cpu = got.cpu_seconds if got.cpu_seconds is not None else cpu_time() - c
        if secs < best_s:
            best_s, cpu_s, out = secs, cpu, got
    assert out is not None
    peak = peak_rss_mb()
    if job.options.get("profile"):
        out.extra["profile"] = report()
    save = job.options.get("save")
    if save and out.records is not None:
        from xner_spacy.io.records import write_records

        write_records(save, out.records)
    best_s, cpu_s = max(best_s, 1e-9), max(cpu_s, 1e-9)
    result = {
        "step": job.step,
        "size": job.size,
        "unit": step.unit,
        "items": out.items,
        "words": out.words,
        "seconds": round(best_s, 4),
        "cpu_seconds": round(cpu_s, 4),
        "items_per_s": round(out.items / best_s, 1),
        "items_per_cpu_s": round(out.items / cpu_s, 1),
        "words_per_s": round(out.words / best_s, 1) if out.words else None,
        "setup_s": round(setup_s, 2),
        "peak_rss_mb": round(peak, 1),
        "setup_rss_mb": round(setup_rss, 1),
        "extra": out.extra,
    }
    return result


def main(argv: list[str]) -> int:
    """Read the job, run it, write the result; errors go to stderr with a non-zero exit."""
    spec = json.loads(Path(argv[1]).read_text(encoding="utf8"))
    result = run_job(spec)
    Path(argv[2]).write_text(json.dumps(result, ensure_ascii=False), encoding="utf8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
