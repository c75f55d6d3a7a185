"""Tests for record / CoNLL → spaCy DocBin conversion."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from spacy.lang.xx import MultiLanguage
from spacy.vocab import Vocab, create_vocab

from xner_spacy.io.conll import TaggedSentence, read_conll
from xner_spacy.io.docbin import (
    is_doubtful,
    read_docbin,
    record_to_doc,
    records_to_docbin,
    sentences_to_docbin,
)
from xner_spacy.io.errors import ReadStats
from xner_spacy.types import Entity, PairRecord

DATA = Path(os.environ.get("XNER_DATA_DIR", Path(__file__).parents[2].parent / "shared" / "data"))
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason=f"no data dir at {DATA}")


@pytest.fixture(scope="module")
def vocab() -> Vocab:
    return create_vocab("xx", MultiLanguage.Defaults)


def make_record(rid: str = "r0", tgt_ents: list[Entity] | None = None, **meta: Any) -> PairRecord:
    return PairRecord(
        id=rid,
        src_lang="en",
        tgt_lang="yor",
        src_words=["Ade", "met", "Bola", "in", "Lagos"],
        tgt_words=["Adé", "pàdé", "Bọ́lá", "ní", "Èkó"],
        src_ents=[Entity(0, 1, "PER"), Entity(2, 3, "PER"), Entity(4, 5, "LOC")],
        alignment=[(i, i) for i in range(5)],
        tgt_ents=tgt_ents
        if tgt_ents is not None
        else [Entity(0, 1, "PER"), Entity(2, 3, "PER"), Entity(4, 5, "LOC")],
        meta=dict(meta),
    )


def doubtful_record(rid: str = "d0") -> PairRecord:
    return make_record(rid, tgt_ents=[Entity(0, 1, "PER"), Entity(4, 5, "LOC")])


def iob(doc: Any) -> list[str]:
    return [t.ent_iob_ for t in doc]


def test_complete_record(vocab: Vocab) -> None:
    rec = make_record()
    assert not is_doubtful(rec)
    doc = record_to_doc(vocab, rec, doubtful="drop")
    assert doc is not None
    assert [t.text for t in doc] == rec.tgt_words
    assert [(e.start, e.end, e.label_) for e in doc.ents] == [
        (0, 1, "PER"),
        (2, 3, "PER"),
        (4, 5, "LOC"),
    ]
    assert iob(doc) == ["B", "O", "B", "O", "B"]


def test_src_side(vocab: Vocab) -> None:
    doc = record_to_doc(vocab, doubtful_record(), side="src", doubtful="drop")
    assert doc is not None
    assert [t.text for t in doc][0] == "Ade"
    assert len(doc.ents) == 3


def test_doubtful_modes(vocab: Vocab) -> None:
    rec = doubtful_record()
    assert is_doubtful(rec)
    assert record_to_doc(vocab, rec, doubtful="drop") is None
    kept = record_to_doc(vocab, rec, doubtful="keep")
    assert kept is not None and iob(kept) == ["B", "O", "O", "O", "B"]
    missing = record_to_doc(vocab, rec, doubtful="missing")
    assert missing is not None and iob(missing) == ["B", "", "", "", "B"]
    assert len(missing.ents) == 2


def test_meta_flag_makes_doubtful(vocab: Vocab) -> None:
    rec = make_record(doubtful=True)
    assert is_doubtful(rec)
    assert record_to_doc(vocab, rec, doubtful="drop") is None


def test_overlap_names_record(vocab: Vocab) -> None:
    rec = make_record(
        "bad-7", tgt_ents=[Entity(0, 2, "PER"), Entity(1, 3, "ORG"), Entity(4, 5, "LOC")]
    )
    with pytest.raises(ValueError, match="bad-7.*overlapping"):
        record_to_doc(vocab, rec)


def test_unprojected_record_is_an_error(vocab: Vocab) -> None:
    rec = make_record()
    rec.tgt_ents = None
    with pytest.raises(ValueError, match="no tgt_ents"):
        record_to_doc(vocab, rec)


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("drop", {"docs": 1, "dropped_doubtful": 2, "missing_marked": 0, "entities": 3}),
        ("keep", {"docs": 3, "dropped_doubtful": 0, "missing_marked": 0, "entities": 7}),
        ("missing", {"docs": 3, "dropped_doubtful": 0, "missing_marked": 2, "entities": 7}),
    ],
)
def test_records_to_docbin(
    tmp_path: Path, vocab: Vocab, mode: str, expected: dict[str, int]
) -> None:
    records = [make_record("a"), doubtful_record("b"), doubtful_record("c")]
    path = tmp_path / "train.spacy"
    stats = ReadStats()
    counts = records_to_docbin(path, records, doubtful=mode, stats=stats)  # type: ignore[arg-type]
    assert counts == expected
    docs = list(read_docbin(path, vocab))
    assert len(docs) == expected["docs"]
    assert sum(len(d.ents) for d in docs) == expected["entities"]
    if mode == "missing":
        assert iob(docs[1]) == ["B", "", "", "", "B"]
    assert stats.sentences == expected["docs"]


def test_docbin_write_is_atomic(tmp_path: Path) -> None:
    path = tmp_path / "train.spacy"

    def gen() -> Iterator[PairRecord]:
        yield make_record("a")
        raise RuntimeError("crash")

    with pytest.raises(RuntimeError):
        records_to_docbin(path, gen())
    assert list(tmp_path.iterdir()) == []


def test_sentences_to_docbin(tmp_path: Path, vocab: Vocab) -> None:
    sents = [
        TaggedSentence(
            ["Ada", "lives", "in", "Kano"],
            ["B-PER", "O", "O", "B-LOC"],
            [Entity(0, 1, "PER"), Entity(3, 4, "LOC")],
            "x.txt",
            1,
        ),
        TaggedSentence(["ok"], ["O"], [], "x.txt", 6),
    ]
    path = tmp_path / "gold.spacy"
    assert sentences_to_docbin(path, sents) == 2
    docs = list(read_docbin(path, vocab))
    assert [(e.text, e.label_) for e in docs[0].ents] == [("Ada", "PER"), ("Kano", "LOC")]
    assert iob(docs[1]) == ["O"]


@needs_data
def test_real_conll_to_docbin(tmp_path: Path, vocab: Vocab) -> None:
    path = tmp_path / "yor.spacy"
    sents = read_conll(DATA / "masakhaner2" / "yor" / "dev.txt")
    n = sentences_to_docbin(path, sents)
    docs = list(read_docbin(path, vocab))
    assert len(docs) == n > 0
    assert {e.label_ for d in docs for e in d.ents} <= {"PER", "ORG", "LOC", "DATE"}
