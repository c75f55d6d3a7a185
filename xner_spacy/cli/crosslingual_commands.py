"""``xner crosslingual`` (the cross-lingual benchmark), ``xner crosslingual-report`` and
``xner crosslingual-compare`` (two results' rows, paired)."""

from __future__ import annotations

import json
import shlex
import sys
import time
from pathlib import Path

import typer

from .app import app
from .common import EXTRA_ARGS, emit_summary, fail, setup_logging


@app.command("crosslingual", context_settings=EXTRA_ARGS)
def crosslingual_cmd(
    ctx: typer.Context,
    config: Path = typer.Argument(
        ...,
        exists=True,
        dir_okay=False,
        help="Config with a [benchmark] section: the languages' data, targets, sources and "
        "every setting (e.g. projects/conll-xl/configs/conll_xl.cfg); dotted options after it "
        "override it, e.g. --benchmark.targets de --paths.data ../data",
    ),
    output: Path = typer.Option(..., help="Result JSON (for xner crosslingual-report)"),
) -> None:
    """Direct transfer, hard- and soft-label students, multi-source students for k = 1..K,
    each trained once per seed of ``seeds``; rows with mean ± sd and intervals, paired claims.

    The settings and their defaults are those of
    :class:`~xner_spacy.experiments.crosslingual_data.BenchmarkSettings`; the config names
    only what it sets. A rerun in the same output_dir resumes: finished models are kept.
    """
    from spacy.cli._util import parse_config_overrides
    from spacy.util import load_config

    from ..experiments.crosslingual import run_benchmark
    from ..experiments.crosslingual_data import BenchmarkSettings
    from ..io.atomic import atomic_write

    setup_logging()
    t0 = time.perf_counter()
    try:
        cfg = load_config(config, overrides=parse_config_overrides(ctx.args), interpolate=True)
        if "benchmark" not in cfg:
            raise ValueError(f"{config} has no [benchmark] section")
        settings = BenchmarkSettings.from_config(cfg["benchmark"])
        settings.output_dir = settings.output_dir.resolve()
        result = run_benchmark(settings, command=shlex.join(["xner", *sys.argv[1:]]))
    except (ValueError, OSError, RuntimeError) as err:
        raise fail(err) from err
    with atomic_write(output) as fh:
        fh.write(json.dumps(result, indent=2, ensure_ascii=False, default=str) + "\n")
    summary = {
        "output": str(output),
        "rows": len(result["rows"]),
        "seeds": result["seeds"],
        "step_seconds": result["step_seconds"],
        "seed_seconds": result["seed_seconds"],
        "wall_seconds": result["wall_seconds"],
        "f1_mean": {
            f"{r['variant']}:{r['target']}:{r['method']}:k{r['k']}:{r['weighting'] or '-'}:"
            f"{'+'.join(r['sources'])}": {d: s["f1_mean"] for d, s in r["scores"].items()}
            for r in result["rows"]
        },
        "findings": sum(c["finding"] for c in result["comparisons"]),
        "claims": len(result["comparisons"]),
    }
    emit_summary("crosslingual", summary, None, t0)


@app.command("crosslingual-report")
def crosslingual_report_cmd(
    results: list[Path] = typer.Argument(..., exists=True, help="xner crosslingual JSONs"),
    json_output: Path | None = typer.Option(None, "--json", help="The table (JSON)"),
    markdown_output: Path | None = typer.Option(None, "--markdown", help="Markdown tables"),
    plot: Path | None = typer.Option(None, help="PNG plot of F1 against the number of sources"),
) -> None:
    """Tables (methods × targets, in-domain and out-of-domain) and a plot of F1 against k."""
    from ..evaluation.crosslingual_report import report

    try:
        table = report(
            results, json_path=json_output, markdown_path=markdown_output, plot_path=plot
        )
    except (ValueError, KeyError) as err:
        raise fail(err) from err
    typer.echo(table["markdown"])


@app.command("crosslingual-compare")
def crosslingual_compare_cmd(
    run_a: Path = typer.Argument(
        ..., exists=True, dir_okay=False, help="xner crosslingual JSON (A)"
    ),
    run_b: Path = typer.Argument(
        ..., exists=True, dir_okay=False, help="xner crosslingual JSON (B)"
    ),
    output: Path = typer.Option(..., help="The comparisons (JSON)"),
    markdown_output: Path | None = typer.Option(
        None, "--markdown", help="The comparisons (Markdown)"
    ),
    bootstrap: int = typer.Option(1000, min=1, help="Resamples of the test sentences"),
    seed: int = typer.Option(0, help="Seed of the resamples"),
) -> None:
    """Pair the rows of two results with the same variant, method and sources (e.g. trained top
    layers, --benchmark.trainable_layers 2, against frozen features) and compare each on its
    saved per-sentence counts: A − B of the seed-averaged F1 with its 95 % interval, per target
    and on the average, in-domain and out of domain; no model runs again."""
    from ..evaluation.crosslingual_claims import compare_runs
    from ..evaluation.crosslingual_report import claims_markdown, load_results
    from ..evaluation.metrics_tables import write_table

    try:
        result_a, result_b = load_results([run_a, run_b])
        entries = compare_runs(result_a, result_b, bootstrap, seed)
    except (ValueError, KeyError, OSError) as err:
        raise fail(err) from err
    text = f"A: {run_a}; B: {run_b}.\n\n" + claims_markdown(entries, bootstrap)
    table = {
        "a": str(run_a),
        "b": str(run_b),
        "bootstrap": {"n": bootstrap, "seed": seed, "unit": "sentence"},
        "comparisons": entries,
        "markdown": text,
    }
    write_table(table, output, markdown_output)
    typer.echo(text)
