from __future__ import annotations

import unicodedata
from pathlib import Path

import spacy


def _nlp() -> spacy.Language:
    return spacy.blank("xx", config={"nlp": {"tokenizer": {"@tokenizers": "xner.NFCTokenizer.v1"}}})


def test_nfd_and_nfc_input_give_identical_tokens() -> None:
    text = "Ọ̀gbẹ́ni Bola Tinubu lọ sí Abuja."
    nlp = _nlp()
    nfd = [t.text for t in nlp(unicodedata.normalize("NFD", text))]
    nfc = [t.text for t in nlp(unicodedata.normalize("NFC", text))]
    assert nfd == nfc == ["Ọ̀gbẹ́ni", "Bola", "Tinubu", "lọ", "sí", "Abuja", "."]
    assert all(unicodedata.is_normalized("NFC", t) for t in nfd)


def test_round_trip_through_disk(tmp_path: Path) -> None:
    _nlp().to_disk(tmp_path / "p")
    nlp = spacy.load(tmp_path / "p")
    assert type(nlp.tokenizer).__name__ == "NFCTokenizer"
    assert [t.text for t in nlp(unicodedata.normalize("NFD", "ẹ̀ (a)"))] == ["ẹ̀", "(", "a", ")"]
