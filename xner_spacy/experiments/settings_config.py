"""An experiment's settings from a section of a config file read with confection.

The settings are a dataclass whose fields hold every default once; a config names only what it
sets, with the field names as keys, and the CLI's dotted options override it, as with
``spacy train``. :func:`settings_from_config` turns a section into the dataclass: each value is
converted as its field is typed (a list field also takes a comma-separated string, as project
vars give them), fields with their own syntax go through ``parsers``, and an unknown key is a
one-line error that lists the known ones.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import fields
from pathlib import Path
from typing import Any, TypeVar, get_type_hints

S = TypeVar("S")


def settings_from_config(
    cls: type[S],
    section: Mapping[str, Any],
    *,
    name: str,
    parsers: Mapping[str, Callable[[Any], Any]] | None = None,
    extra: tuple[str, ...] = (),
) -> S:
    """``cls(**section)`` with each value converted as ``cls`` types it.

    ``name`` is the section's name in messages (``[experiment]``); ``parsers`` convert the
    fields they name; ``extra`` keys are allowed but left to the caller (they are not passed).
    """
    parsers = dict(parsers or {})
    known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(section) - known - set(extra))
    if unknown:
        raise ValueError(f"[{name}] has unknown settings {unknown}; known: {sorted(known)}")
    hints = get_type_hints(cls)
    values: dict[str, Any] = {}
    for key, value in section.items():
        if key in extra:
            continue
        values[key] = (
            parsers[key](value) if key in parsers else coerce(name, key, value, hints[key])
        )
    return cls(**values)


def as_list(value: Any) -> list[str]:
    """A list setting: a list, or a comma-separated string (as project vars give them)."""
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [str(v) for v in value]


def coerce(section: str, key: str, value: Any, hint: Any) -> Any:
    """A config value as the field ``key`` is typed (lists, tuples, paths, numbers, strings)."""
    text = str(hint)
    if value is None or value == "":
        if "None" in text:
            return None
        raise ValueError(f"[{section}] {key} needs a value")
    if text.startswith(("tuple", "list")):
        items = as_list(value)
        return tuple(items) if text.startswith("tuple") else items
    if "Path" in text:
        return Path(value)
    for kind in (bool, int, float, str):
        if hint is kind:
            if kind is bool and not isinstance(value, bool):
                raise ValueError(f"[{section}] {key} must be true or false, got {value!r}")
            try:
                return kind(value)
            except ValueError:
                raise ValueError(
                    f"[{section}] {key} must be {kind.__name__}, got {value!r}"
                ) from None
    return value
