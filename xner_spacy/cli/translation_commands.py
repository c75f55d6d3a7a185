"""Machine translation steps: translate (train, test, back) and refine by back-translation."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from .app import app
from .common import (
    EXTRA_ARGS,
    STATS_OPT,
    check_section,
    emit_summary,
    fail,
    resolve_part,
    setup_logging,
)

TRANSLATE_CONFIG = Path("configs/translate.cfg")


TRANSLATE_MODE_HELP = (
    "train: the input is source-language text, translated into --tgt (translate-train); "
    "test: the input is target-language text, translated into --src (translate-test); "
    "back: JSONL records gain meta back_translation, the target translated into --src"
)


@app.command("translate", context_settings=EXTRA_ARGS)
def translate_cmd(
    ctx: typer.Context,
    input_path: Path = typer.Argument(
        ..., exists=True, help="Sentences, one per line, or JSONL records (.jsonl)"
    ),
    output: Path = typer.Argument(..., help="JSONL pair records"),
    src: str = typer.Option(..., help="Source language (ISO 639-1/-3), e.g. en"),
    tgt: str = typer.Option(..., help="Target language (ISO 639-1/-3), e.g. yor"),
    mode: str = typer.Option("train", help=TRANSLATE_MODE_HELP),
    back_translate: bool = typer.Option(
        False, help="With --mode train, also translate each translation back (for `xner refine`)"
    ),
    input_format: str = typer.Option(
        "auto", help="auto (.jsonl/.json: records, else text) | text | records"
    ),
    tgt_tokenizer: str = typer.Option("xx", help="spaCy language whose rules split target text"),
    limit: int = typer.Option(0, help="Translate only the first N inputs (0: all)"),
    config: Path = typer.Option(TRANSLATE_CONFIG, exists=True, help="Config with [translator]"),
    stats: Path | None = STATS_OPT,
) -> None:
    """Machine-translate sentences into tokenised pair records (translate-train/-test).

    Override the translator like any part, e.g. --translator.model DIR --translator.cache FILE;
    with a cache, rerunning an interrupted command translates only what is left.
    """
    from ..translation.translation_steps import translate_corpus

    setup_logging()
    t0 = time.perf_counter()
    try:
        translator = resolve_part(config, "translator", ctx.args)
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
        raise fail(err) from err
    emit_summary(
        "translate", {"input": str(input_path), "output": str(output), **summary}, stats, t0
    )


@app.command("refine", context_settings=EXTRA_ARGS)
def refine_cmd(
    ctx: typer.Context,
    input_path: Path = typer.Argument(..., exists=True, help="Aligned JSONL records"),
    output: Path = typer.Argument(..., help="JSONL records with refined alignment"),
    config: Path = typer.Option(
        TRANSLATE_CONFIG, exists=True, help="Config with [refiner] and [aligner]"
    ),
    stats: Path | None = STATS_OPT,
) -> None:
    """Refine alignments through back-translations (records from `xner translate --mode back`).

    The [aligner] aligns each back-translation to its target (skipped where records already
    carry meta bt_alignment); the [refiner] combines that path with the direct alignment.
    """
    from spacy.cli._util import parse_config_overrides
    from spacy.util import load_config

    from ..alignment.backtranslation import BackTranslationRefiner
    from ..translation.translation_steps import refine_records

    setup_logging()
    t0 = time.perf_counter()
    cfg = load_config(config, overrides=parse_config_overrides(list(ctx.args)), interpolate=True)
    parts = {name: check_section(cfg, name, config, ctx.args) for name in ("refiner", "aligner")
             if name in cfg}  # fmt: skip
    try:
        refiner = parts.get("refiner") or BackTranslationRefiner()
        summary = refine_records(input_path, output, refiner, parts.get("aligner"))
    except (ValueError, OSError) as err:
        raise fail(err) from err
    emit_summary("refine", {"input": str(input_path), "output": str(output), **summary}, stats, t0)
