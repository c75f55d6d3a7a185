"""What the ``xner`` commands share: options defined once, config loading, summaries, errors.

:func:`batch_command` registers a batch step (label, align, project, propose, convert) with
the options every batch step takes (``--stats``, ``--shard-size``, ``--n-process``,
``--scheduler``, ``--skip-malformed``, ``--allow-empty``) and the body they share: logging,
the empty-input check, the run options and the JSON summary.
"""

from __future__ import annotations

import functools
import inspect
import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from .app import app
from .option_checks import check_section, choice_callback, choice_option

__all__ = ["check_section", "choice_option"]  # re-exported for the command modules

EXTRA_ARGS = {"allow_extra_args": True, "ignore_unknown_options": True}


DEFAULT_CONFIG = Path("configs/projection.cfg")
STATS_OPT = typer.Option(None, help="Save the summary JSON here")


def emit_summary(step: str, summary: dict[str, Any], stats: Path | None, started: float) -> None:
    """Print the step's summary as JSON (and save it atomically with ``--stats``)."""
    from ..io.atomic import atomic_write

    summary = {"step": step, **summary, "seconds": round(time.perf_counter() - started, 2)}
    text = json.dumps(summary, indent=2, ensure_ascii=False)
    typer.echo(text)
    if stats is not None:
        with atomic_write(stats) as fh:
            fh.write(text + "\n")


def read_step_config(config: Path, section: str, args: list[str]) -> Any:
    """A config file with CLI overrides, which must have ``[section]`` (not yet checked)."""
    from spacy.cli._util import parse_config_overrides
    from spacy.util import load_config

    try:
        cfg = load_config(config, overrides=parse_config_overrides(list(args)), interpolate=True)
    except (ValueError, KeyError, SyntaxError) as err:  # a bad override or config syntax
        message = " ".join(str(err).split())
        raise typer.BadParameter(message, param_hint=f"--config {config} {args}") from None
    if section not in cfg:
        raise typer.BadParameter(f"{config} has no [{section}] section")
    return cfg


def load_step_config(config: Path, section: str, args: list[str]) -> Any:
    """:func:`read_step_config`, with ``[section]`` built once to check every value in it
    before any data is read (building a part loads no model; models load on first use)."""
    cfg = read_step_config(config, section, args)
    check_section(cfg, section, config, args)
    return cfg


def resolve_part(config: Path, section: str, args: list[str]) -> Any:
    """Build the registered object in ``[section]`` of a config file, with CLI overrides."""
    return check_section(read_step_config(config, section, args), section, config, args)


def config_part(config: Path, section: str, args: list[str]) -> Any:
    """``[section]`` of a config file with CLI overrides, checked here, built again lazily
    where shards run."""
    from ..runner.shards import ConfigPart

    return ConfigPart.from_config(load_step_config(config, section, args), section)


# Options of the sharded batch steps (label, align, project, propose, convert).
SHARD_SIZE_OPT = typer.Option(
    10_000,
    help="Records per shard; shards run in parallel and a rerun skips complete ones "
    "(<output>.shards; 0: one shard)",
)


N_PROCESS_OPT = typer.Option(1, help="Worker processes running shards (Dask: LocalCluster workers)")


def check_scheduler_option(value: str | None) -> str | None:
    """``--scheduler``: a clear one-line usage error (before any shard folder exists)."""
    from ..runner.distributed import check_scheduler

    try:
        return None if value is None else check_scheduler(value)
    except ValueError as err:
        raise typer.BadParameter(str(err)) from None


SCHEDULER_OPT = typer.Option(
    None,
    callback=check_scheduler_option,
    help='Run shards with Dask (pip install "xner-spacy[distributed]"): synchronous | threads '
    "| processes | local (a LocalCluster) | tcp://HOST:PORT",
)


SKIP_MALFORMED_OPT = typer.Option(False, help="Skip (count, log) invalid record lines")


def run_options(
    shard_size: int, n_process: int, scheduler: str | None, skip_malformed: bool
) -> Any:
    """The :class:`~xner_spacy.runner.shards.RunOptions` the step options describe."""
    from ..runner.shards import RunOptions

    executor = None
    if scheduler:
        from ..runner.distributed import DaskExecutor

        executor = DaskExecutor(scheduler, n_workers=max(n_process, 1))
    return RunOptions(
        shard_size=shard_size, n_process=n_process, executor=executor, skip_invalid=skip_malformed
    )


def setup_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")


# Input checks shared by the steps: empty input, entity types outside the label set, mojibake.
ALLOW_EMPTY_OPT = typer.Option(
    False, help="Accept an input with nothing in it (by default an error: a wrong path or a "
    "failed earlier step)"
)  # fmt: skip


MOJIBAKE_MODES = ("warn", "fix", "error")  # xner_spacy.io.mojibake.MODES, without its import
MOJIBAKE_OPT = choice_option(
    "warn",
    MOJIBAKE_MODES,
    help="Text that looks like mojibake (UTF-8 read with the wrong codec: 'CoruÃ±a' for "
    "'Coruña'): warn (count, log the first file:line) | fix (repair with ftfy) | error",
)


