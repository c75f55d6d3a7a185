"""Dask back end: the batch steps' shards as tasks on a Dask scheduler or cluster.

Why Dask rather than Ray: the work is a bag of independent, file-backed shard tasks, which
is what ``dask.delayed``/``Client.map`` express directly; Dask is pure pip (no daemon, no
large binary wheel), runs in this process (``synchronous``, ``threads``), on local
processes or a ``LocalCluster``, and on real clusters through the same API (SSH, SLURM via
dask-jobqueue, Kubernetes). Ray's strength, long-lived stateful actors on GPUs, is covered
well enough here by building each part once per worker process (:class:`~.shards.Part`).

Each task is :func:`xner_spacy.runner.shards.run_shard` for one shard: it builds the step's part
from the config section with ``xner_spacy.registry.resolve_section`` (cached per worker),
runs the same step function as a local run and commits the shard into the shared
``<output>.shards`` folder; the client then merges the shards. So a distributed run writes
the same bytes as a local one and resumes the same way. Workers need xner-spacy installed
and must see the input and output paths (a shared file system). Install with
``pip install "xner-spacy[distributed]"``.
"""

from __future__ import annotations

import contextlib
import importlib.util
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from .shards import SHARD_SIZE, ConfigPart, Counts, RunOptions

T = TypeVar("T")
R = TypeVar("R")

#: Dask's single-machine schedulers, run without a ``distributed`` client.
LOCAL_SCHEDULERS = ("synchronous", "threads", "processes")
#: A running scheduler's address: ``tcp://HOST:PORT`` (or ``tls://``; IPv6 in brackets).
_ADDRESS = re.compile(r"(tcp|tls)://(\[[0-9A-Fa-f:.]+\]|[^\s/:@\[\]]+):[0-9]{1,5}")
INSTALL = 'pip install "xner-spacy[distributed]"'


def check_scheduler(scheduler: str) -> str:
    """``scheduler`` if it names one Dask can run and Dask is installed, else ``ValueError``.

    Checked before a run starts, so a typo never leaves a half-made ``<output>.shards``.
    """
    local = scheduler in LOCAL_SCHEDULERS
    if not local and scheduler != "local" and not _ADDRESS.fullmatch(scheduler):
        raise ValueError(
            f"unknown scheduler {scheduler!r}: one of {' | '.join(LOCAL_SCHEDULERS)} | local "
            "(a LocalCluster) | tcp://HOST:PORT (a running scheduler)"
        )
    for module in ("dask",) if local else ("dask", "distributed"):
        if importlib.util.find_spec(module) is None:
            raise ValueError(f"scheduler {scheduler!r} needs {module}: {INSTALL}")
    return scheduler


@dataclass(frozen=True)
class DaskExecutor:
    """Maps shard tasks with Dask (an :class:`~.shards.Executor`).

    ``scheduler``: ``"synchronous"``, ``"threads"`` or ``"processes"`` (dask's local
    schedulers), ``"local"`` (a ``distributed.LocalCluster`` of ``n_workers`` one-thread
    processes, made for the run), a scheduler address (``tcp://host:8786``) or a
    ``distributed.Client``.
    """

    scheduler: Any = "threads"
    n_workers: int = 2

    def __post_init__(self) -> None:
        if isinstance(self.scheduler, str):
            check_scheduler(self.scheduler)

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        if not items:
            return []
        if isinstance(self.scheduler, str) and self.scheduler in LOCAL_SCHEDULERS:
            import dask

            tasks = [dask.delayed(fn, pure=False)(item) for item in items]
            return list(dask.compute(*tasks, scheduler=self.scheduler))
        with self._client() as client:
            return list(client.gather(client.map(fn, list(items), pure=False)))

    @contextlib.contextmanager
    def _client(self) -> Iterator[Any]:
        from distributed import Client, LocalCluster

        if not isinstance(self.scheduler, str):
            yield self.scheduler
        elif self.scheduler == "local":
            with (
                LocalCluster(
                    n_workers=self.n_workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                ) as cluster,
                Client(cluster) as client,
            ):
                yield client
        else:
            with Client(self.scheduler) as client:
                yield client


def _record_steps() -> dict[str, tuple[str, Callable[..., Counts]]]:
    from .batch_steps import align_records, label_records, project_records

    return {
        "label": ("labeller", label_records),
        "align": ("aligner", align_records),
        "project": ("projector", project_records),
    }


#: More steps that map records through a config section, e.g. ``register_step("translate",
#: "translator", translate_records)``; the function takes ``(input, output, part, *, options)``.
EXTRA_STEPS: dict[str, tuple[str, Callable[..., Counts]]] = {}


def register_step(name: str, section: str, fn: Callable[..., Counts]) -> None:
    """Make another sharded step (e.g. ``translate``) runnable by :func:`run_step`."""
    EXTRA_STEPS[name] = (section, fn)


def run_step(
    step: str,
    input_path: str | Path,
    output: str | Path,
    config: Mapping[str, Any],
    *,
    scheduler: Any = "threads",
    n_workers: int = 2,
    shard_size: int = SHARD_SIZE,
    skip_invalid: bool = False,
) -> Counts:
    """Run a batch step (label, align, project, or a registered one) with Dask.

    ``config`` is a loaded config (e.g. ``spacy.util.load_config("configs/projection.cfg")``);
    each task resolves the step's section itself. Statistical aligners train on the whole
    corpus, so ``align`` with one of them runs once, on the client (see ``align_records``).
    """
    steps = {**_record_steps(), **EXTRA_STEPS}
    if step not in steps:
        raise ValueError(f"unknown step {step!r}; one of {', '.join(sorted(steps))}")
    section, fn = steps[step]
    executor = DaskExecutor(scheduler, n_workers)
    options = RunOptions(shard_size, executor=executor, skip_invalid=skip_invalid)
    return fn(input_path, output, ConfigPart.from_config(config, section), options=options)
