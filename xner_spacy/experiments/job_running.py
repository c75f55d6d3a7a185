"""What the experiment drivers share to run their steps: a resumable data step kept beside its
output with its parameters, a model trained unless one with the same fingerprint exists, a logged
subprocess, jobs run a few at a time.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from ..io.atomic import atomic_write
from ..runner.step_fingerprints import (
    decide,
    model_identity,
    path_identity,
    step_parts,
    store,
)

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
    *,
    models: Sequence[str | Path] = (),
    configs: Sequence[str | Path] = (),
) -> bool:
    """Run a data step unless its output exists with the same ``params`` (resumable).

    ``models`` and ``configs`` join the params by identity (:func:`model_identity`) and
    content, so a labeller retrained at the same path, or an edited config, reruns the step.
    The step's counts (and ``params``) are kept beside the output and in ``log``. Returns
    whether it ran, so the steps after it run again too (``force``).
    """
    stats = path.with_name(path.name + ".stats.json")
    params = dict(params or {})
    if models:
        params["models"] = {str(m): model_identity(m) for m in models}
    if configs:
        params["configs"] = {str(c): path_identity(c) for c in configs}
    params = json.loads(json.dumps(params, default=str))
    if path.exists() and stats.is_file() and not force:
        saved = json.loads(stats.read_text(encoding="utf8"))
        old = saved.get("params", {})
        if old == params:
            log[name] = saved
            return False
        changed = sorted(k for k in {*old, *params} if old.get(k) != params.get(k))
        logger.info("%s: rerun, changed: %s", name, ", ".join(changed))
    t0 = time.perf_counter()
    counts = run()
    counts["params"] = params
    counts["seconds"] = round(time.perf_counter() - t0, 1)
    with atomic_write(stats) as fh:
        fh.write(json.dumps(counts, ensure_ascii=False, default=str) + "\n")
    log[name] = counts
    logger.info("%s: %s", name, {k: v for k, v in counts.items() if not isinstance(v, list)})
    return True


def training_parts(cfg: Any, models: Sequence[str | Path] = ()) -> dict[str, Any]:
    """The fingerprint of a ``spacy train`` run: its full config, the data files it reads,
    ``models`` (e.g. the encoder) and, for a distilled student, its teachers."""
    inputs = [p for p in (cfg["paths"].get("train"), cfg["paths"].get("dev")) if p]
    models = list(models)
    corpus = cfg["corpora"]["train"]
    if corpus.get("@readers") == "xner.TeacherCorpus.v1":
        inputs.append(corpus["path"])
        models += [t["model"] for t in corpus["teachers"].values()]
    return step_parts([cfg.to_str()], models=models, inputs=inputs)


def train_unless_current(
    name: str,
    model: Path,
    parts: dict[str, Any],
    train: Callable[[], None],
    *,
    force: bool = False,
    reuse_stale: bool = False,
) -> bool:
    """Run ``train`` (which writes ``model``, a ``model-best`` folder) unless ``model`` exists
    with the same fingerprint ``parts`` (:func:`~xner_spacy.runner.step_fingerprints.decide`);
    a stale model is removed first. Returns whether it trained."""
    if not decide(name, model, parts, force=force, reuse_stale=reuse_stale):
        return False
    for stale in (model, model.with_name("model-last")):
        if stale.exists():
            shutil.rmtree(stale)
    train()
    if not model.is_dir():
        raise RuntimeError(f"{name}: training did not write {model}")
    store(model, parts)
    return True


def run_logged(cmd: list[str], log: Path, threads: int | None = None) -> None:
    """Run ``cmd`` with its output in ``log``; ``OMP_NUM_THREADS`` is ``threads``, else the
    environment's, else 1 (the drivers run several models at once)."""
    default = os.environ.get("OMP_NUM_THREADS", "1")
    env = {**os.environ, "OMP_NUM_THREADS": str(threads) if threads else default}
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
