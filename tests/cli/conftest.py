"""Tiny pipelines for the scoring commands: entity rulers that know some toy names."""

from __future__ import annotations

from pathlib import Path

import pytest
from toy_data import NAMES, synthetic_pairs, write_conll


def save_ruler(path: Path, names: list[tuple[str, str]]) -> Path:
    """A blank pipeline whose ``ner`` is an entity ruler knowing ``names``, saved to ``path``."""
    import spacy

    nlp = spacy.blank("xx")
    ruler = nlp.add_pipe("entity_ruler", name="ner")
    ruler.add_patterns([{"label": label, "pattern": name} for name, label in names])
    nlp.to_disk(path)
    return path


@pytest.fixture(scope="session")
def ruler_models(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """A gold test file (60 toy sentences), a ruler knowing 7 of its 9 names and one knowing 4."""
    root = tmp_path_factory.mktemp("rulers")
    test = root / "test.txt"
    write_conll(test, synthetic_pairs(60, seed=3), side=1)
    return (
        test,
        save_ruler(root / "model_a", NAMES[:2] + NAMES[3:5] + NAMES[6:8] + NAMES[-1:]),
        save_ruler(root / "model_b", NAMES[:1] + NAMES[3:4] + NAMES[6:8]),
    )
