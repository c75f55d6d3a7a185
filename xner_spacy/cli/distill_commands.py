"""``xner`` sub-commands for multi-source projection and the distillation experiment.

``prepare-ntrex`` (NTREX-128 pair records), ``vote`` (multi-source projection by weighted
span voting), ``target-text`` (unlabelled target sentences for distillation),
``vector-text``/``train-vectors`` (in-project floret vectors), ``distill-experiment`` (k = 1..K
sources: teachers, hard-label students on voted projections, distilled students) and
``distill-report`` (JSON + Markdown table and a PNG plot of F1 against k).
"""

from __future__ import annotations

import shlex
import sys
import time
from pathlib import Path

import typer

from .app import app
from .common import EXTRA_ARGS, STATS_OPT, emit_summary, fail, setup_logging


@app.command("prepare-ntrex")
def prepare_ntrex_cmd(
    data_dir: Path = typer.Option(..., exists=True, file_okay=False, help="Data mirror root"),
    src: str = typer.Option(..., help="Source language (ntrex128/<iso3>.txt), e.g. fr"),
    tgt: str = typer.Option(..., help="Target language, e.g. yor"),
    output: Path = typer.Option(..., help="Output JSONL records (ids ntrex:<line>)"),
    exclude: list[Path] = typer.Option([], help="Extra CoNLL test files to keep out"),
    limit: int = typer.Option(0, help="Keep only the first N pairs (0: all)"),
    stats: Path | None = STATS_OPT,
) -> None:
    """NTREX-128 src–tgt lines → pair records (one id per line for all sources), tests removed."""
    from ..runner.multisource_steps import prepare_ntrex

    setup_logging()
    t0 = time.perf_counter()
    try:
        summary = prepare_ntrex(data_dir, src, tgt, output, exclude=exclude, limit=limit)
    except (ValueError, OSError) as err:
        raise fail(err) from err
    emit_summary("prepare-ntrex", {"output": str(output), **summary}, stats, t0)


def _weights(text: str | None, n: int) -> list[float] | None:
    if not text:
        return None
    try:
        weights = [float(w) for w in text.split(",")]
    except ValueError:
        raise typer.BadParameter(
            f"--weights must be comma-separated numbers, got {text!r}"
        ) from None
    if len(weights) != n:
        raise typer.BadParameter(f"--weights has {len(weights)} values for {n} inputs")
    return weights


@app.command("vote")
def vote_cmd(
    inputs: list[Path] = typer.Argument(
        ..., exists=True, dir_okay=False, help="Projected JSONL records, one file per source"
    ),
    output: Path = typer.Option(..., "--output", "-o", help="Voted JSONL records"),
    weights: str | None = typer.Option(None, help="Comma-separated source weights (default 1s)"),
    threshold: float = typer.Option(0.5, help="Keep spans with at least this share of weight"),
    min_votes: int = typer.Option(1, help="Keep spans with at least this many votes"),
    stats: Path | None = STATS_OPT,
) -> None:
    """Multi-source projection: weighted span voting over per-source projections (by record id).

    Convert the output like any projection: ``xner convert voted.jsonl corpus/voted``.
    """
    from ..runner.multisource_steps import vote_records

    setup_logging()
    t0 = time.perf_counter()
    try:
        summary = vote_records(
            inputs,
            output,
            weights=_weights(weights, len(inputs)),
            threshold=threshold,
            min_votes=min_votes,
        )
    except (ValueError, OSError) as err:
        raise fail(err) from err
    emit_summary("vote", {"output": str(output), **summary}, stats, t0)


@app.command("target-text")
def target_text_cmd(
    data_dir: Path = typer.Option(..., exists=True, file_okay=False, help="Data mirror root"),
    lang: str = typer.Option(..., help="Target language"),
    output: Path = typer.Option(..., help="Text file, one sentence per line"),
    source: list[str] = typer.Option(
        ["mafand", "masakhaner-train"], help="mafand | masakhaner-train | ntrex (repeatable)"
    ),
    max_sentences: int = typer.Option(0, help="Cap after a seeded shuffle (0: all)"),
    seed: int = typer.Option(0, help="Shuffle seed"),
    stats: Path | None = STATS_OPT,
) -> None:
    """Unlabelled target sentences for distillation; MasakhaNER/WikiANN test sentences removed."""
    from ..experiments.unlabelled_text import write_target_text

    setup_logging()
    t0 = time.perf_counter()
    try:
        summary = write_target_text(
            data_dir, lang, output, sources=source, max_sentences=max_sentences, seed=seed
        )
    except (ValueError, OSError) as err:
        raise fail(err) from err
    emit_summary("target-text", {"output": str(output), **summary}, stats, t0)


