"""``xner identify``: the identity of the models a project step reads, as a file weasel can see.

weasel reruns a step when one of its ``deps`` changes, but a model named by a var may be an
installed package (``en_core_web_sm``) or a hub name, which weasel cannot list as a file. This
command writes what identifies each model (a folder's meta and config hashes and files, a
package's version: :func:`~xner_spacy.runner.step_fingerprints.model_identity`) to a JSON file;
``project.yml`` runs it on every run (``no_skip``) and lists the file among the step's deps, so
a changed model makes the step rerun. The file is rewritten only when the identity changed.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from .app import app
from .common import fail


@app.command("identify")
def identify_cmd(
    model: list[str] = typer.Option(
        ...,
        help="A model: a pipeline or encoder folder, an installed package, or a hub name "
        "(repeatable)",
    ),
    output: Path = typer.Option(..., help="Identity JSON (rewritten only when it changed)"),
) -> None:
    """Write the identity of each --model to --output, for a project step's deps."""
    from ..io.atomic import atomic_write
    from ..runner.step_fingerprints import model_identity

    try:
        text = json.dumps({m: model_identity(m) for m in model}, indent=1, sort_keys=True) + "\n"
        if not (output.is_file() and output.read_text(encoding="utf8") == text):
            output.parent.mkdir(parents=True, exist_ok=True)
            with atomic_write(output) as fh:
                fh.write(text)
    except OSError as err:
        raise fail(err) from err
    typer.echo(f"identity of {', '.join(model)} → {output}")
