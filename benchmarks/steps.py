"""The measured steps: each prepares its inputs untimed, then returns the work to time.

A step's ``prepare(job)`` loads models and reads its input records into memory (so reading
files is measured once, by the ``read_*`` steps, and not again inside every other step), and
returns a ``work()`` callable; the worker times ``work()`` alone. Steps only import what they
need, so the memory a step reports is its own.
"""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from xner_spacy.types import PairRecord

from .data import PREFIX_LEN, take


@dataclass
class Job:
    """One measurement: a step, a number of records, input paths and options."""

    step: str
    size: int
    inputs: dict[str, str] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class Output:
    """What ``work()`` did: units processed, words processed, counts worth reporting.

    ``seconds`` and ``cpu_seconds`` override the worker's wall-clock and CPU timings when a
    step must leave something out (training leaves out its evaluation passes); ``records``
    may be saved as a cache.
    """

    items: int
    words: int = 0
    seconds: float | None = None
    cpu_seconds: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    records: list[PairRecord] | None = None


Work = Callable[[], Output]


@dataclass(frozen=True)
class Step:
    """A benchmark step: name, table group, unit counted, the cached inputs it needs."""

    name: str
    group: str
    unit: str
    needs: tuple[str, ...]
    prepare: Callable[[Job], Work]
    about: str
    requires: tuple[str, ...] = ()
    produces: str | None = None
    once: bool = False

    def missing(self) -> str | None:
        """Why the step cannot run here (an uninstalled module), or None."""
        lost = [m for m in self.requires if importlib.util.find_spec(m) is None]
        return f"not installed: {', '.join(lost)}" if lost else None


def _words(records: list[PairRecord], side: str = "both") -> int:
    """Number of words on one side (``src``/``tgt``) or both sides of ``records``."""
    src = sum(len(r.src_words) for r in records) if side != "tgt" else 0
    tgt = sum(len(r.tgt_words) for r in records) if side != "src" else 0
    return src + tgt


# --- reading ----------------------------------------------------------------------------


def read_parallel(job: Job) -> Work:
    """Raw MAFAND lines → NFC, stripped, tokenised word lists (``prepare`` minus filtering)."""
    from xner_spacy.io.parallel import mafand_splits
    from xner_spacy.io.parallel import read_parallel as read_pairs
    from xner_spacy.text import tokenize

    data_dir, src, tgt = job.inputs["data_dir"], job.options["src"], job.options["tgt"]
    tokenize("warm up", src), tokenize("warm up", "xx")  # build the tokenizers untimed

    def work() -> Output:
        n = words = 0
        for _, src_file, tgt_file in mafand_splits(data_dir, src, tgt):
            for pair in read_pairs(src_file, tgt_file):
                if n >= job.size:
                    return Output(n, words)
                words += len(tokenize(pair.src, src)) + len(tokenize(pair.tgt, "xx"))
                n += 1
        return Output(n, words)

    return work


def read_records(job: Job) -> Work:
    """JSONL → validated ``PairRecord`` objects (every step's input)."""
    from xner_spacy.io.records import read_records as read

    path = job.inputs["projected"]

    def work() -> Output:
        records = list(islice(read(path), job.size))
        return Output(len(records), _words(records))

    return work


def write_records(job: Job) -> Work:
    """``PairRecord`` objects → JSONL via an atomic temp file (every step's output)."""
    from xner_spacy.io.records import write_records as write

    records = take(Path(job.inputs["projected"]), job.size)
    out = Path(job.options["tmp"]) / "records.jsonl"

    def work() -> Output:
        return Output(write(out, records), _words(records))

    return work


# --- labelling ----------------------------------------------------------------------------


def label(job: Job) -> Work:
    """Source NER with a spaCy pipeline on pre-tokenised source words."""
    from xner_spacy.labelling.spacy_labeller import SpacyLabeller

    labeller = SpacyLabeller(job.options["labeller"], label_map=job.options["label_map"])
    records = take(Path(job.inputs["pairs"]), job.size)
    list(labeller.label([["Warm", "up", "in", "London", "."]]))

    def work() -> Output:
        found = list(labeller.label(r.src_words for r in records))
        for rec, ents in zip(records, found, strict=True):
            rec.src_ents = ents
        n_ents = sum(map(len, found))
        return Output(
            len(records), _words(records, "src"), extra={"entities": n_ents}, records=records
        )

    return work


