"""The labeller study (``xner labeller-study``): one source labeller trained with the encoder's
top layers frozen or trained, over seeds, scored on its own test set and zero-shot on others.

For every ``trainable_layers`` value ``t`` and every seed, ``spacy train`` trains ``config``
(``configs/ner_encoder.cfg``) on the same gold data with ``--paths.trainable_layers t`` and
``--system.seed``; each model is then scored on every test set (the source language's own, and
other languages' for direct transfer). Each step keeps a fingerprint beside its output (the
settings, the config's content, the encoder's identity and the data's; not the paths), so a
stopped study resumes, and an output of other settings is redone (the log says what changed).
Per-sentence (tp, fp, fn) counts are kept beside each score, so the report's paired bootstrap
(trained top layers against frozen, on each test set and on the average of the transfer sets)
never runs a model again.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..evaluation.bootstrap import (
    averaged_difference,
    is_finding,
    load_counts,
    save_sentence_counts,
    seed_averaged_f1,
    seed_summary,
)
from ..io.atomic import atomic_write
from ..runner.step_fingerprints import decide, model_identity, path_identity, store
from .job_running import run_logged, train_unless_current

logger = logging.getLogger("xner_spacy")

#: Gold types read (any other is an error naming file:line) and the types scored.
READ_LABELS = ("PER", "ORG", "LOC", "MISC", "DATE")
SCORED_LABELS = ("PER", "ORG", "LOC")


@dataclass
class StudySettings:
    train: Path
    dev: Path
    #: test-set name → gold CoNLL file; the first is the source language's own test set.
    tests: dict[str, Path]
    work_dir: Path
    config: Path = Path("configs/ner_encoder.cfg")
    encoder: str = "assets/encoder"
    encoder_name: str = ""
    lang: str = "en"
    trainable_layers: list[int] = field(default_factory=lambda: [0, 2])
    seeds: list[int] = field(default_factory=lambda: [0])
    steps: int = 3000
    eval_frequency: int = 250
    gpu_id: int = -1
    threads: int = 2
    bootstrap: int = 1000
    #: ``--section.key value`` options added to every ``spacy train``.
    extra_args: list[str] = field(default_factory=list)
    force: bool = False
    reuse_stale: bool = False


def run_name(trainable: int, seed: int) -> str:
    return f"t{trainable}_s{seed}"


def training_command(settings: StudySettings, trainable: int, seed: int) -> list[str]:
    out = settings.work_dir / run_name(trainable, seed)
    cmd = [sys.executable, "-m", "spacy", "train", str(settings.config), "--output", str(out),
           "--paths.train", str(settings.train), "--paths.dev", str(settings.dev),
           "--nlp.lang", settings.lang, "--paths.encoder", settings.encoder,
           "--paths.trainable_layers", str(trainable), "--system.seed", str(seed),
           "--training.max_steps", str(settings.steps),
           "--training.eval_frequency", str(settings.eval_frequency),
           "--gpu-id", str(settings.gpu_id)]  # fmt: skip
    if settings.encoder_name:
        cmd += ["--paths.encoder_name", settings.encoder_name]
    return cmd + list(settings.extra_args)


def _identity(encoder: str) -> dict[str, Any]:
    """A model's identity without its path: a moved or linked copy is the same model."""
    return {k: v for k, v in model_identity(encoder).items() if k != "path"}


def training_parts(settings: StudySettings, trainable: int, seed: int) -> dict[str, Any]:
    """What decides a model: the settings, the config's content, the encoder, the data."""
    return {
        "command": ["lang", settings.lang, "trainable_layers", str(trainable), "seed", str(seed),
                    "steps", str(settings.steps), "eval_frequency", str(settings.eval_frequency),
                    *settings.extra_args],
        "configs": {"config": path_identity(settings.config)},
        "models": {"encoder": _identity(settings.encoder)},
        "inputs": {"train": path_identity(settings.train), "dev": path_identity(settings.dev)},
    }  # fmt: skip


