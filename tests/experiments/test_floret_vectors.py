"""In-project floret vectors: the text they learn from, and vectors spaCy can load."""

from __future__ import annotations

from pathlib import Path

import pytest
import spacy

from xner_spacy.experiments.floret_vectors import train_floret, write_vector_text


def _data(root: Path) -> Path:
    (root / "ntrex128").mkdir(parents=True)
    (root / "ntrex128" / "yor.txt").write_text("Ìlú Ọ̀yọ́ tóbi.\n", "utf8")
    (root / "ntrex128" / "eng.txt").write_text("Oyo town is big.\n", "utf8")
    (root / "mafand" / "en-yor").mkdir(parents=True)
    (root / "mafand" / "en-yor" / "train.yor").write_text("Ade wà ní Lagos.\nOlu sùn.\n", "utf8")
    (root / "mafand" / "en-yor" / "train.en").write_text("a\nb\n", "utf8")
    (root / "masakhaner2" / "yor").mkdir(parents=True)
    (root / "masakhaner2" / "yor" / "test.txt").write_text("Olu O\nsùn O\n. O\n\n", "utf8")
    (root / "source_ner" / "en").mkdir(parents=True)
    (root / "source_ner" / "en" / "train.txt").write_text("John B-PER\nran O\n\n", "utf8")
    return root


def test_vector_text_is_tokenised_and_has_no_test_sentence(tmp_path: Path) -> None:
    out = tmp_path / "text.txt"
    counts = write_vector_text(_data(tmp_path / "d"), out, targets=["yor"], sources=["en"])
    lines = out.read_text("utf8").splitlines()
    assert "Ade wà ní Lagos ." in lines and "Olu sùn ." not in lines  # a test sentence
    assert "Oyo town is big ." in lines and "John ran" in lines
    assert counts["yor"]["removed_test_overlap"] == 1 and counts["lines"] == len(lines)


def test_floret_vectors_load_in_spacy(tmp_path: Path) -> None:
    pytest.importorskip("floret")
    from spacy.training.initialize import convert_vectors

    text = tmp_path / "text.txt"
    text.write_text("Ade wà ní Lagos . Olu sùn .\n" * 50, "utf8")
    out = tmp_path / "v.floret"
    stats = train_floret(text, out, dim=8, bucket=200, epoch=1, minn=2, maxn=3)
    assert stats["words_in_vocab"] > 0 and out.is_file()
    nlp = spacy.blank("xx")
    convert_vectors(nlp, out, truncate=0, prune=-1, mode="floret")
    assert nlp.vocab.vectors.mode == "floret" and nlp.vocab.vectors.shape == (200, 8)
    assert nlp.vocab["Lagosi"].has_vector  # unseen word: built from its subwords
