"""Comparing two pipelines on the same gold data: a paired bootstrap of their F1 difference."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from .app import app
from .common import (
    ALLOW_EMPTY_OPT,
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


@app.command("compare")
def compare_cmd(
    model_a: str = typer.Argument(..., help="Pipeline A: name or path"),
    model_b: str = typer.Argument(..., help="Pipeline B: name or path"),
    test: Path = typer.Argument(..., exists=True, help="Gold CoNLL test file"),
    bootstrap: int = typer.Option(1000, min=1, help="Resamples of the test sentences"),
    seed: int = SEED_OPT,
    output: Path | None = typer.Option(None, help="Write the comparison JSON here"),
    labels: str = LABELS_OPT,
    label_map: str = MODEL_LABEL_MAP_OPT,
    label_map_b: str | None = typer.Option(
        None, help="Map model B's labels with this instead (default: --label-map)"
    ),
    ignore_labels: str = IGNORE_LABELS_OPT,
    gold_label_map: str = GOLD_LABEL_MAP_OPT,
    unknown_labels: str = UNKNOWN_LABELS_OPT,
    skip_malformed: bool = GOLD_SKIP_MALFORMED_OPT,
    allow_empty: bool = ALLOW_EMPTY_OPT,
    mojibake: str = MOJIBAKE_OPT,
) -> None:
    """Paired bootstrap: F1 of A and B, A − B with its 95 % interval, the share A wins.

    Both pipelines run once on the gold words; each resample draws the test sentences with
    replacement and scores A and B on the same draw (exact spans, as `xner evaluate`). The
    difference is a finding when its interval excludes 0. Prints one line to stderr and the
    JSON summary (per label too) to stdout.
    """
    from ..evaluation.bootstrap import compare_predictions
    from ..evaluation.pipeline_scores import pipeline_predictions
    from ..labelling.label_maps import get_label_map
    from ..labelling.spacy_labeller import load_pipeline

    setup_logging()
    t0 = time.perf_counter()
    label_set, gold, read_stats = read_gold(
        test, labels, ignore_labels, gold_label_map, unknown_labels, skip_malformed, mojibake,
        allow_empty,
    )  # fmt: skip
    maps = (label_map, label_map if label_map_b is None else label_map_b)
    preds = [
        pipeline_predictions(load_pipeline(model), (w for w, _ in gold), get_label_map(name))
        for model, name in zip((model_a, model_b), maps, strict=True)
    ]
    found = compare_predictions([e for _, e in gold], *preds, label_set, bootstrap, seed)
    low, high = found["difference_ci"]
    typer.secho(
        f"F1 A {found['f1_a']:.4f}  B {found['f1_b']:.4f}  A − B {found['difference']:+.4f} "
        f"[{low:+.4f}, {high:+.4f}] (95 %)  A better in {found['a_better_share']:.1%} of "
        f"{bootstrap} resamples",
        err=True,
    )
    summary = {
        "model_a": model_a,
        "model_b": model_b,
        "test": str(test),
        "labels": label_set,
        **found,
        "dropped_labels": dict(read_stats.dropped_labels),
        "skipped_lines": dict(read_stats.skipped),
        "mojibake_lines": read_stats.mojibake,
    }
    emit_summary("compare", summary, output, t0)
