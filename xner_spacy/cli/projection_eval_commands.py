"""Intrinsic projection evaluation: one method on one dataset, and the methods × columns table."""

from __future__ import annotations

import json
import time
from pathlib import Path

import typer

from .app import app
from .common import (
    DEFAULT_CONFIG,
    EXTRA_ARGS,
    EXTRA_PARALLEL_HELP,
    NTREX_HELP,
    emit_summary,
    fail,
    file_pairs,
    setup_logging,
)


@app.command("eval-projection", context_settings=EXTRA_ARGS)
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
    extra_parallel: list[str] = typer.Option([], help=EXTRA_PARALLEL_HELP),
    predictions: Path | None = typer.Option(None, help="Save the projected records (JSONL)"),
    ner_model: str | None = typer.Option(
        None, help="Target NER pipeline proposing candidate spans (meta ner_spans)"
    ),
    ntrex: bool = typer.Option(True, help=NTREX_HELP),
    output: Path | None = typer.Option(None, help="Write the metrics JSON here"),
) -> None:
    """Intrinsic projection F1 on gold target sentences (MasakhaNER×MAFAND or Europarl-NER)."""
    from spacy.cli._util import parse_config_overrides

    from ..experiments.projection_eval import DATASETS, load_eval_config, run_projection_eval

    setup_logging()
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
            extra_parallel=file_pairs(extra_parallel),
            cache_dir=cache_dir,
            predictions=predictions,
            ner_model=ner_model,
            ntrex=ntrex,
        )
    except (ValueError, OSError) as err:
        raise fail(err) from err
    config_names = {"config": str(config), "method": str(method) if method else None}
    emit_summary("eval-projection", {**config_names, **summary}, output, t0)


@app.command("projection-table", context_settings=EXTRA_ARGS)
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
    extra_parallel: list[str] = typer.Option([], help=EXTRA_PARALLEL_HELP),
    ner_model: list[str] = typer.Option(
        [], help="TGT=MODEL target NER pipeline proposing candidate spans (repeatable)"
    ),
    ntrex: bool = typer.Option(True, help=NTREX_HELP),
    output: Path | None = typer.Option(None, help="Write the Markdown table here"),
    json_output: Path | None = typer.Option(
        None, "--json", help="Write every cell's metrics and command (JSON) here"
    ),
) -> None:
    """Methods × evaluations table of projection F1 × 100, with the MasakhaNER average."""
    from spacy.cli._util import parse_config_overrides

    from ..experiments.projection_table import Column, Method, default_methods, projection_table
    from ..io.atomic import atomic_write

    setup_logging()
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
            extra_parallel=file_pairs(extra_parallel),
            ner_models=ner_model,
            ntrex=ntrex,
            progress=lambda line: typer.echo(line, err=True),
        )
    except (ValueError, OSError) as err:
        raise fail(err) from err
    typer.echo(result["markdown"])
    typer.echo(f"\nRegenerate with:\n  {result['command']}")
    if output is not None:
        with atomic_write(output) as fh:
            fh.write(result["markdown"] + f"\n\nRegenerate with:\n\n    {result['command']}\n")
    if json_output is not None:
        with atomic_write(json_output) as fh:
            fh.write(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
