"""Mojibake ("CoruÃ±a" for "Coruña") is found by every text reader, and nothing else is."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest

from xner_spacy.io.conll import read_conll
from xner_spacy.io.errors import DataFormatError, ReadStats
from xner_spacy.io.mojibake import MojibakeCheck, repair
from xner_spacy.io.parallel import read_parallel
from xner_spacy.io.records import read_records

REPO = Path(__file__).resolve().parents[2]
DATA = Path(os.environ.get("XNER_DATA_DIR", REPO.parent / "shared" / "data"))


def _double_encode(text: str) -> str:
    return text.encode("utf-8").decode("latin-1")


@pytest.mark.parametrize(
    ("bad", "good"),
    [
        ("CoruÃ±a", "Coruña"),
        (_double_encode("La Coruña y Logroño"), "La Coruña y Logroño"),
        ("Itâ€™s â€œgoodâ€\x9d", "It’s “good”"),  # Windows-1252 mojibake of curly quotes
        ("fa√ßade", "façade"),  # Mac Roman
        ("Ð¡Ð¾Ð²ÐµÑ‚", "Совет"),  # Cyrillic
        ("áŠ áˆ›áˆ\xadáŠ›", "አማርኛ"),  # Ethiopic
        ("Kọ́lá â€™s", "Kọ́lá ’s"),  # mixed: correct Yorùbá and mojibake on one line
        ("1 \x80", "1 €"),  # a C1 control: a Windows-1252 byte read as Latin-1
    ],
)
def test_mojibake_is_repaired(bad: str, good: str) -> None:
    assert repair(bad) == good


@pytest.mark.parametrize(
    "text",
    [
        "Ọ̀gbẹ́ni Bola Tinubu lọ sí Abuja .",  # Yorùbá tone marks (NFC and combining)
        "Yorùbá",
        "Ɛyɛ ɔkwan a ɛkɔ Nkran , ŋ ʋ ƒ ɖ Ɔ",  # Twi / Ewe / Fon letters
        "Â nə́ pə́ sɔ̂gwíŋ",  # Ghomálá': Â is a word (ftfy reads "Â " as a lost no-break space)
        "Ã",
        "São Paulo , Zürich , Kraków , İstanbul , Þórshöfn",
        "pœé",  # old OCR noise in the French corpus: Mac Roman "repairs" it into Greek
        "»£",
        "im»â^a",
        "C€©",
        "2Ï«r400i^",
        "naïve café — “quoted” ‘text’ …",
        "",
    ],
)
def test_legitimate_text_is_not_flagged(text: str) -> None:
    assert repair(text) is None


def test_check_modes(tmp_path: Path) -> None:
    check = MojibakeCheck(tmp_path / "f.txt", "warn")
    assert check.text("CoruÃ±a", 3) == "CoruÃ±a" and check.count == 1
    assert check.examples == [f"{tmp_path / 'f.txt'}:3: 'CoruÃ±a' → 'Coruña'"]
    fix = MojibakeCheck(tmp_path / "f.txt", "fix")
    assert fix.words(["in", "CoruÃ±a", "."], 7) == ["in", "Coruña", "."] and fix.count == 1
    with pytest.raises(DataFormatError, match=r"f\.txt:2: mojibake .*'CoruÃ±a' → 'Coruña'"):
        MojibakeCheck(tmp_path / "f.txt", "error").text("CoruÃ±a", 2)
    with pytest.raises(ValueError, match="mojibake mode"):
        MojibakeCheck(tmp_path / "f.txt", "repair")


def _conll(tmp_path: Path) -> Path:
    path = tmp_path / "es.txt"
    lines = ["Vive O", "en O", "La B-LOC", "CoruÃ±a I-LOC", "", "Ada B-PER", ""]
    lines += [f"{w} O" for w in ["Logro\u00c3\u00b1o", "y", "M\u00c3\u00a1laga"]]
    path.write_text("\n".join(lines) + "\n", encoding="utf8")
    return path


def test_conll_reader_counts_logs_repairs_or_refuses(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = _conll(tmp_path)
    stats = ReadStats()
    with caplog.at_level(logging.WARNING, logger="xner_spacy.io"):
        sents = list(read_conll(path, stats=stats))
    assert sents[0].words[3] == "CoruÃ±a" and stats.mojibake == 3
    assert "3 line(s) look like mojibake" in caplog.text
    assert f"{path}:4: 'CoruÃ±a' → 'Coruña'" in caplog.text and f"{path}:8:" in caplog.text
    assert "--mojibake fix" in caplog.text
    fixed = list(read_conll(path, mojibake="fix"))
    assert fixed[0].words == ["Vive", "en", "La", "Coruña"]
    assert fixed[2].words == ["Logroño", "y", "Málaga"]
    with pytest.raises(DataFormatError, match=r"es\.txt:4: mojibake"):
        list(read_conll(path, mojibake="error"))


def test_parallel_and_record_readers_find_it_too(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    src, tgt = tmp_path / "a.en", tmp_path / "a.yor"
    src.write_text("He said itâ€™s fine .\nOk .\n", encoding="utf8")
    tgt.write_text("Ó sọ pé ó dára .\nÓ dára .\n", encoding="utf8")
    stats = ReadStats()
    with caplog.at_level(logging.WARNING, logger="xner_spacy.io"):
        pairs = list(read_parallel(src, tgt, stats=stats))
    assert stats.mojibake == 1 and f"{src}:1:" in caplog.text and str(tgt) not in caplog.text
    assert pairs[1].tgt == "Ó dára ."
    assert list(read_parallel(src, tgt, mojibake="fix"))[0].src == "He said it’s fine ."

    records = tmp_path / "r.jsonl"
    rec = {"id": "1", "src_lang": "es", "tgt_lang": "en", "src_words": ["CoruÃ±a"],
           "tgt_words": ["Coruña"]}  # fmt: skip
    records.write_text(json.dumps(rec, ensure_ascii=False) + "\n", encoding="utf8")
    caplog.clear()
    stats = ReadStats()
    with caplog.at_level(logging.WARNING, logger="xner_spacy.io"):
        assert list(read_records(records, stats=stats))[0].src_words == ["CoruÃ±a"]
    assert stats.mojibake == 1 and f"{records}:1:" in caplog.text
    assert list(read_records(records, mojibake="fix"))[0].src_words == ["Coruña"]
    with pytest.raises(DataFormatError, match=r"r\.jsonl:1: mojibake"):
        list(read_records(records, mojibake="error"))


# Real data: Yorùbá tone marks, Twi/Fon/Ewe letters, Ghomálá' circumflexes are never flagged;
# the MAFAND-MT en-yor line with double-encoded dashes is.
CLEAN = [f"masakhaner2/{lang}/dev.txt" for lang in ("yor", "twi", "fon", "bbj", "ibo", "hau")]
CLEAN += ["wikiann/yor/dev.txt", "source_ner/es/dev.txt", "source_ner/fr/dev.txt"]


@pytest.mark.skipif(not (DATA / "masakhaner2").is_dir(), reason=f"no data mirror at {DATA}")
@pytest.mark.parametrize("name", CLEAN)
def test_no_false_positives_on_real_gold_data(name: str) -> None:
    stats = ReadStats()
    for _ in read_conll(DATA / name, stats=stats, skip_malformed=True):
        pass
    assert stats.sentences >= 100 and stats.mojibake == 0


@pytest.mark.skipif(not (DATA / "mafand").is_dir(), reason=f"no data mirror at {DATA}")
def test_real_mojibake_in_mafand_is_found() -> None:
    folder = DATA / "mafand" / "en-yor"
    stats = ReadStats()
    pairs = list(read_parallel(folder / "train.en", folder / "train.yor", stats=stats))
    assert stats.mojibake == 3  # line 2977 of both files, line 2894 of train.yor
    fixed = list(read_parallel(folder / "train.en", folder / "train.yor", mojibake="fix"))
    changed = [
        a.line for a, b in zip(pairs, fixed, strict=True) if (a.src, a.tgt) != (b.src, b.tgt)
    ]
    assert changed == [2894, 2977] and "â€" not in fixed[changed[1] - 1].src


def test_translate_text_input_is_checked_too(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from xner_spacy.translation.translation_steps import _read_translation_items

    text = tmp_path / "in.txt"
    text.write_text("Ọjọ́ dára .\nNi CoruÃ±a .\n", encoding="utf8")
    stats = ReadStats()
    with caplog.at_level(logging.WARNING, logger="xner_spacy.io"):
        items = list(_read_translation_items(text, "text", stats))
    assert [line for _, _, line in items] == [1, 2] and stats.mojibake == 1
    assert f"{text}:2: " in caplog.text
