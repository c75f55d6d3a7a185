"""Toy parallel data for tests: a name-copying "language pair" and its BIO files.

A plain module (not ``conftest``), so any test can import it: several test folders have a
``conftest.py`` of their own, and only one module can be called ``conftest`` at a time.
"""

from __future__ import annotations

from pathlib import Path

# A toy "language pair": English-like source, a target with its own function words, names copied.
NAMES = [
    ("Ada", "PER"),
    ("Bola", "PER"),
    ("Chidi", "PER"),
    ("Lagos", "LOC"),
    ("Abuja", "LOC"),
    ("Kano", "LOC"),
    ("Unilag", "ORG"),
    ("Shell", "ORG"),
    ("Dangote", "ORG"),
]
SRC_TEMPLATES = [
    ("{0} went to {1} yesterday .", "{0} lo si {1} lana ."),
    ("the people of {1} like {0} .", "awon eniyan {1} feran {0} ."),
    ("{0} works for {1} now .", "{0} n sise fun {1} bayi ."),
    ("we saw {0} and {1} today .", "a ri {0} ati {1} loni ."),
]


def synthetic_pairs(n: int, seed: int = 0) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """Deterministic toy sentence pairs with the names (and labels) each contains."""
    import random

    rng = random.Random(seed)
    out = []
    for _ in range(n):
        src_t, tgt_t = rng.choice(SRC_TEMPLATES)
        a, b = rng.sample(NAMES, 2)
        out.append((src_t.format(a[0], b[0]), tgt_t.format(a[0], b[0]), [a, b]))
    return out


def write_conll(path: Path, pairs: list[tuple[str, str, list[tuple[str, str]]]], side: int) -> None:
    """Write one side of synthetic pairs as two-column BIO."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = []
    for pair in pairs:
        labels = dict(pair[2])
        for word in pair[side].split():
            lines.append(f"{word} {'B-' + labels[word] if word in labels else 'O'}")
        lines.append("")
    path.write_text("\n".join(lines) + "\n", encoding="utf8")
