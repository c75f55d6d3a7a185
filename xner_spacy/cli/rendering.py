"""``--help`` that shows what the source says: plain text, click-style placeholders.

Two things made typer's default help untrue: its Rich markup mode reads ``[labeller]`` or
``xner-spacy[distributed]`` in a help string as a style tag and drops it, and typer ≥ 0.16
labels every parameter with its Python type (``<bool>`` on every flag and on ``--help``,
``<str>`` on text options). So the app renders help without markup
(``rich_markup_mode=None``: every bracket stays) and each command gives its parameters
upper-case placeholders instead of type labels: ``--config PATH``, ``--shard-size INTEGER``,
``INPUT_PATH``; flags get none.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer
from typer.core import TyperCommand

_PLACEHOLDERS = {
    "str": "TEXT",
    "text": "TEXT",
    "int": "INTEGER",
    "integer": "INTEGER",
    "float": "FLOAT",
    "path": "PATH",
}


def _type_name(param: Any) -> str:
    """The parameter's value type, across typer versions (``bare_type`` or a click type)."""
    if hasattr(param, "bare_type"):
        name = str(param.bare_type())
    else:
        name = str(getattr(getattr(param, "type", None), "name", ""))
    name = name.lower()
    if name.startswith("list[") and name.endswith("]"):
        name = name[5:-1]
    return name


def _no_type_label(ctx: Any) -> None:
    return None


def plain_param(param: Any) -> None:
    """Give one parameter a click-style placeholder and no type label (flags: nothing)."""
    if getattr(param, "param_type_name", "") == "argument":
        if param.metavar is None:
            param.metavar = param.name.upper()
        if hasattr(param, "display_type_rich"):  # typer ≥ 0.16 adds "<path>" after the name
            param.display_type_rich = _no_type_label
        return
    if getattr(param, "is_flag", False) or getattr(param, "count", False):
        param.metavar = ""
    elif param.metavar is None:
        param.metavar = _PLACEHOLDERS.get(_type_name(param), "VALUE")


class PlainHelpCommand(TyperCommand):
    """A typer command whose parameters (and ``--help``) show placeholders, not type labels."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            plain_param(param)

    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)
        if option is not None:
            plain_param(option)
        return option


class PlainHelpTyper(typer.Typer):
    """``typer.Typer`` rendering help as plain text with :class:`PlainHelpCommand`s."""

    def __init__(
        self, *, command_class: type[TyperCommand] = PlainHelpCommand, **kwargs: Any
    ) -> None:
        kwargs.setdefault("rich_markup_mode", None)
        super().__init__(**kwargs)
        self.command_class = command_class

    def command(self, *args: Any, **kwargs: Any) -> Callable[[Any], Any]:
        kwargs.setdefault("cls", self.command_class)
        return super().command(*args, **kwargs)
