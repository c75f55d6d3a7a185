"""Tests for line-aligned parallel text readers."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from xner_spacy.io.errors import DataFormatError, ReadStats
from xner_spacy.io.parallel import (
    ParallelLine,
    mafand_splits,
    read_multiparallel,
    read_parallel,
)

DATA = Path(os.environ.get("XNER_DATA_DIR", Path(__file__).parents[2].parent / "shared" / "data"))
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason=f"no data dir at {DATA}")


def lines(path: Path, *rows: str, end: str = "\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes((end.join(rows) + end).encode("utf-8"))
    return path


def test_reads_pairs_nfc_and_strips(tmp_path: Path) -> None:
    src = lines(tmp_path / "a.en", "Hello world.  ", "Good\tmorning\r")
    tgt = lines(tmp_path / "b.yor", " Pe\u0301le\u0301 ", "E\u0301 ka\u0300a\u0300ro\u0300")
    got = list(read_parallel(src, tgt))
    assert got == [
        ParallelLine("Hello world.", "Pélé", str(src), 1),
        ParallelLine("Good\tmorning", "É kààrò", str(src), 2),
    ]


def test_line_separator_inside_sentence_does_not_split(tmp_path: Path) -> None:
    src = lines(tmp_path / "a.en", "one\u2028two", "three\rfour")
    tgt = lines(tmp_path / "b.fr", "un", "trois")
    assert [p.tgt for p in read_parallel(src, tgt)] == ["un", "trois"]


@pytest.mark.parametrize("longer", ["src", "tgt"])
def test_mismatched_lengths(tmp_path: Path, longer: str) -> None:
    short = [f"s{i}" for i in range(10)]
    long = [f"l{i}" for i in range(12)]
    a = lines(tmp_path / "a.en", *(long if longer == "src" else short))
    b = lines(tmp_path / "b.yor", *(short if longer == "src" else long))
    with pytest.raises(DataFormatError) as info:
        list(read_parallel(a, b))
    msg = str(info.value)
    longer_path = a if longer == "src" else b
    assert msg.startswith(f"{longer_path}:11: ")
    assert "a.en has" in msg and "b.yor has" in msg
    assert "12 lines" in msg and "10 lines" in msg
    assert "first unpaired line 11" in msg


def test_missing_final_newline_is_not_a_mismatch(tmp_path: Path) -> None:
    a = lines(tmp_path / "a.en", "x", "y")
    b = tmp_path / "b.yor"
    b.write_text("x\ny", encoding="utf-8")
    assert len(list(read_parallel(a, b))) == 2


def test_empty_lines_skipped_and_counted(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    a = lines(tmp_path / "a.en", "one", "", "three", "four")
    b = lines(tmp_path / "b.yor", "ọ̀kan", "èjì", "   ", "mẹ́rin")
    stats = ReadStats()
    with caplog.at_level(logging.WARNING, logger="xner_spacy.io"):
        got = list(read_parallel(a, b, stats=stats))
    assert [p.line for p in got] == [1, 4]
    assert stats.skipped["empty line"] == 2
    assert stats.sentences == 2
    assert "a.en:2" in caplog.text and "a.en:3" in caplog.text


def test_invalid_utf8_names_file_and_line(tmp_path: Path) -> None:
    a = lines(tmp_path / "a.en", "one", "two")
    b = tmp_path / "b.yor"
    b.write_bytes(b"okan\neji \xc3\x28\n")
    with pytest.raises(DataFormatError, match=r"b\.yor:2: invalid UTF-8"):
        list(read_parallel(a, b))


def test_multiparallel(tmp_path: Path) -> None:
    paths = {
        "eng": lines(tmp_path / "eng.txt", "a", "b", "c"),
        "yor": lines(tmp_path / "yor.txt", "à", "", "c"),
        "zul": lines(tmp_path / "zul.txt", "x", "y", "z"),
    }
    assert list(read_multiparallel(paths)) == [
        (1, {"eng": "a", "yor": "à", "zul": "x"}),
        (3, {"eng": "c", "yor": "c", "zul": "z"}),
    ]
    lines(tmp_path / "zul.txt", "x", "y")
    with pytest.raises(DataFormatError, match=r"eng\.txt:3: .*first unpaired line 3"):
        list(read_multiparallel(paths))


def test_mafand_splits_both_orders(tmp_path: Path) -> None:
    pair = tmp_path / "mafand" / "en-yor"
    for split in ("dev", "test"):
        lines(pair / f"{split}.en", "x")
        lines(pair / f"{split}.yor", "y")
    assert mafand_splits(tmp_path, "en", "yor") == [
        ("dev", pair / "dev.en", pair / "dev.yor"),
        ("test", pair / "test.en", pair / "test.yor"),
    ]
    assert mafand_splits(tmp_path, "yor", "en")[0] == ("dev", pair / "dev.yor", pair / "dev.en")


def test_mafand_splits_missing_pair_lists_available(tmp_path: Path) -> None:
    lines(tmp_path / "mafand" / "en-yor" / "dev.en", "x")
    lines(tmp_path / "mafand" / "en-yor" / "dev.yor", "y")
    with pytest.raises(FileNotFoundError, match="available: en-yor"):
        mafand_splits(tmp_path, "en", "hau")


def test_mafand_splits_half_pair(tmp_path: Path) -> None:
    lines(tmp_path / "mafand" / "en-yor" / "dev.en", "x")
    with pytest.raises(FileNotFoundError, match="dev.yor"):
        mafand_splits(tmp_path, "en", "yor")


@needs_data
def test_real_mafand_yor() -> None:
    splits = mafand_splits(DATA, "en", "yor")
    assert [s for s, _, _ in splits] == ["train", "dev", "test"]
    _, src, tgt = splits[2]
    first = next(read_parallel(src, tgt))
    assert first.line == 1 and first.src and first.tgt


@needs_data
def test_real_mafand_xho_has_no_train() -> None:
    assert [s for s, _, _ in mafand_splits(DATA, "en", "xho")] == ["dev", "test"]


def test_ntrex_pair_maps_two_letter_codes(tmp_path: Path) -> None:
    from xner_spacy.io.parallel import ntrex_pair

    (tmp_path / "ntrex128").mkdir()
    for name in ("eng", "spa", "wol"):
        (tmp_path / "ntrex128" / f"{name}.txt").write_text("a\n")
    assert ntrex_pair(tmp_path, "en", "es") == (
        tmp_path / "ntrex128/eng.txt",
        tmp_path / "ntrex128/spa.txt",
    )
    assert ntrex_pair(tmp_path, "en", "wol") is not None
    assert ntrex_pair(tmp_path, "fr", "wol") is None  # no fra.txt
    assert ntrex_pair(tmp_path, "en", "en") is None