def train_one(settings: StudySettings, trainable: int, seed: int) -> dict[str, Any]:
    """Train (unless current) one model; returns its dev F1 and training seconds."""
    name = run_name(trainable, seed)
    out = settings.work_dir / name
    model = out / "model-best"
    timing = out / "train_seconds.json"
    started = time.perf_counter()

    def train() -> None:
        out.mkdir(parents=True, exist_ok=True)
        run_logged(training_command(settings, trainable, seed), out / "train.log", settings.threads)
        _write_json(timing, {"seconds": round(time.perf_counter() - started, 1)})

    trained = train_unless_current(
        f"train {name}", model, training_parts(settings, trainable, seed), train,
        force=settings.force, reuse_stale=settings.reuse_stale,
    )  # fmt: skip
    meta = json.loads((model / "meta.json").read_text(encoding="utf8"))
    seconds = json.loads(timing.read_text(encoding="utf8"))["seconds"] if timing.exists() else None
    logger.info("%s: %s, %s s", name, "trained" if trained else "up to date", seconds)
    return {"dev_f1": float(meta.get("performance", {}).get("ents_f", 0.0)), "seconds": seconds}


def score_one(settings: StudySettings, trainable: int, seed: int, nlp_cache: dict) -> dict:
    """Score one model on every test set (unless current): metrics and per-sentence counts."""
    from ..evaluation.pipeline_scores import pipeline_predictions
    from ..evaluation.spans import score_spans
    from ..io.conll import read_conll

    name = run_name(trainable, seed)
    model = settings.work_dir / name / "model-best"
    found = {}
    for test, path in settings.tests.items():
        out = settings.work_dir / name / "scores" / f"{test}.json"
        parts = {
            "command": ["score", *SCORED_LABELS],
            "configs": {},
            "models": {"model": _identity(str(model))},
            "inputs": {"test": path_identity(path)},
        }
        if decide(f"score {name} on {test}", out, parts, force=settings.force,
                  reuse_stale=settings.reuse_stale):  # fmt: skip
            if name not in nlp_cache:
                import spacy

                nlp_cache.clear()  # one model in memory at a time
                nlp_cache[name] = spacy.load(model)
            gold = [(s.words, s.ents) for s in read_conll(path, labels=READ_LABELS)]
            t0 = time.perf_counter()
            pred = pipeline_predictions(nlp_cache[name], (w for w, _ in gold))
            seconds = time.perf_counter() - t0
            metrics = score_spans((e for _, e in gold), pred, SCORED_LABELS)
            out.parent.mkdir(parents=True, exist_ok=True)
            save_sentence_counts(out.with_suffix(".npz"), [e for _, e in gold], pred, SCORED_LABELS)
            result = {**metrics, "sentences": len(gold), "predict_seconds": round(seconds, 1)}
            _write_json(out, result)
            store(out, parts)
        found[test] = json.loads(out.read_text(encoding="utf8"))
    return found


