"""Tests for the token-per-line NER reader and writer."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xner_spacy.io.conll import ents_to_bio, read_conll, tags_to_ents, write_conll
from xner_spacy.io.errors import DataFormatError, ReadStats
from xner_spacy.types import Entity

DATA = Path(os.environ.get("XNER_DATA_DIR", Path(__file__).parents[2].parent / "shared" / "data"))
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason=f"no data dir at {DATA}")


def write(tmp_path: Path, text: str, name: str = "x.txt") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


@pytest.mark.parametrize(
    ("tags", "ents"),
    [
        (["B-PER", "I-PER", "O", "B-LOC"], [(0, 2, "PER"), (3, 4, "LOC")]),
        (["I-PER", "I-PER", "B-PER"], [(0, 2, "PER"), (2, 3, "PER")]),  # IOB1
        (["B-PER", "I-LOC"], [(0, 1, "PER"), (1, 2, "LOC")]),  # broken BIO, repaired
        (["O", "I-ORG", "I-ORG"], [(1, 3, "ORG")]),
        (["S-PER", "B-LOC", "E-LOC", "E-LOC"], [(0, 1, "PER"), (1, 3, "LOC"), (3, 4, "LOC")]),
        (["U-PER", "U-PER", "B-ORG", "L-ORG"], [(0, 1, "PER"), (1, 2, "PER"), (2, 4, "ORG")]),
        (["B-PER", "I-PER"], [(0, 2, "PER")]),
        ([], []),
    ],
)
def test_tags_to_ents(tags: list[str], ents: list[tuple[int, int, str]]) -> None:
    assert tags_to_ents(tags) == [Entity(*e) for e in ents]


def test_tags_to_ents_bad_tag() -> None:
    with pytest.raises(ValueError, match="position 1"):
        tags_to_ents(["O", "PER"])


def test_ents_to_bio_round_trip() -> None:
    ents = [Entity(0, 2, "PER"), Entity(2, 3, "PER"), Entity(4, 5, "LOC")]
    tags = ents_to_bio(5, ents)
    assert tags == ["B-PER", "I-PER", "B-PER", "O", "B-LOC"]
    assert tags_to_ents(tags) == ents


def test_ents_to_bio_rejects_overlap_and_range() -> None:
    with pytest.raises(ValueError, match="overlaps"):
        ents_to_bio(4, [Entity(0, 2, "PER"), Entity(1, 3, "LOC")])
    with pytest.raises(ValueError, match="out of range"):
        ents_to_bio(2, [Entity(1, 3, "PER")])


def test_read_formats_and_docstart(tmp_path: Path) -> None:
    text = (
        "-DOCSTART- -X- -X- O\n\n"
        "EU NNP I-NP I-ORG\nrejects VBZ I-VP O\nGerman JJ I-NP I-MISC\n\n"
        "-DOCSTART- -X- -X- O\n\n"
        "Peter\tI-PER\nBlackburn\tI-PER\n\n\n"
        "Ile B-LOC\nIfe I-LOC\n"  # no trailing blank line
    )
    stats = ReadStats()
    sents = list(read_conll(write(tmp_path, text), stats=stats))
    assert [s.words for s in sents] == [
        ["EU", "rejects", "German"],
        ["Peter", "Blackburn"],
        ["Ile", "Ife"],
    ]
    assert sents[0].ents == [Entity(0, 1, "ORG"), Entity(2, 3, "MISC")]
    assert sents[0].tags == ["I-ORG", "O", "I-MISC"]
    assert sents[1].ents == [Entity(0, 2, "PER")]
    assert sents[2].ents == [Entity(0, 2, "LOC")]
    assert [s.line for s in sents] == [3, 9, 13]
    assert stats.sentences == 3
    assert stats.repaired == 3


def test_nfc_normalises_tokens(tmp_path: Path) -> None:
    decomposed = "e\u0301"  # e + combining acute
    sents = list(read_conll(write(tmp_path, f"{decomposed} O\n")))
    assert sents[0].words == ["\u00e9"]


def test_label_map_and_labels(tmp_path: Path) -> None:
    text = "Kano B-LOC\nMonday B-DATE\nUN B-MISC\nAda B-PER\nAda B-PERSON\n"
    path = write(tmp_path, text)
    sents = list(
        read_conll(
            path, labels={"PER", "LOC"}, label_map={"DATE": None, "MISC": None, "PERSON": "PER"}
        )
    )
    assert sents[0].ents == [Entity(0, 1, "LOC"), Entity(3, 4, "PER"), Entity(4, 5, "PER")]


def test_unknown_tag_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "a O\n\nb O\nc B-FOO\n")
    with pytest.raises(
        DataFormatError,
        match=r"x\.txt:4: unknown tag 'B-FOO' \(allowed: LOC, PER; .*--unknown-labels drop\)",
    ):
        list(read_conll(path, labels={"PER", "LOC"}))


def test_unknown_types_dropped_and_counted_by_entity(tmp_path: Path) -> None:
    path = write(tmp_path, "a B-FOO\nb I-FOO\nc B-FOO\nd B-PER\ne I-MISC\nf O\ng I-FOO\n")
    stats = ReadStats()
    sents = list(
        read_conll(
            path,
            labels={"PER"},
            label_map={"MISC": None},
            unknown_labels="drop",
            stats=stats,
        )
    )
    assert sents[0].ents == [Entity(3, 4, "PER")]
    assert stats.dropped_labels == {"FOO": 3, "MISC": 1}
    with pytest.raises(ValueError, match="unknown_labels"):
        list(read_conll(path, unknown_labels="map"))


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (" O", "empty token"),
        ("token", "single column"),
        ("tok PER", "malformed tag"),
        ("tok X-PER", "malformed tag"),
        ("tok B-", "malformed tag"),
    ],
)
def test_malformed_lines(
    tmp_path: Path, line: str, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    path = write(tmp_path, f"a O\n{line}\nb B-PER\n")
    with pytest.raises(
        DataFormatError, match=rf"^{re.escape(str(path))}:2: malformed line \({reason}\)"
    ):
        list(read_conll(path))
    stats = ReadStats()
    with caplog.at_level(logging.WARNING, logger="xner_spacy.io"):
        sents = list(read_conll(path, skip_malformed=True, stats=stats))
    assert sents[0].words == ["a", "b"]
    assert sents[0].ents == [Entity(1, 2, "PER")]
    assert stats.skipped == {reason: 1}
    assert "x.txt:2" in caplog.text


def test_invalid_utf8(tmp_path: Path) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(b"a O\n\xff\xfe O\n")
    with pytest.raises(DataFormatError, match=r"bad\.txt:2: invalid UTF-8"):
        list(read_conll(path))


def test_write_read_round_trip(tmp_path: Path) -> None:
    sents = [
        (["Ọba", "Adé", "lọ", "sí", "Èkó"], [Entity(0, 2, "PER"), Entity(4, 5, "LOC")]),
        (["nothing", "here"], []),
    ]
    path = tmp_path / "out" / "rt.txt"
    assert write_conll(path, sents) == 2
    back = [(s.words, s.ents) for s in read_conll(path)]
    assert back == sents


def test_write_is_atomic(tmp_path: Path) -> None:
    path = tmp_path / "out.txt"

    def gen() -> Iterator[tuple[list[str], list[Entity]]]:
        yield ["a"], [Entity(0, 1, "PER")]
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        write_conll(path, gen())
    assert list(tmp_path.iterdir()) == []


def test_write_rejects_whitespace_word(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="whitespace"):
        write_conll(tmp_path / "o.txt", [(["a b"], [])])
    assert not (tmp_path / "o.txt").exists()


@needs_data
def test_real_masakhaner_yor_first_sentence() -> None:
    sent = next(read_conll(DATA / "masakhaner2" / "yor" / "test.txt"))
    assert sent.line == 1
    assert sent.words[:4] == ["Abẹ́rẹ́", "tó", "lókùn", "niwá"]
    assert len(sent.words) == len(sent.tags) == 31
    assert sent.ents == []


@needs_data
def test_real_conll2003_docstart() -> None:
    stats = ReadStats()
    sents = list(read_conll(DATA / "conll2003_en" / "eng.testb", stats=stats))
    assert len(sents) == stats.sentences == 3453
    assert not any(w == "-DOCSTART-" for s in sents for w in s.words)
    first = sents[0]
    assert first.words[:3] == ["SOCCER", "-", "JAPAN"]
    assert first.ents == [Entity(2, 3, "LOC"), Entity(7, 8, "PER")]


@needs_data
def test_real_europarl_tab_format() -> None:
    sents = list(read_conll(DATA / "europarl_ner" / "en.conll02"))
    assert len(sents) == 799
    assert sents[0].words == ["Resumption", "of", "the", "session"]
    assert any(e.label == "MISC" for s in sents for e in s.ents)


@needs_data
def test_real_xho_broken_lines() -> None:
    path = DATA / "masakhaner2" / "xho" / "train.txt"
    with pytest.raises(DataFormatError, match=r"train\.txt:44520: "):
        list(read_conll(path))
    stats = ReadStats()
    n = sum(1 for _ in read_conll(path, skip_malformed=True, stats=stats))
    assert n == stats.sentences > 5000
    assert sum(stats.skipped.values()) == 2


@given(
    st.lists(
        st.sampled_from(["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "S-ORG", "E-ORG"]), max_size=30
    )
)
def test_decode_encode_decode_is_stable(tags: list[str]) -> None:
    ents = tags_to_ents(tags)
    assert all(a.end <= b.start for a, b in zip(ents, ents[1:], strict=False))
    assert tags_to_ents(ents_to_bio(len(tags), ents)) == ents
