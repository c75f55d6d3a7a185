"""Multi-source silver data: NTREX-128 records per source and weighted voting over projections."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from xner_spacy.cli import app
from xner_spacy.io.records import read_records, write_records
from xner_spacy.runner.multisource_steps import ntrex_id, prepare_ntrex, vote_records
from xner_spacy.types import Entity, PairRecord, RecordError

TGT = ["Bola lọ sí Abuja .", "Ade wà ní Lagos .", "Ìlú Ọ̀yọ́ tóbi ."]
SRC = {
    "eng": ["Bola went to Abuja .", "Ade is in Lagos .", "Oyo town is big ."],
    "fra": ["Bola est allé à Abuja .", "Ade est à Lagos .", "La ville d'Oyo est grande ."],
}


@pytest.fixture()
def ntrex_dir(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    (root / "ntrex128").mkdir(parents=True)
    for name, lines in {**SRC, "yor": TGT}.items():
        (root / "ntrex128" / f"{name}.txt").write_text("\n".join(lines) + "\n", "utf8")
    test = root / "masakhaner2" / "yor" / "test.txt"
    test.parent.mkdir(parents=True)
    test.write_text("Ade O\nwà O\nní O\nLagos B-LOC\n. O\n\n", "utf8")  # = NTREX line 2
    return root


def test_prepare_ntrex_ids_are_lines_and_test_sentences_removed(
    ntrex_dir: Path, tmp_path: Path
) -> None:
    counts = {}
    for src in ("en", "fr"):
        out = tmp_path / f"{src}.jsonl"
        counts[src] = prepare_ntrex(ntrex_dir, src, "yor", out)
        recs = list(read_records(out))
        assert [r.id for r in recs] == [ntrex_id(1), ntrex_id(3)]
        assert recs[0].src_lang == src and recs[0].tgt_words == ["Bola", "lọ", "sí", "Abuja", "."]
    assert counts["en"]["removed_test_overlap"] == 1 and counts["en"]["written"] == 2


def test_prepare_ntrex_missing_language_is_an_error(ntrex_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="NTREX-128 lacks"):
        prepare_ntrex(ntrex_dir, "de", "yor", tmp_path / "x.jsonl")


def _projection(path: Path, src: str, rows: list[tuple[str, list[Entity], int]]) -> Path:
    """Records with ``tgt_ents``; the int is how many source entities there were."""
    words = ["Bola", "lọ", "sí", "Abuja", "."]
    records = [
        PairRecord(
            id=rid, src_lang=src, tgt_lang="yor", src_words=["x"], tgt_words=list(words),
            src_ents=[Entity(0, 1, "PER")] * n_src, tgt_ents=ents,
        )
        for rid, ents, n_src in rows
    ]  # fmt: skip
    write_records(path, records)
    return path


def test_vote_keeps_majority_spans_and_majority_doubtful(tmp_path: Path) -> None:
    per, loc, org = Entity(0, 1, "PER"), Entity(3, 4, "LOC"), Entity(3, 4, "ORG")
    a = _projection(tmp_path / "a.jsonl", "en", [("s1", [per, loc], 2), ("s2", [per], 2)])
    b = _projection(tmp_path / "b.jsonl", "fr", [("s1", [per, org], 2), ("s2", [per], 2)])
    c = _projection(tmp_path / "c.jsonl", "de", [("s1", [loc], 1)])  # lacks s2: abstains
    out = tmp_path / "voted.jsonl"
    counts = vote_records([a, b, c], out)
    voted = {r.id: r for r in read_records(out)}
    assert voted["s1"].tgt_ents == [per, loc]  # PER 2/3, LOC 2/3, ORG 1/3
    assert voted["s1"].src_ents is None and voted["s1"].meta["sources"] == ["en", "fr", "de"]
    assert voted["s1"].meta["doubtful"] is False
    assert voted["s2"].meta["doubtful"] is True  # both voters lost a source entity
    assert counts["abstained"] == 1 and counts["records"] == 2


def test_vote_of_one_source_is_that_projection(tmp_path: Path) -> None:
    per = Entity(0, 1, "PER")
    a = _projection(tmp_path / "a.jsonl", "en", [("s1", [per], 1), ("s2", [], 1)])
    vote_records([a], tmp_path / "v.jsonl")
    voted = list(read_records(tmp_path / "v.jsonl"))
    assert [r.tgt_ents for r in voted] == [[per], []]
    assert [r.meta["doubtful"] for r in voted] == [False, True]


def test_vote_weights_decide(tmp_path: Path) -> None:
    per, loc = Entity(0, 1, "PER"), Entity(3, 4, "LOC")
    a = _projection(tmp_path / "a.jsonl", "en", [("s1", [per], 1)])
    b = _projection(tmp_path / "b.jsonl", "fr", [("s1", [loc], 1)])
    c = _projection(tmp_path / "c.jsonl", "de", [("s1", [], 1)])
    vote_records([a, b, c], tmp_path / "v.jsonl", weights=[3, 1, 1])
    assert next(read_records(tmp_path / "v.jsonl")).tgt_ents == [per]


def test_vote_rejects_different_target_words(tmp_path: Path) -> None:
    a = _projection(tmp_path / "a.jsonl", "en", [("s1", [], 0)])
    rec = next(read_records(a))
    rec.tgt_words = ["other"]
    write_records(tmp_path / "b.jsonl", [rec])
    with pytest.raises(RecordError, match="other target words"):
        vote_records([a, tmp_path / "b.jsonl"], tmp_path / "v.jsonl")


def test_vote_cli(tmp_path: Path) -> None:
    per = Entity(0, 1, "PER")
    a = _projection(tmp_path / "a.jsonl", "en", [("s1", [per], 1)])
    b = _projection(tmp_path / "b.jsonl", "fr", [("s1", [], 1)])
    out, stats = tmp_path / "v.jsonl", tmp_path / "s.json"
    runner = CliRunner()
    args = ["vote", str(a), str(b), "-o", str(out), "--weights", "2,1", "--stats", str(stats)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert json.loads(stats.read_text())["weights"] == [2.0, 1.0]
    assert next(read_records(out)).tgt_ents == [per]
    bad = runner.invoke(app, ["vote", str(a), str(b), "-o", str(out), "--weights", "1"])
    assert bad.exit_code != 0


def test_projection_agreement_ranks_the_odd_source_last(tmp_path: Path) -> None:
    from xner_spacy.runner.multisource_steps import projection_agreement

    per, loc = Entity(0, 1, "PER"), Entity(3, 4, "LOC")
    a = _projection(tmp_path / "a.jsonl", "en", [("s1", [per, loc], 2), ("s2", [per], 1)])
    b = _projection(tmp_path / "b.jsonl", "fr", [("s1", [per, loc], 2), ("s2", [], 1)])
    c = _projection(tmp_path / "c.jsonl", "de", [("s1", [], 2), ("s2", [loc], 1)])
    scores = projection_agreement({"en": a, "fr": b, "de": c})
    assert scores == {"en": 0.4, "fr": 0.4, "de": 0.0}  # en-fr agree on 4 of 5 spans
    assert projection_agreement({"en": a}) == {"en": 1.0}
