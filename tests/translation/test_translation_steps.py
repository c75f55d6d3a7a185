"""translate_corpus (translate-train, translate-test, back-translation) and refine_records."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from xner_spacy.alignment.backtranslation import BackTranslationRefiner
from xner_spacy.io.records import read_records, write_records
from xner_spacy.translation.translation_steps import refine_records, translate_corpus
from xner_spacy.types import Entity, PairRecord


class DictTranslator:
    """Looks translations up per direction; records every call."""

    def __init__(self, table: dict[tuple[str, str], dict[str, str]]) -> None:
        self.table = table
        self.calls: list[tuple[str, str, list[str]]] = []

    def translate(
        self, texts: Sequence[str], src_lang: str | None = None, tgt_lang: str | None = None
    ) -> list[str]:
        assert src_lang and tgt_lang
        self.calls.append((src_lang, tgt_lang, list(texts)))
        return [self.table[(src_lang, tgt_lang)][t] for t in texts]


EN_YO = {"Ada went to Lagos.": "Ada lọ sí Èkó.", "Bola is here.": "Bola wà níbí."}
YO_EN = {"Ada lọ sí Èkó.": "Ada went to Eko.", "Bola wà níbí.": "Bola is here."}


def test_translate_train_from_text_with_back_translation(tmp_path: Path) -> None:
    src = tmp_path / "sents.en.txt"
    src.write_text("Ada went to Lagos.\n\nBola is here.\n", encoding="utf8")
    tr = DictTranslator({("en", "yo"): EN_YO, ("yo", "en"): YO_EN})
    out = tmp_path / "pairs.jsonl"
    counts = translate_corpus(src, out, tr, src_lang="en", tgt_lang="yo", back_translate=True)
    recs = list(read_records(out))
    assert counts["records"] == 2 and counts["back_translations"] == 2
    assert counts["skipped_lines"] == {"empty line": 1}
    assert [r.id for r in recs] == ["sents.en:1", "sents.en:3"]
    first = recs[0]
    assert first.src_words == ["Ada", "went", "to", "Lagos", "."]
    assert first.tgt_words == ["Ada", "lọ", "sí", "Èkó", "."]
    assert first.meta["back_translation"] == ["Ada", "went", "to", "Eko", "."]
    assert first.meta["src_text"] == "Ada went to Lagos." and first.meta["translated"] == "tgt"
    assert [c[:2] for c in tr.calls] == [("en", "yo"), ("yo", "en")]


def test_translate_test_keeps_target_and_its_gold(tmp_path: Path) -> None:
    recs_in = tmp_path / "gold.jsonl"
    gold = PairRecord("g1", "en", "yo", [], ["Ada", "lọ", "sí", "Èkó", "."],
                      tgt_ents=[Entity(0, 1, "PER"), Entity(3, 4, "LOC")])  # fmt: skip
    write_records(recs_in, [gold])
    tr = DictTranslator({("yo", "en"): {"Ada lọ sí Èkó .": "Ada went to Eko ."}})
    out = tmp_path / "tt.jsonl"
    translate_corpus(recs_in, out, tr, src_lang="en", tgt_lang="yo", mode="test")
    (rec,) = read_records(out)
    assert rec.src_words == ["Ada", "went", "to", "Eko", "."]
    assert rec.tgt_ents == [(0, 1, "PER"), (3, 4, "LOC")] and rec.src_ents is None
    assert rec.meta["translated"] == "src"


def test_translate_test_from_text(tmp_path: Path) -> None:
    src = tmp_path / "sents.yo.txt"
    src.write_text("Ada lọ sí Èkó.\n", encoding="utf8")
    out = tmp_path / "tt.jsonl"
    tr = DictTranslator({("yo", "en"): YO_EN})
    translate_corpus(src, out, tr, src_lang="en", tgt_lang="yo", mode="test", limit=1)
    (rec,) = read_records(out)
    assert rec.tgt_words == ["Ada", "lọ", "sí", "Èkó", "."] and rec.meta["tgt_text"]
    assert rec.src_words == ["Ada", "went", "to", "Eko", "."]


def test_back_mode_adds_back_translations_to_records(tmp_path: Path) -> None:
    rec = PairRecord("p1", "en", "yo", ["Ada", "went", "to", "Lagos", "."],
                     ["Ada", "lọ", "sí", "Èkó", "."], alignment=[(0, 0)],
                     meta={"tgt_text": "Ada lọ sí Èkó.", "bt_alignment": [[0, 0]]})  # fmt: skip
    path = tmp_path / "in.jsonl"
    write_records(path, [rec])
    out = tmp_path / "out.jsonl"
    tr = DictTranslator({("yo", "en"): YO_EN})
    counts = translate_corpus(path, out, tr, src_lang="en", tgt_lang="yo", mode="back")
    (got,) = read_records(out)
    assert counts["back_translations"] == 1
    assert got.meta["back_translation"] == ["Ada", "went", "to", "Eko", "."]
    assert "bt_alignment" not in got.meta  # stale: it belonged to an older back-translation
    assert got.alignment == [(0, 0)] and got.tgt_words == rec.tgt_words


def test_bad_mode_combinations(tmp_path: Path) -> None:
    txt = tmp_path / "s.txt"
    txt.write_text("x\n", encoding="utf8")
    tr = DictTranslator({})
    with pytest.raises(ValueError, match="mode"):
        translate_corpus(txt, tmp_path / "o.jsonl", tr, src_lang="en", tgt_lang="yo", mode="x")
    with pytest.raises(ValueError, match="back_translate"):
        translate_corpus(txt, tmp_path / "o.jsonl", tr, src_lang="en", tgt_lang="yo",
                         mode="test", back_translate=True)  # fmt: skip
    with pytest.raises(ValueError, match="records"):
        translate_corpus(txt, tmp_path / "o.jsonl", tr, src_lang="en", tgt_lang="yo",
                         mode="back")  # fmt: skip
    assert not (tmp_path / "o.jsonl").exists()


class MonotoneAligner:
    """Links word k to word k: enough to exercise the refine step."""

    def __init__(self) -> None:
        self.extra: int | None = None

    def align(self, src, tgt, extra_src=None, extra_tgt=None):  # type: ignore[no-untyped-def]
        self.extra = len(extra_src or [])
        return [[(k, k) for k in range(min(len(s), len(t)))] for s, t in zip(src, tgt, strict=True)]


def _refine_input(path: Path) -> None:
    with_bt = PairRecord(
        "a", "en", "yo", ["Ada", "visited", "Lagos", "yesterday"],
        ["Ada", "lo", "si", "Eko", "lana"], alignment=[(0, 0), (1, 1), (2, 2), (3, 4)],
        meta={"back_translation": ["Ada", "went", "to", "Lagos", "yesterday"]},
    )  # fmt: skip
    without = PairRecord("b", "en", "yo", ["Hi"], ["Bawo"], alignment=[(0, 0)])
    write_records(path, [with_bt, without])


def test_refine_records_aligns_back_translations_and_refines(tmp_path: Path) -> None:
    path, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    _refine_input(path)
    aligner = MonotoneAligner()
    counts = refine_records(path, out, BackTranslationRefiner("intersect"), aligner)
    a, b = read_records(out)
    assert a.alignment == [(0, 0), (1, 1), (3, 4)]  # Lagos–si dropped: the path says Eko
    assert a.meta["bt_alignment"] == [[k, k] for k in range(5)]
    assert b.alignment == [(0, 0)]
    assert aligner.extra == 2  # every (source, target) pair was extra training text
    assert counts["refined"] == 1 and counts["without_back_translation"] == 1
    assert counts["links_before"] == 4 and counts["links_after"] == 3
    # a rerun reads the stored bt_alignment and needs no aligner
    again = refine_records(out, tmp_path / "again.jsonl", BackTranslationRefiner("replace"))
    assert again["bt_aligned_here"] == 0
    (a2, _) = read_records(tmp_path / "again.jsonl")
    assert a2.alignment == [(0, 0), (1, 1), (2, 3), (3, 4)]  # Lagos takes the path's Eko


def test_refine_records_needs_an_aligner_or_stored_links(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    _refine_input(path)
    with pytest.raises(ValueError, match="aligner"):
        refine_records(path, tmp_path / "out.jsonl", BackTranslationRefiner())
    assert not (tmp_path / "out.jsonl").exists()
