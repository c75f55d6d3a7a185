"""`xner <command> --help` shows what the source says: every [section] name, no type labels."""

from __future__ import annotations

import re
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from xner_spacy.cli import app

runner = CliRunner()
COMMAND = typer.main.get_command(app)
SUBCOMMANDS = sorted(COMMAND.commands)  # type: ignore[attr-defined]
BRACKETED = re.compile(r"\[[A-Za-z_][\w.]*\]")  # [labeller], [distributed], [components.ner]
TYPE_LABEL = re.compile(r"<(bool|str|int|float|path|text|integer|list\[\w+\])>", re.IGNORECASE)


def _source_texts(command: Any) -> list[str]:
    """The help strings a command's source gives: its docstring and every parameter's help."""
    texts = [command.help or ""]
    texts += [getattr(p, "help", None) or "" for p in command.params]
    return texts


def _help(name: str) -> str:
    result = runner.invoke(app, [name, "--help"], terminal_width=100)
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())  # unwrap lines


def test_every_subcommand_is_checked() -> None:
    expected = {"label", "align", "project", "refine", "translate", "convert-gold", "evaluate"}
    assert expected <= set(SUBCOMMANDS)
    assert {"package", "package-meta"} <= set(SUBCOMMANDS)


@pytest.mark.parametrize("name", SUBCOMMANDS)
def test_help_keeps_every_bracketed_name_and_shows_no_type_labels(name: str) -> None:
    shown = _help(name)
    command = COMMAND.commands[name]  # type: ignore[attr-defined]
    for text in _source_texts(command):
        for section in BRACKETED.findall(text):
            assert section in shown, f"xner {name} --help lost {section}"
    assert not TYPE_LABEL.search(shown), f"xner {name} --help: {TYPE_LABEL.search(shown)}"


@pytest.mark.parametrize(
    ("name", "sections"),
    [
        ("label", ["[labeller]", "[distributed]"]),
        ("align", ["[aligner]"]),
        ("project", ["[projector]", "[consistency]", "[fallback]", "[propagation]"]),
        ("refine", ["[refiner]", "[aligner]"]),
        ("translate", ["[translator]"]),
    ],
)
def test_section_names_the_new_user_missed_are_shown(name: str, sections: list[str]) -> None:
    shown = _help(name)
    for section in sections:
        assert section in shown
    assert "Config with [" in shown or name == "project" and "[projector]" in shown


def test_options_show_placeholders_and_flags_none() -> None:
    shown = _help("label")
    assert "--config PATH" in shown and "--shard-size INTEGER" in shown
    assert "--scheduler TEXT" in shown
    assert re.search(r"--help\s+Show this message", shown)
    assert re.search(r"--skip-malformed / --no-skip-malformed\s+Skip", shown)
