"""Scoring and reporting: evaluate a pipeline on gold data, the metrics table, timed steps."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import typer

from .app import app
from .common import (
    ALLOW_EMPTY_OPT,
    EXTRA_ARGS,
    GOLD_LABEL_MAP_OPT,
    GOLD_SKIP_MALFORMED_OPT,
    IGNORE_LABELS_OPT,
    LABELS_OPT,
    MODEL_LABEL_MAP_OPT,
    MOJIBAKE_OPT,
    SEED_OPT,
    UNKNOWN_LABELS_OPT,
    emit_summary,
    read_gold,
    setup_logging,
)


@app.command("evaluate", context_settings=EXTRA_ARGS)
def evaluate_cmd(
    ctx: typer.Context,
    model: str = typer.Argument(..., help="Pipeline name or path"),
    test: Path = typer.Argument(..., exists=True, help="Gold CoNLL test file"),
    output: Path | None = typer.Option(None, help="Write metrics JSON here"),
    labels: str = LABELS_OPT,
    label_map: str = MODEL_LABEL_MAP_OPT,
    ignore_labels: str = IGNORE_LABELS_OPT,
    gold_label_map: str = GOLD_LABEL_MAP_OPT,
    unknown_labels: str = UNKNOWN_LABELS_OPT,
    skip_malformed: bool = GOLD_SKIP_MALFORMED_OPT,
    allow_empty: bool = ALLOW_EMPTY_OPT,
    mojibake: str = MOJIBAKE_OPT,
    provenance: list[str] = typer.Option(
        [],
        help="NAME=PATH, repeatable: what the model came from, recorded in the output under "
        "'provenance' (an `xner identify` JSON, a model folder's identity, or a file's hash; "
        "e.g. labeller=corpus/models/labeller.json silver=corpus/yor/train.spacy)",
    ),
    bootstrap: int = typer.Option(
        0,
        min=0,
        help="Resamples of a percentile bootstrap over test sentences: 95 % intervals "
        "f1_ci, micro and per label (0: none)",
    ),
    seed: int = SEED_OPT,
    counts: Path | None = typer.Option(
        None,
        help="Also write each test sentence's (tp, fp, fn) per label here (.npz), so paired "
        "bootstrap comparisons of models never run them again",
    ),
) -> None:
    """Exact-span P/R/F1 (micro and per label) of a pipeline on gold data; DATE etc. ignored.

    Gold entity types must be in --labels or --ignore-labels (after --gold-label-map): any
    other is an error naming file:line, or with --unknown-labels drop, dropped and counted.
    Extra ``--section.key value`` options override the pipeline's config as it loads, e.g.
    ``--components.xner_encoder.quantize int8`` (int8 encoder on CPU). The output also has
    the prediction time and words/s (loading excluded). With --bootstrap N, 95 % intervals
    of F1 from N resamples of the test sentences (the model runs once). With --counts, the
    per-sentence counts those intervals (and the research tables' comparisons) resample.
    """
    from spacy.cli._util import parse_config_overrides

    from ..evaluation.bootstrap import add_f1_intervals, save_sentence_counts
    from ..evaluation.pipeline_scores import pipeline_predictions, predicted_labels
    from ..evaluation.spans import score_spans
    from ..labelling.label_maps import get_label_map
    from ..labelling.spacy_labeller import load_pipeline
    from ..runner.step_fingerprints import provenance_entry

    recorded = {}
    for item in provenance:  # checked before the model loads
        name, sep, path = item.partition("=")
        if not sep or not name or not Path(path).exists():
            raise typer.BadParameter(f"expected NAME=PATH of an existing file, got {item!r}")
        recorded[name] = provenance_entry(path)
    setup_logging()
    t0 = time.perf_counter()
    label_set, gold, read_stats = read_gold(
        test, labels, ignore_labels, gold_label_map, unknown_labels, skip_malformed, mojibake,
        allow_empty,
    )  # fmt: skip
    overrides = parse_config_overrides(list(ctx.args))
    nlp = load_pipeline(model, config=overrides) if overrides else load_pipeline(model)
    known = predicted_labels(nlp, get_label_map(label_map))
    unpredicted = [label for label in label_set if known is not None and label not in known]
    if unpredicted:
        logging.getLogger("xner_spacy").warning(
            "--labels %s: %s never predicts %s (its types after --label-map %s: %s); "
            "they score 0", ",".join(label_set), model, ",".join(unpredicted), label_map,
            ",".join(sorted(known or ())) or "none",
        )  # fmt: skip
    t_predict = time.perf_counter()
    preds = pipeline_predictions(nlp, (words for words, _ in gold), get_label_map(label_map))
    predict_s = time.perf_counter() - t_predict
    metrics = score_spans([ents for _, ents in gold], preds, label_set)
    if bootstrap:
        metrics = add_f1_intervals(metrics, [e for _, e in gold], preds, label_set, bootstrap, seed)
    if counts is not None:  # before the metrics: a metrics file means its counts exist
        save_sentence_counts(counts, [e for _, e in gold], preds, label_set)
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
        "repaired_tags": read_stats.repaired,
        "mojibake_lines": read_stats.mojibake,
        "labels_not_predicted": unpredicted,
    }
    if recorded:
        summary["provenance"] = recorded
    if counts is not None:
        summary["counts"] = str(counts)
    emit_summary("evaluate", summary, output, t0)


@app.command("report")
def report_cmd(
    metrics: list[Path] = typer.Argument(
        ..., exists=True, dir_okay=False, help="Metrics JSON files from `xner evaluate`"
    ),
    timings: Path | None = typer.Option(
        None, exists=True, dir_okay=False, help="Timing log from `xner timed`"
    ),
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
