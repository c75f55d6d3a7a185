"""projects/distill's workflow: its commands exist and call real sub-commands."""

from __future__ import annotations

import shlex
from pathlib import Path

from typer.main import get_command
from weasel.util import load_project_config

from xner_spacy.cli import app

REPO = Path(__file__).resolve().parents[2]


def test_distill_workflow_commands_exist_and_use_known_subcommands() -> None:
    config = load_project_config(REPO / "projects/distill")
    commands = {c["name"]: c for c in config["commands"]}
    workflow = config["workflows"]["all"]
    assert set(workflow) <= set(commands)
    known = set(get_command(app).commands)  # type: ignore[attr-defined]
    for name in workflow + ["distill-run"]:
        for line in commands[name]["script"]:
            words = shlex.split(line)
            if words[0] == "xner":
                assert words[1] in known, line
    for path in ("configs/student.cfg", "configs/distill.cfg", "configs/ner_cnn.cfg"):
        assert (REPO / path).is_file()
