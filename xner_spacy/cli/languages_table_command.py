"""``xner languages-table``: translate-train for many target languages and variants, one table."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from .app import app
from .common import DOUBTFUL_MODES, choice_option, emit_summary, fail, setup_logging


@app.command(
    "languages-table", context_settings={"allow_extra_args": True, "ignore_unknown_options": True}
)
def languages_table_cmd(
    ctx: typer.Context,
    data_dir: Path = typer.Option(..., exists=True, file_okay=False, help="Data mirror root"),
    langs: str = typer.Option(
        ...,
        help="Target languages, comma-separated (each needs mafand/<src>-<lang>/ and "
        "masakhaner2/<lang>/test.txt)",
    ),
    labeller: list[str] = typer.Option(
        ...,
        help="LANG=MODEL[:LABEL_MAP] (map default: conll), repeatable: a source labeller; a "
        "target uses the first one whose language has parallel text with it",
    ),
    variant: list[str] = typer.Option(
        ...,
        help="NAME=CONFIG, repeatable: a target training config (e.g. "
        "cnn=configs/ner_cnn.cfg, encoder=configs/ner_encoder.cfg); all train on the same "
        "silver data",
    ),
    variant_override: list[str] = typer.Option(
        [],
        help="NAME:section.key=VALUE, repeatable: a setting of one variant's (or the student's, "
        "NAME distil) spacy train only, after the extra options every spacy train gets; e.g. "
        "encoder_t2:paths.trainable_layers=2 beside --variant encoder_t2=configs/ner_encoder.cfg",
    ),
    seeds: str = typer.Option(
        "0",
        help="Training seeds, comma-separated (spacy train --system.seed): each variant and the "
        "student are trained once per seed on the same silver data; the table shows mean ± sd",
    ),
    bootstrap: int = typer.Option(
        1000,
        min=1,
        help="Resamples of each language's test sentences: 95 % intervals of each row's "
        "seed-averaged F1 and of the paired comparisons",
    ),
    bootstrap_seed: int = typer.Option(0, help="Seed of the bootstrap's resamples"),
    work_dir: Path = typer.Option(..., help="Silver data, models and scores per language"),
    output: Path = typer.Option(..., help="Result JSON (written after each language)"),
    markdown: Path | None = typer.Option(
        None, help="Write the Markdown table here (after each language)"
    ),
    projection_config: Path = typer.Option(
        Path("configs/projection.cfg"), exists=True, help="Labeller/aligner/projector config"
    ),
    encoder: str | None = typer.Option(
        None, help="--paths.encoder of every step: a hub name or local directory"
    ),
    steps: int = typer.Option(2000, help="Training steps of each target model"),
    eval_frequency: int = typer.Option(250, help="Dev evaluation every N steps"),
    gpu_id: int = typer.Option(-1, help="spacy train --gpu-id (-1: CPU)"),
    doubtful: str = choice_option("drop", DOUBTFUL_MODES, help="xner convert --doubtful"),
    direct: bool = typer.Option(
        True, help="Also score each source labeller on the target test (direct transfer)"
    ),
    distil_teachers: str = typer.Option(
        "",
        help="Comma-separated teachers of a distilled student (column 'distil'): 'direct' (the "
        "source labeller) and/or variant names; they label unlabelled target text and the "
        "student learns their averaged tag distributions (empty: no student)",
    ),
    distil_config: Path = typer.Option(
        Path("configs/student_encoder.cfg"), help="The distilled student's training config"
    ),
    force: bool = typer.Option(False, help="Rerun every step, whatever is on disk"),
    reuse_stale: bool = typer.Option(
        False,
        help="Keep every existing output, even one whose settings, models or inputs changed "
        "(a warning per step says what changed)",
    ),
    text_source: list[str] = typer.Option(
        ["masakhaner-train"],
        help="Unlabelled target text for the student (xner target-text --source), repeatable",
    ),
) -> None:
    """For each target language: prepare, label, align, project, convert once (the main job's
    steps), then train and score every --variant once per --seeds seed on that silver data, and
    the source labeller itself (direct transfer); one row per language (F1 mean ± sd over the
    seeds), with the average, then paired bootstrap comparisons of the columns. With
    --distil-teachers, also a student distilled from those teachers on unlabelled target text.

    Each step runs as the same ``xner``/``spacy train`` command the project runs and is timed.
    It is skipped while its output exists with the same fingerprint (command, configs, models,
    inputs), so a stopped run resumes; a changed labeller, encoder, config or upstream output
    makes it rerun, and the log says what changed. Extra ``--section.key value`` options go
    to every ``spacy train``; --variant-override NAME:section.key=VALUE to one only.
    """
    from ..experiments.languages_table import run_languages
    from ..experiments.languages_table_report import languages_table
    from ..experiments.languages_table_settings import (
        Labeller,
        LanguagesSettings,
        parse_seeds,
        parse_variant_overrides,
        parse_variants,
    )

    setup_logging()
    t0 = time.perf_counter()
    try:
        settings = LanguagesSettings(
            data_dir=data_dir,
            languages=[x.strip() for x in langs.split(",") if x.strip()],
            labellers=[Labeller.parse(v) for v in labeller],
            variants=parse_variants(variant),
            work_dir=work_dir,
            projection_config=projection_config,
            encoder=encoder,
            steps=steps,
            eval_frequency=eval_frequency,
            gpu_id=gpu_id,
            doubtful=doubtful,
            direct=direct,
            extra_args=list(ctx.args),
            distil_teachers=[x.strip() for x in distil_teachers.split(",") if x.strip()],
            distil_config=distil_config,
            text_sources=text_source,
            force=force,
            reuse_stale=reuse_stale,
            seeds=parse_seeds(seeds),
            variant_overrides=parse_variant_overrides(variant_override),
            bootstrap=bootstrap,
            bootstrap_seed=bootstrap_seed,
        )
        result = run_languages(settings, output, markdown=markdown)
    except (ValueError, RuntimeError, OSError) as err:
        raise fail(err) from err
    typer.echo(languages_table(result))
    emit_summary(
        "languages-table", {"output": str(output), "languages": settings.languages}, None, t0
    )
