"""``xner crosslingual`` (the cross-lingual benchmark) and ``xner crosslingual-report``."""

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
    """Direct transfer, hard- and soft-label students, multi-source students for k = 1..K.

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
        "models": len(result["rows"]),
        "step_seconds": result["step_seconds"],
        "f1": {
            f"{r['variant']}:{r['target']}:{r['method']}:k{r['k']}:{r['weighting'] or '-'}:"
            f"{'+'.join(r['sources'])}": {d: s["f1"] for d, s in r["scores"].items()}
            for r in result["rows"]
        },
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
