"""Sharded, resumable, parallel execution of the batch steps over JSONL pair records.

A step's input is cut into shards of ``shard_size`` records by byte range, in one streaming
pass that also hashes each shard. A top-level (spawn-safe, picklable) function processes
one shard — here, in local worker processes (``n_process``) or as a Dask task
(:mod:`xner_spacy.runner.distributed`) — writes the shard's output atomically to
``<output>.shards/<index><suffix>`` and then its completion marker ``<index>.done.json``.
When every shard is complete the step merges them atomically into ``output`` (JSONL: byte
concatenation, so a sharded run writes exactly the bytes of a single pass) and removes the
shard folder.

Resume: a rerun reuses shard ``i`` only if its marker records the same input hash (of the
shard's bytes) and the same fingerprint (step, package version, the part's config plus the
size and mtime of every file a config value names, e.g. a retrained model directory, and
the parameters that change the output), and the shard's files still hash as recorded. A
folder whose manifest names another fingerprint or shard size is emptied first.

Adding a step (e.g. ``translate``): a module-level ``fn(part, records, counts)`` that yields
the records with its field filled in, run by :func:`map_records` with a :class:`ConfigPart`
(built where the shard runs, via ``resolve_section``) or an already built object.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import logging
import shutil
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Protocol, TypeVar

from ..io.atomic import atomic_write
from ..io.errors import ReadStats
from ..io.records import read_numbered_records, write_records
from ..types import PairRecord
from .local_executor import Executor, LocalExecutor
from .shard_fingerprints import canonical_json, file_sha256, files_digest, fingerprint
from .step_progress import step_progress, tick

logger = logging.getLogger("xner_spacy")

#: Records per shard unless a step is told otherwise (0: the whole input is one shard).
SHARD_SIZE = 10_000
#: Bumped when the shard layout changes, so old folders are never reused.
LAYOUT_VERSION = 1

Counts = dict[str, Any]
T = TypeVar("T")
R = TypeVar("R")


# --- planning: shards as byte ranges of the input ------------------------------------------


@dataclass(frozen=True)
class Shard:
    """Records ``[start, stop)`` (bytes) of ``path``, from line ``first_line``, with a hash."""

    index: int
    path: str
    start: int
    stop: int
    first_line: int
    records: int
    sha256: str

    def read(self, *, skip_invalid: bool = False, stats: ReadStats | None = None) -> RecordStream:
        """Stream this shard's records; errors name the line of the whole file."""
        return RecordStream(self, skip_invalid=skip_invalid, stats=stats)


def plan_shards(path: str | Path, shard_size: int = SHARD_SIZE) -> list[Shard]:
    """Cut a JSONL file into shards of ``shard_size`` non-blank lines (0: one shard).

    Blank lines stay with the shard before them; a file with no records has no shards.
    """
    if shard_size < 0:
        raise ValueError(f"shard_size must be >= 0, got {shard_size}")
    shards: list[Shard] = []
    start = pos = n = 0
    first = 1
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for line_no, raw in enumerate(fh, start=1):
            blank = not raw.strip()
            if not blank and shard_size and n == shard_size:
                shards.append(
                    Shard(len(shards), str(path), start, pos, first, n, digest.hexdigest())
                )
                start, first, n, digest = pos, line_no, 0, hashlib.sha256()
            digest.update(raw)
            pos += len(raw)
            n += not blank
    if n:
        shards.append(Shard(len(shards), str(path), start, pos, first, n, digest.hexdigest()))
    return shards


class RecordStream(Iterator[PairRecord]):
    """The records of one shard; ``where`` is ``path:line`` of the last record yielded."""

    def __init__(
        self, shard: Shard, *, skip_invalid: bool = False, stats: ReadStats | None = None
    ) -> None:
        self.path = shard.path
        self.line = shard.first_line
        self._records = read_numbered_records(
            shard.path,
            skip_invalid=skip_invalid,
            stats=stats,
            start=shard.start,
            stop=shard.stop,
            first_line=shard.first_line,
        )

    def __next__(self) -> PairRecord:
        self.line, record = next(self._records)
        tick()  # the step's progress bar, when this process shows one
        return record

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