# --- alignment ----------------------------------------------------------------------------


def _align_work(job: Job, aligner: Any) -> Work:
    records = take(Path(job.inputs["labelled"]), job.size)
    src = [r.src_words for r in records]
    tgt = [r.tgt_words for r in records]

    def work() -> Output:
        links = aligner.align(src, tgt)
        for rec, pairs in zip(records, links, strict=True):
            rec.alignment = sorted(pairs)
        n_links = sum(map(len, links))
        return Output(len(records), _words(records), extra={"links": n_links}, records=records)

    return work


def align_fast_align(job: Job) -> Work:
    """fast_align (systran-align) trained on the ``size`` pairs it aligns, both directions."""
    from xner_spacy.alignment.statistical_aligners import FastAlignAligner

    return _align_work(job, FastAlignAligner(prefix_len=PREFIX_LEN))


def align_eflomal(job: Job) -> Work:
    """eflomal trained on the ``size`` pairs it aligns (sampling iterations: its own default)."""
    from xner_spacy.alignment.statistical_aligners import EflomalAligner

    iters = job.options.get("eflomal_iterations")
    return _align_work(job, EflomalAligner(prefix_len=PREFIX_LEN, n_iterations=iters))


def align_neural_tiny(job: Job) -> Work:
    """SoftmaxAligner on a tiny *random* 2-layer encoder: plumbing cost only, no quality."""
    from xner_spacy.alignment.neural_aligners import SoftmaxAligner

    aligner = SoftmaxAligner(
        model=job.inputs["tiny_encoder"], layer=2, device="cpu", on_overflow="truncate"
    )
    aligner.load()
    return _align_work(job, aligner)


# --- projection ---------------------------------------------------------------------------


def _project_work(job: Job, projector: Any) -> Work:
    records = take(Path(job.inputs["aligned"]), job.size)
    rows = [(r.src_words, r.tgt_words, r.src_ents or [], r.alignment or []) for r in records]

    def work() -> Output:
        n_out = 0
        found = [projector(*row) for row in rows]
        for rec, ents in zip(records, found, strict=True):
            rec.tgt_ents = ents
            n_out += len(ents)
        n_src = sum(len(row[2]) for row in rows)
        extra = {"src_entities": n_src, "tgt_entities": n_out}
        return Output(len(rows), _words(records), extra=extra, records=records)

    return work


def project_gf2022(job: Job) -> Work:
    """Heuristic projection, García-Ferrero et al. 2022 rules (``xner.HeuristicProjector.v1``)."""
    from xner_spacy.projection.heuristic_projection import HeuristicProjector

    return _project_work(job, HeuristicProjector(variant="gf2022"))


def project_paper(job: Job) -> Work:
    """Heuristic projection, Politov et al. 2025 rules."""
    from xner_spacy.projection.heuristic_projection import HeuristicProjector

    return _project_work(job, HeuristicProjector(variant="paper"))


def _matcher(job: Job, solver: str) -> Any:
    from xner_spacy.projection import AlignmentDice, CandidateMatcher, NgramCandidates

    max_len = int(job.options.get("max_len", 10))
    return CandidateMatcher(
        candidates=(NgramCandidates(max_len=max_len),), scores=(AlignmentDice(),), solver=solver
    )


def match_greedy(job: Job) -> Work:
    """Candidate matching: n-grams (n ≤ 10) × alignment Dice, greedy matching."""
    return _project_work(job, _matcher(job, "greedy"))


def match_ilp(job: Job) -> Work:
    """Candidate matching: n-grams (n ≤ 10) × alignment Dice, exact 0/1 ILP (HiGHS)."""
    import scipy.optimize  # noqa: F401  imported on first use: once per process, untimed

    return _project_work(job, _matcher(job, "ilp"))


def corpus_passes(job: Job) -> Work:
    """Corpus-level passes after projection: fallback, target label vote, name propagation."""
    from xner_spacy.projection.corpus_passes import (
        NamePropagation,
        SupportedFallback,
        passes_from,
        run_passes,
    )
    from xner_spacy.projection.heuristic_projection import HeuristicProjector
    from xner_spacy.projection.label_consistency import LabelConsistency

    records = take(Path(job.inputs["projected"]), job.size)
    fallback = SupportedFallback(HeuristicProjector(variant="paper"))
    _, after = passes_from(LabelConsistency(), fallback, NamePropagation(min_share=0.3))

    def work() -> Output:
        changed = run_passes(records, after)
        return Output(len(records), _words(records), extra=changed, records=records)

    return work