UNKNOWN_LABELS_OPT = choice_option(
    "error",
    ("error", "drop"),
    help="Gold entity types outside the allowed labels: error (naming file:line) | drop "
    "(read as O, counted in the summary's dropped_labels)",
)


def check_choice(name: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise typer.BadParameter(f"{name} must be one of {' | '.join(allowed)}, got {value!r}")
    return value


def require_content(path: Path, allow_empty: bool) -> None:
    """Refuse an input file with nothing but whitespace, unless ``--allow-empty``."""
    if allow_empty:
        return
    with open(path, "rb") as fh:
        if not any(line.strip() for line in fh):
            raise fail(ValueError(f"{path} is empty; pass --allow-empty to accept that"))


def records_read(summary: dict[str, Any]) -> int:
    """Records a batch step kept (convert: documents written or dropped as doubtful)."""
    if "records" in summary:
        return int(summary["records"])
    parts = [v for v in summary.values() if isinstance(v, dict) and "docs" in v]
    return sum(int(p["docs"]) + int(p.get("dropped_doubtful", 0)) for p in parts)


def refuse_all_skipped(input_path: Path, output: Path | None, summary: dict[str, Any]) -> None:
    """``--skip-malformed`` skipped every record: as an empty input, an error unless
    ``--allow-empty`` (the output, empty, is removed)."""
    skipped = sum((summary.get("skipped_lines") or {}).values())
    if skipped and records_read(summary) == 0:
        if output is not None and output.is_file():
            output.unlink()
        raise fail(
            ValueError(
                f"{input_path}: every record was skipped ({skipped} malformed line(s)); pass "
                "--allow-empty to accept an empty output"
            )
        )


def note_repairs(path: Path, repaired: int) -> None:
    """Say how many entities began with ``I-`` (no ``B-`` before): read as entity starts."""
    if repaired:
        logging.getLogger("xner_spacy").warning(
            "%s: %d entity(ies) start with I- (no B- before it): read as entity starts "
            "(IOB1-style repair; summary: repaired_tags)", path, repaired,
        )  # fmt: skip


def parse_gold_label_map(spec: str) -> dict[str, str | None]:
    """``conll,PLACE=LOC,DATE=`` → a gold label map: built-in maps, then FROM=TO pairs."""
    from ..labelling.label_maps import get_label_map

    mapping: dict[str, str | None] = {}
    for item in (x.strip() for x in spec.split(",")):
        if not item:
            continue
        if "=" in item:
            src, _, dst = item.partition("=")
            if not src.strip():
                raise typer.BadParameter(f"expected FROM=TO in the label map, got {item!r}")
            mapping[src.strip()] = dst.strip() or None
        else:
            try:
                mapping.update(get_label_map(item))
            except ValueError as err:
                raise typer.BadParameter(str(err)) from None
    return mapping


def check_gold_label_map(spec: str | None) -> str | None:
    """Callback of the gold ``--label-map`` options: refused while parsing, before any work."""
    if spec is not None:
        parse_gold_label_map(spec)
    return spec


def check_label_map_name(name: str | None) -> str | None:
    """Callback of a model's ``--label-map``: one of the built-in maps."""
    from ..labelling.label_maps import BUILTIN_LABEL_MAPS

    return choice_callback(sorted(BUILTIN_LABEL_MAPS))(name)


DOUBTFUL_MODES = ("drop", "keep", "missing")  # xner_spacy.io.docbin's, without spaCy
DOUBTFUL_HELP = "Records where a source entity projected nowhere: drop | keep | missing"


def parse_label_list(spec: str) -> list[str]:
    return [x.strip() for x in spec.split(",") if x.strip()]


GOLD_LABEL_MAP_HELP = (
    "Map gold entity types first: built-in maps (conll: MISC dropped; conll+misc; identity) "
    "and/or FROM=TO pairs, comma-separated, e.g. 'conll,PLACE=LOC' ('DATE=' drops DATE)"
)


# How `xner evaluate` and `xner compare` read and score gold data.
LABELS_OPT = typer.Option("PER,ORG,LOC", help="Comma-separated labels scored")
MODEL_LABEL_MAP_OPT = typer.Option(
    "identity",
    callback=check_label_map_name,
    help="Map the model's labels first (e.g. 'ontonotes' for en_core_web_sm)",
)
IGNORE_LABELS_OPT = typer.Option(
    "DATE,MISC",
    help="Gold entity types that are known but not scored, comma-separated (MasakhaNER's "
    "DATE, CoNLL's MISC); any other type outside --labels is unknown",
)
GOLD_LABEL_MAP_OPT = typer.Option("", callback=check_gold_label_map, help=GOLD_LABEL_MAP_HELP)
GOLD_SKIP_MALFORMED_OPT = typer.Option(False, help="Skip (and count) malformed gold lines")
SEED_OPT = typer.Option(0, help="Seed of the bootstrap's resamples (same seed, same intervals)")


def read_gold(
    test: Path,
    labels: str,
    ignore_labels: str,
    gold_label_map: str,
    unknown_labels: str,
    skip_malformed: bool,
    mojibake: str,
    allow_empty: bool,
) -> tuple[list[str], list[Any], Any]:
    """The scored labels, the gold ``(words, entities)`` and the read stats of a CoNLL file."""
    from ..io.conll import UNKNOWN_LABELS, read_conll
    from ..io.errors import ReadStats
    from ..io.mojibake import MODES

    label_set = parse_label_list(labels)
    read_stats = ReadStats()
    sents = read_conll(
        test,
        labels={*label_set, *parse_label_list(ignore_labels)},
        label_map=parse_gold_label_map(gold_label_map),
        skip_malformed=skip_malformed,
        stats=read_stats,
        unknown_labels=check_choice("--unknown-labels", unknown_labels, UNKNOWN_LABELS),
        mojibake=check_choice("--mojibake", mojibake, MODES),
    )
    gold = [(s.words, s.ents) for s in sents]
    note_repairs(test, read_stats.repaired)
    if not gold and not allow_empty:
        raise fail(ValueError(f"{test} has no sentences; pass --allow-empty to accept"))
    return label_set, gold, read_stats


def file_pairs(specs: list[str]) -> list[tuple[Path, Path]]:
    """``SRC_FILE:TGT_FILE`` options → path pairs (clear error when malformed)."""
    pairs = []
    for spec in specs:
        src_file, sep, tgt_file = spec.partition(":")
        if not sep or not src_file or not tgt_file:
            raise typer.BadParameter(f"expected SRC_FILE:TGT_FILE, got {spec!r}")
        pairs.append((Path(src_file), Path(tgt_file)))
    return pairs


def fail(err: Exception) -> typer.Exit:
    """Report an input error in one line; the caller raises the returned exit (status 1)."""
    typer.secho(f"error: {err}", fg=typer.colors.RED, err=True)
    return typer.Exit(1)


EXTRA_PARALLEL_HELP = (
    "More line-aligned text for the aligner only, SRC_FILE:TGT_FILE (repeatable), "
    "e.g. ntrex128/eng.txt:ntrex128/spa.txt"
)


NTREX_HELP = (
    "Also train the aligner on NTREX-128 (<data-dir>/ntrex128/<iso3>.txt) when it has both "
    "languages of the pair"
)


#: The options of every batch step: name → (type, typer option).
BATCH_OPTIONS: dict[str, tuple[Any, Any]] = {
    "stats": (Path | None, STATS_OPT),
    "shard_size": (int, SHARD_SIZE_OPT),
    "n_process": (int, N_PROCESS_OPT),
    "scheduler": (str | None, SCHEDULER_OPT),
    "skip_malformed": (bool, SKIP_MALFORMED_OPT),
    "allow_empty": (bool, ALLOW_EMPTY_OPT),
}


def batch_command(name: str, **settings: Any) -> Callable[[Callable[..., Any]], Any]:
    """Register ``func`` as the batch step ``xner NAME`` with the shared batch options.

    ``func`` takes its own parameters (an ``input_path`` among them) and ``options`` (the
    :class:`~xner_spacy.runner.shards.RunOptions`), and returns the step's summary. The
    command adds :data:`BATCH_OPTIONS` to its signature, refuses an empty input unless
    ``--allow-empty``, and prints (and with ``--stats`` saves) the summary. typer reads the
    signature, so the options are declared here once instead of in every step.
    """

    def decorate(func: Callable[..., dict[str, Any]]) -> Any:
        signature = inspect.signature(func)
        own = [p for p in signature.parameters.values() if p.name != "options"]
        shared = [
            inspect.Parameter(key, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=option,
                              annotation=kind)
            for key, (kind, option) in BATCH_OPTIONS.items()
        ]  # fmt: skip

        @functools.wraps(func)
        def command(**kwargs: Any) -> None:
            batch = {key: kwargs.pop(key) for key in BATCH_OPTIONS}
            setup_logging()
            require_content(kwargs["input_path"], batch["allow_empty"])
            started = time.perf_counter()
            options = run_options(
                batch["shard_size"], batch["n_process"], batch["scheduler"],
                batch["skip_malformed"],
            )  # fmt: skip
            summary = func(**kwargs, options=options)
            if not batch["allow_empty"]:
                refuse_all_skipped(kwargs["input_path"], kwargs.get("output"), summary)
            emit_summary(name, summary, batch["stats"], started)

        command.__signature__ = signature.replace(parameters=own + shared)  # type: ignore[attr-defined]
        command.__annotations__ = {
            **{k: v for k, v in func.__annotations__.items() if k != "options"},
            **{key: kind for key, (kind, _) in BATCH_OPTIONS.items()},
        }
        return app.command(name, **settings)(command)

    return decorate