# --- parts: what a shard needs built (a labeller, projector, pipeline), built where it runs --


class Part:
    """A step's part, built lazily where a shard runs (and cached per process and thread)."""

    def build(self) -> Any:
        key = canonical_json(self.describe())
        cache: dict[str, Any] | None = getattr(_PART_CACHE, "parts", None)
        if cache is None:
            cache = _PART_CACHE.parts = {}
        if key not in cache:
            if len(cache) >= 2:  # keep memory bounded: a step uses one part at a time
                cache.pop(next(iter(cache)))
            cache[key] = self._build()
        return cache[key]

    def _build(self) -> Any:
        raise NotImplementedError

    def describe(self) -> Any:
        """JSON-able description that identifies the part's behaviour (for the fingerprint)."""
        raise NotImplementedError


_PART_CACHE = threading.local()  # threads (e.g. Dask's threaded scheduler) never share a part


@dataclass(frozen=True)
class ConfigPart(Part):
    """``[section]`` of a config, resolved with ``resolve_section`` in the process using it."""

    section: str
    config: Mapping[str, Any]

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any], section: str) -> ConfigPart:
        if section not in cfg:
            raise ValueError(f"the config has no [{section}] section")
        return cls(section, copy.deepcopy(dict(cfg[section])))

    def _build(self) -> Any:
        from ..registry import resolve_section

        return resolve_section({self.section: self.config}, self.section)

    def describe(self) -> Any:
        return {"section": self.section, "config": self.config, "files": files_digest(self.config)}


@dataclass(frozen=True)
class PipelinePart(Part):
    """A spaCy pipeline by package name or path, loaded where the shard runs."""

    model: str

    def _build(self) -> Any:
        from ..labelling.spacy_labeller import load_pipeline

        return load_pipeline(self.model)

    def describe(self) -> Any:
        return {"pipeline": self.model, "files": files_digest(self.model)}


@dataclass(frozen=True)
class Ready(Part):
    """An object built by the caller (Python API); it must pickle to run in other processes.

    Dataclasses are identified by their ``repr``; any other object gets a fresh identity per
    run, so its shards are never reused by a later run.
    """

    obj: Any
    _identity: str = field(default_factory=lambda: uuid.uuid4().hex, compare=False)

    def build(self) -> Any:
        return self.obj

    def describe(self) -> Any:
        kind = f"{type(self.obj).__module__}.{type(self.obj).__qualname__}"
        if dataclasses.is_dataclass(self.obj) and " at 0x" not in repr(self.obj):
            return {"object": kind, "repr": repr(self.obj)}
        return {"object": kind, "identity": self._identity}


def as_part(obj: Any) -> Part:
    """A :class:`Part` as is; anything else (a built labeller, projector…) as :class:`Ready`."""
    return obj if isinstance(obj, Part) else Ready(obj)


# --- the shard folder: manifest, shard outputs, completion markers ---------------------------


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf8"))
    except (OSError, ValueError):
        return None


