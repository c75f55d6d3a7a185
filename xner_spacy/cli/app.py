"""``xner``: the typer app, with one sub-command per step (see ``xner --help``).

Each step reads and writes files, prints a JSON summary of what it did and, with
``--stats PATH``, saves that summary. Parts (labeller, aligner, projector) come from a config
file naming registered functions; dotted options after the arguments override it, as with
``spacy train``: ``xner label in.jsonl out.jsonl --labeller.model fr_core_news_sm``. The
commands live in one module per step group (``*_commands.py``), their shared options and
helpers in :mod:`xner_spacy.cli.common`.
"""

from __future__ import annotations

import sys

import typer

from .rendering import PlainHelpTyper

# Plain help: brackets in help strings ([labeller], xner-spacy[distributed]) are shown, not
# read as Rich markup, and parameters show placeholders, not type labels (see .rendering).
app = PlainHelpTyper(
    name="xner",
    help="Cross-lingual NER by annotation projection: prepare → label → align → project → "
    "convert → (spacy train) → evaluate → report.",
    no_args_is_help=True,
    add_completion=False,
)


def main() -> None:
    """Console entry point; input errors exit with status 1 and a one-line message."""
    from ..io.errors import DataFormatError
    from ..types import RecordError

    try:
        app()
    except (DataFormatError, RecordError, FileNotFoundError) as err:
        typer.secho(f"error: {err}", fg=typer.colors.RED, err=True)
        sys.exit(1)
