"""Unlabelled target text: MAFAND-MT target sides and MasakhaNER train words, tests removed."""

from __future__ import annotations

from pathlib import Path

import pytest

from xner_spacy.experiments.unlabelled_text import target_sentences, write_target_text


@pytest.fixture()
def text_dir(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    mafand = root / "mafand" / "en-yor"
    mafand.mkdir(parents=True)
    (mafand / "train.yor").write_text("Ọjà ńlá ni .\nAde wà ní Lagos.\nỌjà ńlá ni .\n", "utf8")
    (mafand / "train.en").write_text("a\nb\nc\n", "utf8")
    (mafand / "dev.yor").write_text("Bola ti dé .\n", "utf8")
    (mafand / "dev.en").write_text("d\n", "utf8")
    ner = root / "masakhaner2" / "yor"
    ner.mkdir(parents=True)
    (ner / "train.txt").write_text("Olu B-PER\nsùn O\n. O\n\n", "utf8")
    (ner / "dev.txt").write_text("Dev O\nonly O\n\n", "utf8")
    (ner / "test.txt").write_text("Ade O\nwà O\nní O\nLagos B-LOC\n. O\n\n", "utf8")
    return root


def test_sources_tests_removed_and_deduplicated(text_dir: Path) -> None:
    counts: dict = {}
    lines = list(target_sentences(text_dir, "yor", counts=counts))
    assert lines == ["Ọjà ńlá ni .", "Bola ti dé .", "Olu sùn ."]
    assert counts["removed_test_overlap"] == 1 and counts["duplicates"] == 1
    assert counts["mafand"] == 2 and counts["masakhaner-train"] == 1


def test_write_target_text_caps_after_seeded_shuffle(text_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "t.txt"
    counts = write_target_text(text_dir, "yor", out, max_sentences=2, seed=1)
    lines = out.read_text("utf8").splitlines()
    assert len(lines) == 2 == counts["written"]
    assert set(lines) <= {"Ọjà ńlá ni .", "Bola ti dé .", "Olu sùn ."}
    write_target_text(text_dir, "yor", tmp_path / "u.txt", max_sentences=2, seed=1)
    assert (tmp_path / "u.txt").read_text("utf8") == out.read_text("utf8")


def test_unknown_source_is_an_error(text_dir: Path) -> None:
    with pytest.raises(ValueError, match="unknown text sources"):
        list(target_sentences(text_dir, "yor", sources=["wiki"]))


def test_no_sentence_found_is_an_error_and_writes_nothing(text_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "t.txt"
    with pytest.raises(ValueError, match=r"no qqq sentences in mafand, masakhaner-train under"):
        write_target_text(text_dir, "qqq", out)
    assert not out.exists()