@dataclass(frozen=True)
class ShardStore:
    """``<output>.shards/``: ``manifest.json``, each shard's files and its ``.done.json``."""

    root: Path
    fingerprint: str

    @classmethod
    def for_output(cls, output: str | Path, fingerprint: str) -> ShardStore:
        return cls(Path(f"{output}.shards").absolute(), fingerprint)  # workers may cd elsewhere

    def path(self, index: int, suffix: str) -> Path:
        return self.root / f"{index:06d}{suffix}"

    def marker(self, index: int) -> Path:
        return self.root / f"{index:06d}.done.json"

    def prepare(self, manifest: Mapping[str, Any]) -> None:
        """Create the folder, emptying it first if it was made for another run's settings."""
        manifest_path = self.root / "manifest.json"
        if self.root.exists() and not manifest_path.is_file():
            raise FileExistsError(f"{self.root} exists and is not a shard folder (no manifest)")
        if _read_json(manifest_path) != manifest:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root.mkdir(parents=True)
            with atomic_write(manifest_path) as fh:
                json.dump(manifest, fh, indent=1, ensure_ascii=False)
        for tmp in self.root.glob(".*.tmp"):  # temp files of a killed run
            tmp.unlink(missing_ok=True)

    def completed(self, shard: Shard, suffixes: Sequence[str]) -> Counts | None:
        """The counts of a valid completed shard, or None if it must be (re)computed."""
        marker = _read_json(self.marker(shard.index))
        if (
            not isinstance(marker, dict)
            or marker.get("input_sha256") != shard.sha256
            or marker.get("fingerprint") != self.fingerprint
        ):
            return None
        files = marker.get("files") or {}
        for suffix in suffixes:
            path = self.path(shard.index, suffix)
            if not path.is_file() or files.get(suffix) != file_sha256(path):
                return None
        counts = marker.get("counts")
        return counts if isinstance(counts, dict) else None

    def commit(self, shard: Shard, suffixes: Sequence[str], counts: Counts) -> None:
        """Mark a shard complete; called after its files were written (atomically)."""
        marker = {
            "shard": shard.index,
            "first_line": shard.first_line,
            "records": shard.records,
            "input_sha256": shard.sha256,
            "fingerprint": self.fingerprint,
            "files": {s: file_sha256(self.path(shard.index, s)) for s in suffixes},
            "counts": counts,
        }
        with atomic_write(self.marker(shard.index)) as fh:
            json.dump(marker, fh, ensure_ascii=False)

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def remove_if_unfinished(self) -> None:
        """Remove the folder when no shard in it is complete (nothing a rerun could reuse)."""
        if not any(self.root.glob("*.done.json")):
            self.remove()


# --- running shards ---------------------------------------------------------------------------


class ShardWork(Protocol):
    """Processes one shard: reads ``records``, writes one file per suffix to ``paths``."""

    def __call__(self, part: Any, records: RecordStream, paths: list[Path]) -> Counts: ...


RecordFn = Callable[[Any, RecordStream, Counts], Iterator[PairRecord]]


@dataclass(frozen=True)
class JsonlWork:
    """Shard work of a record→record step: the records ``fn`` yields, as the shard's JSONL.

    ``fn`` receives a copy of ``zero`` (the step's counts for no records) to count into.
    """

    fn: RecordFn
    zero: Counts = field(default_factory=dict)

    def __call__(self, part: Any, records: RecordStream, paths: list[Path]) -> Counts:
        counts = copy.deepcopy(self.zero)
        write_records(paths[0], self.fn(part, records, counts))
        return counts


@dataclass(frozen=True)
class ShardJob:
    """Everything a worker needs for any shard of one step run; picklable."""

    work: ShardWork
    part: Part | None
    root: str
    fingerprint: str
    suffixes: tuple[str, ...]
    skip_invalid: bool = False


def run_shard(job: ShardJob, shard: Shard) -> Counts:
    """Process one shard and mark it complete; the task every executor runs."""
    store = ShardStore(Path(job.root), job.fingerprint)
    stats = ReadStats()
    part = None if job.part is None else job.part.build()
    records = shard.read(skip_invalid=job.skip_invalid, stats=stats)
    counts = job.work(part, records, [store.path(shard.index, s) for s in job.suffixes])
    if job.skip_invalid:
        counts["skipped_lines"] = dict(stats.skipped)
    store.commit(shard, job.suffixes, counts)
    return counts


@dataclass(frozen=True)
class RunOptions:
    """How a batch step runs: records per shard, where shards run, malformed lines, cleanup.

    ``n_process > 1`` spawns worker processes, so a script using it needs the usual
    ``if __name__ == "__main__":`` guard; ``executor`` (e.g. Dask) replaces ``n_process``.
    """

    shard_size: int = SHARD_SIZE
    n_process: int = 1
    executor: Executor | None = None
    skip_invalid: bool = False
    keep_shards: bool = False

    def get_executor(self) -> Executor:
        return self.executor if self.executor is not None else LocalExecutor(self.n_process)


