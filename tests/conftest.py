"""Shared fixtures: the real-data mirror (optional) and tiny synthetic data directories."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DATA_DIR = Path(os.environ.get("XNER_DATA_DIR", REPO.parent / "shared" / "data"))

needs_data = pytest.mark.skipif(
    not (DATA_DIR / "masakhaner2").is_dir(), reason=f"real data mirror not found at {DATA_DIR}"
)

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


@pytest.fixture(scope="session")
def toy_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory with the layout of ../shared/data for source 'en', target 'zzz'."""
    root = tmp_path_factory.mktemp("data")
    pairs = synthetic_pairs(400)
    write_conll(root / "source_ner/en/train.txt", synthetic_pairs(300, seed=1), 0)
    write_conll(root / "source_ner/en/dev.txt", synthetic_pairs(60, seed=2), 0)
    write_conll(root / "source_ner/en/test.txt", synthetic_pairs(60, seed=3), 0)
    test_pairs = synthetic_pairs(40, seed=4)
    write_conll(root / "masakhaner2/zzz/test.txt", test_pairs, 1)
    mafand = root / "mafand/en-zzz"
    mafand.mkdir(parents=True)
    # Two test sentences are planted in MAFAND train: prepare must remove them.
    train = pairs[:300] + test_pairs[:2]
    for split, part in (("train", train), ("dev", pairs[300:])):
        (mafand / f"{split}.en").write_text("\n".join(p[0] for p in part) + "\n", "utf8")
        (mafand / f"{split}.zzz").write_text("\n".join(p[1] for p in part) + "\n", "utf8")
    return root