def _write_json(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` atomically: a crash never leaves half a file."""
    with atomic_write(path) as fh:
        fh.write(json.dumps(data, indent=1) + "\n")


def _counts(settings: StudySettings, trainable: int, test: str) -> list[Any]:
    return [
        load_counts(settings.work_dir / run_name(trainable, s) / "scores" / f"{test}.npz")[1]
        for s in settings.seeds
    ]


def run_study(settings: StudySettings) -> dict[str, Any]:
    """Train and score every (trainable_layers, seed); the rows and the comparisons."""
    t0 = time.perf_counter()
    nlp_cache: dict[str, Any] = {}
    rows = []
    for trainable in settings.trainable_layers:
        runs = []
        for seed in settings.seeds:
            step = time.perf_counter()
            run = train_one(settings, trainable, seed)
            run["scores"] = score_one(settings, trainable, seed, nlp_cache)
            logger.info("%s done in %.0f s", run_name(trainable, seed), time.perf_counter() - step)
            runs.append(run)
        rows.append(_row(settings, trainable, runs))
    transfer = list(settings.tests)[1:]
    base = settings.trainable_layers[0]
    comparisons = []
    for trainable in settings.trainable_layers[1:]:
        pairs = {
            test: (_counts(settings, trainable, test), _counts(settings, base, test))
            for test in settings.tests
        }
        entry: dict[str, Any] = {"a": f"trainable_layers={trainable}",
                                 "b": f"trainable_layers={base}", "tests": {}}  # fmt: skip
        for i, (test, pair) in enumerate(pairs.items()):
            entry["tests"][test] = _claim(averaged_difference([pair], settings.bootstrap, i))
        if len(transfer) > 1:
            entry["transfer_average"] = _claim(
                averaged_difference([pairs[t] for t in transfer], settings.bootstrap, 0)
            )
        comparisons.append(entry)
    return {
        "settings": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(settings).items()}
        | {"tests": {k: str(v) for k, v in settings.tests.items()}},
        "rows": rows,
        "comparisons": comparisons,
        "wall_seconds": round(time.perf_counter() - t0, 1),
    }


def _claim(found: dict[str, Any]) -> dict[str, Any]:
    return found | {
        "finding": is_finding(found["difference_ci"], found["seeds_a"], found["seeds_b"])
    }


def _row(settings: StudySettings, trainable: int, runs: list[dict[str, Any]]) -> dict[str, Any]:
    tests = {}
    for i, test in enumerate(settings.tests):
        per_seed = [run["scores"][test]["f1"] for run in runs]
        counts = _counts(settings, trainable, test)
        interval = seed_averaged_f1(counts, settings.bootstrap, i)["f1_ci"]
        tests[test] = {"f1_per_seed": per_seed, **seed_summary(per_seed), "f1_ci": interval}
    transfer = list(settings.tests)[1:]
    transfer_mean = [
        sum(run["scores"][t]["f1"] for t in transfer) / len(transfer) for run in runs
    ] if transfer else []  # fmt: skip
    return {
        "trainable_layers": trainable,
        "seeds": list(settings.seeds),
        "dev": {
            "f1_per_seed": [r["dev_f1"] for r in runs],
            **seed_summary([r["dev_f1"] for r in runs]),
        },  # fmt: skip
        "tests": tests,
        "transfer_mean": {"f1_per_seed": transfer_mean, **seed_summary(transfer_mean)}
        if transfer_mean
        else None,
        "train_seconds": [r["seconds"] for r in runs],
    }


def _pm(entry: dict[str, Any]) -> str:
    mean, sd = 100 * entry["f1_mean"], 100 * entry["f1_sd"]
    return f"{mean:.1f} ± {sd:.1f}" if len(entry["f1_per_seed"]) > 1 else f"{mean:.1f}"


def markdown(result: dict[str, Any]) -> str:
    """The study's table (mean ± sd over seeds, F1 ×100) and its comparisons."""
    rows = result["rows"]
    tests = list(result["settings"]["tests"])
    has_transfer = any(r["transfer_mean"] for r in rows)
    head = ["trainable layers", "seeds", "dev", *tests] + (["transfer avg"] if has_transfer else [])
    lines = ["| " + " | ".join(head) + " |", "|" + "---:|" * len(head)]
    for r in rows:
        cells = [str(r["trainable_layers"]), str(len(r["seeds"])), _pm(r["dev"])]
        cells += [_pm(r["tests"][t]) for t in tests]
        if has_transfer:
            cells.append(_pm(r["transfer_mean"]))
        lines.append("| " + " | ".join(cells) + " |")
    for c in result["comparisons"]:
        lines += ["", f"{c['a']} − {c['b']} (paired bootstrap over test sentences, 95 %):", ""]
        items = list(c["tests"].items())
        if c.get("transfer_average"):
            items.append(("transfer avg", c["transfer_average"]))
        for test, found in items:
            low, high = (100 * x for x in found["difference_ci"])
            lines.append(
                f"- {test}: {100 * found['difference']:+.1f} [{low:+.1f}, {high:+.1f}], "
                f"A better in {100 * found['a_better_share']:.0f} % of resamples, "
                f"{found['seeds_a']} seed(s) each{' (finding)' if found['finding'] else ''}"
            )
    return "\n".join(lines) + "\n"


def parse_tests(specs: Sequence[str]) -> dict[str, Path]:
    """``NAME=PATH`` options → an ordered mapping (clear error when malformed or repeated)."""
    found: dict[str, Path] = {}
    for spec in specs:
        name, sep, path = spec.partition("=")
        if not sep or not name or not path:
            raise ValueError(f"expected NAME=PATH, got {spec!r}")
        if name in found:
            raise ValueError(f"test set {name!r} given twice")
        found[name] = Path(path)
    return found