@app.command("vector-text")
def vector_text_cmd(
    output: Path = typer.Argument(..., help="Tokenised text file to train vectors on"),
    data_dir: Path = typer.Option(..., exists=True, file_okay=False, help="Data mirror root"),
    target: list[str] = typer.Option(..., help="Target language (repeatable)"),
    source: list[str] = typer.Option([], help="Source language (repeatable)"),
    stats: Path | None = STATS_OPT,
) -> None:
    """Text for the multilingual floret vectors (test sentences of every target removed)."""
    from ..experiments.floret_vectors import write_vector_text

    setup_logging()
    t0 = time.perf_counter()
    summary = write_vector_text(data_dir, output, targets=target, sources=source)
    emit_summary("vector-text", {"output": str(output), **summary}, stats, t0)


@app.command("train-vectors")
def train_vectors_cmd(
    text: Path = typer.Argument(..., exists=True, help="Tokenised text (xner vector-text)"),
    output: Path = typer.Argument(..., help="floret vectors (.floret) for spacy init vectors"),
    dim: int = typer.Option(100, help="Vector width"),
    bucket: int = typer.Option(50_000, help="Hash buckets (rows) of the floret table"),
    epoch: int = typer.Option(5, help="Training epochs"),
    minn: int = typer.Option(3, help="Shortest character n-gram"),
    maxn: int = typer.Option(5, help="Longest character n-gram"),
    threads: int = typer.Option(1, help="Training threads"),
    stats: Path | None = STATS_OPT,
) -> None:
    """Train floret subword vectors; then ``spacy init vectors xx OUT DIR --mode floret``."""
    from ..experiments.floret_vectors import train_floret

    setup_logging()
    t0 = time.perf_counter()
    try:
        summary = train_floret(
            text,
            output,
            dim=dim,
            bucket=bucket,
            epoch=epoch,
            minn=minn,
            maxn=maxn,
            threads=threads,
        )
    except ImportError as err:
        raise fail(err) from err
    emit_summary("train-vectors", summary, stats, t0)


@app.command("distill-experiment", context_settings=EXTRA_ARGS)
def distill_experiment_cmd(
    ctx: typer.Context,
    config: Path = typer.Argument(
        ...,
        exists=True,
        dir_okay=False,
        help="Config with an [experiment] section: target, sources (LANG=MODEL[:LABEL_MAP], in "
        "the order they are added), folders and every setting (e.g. "
        "projects/distill/configs/distill_experiment.cfg); dotted options after it override "
        "it, e.g. --experiment.order agreement --paths.lang swa",
    ),
    output: Path = typer.Option(..., help="Result JSON (for xner distill-report)"),
) -> None:
    """Teachers per source, voted-projection students and distilled students for k = 1..K.

    The settings and their defaults are those of
    :class:`~xner_spacy.experiments.distillation.ExperimentSettings`; the config names only
    what it sets. A rerun in the same folders resumes: current models and data are kept.
    """
    from spacy.cli._util import parse_config_overrides
    from spacy.util import load_config

    from ..experiments.distillation import ExperimentSettings, run_experiment
    from ..io.atomic import atomic_write

    setup_logging()
    t0 = time.perf_counter()
    try:
        cfg = load_config(config, overrides=parse_config_overrides(ctx.args), interpolate=True)
        if "experiment" not in cfg:
            raise ValueError(f"{config} has no [experiment] section")
        settings = ExperimentSettings.from_config(cfg["experiment"])
        result = run_experiment(settings, command=shlex.join(["xner", *sys.argv[1:]]))
    except (ValueError, OSError, RuntimeError) as err:
        raise fail(err) from err
    import json

    with atomic_write(output) as fh:
        fh.write(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    summary = {
        "output": str(output),
        "models": len(result["rows"]),
        "f1": {
            r["name"]: {d: r[d] and round(r[d]["f1"], 4) for d in ("masakhaner", "wikiann")}
            for r in result["rows"]
        },
    }
    emit_summary("distill-experiment", summary, None, t0)


@app.command("distill-report")
def distill_report_cmd(
    results: list[Path] = typer.Argument(..., exists=True, help="xner distill-experiment JSONs"),
    json_output: Path | None = typer.Option(None, "--json", help="Combined table (JSON)"),
    markdown_output: Path | None = typer.Option(None, "--markdown", help="Markdown table"),
    plot: Path | None = typer.Option(None, help="PNG plot of F1 against k"),
) -> None:
    """F1 against the number of source languages, in-domain and under domain shift."""
    from ..evaluation.distill_report import report

    table = report(results, json_path=json_output, markdown_path=markdown_output, plot_path=plot)
    typer.echo(table["markdown"])
