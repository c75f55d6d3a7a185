"""Tests for JSONL pair-record reading and writing."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from xner_spacy.io.errors import DataFormatError, ReadStats
from xner_spacy.io.records import read_records, write_records
from xner_spacy.types import Entity, PairRecord, RecordError


def make_record(i: int = 0) -> PairRecord:
    return PairRecord(
        id=f"r{i}",
        src_lang="en",
        tgt_lang="yor",
        src_words=["Ade", "went", "to", "Lagos"],
        tgt_words=["Adé", "lọ", "sí", "Èkó"],
        src_ents=[Entity(0, 1, "PER"), Entity(3, 4, "LOC")],
        alignment=[(0, 0), (1, 1), (2, 2), (3, 3)],
        tgt_ents=[Entity(0, 1, "PER"), Entity(3, 4, "LOC")],
        meta={"split": "train"},
    )


def as_line(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False)


def test_round_trip(tmp_path: Path) -> None:
    records = [make_record(i) for i in range(3)]
    path = tmp_path / "sub" / "pairs.jsonl"
    assert write_records(path, iter(records)) == 3
    assert list(read_records(path)) == records
    assert "Èkó" in path.read_text(encoding="utf-8")  # readable, not \\u-escaped


def test_blank_lines_ignored(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    line = as_line(make_record().to_dict())
    path.write_text(f"\n{line}\n   \n{line}\n\n", encoding="utf-8")
    stats = ReadStats()
    assert len(list(read_records(path, stats=stats))) == 2
    assert stats.sentences == 2 and not stats.skipped


def test_invalid_json_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    path.write_text(as_line(make_record().to_dict()) + "\n{not json\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match=r"p\.jsonl:2: invalid JSON"):
        list(read_records(path))


def test_missing_field(tmp_path: Path) -> None:
    data = make_record().to_dict()
    del data["tgt_words"]
    path = tmp_path / "p.jsonl"
    path.write_text(as_line(data) + "\n", encoding="utf-8")
    with pytest.raises(RecordError, match=r"p\.jsonl:1: missing required field 'tgt_words'"):
        list(read_records(path))


def test_out_of_range_alignment(tmp_path: Path) -> None:
    data = make_record().to_dict()
    data["alignment"] = [[0, 0], [4, 1]]
    path = tmp_path / "p.jsonl"
    path.write_text(
        as_line(make_record().to_dict()) + "\n" + as_line(data) + "\n", encoding="utf-8"
    )
    with pytest.raises(
        RecordError, match=r"p\.jsonl:2: alignment\[1\]: pair \(4, 1\) out of range"
    ):
        list(read_records(path))


def test_skip_invalid_counts_and_logs(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    good = as_line(make_record().to_dict())
    bad_record = as_line({**make_record().to_dict(), "tgt_ents": [[0, 9, "PER"]]})
    path = tmp_path / "p.jsonl"
    path.write_text("\n".join([good, "[1, 2", bad_record, good, "42"]) + "\n", encoding="utf-8")
    stats = ReadStats()
    with caplog.at_level(logging.WARNING, logger="xner_spacy.io"):
        got = list(read_records(path, skip_invalid=True, stats=stats))
    assert len(got) == 2
    assert stats.skipped == {"invalid JSON": 1, "invalid record": 2}
    assert "p.jsonl:2" in caplog.text and "p.jsonl:3" in caplog.text


def test_invalid_utf8(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    path.write_bytes(b'{"id": "\xff"}\n')
    with pytest.raises(DataFormatError, match=r"p\.jsonl:1: invalid UTF-8"):
        list(read_records(path))


def test_write_is_atomic_when_generator_raises(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    path.write_text("old\n", encoding="utf-8")

    def gen() -> Iterator[PairRecord]:
        yield make_record(0)
        yield make_record(1)
        raise RuntimeError("crash midway")

    with pytest.raises(RuntimeError, match="crash midway"):
        write_records(path, gen())
    assert path.read_text(encoding="utf-8") == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["p.jsonl"]
