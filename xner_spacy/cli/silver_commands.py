"""Silver-data steps: gold CoNLL to DocBin, prepare, label, align, project, propose, convert."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import typer

from .app import app
from .common import (
    ALLOW_EMPTY_OPT,
    DEFAULT_CONFIG,
    DOUBTFUL_HELP,
    DOUBTFUL_MODES,
    EXTRA_ARGS,
    GOLD_LABEL_MAP_HELP,
    MOJIBAKE_OPT,
    STATS_OPT,
    UNKNOWN_LABELS_OPT,
    batch_command,
    check_choice,
    check_gold_label_map,
    check_section,
    choice_option,
    config_part,
    emit_summary,
    fail,
    load_step_config,
    note_repairs,
    parse_gold_label_map,
    parse_label_list,
    setup_logging,
)


@app.command("convert-gold")
def convert_gold_cmd(
    input_path: Path = typer.Argument(..., exists=True, help="CoNLL-style NER file"),
    output: Path = typer.Argument(..., help="Output .spacy (DocBin)"),
    label_map: str = typer.Option("conll", callback=check_gold_label_map, help=GOLD_LABEL_MAP_HELP),
    labels: str | None = typer.Option(
        None,
        help="Entity types allowed after mapping, comma-separated (default: the types the "
        "label map produces, else PER,ORG,LOC)",
    ),
    unknown_labels: str = UNKNOWN_LABELS_OPT,
    lang: str = typer.Option("xx", help="spaCy language of the vocab"),
    skip_malformed: bool = typer.Option(False, help="Skip (and count) malformed lines"),
    allow_empty: bool = ALLOW_EMPTY_OPT,
    mojibake: str = MOJIBAKE_OPT,
    stats: Path | None = STATS_OPT,
) -> None:
    """Gold CoNLL/BIO/IOB1 NER data → DocBin (e.g. to train a source-language labeller).

    Every entity type must be one of --labels after --label-map: any other is an error naming
    file:line (or, with --unknown-labels drop, read as O and counted).
    """
    from ..io.conll import UNKNOWN_LABELS, read_conll
    from ..io.docbin import sentences_to_docbin
    from ..io.errors import ReadStats
    from ..io.mojibake import MODES
    from ..text import blank_parts

    setup_logging()
    t0 = time.perf_counter()
    mapping = parse_gold_label_map(label_map)
    allowed = parse_label_list(labels) if labels is not None else sorted(
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
            unknown_labels=check_choice("--unknown-labels", unknown_labels, UNKNOWN_LABELS),
            mojibake=check_choice("--mojibake", mojibake, MODES),
        )
    )
    if not sents and not allow_empty:
        raise fail(ValueError(f"{input_path} has no sentences; pass --allow-empty to accept"))
    note_repairs(input_path, read_stats.repaired)
    n = sentences_to_docbin(output, sents, blank_parts(lang)[0])
    emit_summary(
        "convert-gold",
        {
            "input": str(input_path),
            "output": str(output),
            "docs": n,
            "labels": allowed,
            "dropped_labels": dict(read_stats.dropped_labels),
            "skipped_lines": dict(read_stats.skipped),
            "repaired_tags": read_stats.repaired,
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
    mojibake: str = MOJIBAKE_OPT,
    stats: Path | None = STATS_OPT,
) -> None:
    """Parallel text (MAFAND-MT, every split) → tokenised pair records, test sentences removed."""
    from ..io.mojibake import MODES
    from ..runner.batch_steps import prepare_parallel

    setup_logging()
    t0 = time.perf_counter()
    summary = prepare_parallel(
        data_dir, src, tgt, output, exclude=exclude, limit=limit,
        mojibake=check_choice("--mojibake", mojibake, MODES),
    )  # fmt: skip
    emit_summary("prepare", {"output": str(output), **summary}, stats, t0)


@batch_command("label", context_settings=EXTRA_ARGS)
def label_cmd(
    ctx: typer.Context,
    input_path: Path = typer.Argument(..., exists=True, help="JSONL records"),
    output: Path = typer.Argument(..., help="JSONL records with src_ents"),
    config: Path = typer.Option(DEFAULT_CONFIG, exists=True, help="Config with [labeller]"),
    options: Any = None,
) -> dict[str, Any]:
    """Label the source side with the configured labeller (fills src_ents)."""
    from ..runner.batch_steps import label_records

    labeller = config_part(config, "labeller", ctx.args)
    return label_records(input_path, output, labeller, options=options)


@batch_command("align", context_settings=EXTRA_ARGS)
def align_cmd(
    ctx: typer.Context,
    input_path: Path = typer.Argument(..., exists=True, help="JSONL records"),
    output: Path = typer.Argument(..., help="JSONL records with alignment"),
    config: Path = typer.Option(DEFAULT_CONFIG, exists=True, help="Config with [aligner]"),
    extra: list[Path] = typer.Option([], help="More record files to train the aligner on"),
    options: Any = None,
) -> dict[str, Any]:
    """Word-align source and target words with the configured aligner (fills alignment).

    Statistical aligners (eflomal, fast_align) train on the whole corpus, so they run once,
    unsharded; per-pair (neural) aligners run shard by shard.
    """
    from ..runner.batch_steps import align_records

    aligner = config_part(config, "aligner", ctx.args)
    return align_records(input_path, output, aligner, extra=extra, options=options)


@batch_command("project", context_settings=EXTRA_ARGS)
def project_cmd(
    ctx: typer.Context,
    input_path: Path = typer.Argument(..., exists=True, help="Labelled, aligned JSONL records"),
    output: Path = typer.Argument(..., help="JSONL records with tgt_ents"),
    config: Path = typer.Option(DEFAULT_CONFIG, exists=True, help="Config with [projector]"),
    options: Any = None,
) -> dict[str, Any]:
    """Project source entities onto the target words (fills tgt_ents).

    Corpus-level sections of the config run over the whole file (see
    ``xner_spacy.projection.corpus_passes``): ``[consistency]`` votes labels per surface string
    (source entities before projection, projected spans after it), ``[fallback]`` adds a
    second projector's corpus-supported spans, ``[propagation]`` marks further occurrences
    of projected names.
    """
    from ..projection.corpus_passes import SECTIONS, passes_from
    from ..runner.batch_steps import corpus_pass, project_records
    from ..runner.shards import ConfigPart

    cfg = load_step_config(config, "projector", ctx.args)  # read once: projector and passes
    projector = ConfigPart.from_config(cfg, "projector")
    parts = {name: check_section(cfg, name, config, ctx.args) for name in SECTIONS if name in cfg}
    before, after = passes_from(**parts)
    if not before and not after:
        return project_records(input_path, output, projector, options=options)

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
    return summary


@batch_command("propose")
def propose_cmd(
    input_path: Path = typer.Argument(..., exists=True, help="JSONL records"),
    output: Path = typer.Argument(..., help="JSONL records with meta ner_spans"),
    model: str = typer.Option(..., help="Target-language spaCy NER pipeline (name or path)"),
    options: Any = None,
) -> dict[str, Any]:
    """Spans a target NER model proposes (meta ner_spans), for NER-candidate matching."""
    from ..runner.batch_steps import propose_spans

    return propose_spans(input_path, output, model, options=options)


@batch_command("convert")
def convert_cmd(
    input_path: Path = typer.Argument(..., exists=True, help="Projected JSONL records"),
    output_dir: Path = typer.Argument(..., help="Directory for train.spacy and dev.spacy"),
    dev_fraction: float = typer.Option(0.1, help="Share of records held out as silver dev"),
    doubtful: str = choice_option("drop", DOUBTFUL_MODES, help=DOUBTFUL_HELP),
    seed: int = typer.Option(0, help="Seed of the train/dev hash split"),
    labels: str = typer.Option(
        "PER,ORG,LOC,MISC",
        help="Entity types allowed in tgt_ents, comma-separated; any other is an error naming "
        "file:line",
    ),
    options: Any = None,
) -> dict[str, Any]:
    """Projected records → spaCy DocBins for training (silver train/dev split)."""
    from ..runner.batch_steps import convert_records

    return convert_records(
        input_path,
        output_dir,
        dev_fraction=dev_fraction,
        doubtful=doubtful,
        seed=seed,
        labels=parse_label_list(labels),
        options=options,
    )
