"""Maps from a source model's entity labels to the project's PER/ORG/LOC label set.

A label mapped to ``None`` (or absent from the map) is dropped. MISC is dropped by default:
the MasakhaNER 2.0 and WikiANN evaluations score PER, ORG and LOC only.
"""

from __future__ import annotations

from collections.abc import Mapping

LabelMap = Mapping[str, str | None]

ONTONOTES: dict[str, str | None] = {
    "PERSON": "PER",
    "ORG": "ORG",
    "GPE": "LOC",
    "LOC": "LOC",
    "FAC": "LOC",
}
CONLL: dict[str, str | None] = {"PER": "PER", "ORG": "ORG", "LOC": "LOC", "MISC": None}
CONLL_WITH_MISC: dict[str, str | None] = {"PER": "PER", "ORG": "ORG", "LOC": "LOC", "MISC": "MISC"}
IDENTITY: dict[str, str | None] = {}

BUILTIN_LABEL_MAPS: dict[str, dict[str, str | None]] = {
    "ontonotes": ONTONOTES,
    "conll": CONLL,
    "conll+misc": CONLL_WITH_MISC,
    "identity": IDENTITY,
}


def get_label_map(spec: str | Mapping[str, str | None]) -> dict[str, str | None]:
    """Resolve a built-in map (``ontonotes``, ``conll``, ``conll+misc``, ``identity``) or a dict."""
    if isinstance(spec, str):
        try:
            return dict(BUILTIN_LABEL_MAPS[spec])
        except KeyError:
            raise ValueError(
                f"Unknown label map '{spec}'. Built-in maps: {sorted(BUILTIN_LABEL_MAPS)}; "
                "or pass a dict such as {'PERSON': 'PER'}."
            ) from None
    return dict(spec)


def map_label(label: str, label_map: Mapping[str, str | None]) -> str | None:
    """Map one label; the empty (identity) map keeps every label unchanged."""
    if not label_map:
        return label
    return label_map.get(label)
