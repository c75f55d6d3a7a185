"""``xner labeller-study``: a source labeller with the encoder's top layers frozen or trained."""

from __future__ import annotations

import json
import time
from pathlib import Path

import typer

from .app import app
from .common import EXTRA_ARGS, emit_summary, fail, setup_logging


def _ints(name: str, spec: str) -> list[int]:
    try:
        values = [int(x) for x in spec.split(",") if x.strip()]
    except ValueError:
        raise typer.BadParameter(f"expected comma-separated integers, got {spec!r}") from None
    if not values or any(v < 0 for v in values) or len(set(values)) != len(values):
        raise typer.BadParameter(f"{name}: expected distinct integers ≥ 0, got {spec!r}")
    return values


@app.command("labeller-study", context_settings=EXTRA_ARGS)
def labeller_study_cmd(
    ctx: typer.Context,
    train: Path = typer.Option(..., exists=True, dir_okay=False, help="Training DocBin"),
    dev: Path = typer.Option(..., exists=True, dir_okay=False, help="Dev DocBin"),
    test: list[str] = typer.Option(
        ...,
        help="NAME=PATH, repeatable: a gold CoNLL test set (PER/ORG/LOC scored; MISC and DATE "
        "ignored); the first is the source language's own, the others are direct transfer",
    ),
    work_dir: Path = typer.Option(
        ..., help="One folder per model (<work-dir>/t<T>_s<SEED>: model-best, scores/)"
    ),
    output: Path = typer.Option(..., help="Result JSON"),
    markdown: Path | None = typer.Option(None, help="Write the Markdown table here"),
    config: Path = typer.Option(
        Path("configs/ner_encoder.cfg"), exists=True, dir_okay=False, help="spacy train config"
    ),
    encoder: str = typer.Option("assets/encoder", help="--paths.encoder: hub name or directory"),
    encoder_name: str = typer.Option("", help="--paths.encoder_name: the model card's name"),
    lang: str = typer.Option("en", help="--nlp.lang of the labeller"),
    trainable_layers: str = typer.Option(
        "0,2", help="Comma-separated trainable_layers values; the first is the baseline"
    ),
    seeds: str = typer.Option("0", help="Comma-separated training seeds (--system.seed)"),
    steps: int = typer.Option(3000, min=1, help="--training.max_steps of each model"),
    eval_frequency: int = typer.Option(250, min=1, help="--training.eval_frequency"),
    gpu_id: int = typer.Option(-1, help="spacy train --gpu-id (-1: CPU)"),
    threads: int = typer.Option(2, min=1, help="OMP_NUM_THREADS of each training"),
    bootstrap: int = typer.Option(1000, min=1, help="Resamples of the test sentences"),
    force: bool = typer.Option(False, help="Retrain and rescore everything"),
    reuse_stale: bool = typer.Option(
        False, help="Keep existing models and scores even when their settings changed"
    ),
) -> None:
    """Train a source labeller once per --trainable-layers value and --seeds seed on the same
    gold data (``spacy train`` of --config), score each on every --test set, and compare each
    trainable_layers value with the first by a paired bootstrap over test sentences (each
    test set, and the average of the transfer sets), on the seed-averaged F1.

    Extra ``--section.key value`` options go to every ``spacy train``. Each model and score
    is kept with a fingerprint (settings, the config's content, the
    encoder's and the data's identity), so a stopped study resumes where it stopped.
    """
    from ..experiments.labeller_study import StudySettings, parse_tests, run_study
    from ..experiments.labeller_study import markdown as study_markdown

    setup_logging()
    t0 = time.perf_counter()
    try:
        settings = StudySettings(
            train=train, dev=dev, tests=parse_tests(test), work_dir=work_dir, config=config,
            encoder=encoder, encoder_name=encoder_name, lang=lang,
            trainable_layers=_ints("--trainable-layers", trainable_layers),
            seeds=_ints("--seeds", seeds), steps=steps, eval_frequency=eval_frequency,
            gpu_id=gpu_id, threads=threads, bootstrap=bootstrap, extra_args=list(ctx.args),
            force=force,
            reuse_stale=reuse_stale,
        )  # fmt: skip
        for name, path in settings.tests.items():
            if not path.is_file():
                raise ValueError(f"--test {name}={path}: no such file")
        result = run_study(settings)
    except (ValueError, RuntimeError, OSError) as err:
        raise fail(err) from err
    from ..io.atomic import atomic_write

    output.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(output) as fh:
        fh.write(json.dumps(result, indent=1) + "\n")
    table = study_markdown(result)
    if markdown:
        markdown.parent.mkdir(parents=True, exist_ok=True)
        with atomic_write(markdown) as fh:
            fh.write(table)
    typer.echo(table)
    emit_summary("labeller-study", {"output": str(output), "rows": len(result["rows"])}, None, t0)
