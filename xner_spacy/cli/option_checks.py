"""Every option checked before any work: one place, run by every ``xner`` command.

:class:`CheckedCommand` (the class of every command, see :mod:`.app`) checks paths by the
parameter's name before the command's body runs, so before spaCy is imported or any data
is read: an output's parent must be a directory or creatable and the output must not be a
directory (:data:`OUTPUT_FILES`); an output folder must not be a file (:data:`OUTPUT_DIRS`);
a pipeline named by ``model`` must be a directory or an installed package. Enum-like options
are checked by :func:`choice_callback` as click parses them, and config sections by
:func:`check_section` as soon as the config is read (building a part never loads a model).
Each failure is a one-line usage error (exit status 2) naming the option, the value and what
is allowed.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import typer

from .rendering import PlainHelpCommand

#: Parameters that name a file a command writes.
OUTPUT_FILES = frozenset(
    {"output", "stats", "json_output", "markdown_output", "markdown", "plot", "predictions", "log"}
)
#: Parameters that name a folder a command writes into.
OUTPUT_DIRS = frozenset({"output_dir", "work_dir", "corpus_dir", "training_dir", "cache_dir"})
#: (command, parameter) pairs that name a spaCy pipeline (an installed package or a
#: directory); other commands' ``model`` may be a hub name (``xner identify --model``).
PIPELINES = frozenset({("evaluate", "model"), ("propose", "model")})


def _option_hint(ctx: typer.Context, name: str) -> str:
    for param in ctx.command.params:
        if param.name == name:
            if getattr(param, "param_type_name", "") == "argument":
                return (param.metavar or name.upper()).strip("{}")
            return "/".join(param.opts)
    return name


def _nearest_existing(path: Path) -> Path:
    for parent in path.absolute().parents:
        if parent.exists():
            return parent
    return Path("/")


def output_file_problem(path: Path) -> str | None:
    """Why ``path`` cannot be written as a file (None when it can)."""
    if path.is_dir():
        return f"{str(path)!r} is a directory, not a file"
    base = _nearest_existing(path)
    if not base.is_dir():
        return f"{str(path)!r}: {str(base)!r} is a file, not a directory"
    return None


def output_dir_problem(path: Path) -> str | None:
    """Why ``path`` cannot be a folder to write into (None when it can)."""
    if path.exists() and not path.is_dir():
        return f"{str(path)!r} is a file, not a directory"
    if not path.exists() and not _nearest_existing(path).is_dir():
        return f"{str(path)!r}: {str(_nearest_existing(path))!r} is a file, not a directory"
    return None


def pipeline_problem(model: str) -> str | None:
    """Why ``model`` names no spaCy pipeline: neither a directory nor an installed package."""
    if model.startswith("blank:") or Path(model).is_dir():
        return None
    if "/" not in model and "\\" not in model and model.isidentifier():
        if importlib.util.find_spec(model) is not None:
            return None
        return f"{model!r} is neither a pipeline directory nor an installed package"
    return f"{model!r}: no such pipeline directory"


def check_params(ctx: typer.Context) -> None:
    """Refuse unusable output paths and missing pipelines (a usage error, exit status 2)."""
    for name, value in ctx.params.items():
        values = value if isinstance(value, list | tuple) else [value]
        for item in values:
            problem = None
            if isinstance(item, Path) and name in OUTPUT_FILES:
                problem = output_file_problem(item)
            elif isinstance(item, Path) and name in OUTPUT_DIRS:
                problem = output_dir_problem(item)
            elif isinstance(item, str) and (ctx.command.name, name) in PIPELINES:
                problem = pipeline_problem(item)
            if problem:
                raise typer.BadParameter(problem, ctx=ctx, param_hint=_option_hint(ctx, name))


class CheckedCommand(PlainHelpCommand):
    """A command whose paths are checked (:func:`check_params`) before its body runs."""

    def invoke(self, ctx: typer.Context) -> Any:
        check_params(ctx)
        return super().invoke(ctx)


def choice_callback(allowed: Iterable[str]) -> Callable[[str | None], str | None]:
    """A typer callback refusing a value outside ``allowed`` as click parses the option."""
    choices = tuple(allowed)

    def check(value: str | None) -> str | None:
        if value is not None and value not in choices:
            raise typer.BadParameter(f"{value!r} is not one of {' | '.join(choices)}")
        return value

    return check


def choice_option(default: str, allowed: Iterable[str], help: str) -> Any:
    """A typer option whose value must be one of ``allowed`` (checked while parsing)."""
    return typer.Option(default, callback=choice_callback(allowed), help=help)


def _override_hint(section: str, err: Exception, overrides: Mapping[str, Any]) -> str | None:
    """The ``--section.key`` override whose value the error message quotes, if any."""
    text = str(err)
    for key, value in overrides.items():
        if key.split(".")[0] == section and (repr(value) in text or f"'{value}'" in text):
            return f"--{key}"
    return None


def section_error(
    section: str, config: Path, err: Exception, overrides: Mapping[str, Any]
) -> tuple[str, str]:
    """Which config value of ``[section]`` is wrong (an option or the section) and why."""
    errors = getattr(err, "errors", None)
    if errors:  # confection's ConfigValidationError: one entry per bad value
        keys, messages = [], []
        for item in errors:
            loc = ".".join(str(p) for p in item.get("loc", ()) if p != section)
            keys.append(f"--{section}.{loc}")
            messages.append(str(item.get("msg", "")))
        return "/".join(dict.fromkeys(keys)), "; ".join(messages)
    hint = _override_hint(section, err, overrides)
    return hint or f"[{section}] of {config}", " ".join(str(err).split())


def check_section(cfg: Mapping[str, Any], section: str, config: Path, args: list[str]) -> Any:
    """Build ``[section]`` now (no model loads at construction), or a one-line usage error.

    Returns the built part, so a caller that needs it in this process uses it.
    """
    from spacy.cli._util import parse_config_overrides

    from ..registry import resolve_section

    try:
        return resolve_section(cfg, section)
    except (ValueError, TypeError, KeyError) as err:
        hint, message = section_error(section, config, err, parse_config_overrides(list(args)))
        raise typer.BadParameter(message, param_hint=hint) from None