# --- conversion, training, inference ---------------------------------------------------------


def convert(job: Job) -> Work:
    """Projected records → a target-side ``DocBin`` file (doubtful records dropped)."""
    from xner_spacy.io.docbin import records_to_docbin

    records = take(Path(job.inputs["projected"]), job.size)
    out = Path(job.options["tmp"]) / "train.spacy"

    def work() -> Output:
        counts = records_to_docbin(out, records, doubtful="drop")
        return Output(len(records), _words(records, "tgt"), extra=dict(counts))

    return work


#: Words per training batch, in step order (filled by the counting batcher).
_BATCH_WORDS: list[int] = []
#: ``(perf_counter(), process_time())`` at the start of each training step (the step clock).
_STEP_START: list[tuple[float, float]] = []


def _counting_batcher(batcher: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Wrap the configured batcher to record each batch's number of words."""

    def batch(items: Any) -> Any:
        for b in batcher(items):
            _BATCH_WORDS.append(sum(len(eg) for eg in b))
            yield b

    return batch


def _step_clock() -> Callable[[Any, dict[str, Any]], None]:
    """A ``before_update`` callback that timestamps the start of each step."""

    def clock(nlp: Any, args: dict[str, Any]) -> None:
        _STEP_START.append((time.perf_counter(), time.process_time()))

    return clock


def update_rate(
    starts: list[tuple[float, float]], words: list[int], eval_every: int
) -> tuple[int, float, float]:
    """Words, wall and CPU seconds of the steps that did not evaluate (step k ends at k + 1)."""
    n_words, secs, cpu = 0, 0.0, 0.0
    for k in range(len(starts) - 1):
        if k % eval_every and k < len(words):
            n_words += words[k]
            secs += starts[k + 1][0] - starts[k][0]
            cpu += starts[k + 1][1] - starts[k][1]
    return n_words, secs, cpu


def train(job: Job) -> Work:
    """``configs/ner_cnn.cfg`` for ``train_steps`` updates; words/s over updates only.

    spaCy evaluates after step 0 and every ``eval_frequency`` steps (set to ``train_steps``
    here); those steps, and the checkpoints saved after them, are left out of the figure.
    The pipeline is then packaged (``spacy package --build none``) for ``infer``.
    """
    import spacy
    from spacy.training.initialize import init_nlp
    from spacy.training.loop import train as train_loop
    from spacy.util import load_config

    spacy.registry.batchers("xner_bench.CountingBatcher.v1", func=_counting_batcher)
    spacy.registry.callbacks("xner_bench.StepClock.v1", func=_step_clock)
    docbins = Path(job.inputs["docbin"])
    steps = int(job.options["train_steps"])
    overrides = {
        "paths.train": str(docbins / "train.spacy"),
        "paths.dev": str(docbins / "dev.spacy"),
        "nlp.lang": "xx",
        "training.max_steps": steps,
        "training.eval_frequency": steps,
    }
    config = load_config(job.options["config"], overrides=overrides, interpolate=False)
    training = config["training"]
    training["batcher"] = {
        "@batchers": "xner_bench.CountingBatcher.v1",
        "batcher": training["batcher"],
    }
    training["before_update"] = {"@callbacks": "xner_bench.StepClock.v1"}
    t0 = time.perf_counter()
    nlp = init_nlp(config, use_gpu=-1)
    init_s = time.perf_counter() - t0
    model_dir = Path(job.options["model_dir"])

    def work() -> Output:
        import io

        from spacy.cli.package import package

        _BATCH_WORDS.clear()
        _STEP_START.clear()
        start = time.perf_counter()
        (model_dir / "trained").mkdir(parents=True, exist_ok=True)
        train_loop(nlp, model_dir / "trained", stdout=io.StringIO(), stderr=io.StringIO())
        t_pkg = time.perf_counter()
        (model_dir / "pkg").mkdir(exist_ok=True)
        package(
            model_dir / "trained" / "model-last",
            model_dir / "pkg",
            name="bench",
            version="0.0.0",
            create_sdist=False,
            create_wheel=False,
            force=True,
            silent=True,
        )
        end = time.perf_counter()
        words, secs, cpu = update_rate(_STEP_START, _BATCH_WORDS, steps)
        timed = sum(1 for k in range(len(_STEP_START) - 1) if k % steps)
        extra = {
            "updates": len(_STEP_START),
            "updates_timed": timed,
            "init_s": round(init_s, 2),
            "loop_s": round(t_pkg - start, 2),
            "package_s": round(end - t_pkg, 2),
            "words_seen": sum(_BATCH_WORDS[: len(_STEP_START)]),
        }
        return Output(timed, words, seconds=secs, cpu_seconds=cpu, extra=extra)

    return work


def packaged_model(model_dir: Path) -> Path:
    """The pipeline folder inside the package ``train`` built under ``model_dir``."""
    found = sorted((model_dir / "pkg").glob("*/*/*/config.cfg"))
    if not found:
        raise FileNotFoundError(f"no packaged pipeline under {model_dir / 'pkg'}")
    return found[0].parent


def infer(job: Job) -> Work:
    """The packaged target pipeline loaded with ``spacy.load``: ``nlp.pipe`` on raw target text."""
    import spacy

    from xner_spacy.io.parallel import mafand_splits
    from xner_spacy.io.parallel import read_parallel as read_pairs

    nlp = spacy.load(packaged_model(Path(job.inputs["model"])))
    texts: list[str] = []
    for _, src_file, tgt_file in mafand_splits(
        job.inputs["data_dir"], job.options["src"], job.options["tgt"]
    ):
        texts.extend(p.tgt for p in islice(read_pairs(src_file, tgt_file), job.size - len(texts)))
    list(nlp.pipe(["Warm up ."]))

    def work() -> Output:
        words = ents = 0
        for doc in nlp.pipe(texts, batch_size=256):
            words += len(doc)
            ents += len(doc.ents)
        return Output(len(texts), words, extra={"entities": ents})

    return work


STEPS: dict[str, Step] = {
    s.name: s
    for s in (
        Step("read_parallel", "read", "pairs", ("data_dir",), read_parallel,
             "MAFAND text → NFC, tokenised word lists"),
        Step("label", "label", "sentences", ("pairs",), label,
             "spaCy NER on source words", produces="labelled"),
        Step("align_fast_align", "align", "pairs", ("labelled",), align_fast_align,
             "fast_align, trained on the pairs it aligns", produces="aligned"),
        Step("align_eflomal", "align", "pairs", ("labelled",), align_eflomal,
             "eflomal, trained on the pairs it aligns", requires=("eflomal",)),
        Step("align_neural_tiny", "align", "pairs", ("labelled", "tiny_encoder"),
             align_neural_tiny, "SoftmaxAligner, tiny random encoder: plumbing only",
             requires=("torch", "transformers", "tokenizers")),
        Step("project_gf2022", "project", "pairs", ("aligned",), project_gf2022,
             "heuristic, García-Ferrero et al. 2022", produces="projected"),
        Step("project_paper", "project", "pairs", ("aligned",), project_paper,
             "heuristic, Politov et al. 2025"),
        Step("match_greedy", "project", "pairs", ("aligned",), match_greedy,
             "n-gram (n ≤ 10) candidates, Dice, greedy"),
        Step("match_ilp", "project", "pairs", ("aligned",), match_ilp,
             "n-gram (n ≤ 10) candidates, Dice, exact ILP"),
        Step("corpus_passes", "project", "records", ("projected",), corpus_passes,
             "corpus passes on gf2022 output: fallback, label vote, propagation"),
        Step("read_records", "records", "records", ("projected",), read_records,
             "JSONL → validated records (all fields)"),
        Step("write_records", "records", "records", ("projected",), write_records,
             "records → JSONL (atomic)"),
        Step("convert", "convert", "records", ("projected",), convert,
             "projected records → DocBin"),
        Step("train", "train", "steps", ("docbin",), train,
             "spacy train configs/ner_cnn.cfg (CPU)", once=True),
        Step("infer", "infer", "sentences", ("data_dir", "model"), infer,
             "packaged pipeline, nlp.pipe on raw target text"),
    )
}  # fmt: skip