@dataclass
class ShardedRun:
    """The outcome of :func:`run_sharded`: per-suffix shard files in order, merged counts."""

    store: ShardStore
    files: list[list[Path]]
    counts: Counts

    def finish(self, keep: bool = False) -> None:
        """Call after merging the shard files into the output: removes the shard folder."""
        if not keep:
            self.store.remove()


def run_sharded(
    step: str,
    input_path: str | Path,
    output: str | Path,
    work: ShardWork,
    part: Part | None,
    *,
    suffixes: Sequence[str] = (".jsonl",),
    params: Mapping[str, Any] | None = None,
    options: RunOptions | None = None,
    zero: Counts | None = None,
) -> ShardedRun:
    """Run ``work`` on every shard of ``input_path`` not already complete for these settings.

    ``zero`` is the step's counts for no records: the summary of an empty input.
    """
    options = options or RunOptions()
    params = dict(params or {})
    fp = fingerprint(step, part, params)
    shards = plan_shards(input_path, options.shard_size)
    store = ShardStore.for_output(output, fp)
    store.prepare(
        {
            "layout": LAYOUT_VERSION,
            "step": step,
            "fingerprint": fp,
            "shard_size": options.shard_size,
        }
    )
    done: dict[int, Counts] = {}
    for shard in shards:
        counts = store.completed(shard, suffixes)
        if counts is not None:
            done[shard.index] = counts
    pending = [s for s in shards if s.index not in done]
    logger.info(
        "%s: %d shard(s), %d complete from an earlier run, %d to run",
        step, len(shards), len(done), len(pending),
    )  # fmt: skip
    if pending:
        job = ShardJob(work, part, str(store.root), fp, tuple(suffixes), options.skip_invalid)
        total = sum(s.records for s in shards)
        finished = [(s.records, store.marker(s.index)) for s in shards]
        bar = step_progress(
            step, total, total - sum(s.records for s in pending),
            lambda: sum(n for n, marker in finished if marker.exists()),
        )  # fmt: skip
        try:
            with bar:
                results = options.get_executor().map(partial(run_shard, job), pending)
        except BaseException:
            store.remove_if_unfinished()  # a refusal leaves no folder; finished shards stay
            raise
        done.update(zip((s.index for s in pending), results, strict=True))
    files = [[store.path(s.index, suffix) for s in shards] for suffix in suffixes]
    zero = {**(zero or {}), **({"skipped_lines": {}} if options.skip_invalid else {})}
    return ShardedRun(store, files, merge_counts([zero, *(done[s.index] for s in shards)]))


def merge_counts(parts: Iterable[Mapping[str, Any]]) -> Counts:
    """Sum the shards' counts key by key (recursing into dicts); other values keep the first."""
    total: Counts = {}
    for part in parts:
        for key, value in part.items():
            if key not in total:
                total[key] = copy.deepcopy(value)
            elif isinstance(value, Mapping) and isinstance(total[key], dict):
                total[key] = merge_counts([total[key], value])
            elif _is_number(value) and _is_number(total[key]):
                total[key] += value
    return total


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def concat_files(paths: Iterable[str | Path], output: str | Path) -> None:
    """Byte-concatenate shard files into ``output`` atomically."""
    with atomic_write(output, "wb") as out:
        for path in paths:
            with open(path, "rb") as fh:
                shutil.copyfileobj(fh, out)


def map_records(
    step: str,
    input_path: str | Path,
    output: str | Path,
    fn: RecordFn,
    part: Any,
    *,
    params: Mapping[str, Any] | None = None,
    options: RunOptions | None = None,
    zero: Counts | None = None,
) -> Counts:
    """Run a record→record step shard by shard and concatenate the shards into ``output``.

    ``fn(part, records, counts)`` must be a module-level function (or a ``partial`` of one)
    so worker processes can unpickle it; it counts into ``counts``, a copy of ``zero``.
    ``params`` are the settings that change its output.
    """
    options = options or RunOptions()
    zero = dict(zero or {})
    work = JsonlWork(fn, zero)
    run = run_sharded(
        step, input_path, output, work, as_part(part), params=params, options=options, zero=zero
    )
    concat_files(run.files[0], output)
    run.finish(options.keep_shards)
    return run.counts
