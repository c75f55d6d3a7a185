"""The streaming steps over pair records (prepare, label, align, project, convert)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import pytest

from xner_spacy.io.records import read_records, write_records
from xner_spacy.projection.corpus_passes import (
    NamePropagation,
    SupportedFallback,
    passes_from,
    run_passes,
)
from xner_spacy.projection.heuristic_projection import HeuristicProjector
from xner_spacy.projection.label_consistency import LabelConsistency
from xner_spacy.runner.batch_steps import (
    HeldOutFilter,
    align_records,
    convert_records,
    corpus_pass,
    dev_split,
    label_records,
    prepare_parallel,
    project_records,
    propose_spans,
)
from xner_spacy.types import Entity, PairRecord


def test_test_set_filter_exact_loose_and_contained() -> None:
    flt = HeldOutFilter(['Ó lọ sí " Èkó " .', "A fairly long test sentence about the market ."])
    assert "Ó lọ sí “Èkó”." in flt  # tokenisation, quotes and tone marks differ
    assert "o lo si eko" in flt
    assert "Yesterday: a fairly long test sentence about the market. More text" in flt
    assert "Ó lọ sí Abuja." not in flt
    assert "lo si" not in flt  # short keys are only matched whole


def test_prepare_removes_planted_test_sentences(toy_data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "pairs.jsonl"
    counts = prepare_parallel(toy_data_dir, "en", "zzz", out)
    assert counts["removed_test_overlap"] >= 2
    assert counts["pairs_read"] == 402
    assert counts["written"] == counts["pairs_read"] - counts["removed_test_overlap"]
    records = list(read_records(out))
    assert len(records) == counts["written"]
    flt = HeldOutFilter.from_conll([toy_data_dir / "masakhaner2/zzz/test.txt"])
    assert not any(" ".join(r.tgt_words) in flt for r in records)
    assert records[0].id == "en-zzz/train:1" and records[0].meta["split"] == "train"
    assert records[0].src_words[-1] == "." and records[0].src_ents is None


class _CapitalLabeller:
    """Labels every capitalised word as PER: enough to test the plumbing."""

    def label(self, sentences: Iterable[Sequence[str]]) -> Iterator[list[Entity]]:
        for words in sentences:
            yield [Entity(i, i + 1, "PER") for i, w in enumerate(words) if w[:1].isupper()]


class _DiagonalAligner:
    def align(
        self,
        src: Sequence[Sequence[str]],
        tgt: Sequence[Sequence[str]],
        extra_src: Sequence[Sequence[str]] | None = None,
        extra_tgt: Sequence[Sequence[str]] | None = None,
    ) -> list:
        return [[(i, i) for i in range(min(len(s), len(t)))] for s, t in zip(src, tgt, strict=True)]


def _records(n: int) -> list[PairRecord]:
    return [
        PairRecord(f"r{k}", "en", "zzz", ["Ada", "saw", "Bola"], ["Ada", "ri", "Bola"])
        for k in range(n)
    ]


def test_label_align_project_convert_chain(tmp_path: Path) -> None:
    write_records(tmp_path / "in.jsonl", _records(50))
    counts = label_records(
        tmp_path / "in.jsonl", tmp_path / "lab.jsonl", _CapitalLabeller(), batch_size=7
    )
    assert counts == {"records": 50, "entities": 100, "labels": {"PER": 100}}
    align_records(tmp_path / "lab.jsonl", tmp_path / "ali.jsonl", _DiagonalAligner())
    assert next(read_records(tmp_path / "ali.jsonl")).alignment == [(0, 0), (1, 1), (2, 2)]
    counts = project_records(tmp_path / "ali.jsonl", tmp_path / "proj.jsonl", HeuristicProjector())
    assert counts["tgt_entities"] == 100 and counts["doubtful"] == 0
    rec = next(read_records(tmp_path / "proj.jsonl"))
    assert rec.tgt_ents == [Entity(0, 1, "PER"), Entity(2, 3, "PER")]
    summary = convert_records(tmp_path / "proj.jsonl", tmp_path / "corpus", dev_fraction=0.2)
    assert summary["train"]["docs"] + summary["dev"]["docs"] == 50
    assert 0 < summary["dev"]["docs"] < 25
    assert (tmp_path / "corpus/train.spacy").is_file()


def test_align_extra_pairs_train_but_are_not_written(tmp_path: Path) -> None:
    write_records(tmp_path / "a.jsonl", _records(3))
    write_records(tmp_path / "b.jsonl", _records(5))
    counts = align_records(
        tmp_path / "a.jsonl",
        tmp_path / "out.jsonl",
        _DiagonalAligner(),
        extra=[tmp_path / "b.jsonl"],
    )
    assert counts["records"] == 3 and counts["extra_pairs"] == 5
    assert len(list(read_records(tmp_path / "out.jsonl"))) == 3


def test_project_requires_label_and_alignment(tmp_path: Path) -> None:
    write_records(tmp_path / "in.jsonl", _records(1))
    with pytest.raises(ValueError, match="run `xner label` and `xner align` first"):
        project_records(tmp_path / "in.jsonl", tmp_path / "out.jsonl", HeuristicProjector())
    assert not (tmp_path / "out.jsonl").exists()  # nothing half-written


def test_dev_split_is_deterministic_and_proportional() -> None:
    ids = [f"x/{i}" for i in range(5000)]
    first = [dev_split(i, 0.1) for i in ids]
    assert first == [dev_split(i, 0.1) for i in ids]
    assert 400 < sum(first) < 600
    assert first != [dev_split(i, 0.1, seed=1) for i in ids]


def test_propose_spans_stores_ner_spans_in_meta(tmp_path: Path) -> None:
    import spacy

    nlp = spacy.blank("xx")
    nlp.add_pipe("entity_ruler", name="ner").add_patterns([{"label": "PER", "pattern": "Bola"}])
    nlp.to_disk(tmp_path / "ner")
    write_records(tmp_path / "in.jsonl", _records(3))
    counts = propose_spans(tmp_path / "in.jsonl", tmp_path / "out.jsonl", str(tmp_path / "ner"))
    assert counts == {"records": 3, "spans": 3}
    rec = next(read_records(tmp_path / "out.jsonl"))
    assert rec.meta["ner_spans"] == [[2, 3, "PER", 1.0]]


def _projected_corpus() -> list[PairRecord]:
    def pair(k: int, src: str, tgt: str, src_ents: list, tgt_ents: list) -> PairRecord:
        n = min(len(src.split()), len(tgt.split()))
        return PairRecord(
            f"c{k}",
            "en",
            "zzz",
            src.split(),
            tgt.split(),
            src_ents=[Entity(*e) for e in src_ents],
            alignment=[(i, i) for i in range(n)],
            tgt_ents=[Entity(*e) for e in tgt_ents],
        )

    return [
        pair(0, "Otunnu spoke", "Otunnu yogedde", [(0, 1, "PER")], []),
        pair(1, "Otunnu went", "Otunnu agenze", [(0, 1, "PER")], [(0, 1, "PER")]),
        pair(2, "Otunnu is here", "Otunnu ali wano", [(0, 1, "ORG")], [(0, 1, "ORG")]),
        pair(3, "now", "ssaawa Otunnu", [], []),
        pair(4, "Kampala", "Kampala", [(0, 1, "LOC")], [(0, 1, "LOC")]),
    ]


def test_corpus_pass_streams_what_run_passes_does_in_memory(tmp_path: Path) -> None:
    _, after = passes_from(
        LabelConsistency(), SupportedFallback(HeuristicProjector()), NamePropagation()
    )
    write_records(tmp_path / "in.jsonl", _projected_corpus())
    current, summaries = tmp_path / "in.jsonl", []
    for n, part in enumerate(after):
        summaries.append(corpus_pass(current, tmp_path / f"{n}.jsonl", part))
        current = tmp_path / f"{n}.jsonl"
    assert summaries == [
        {"records": 5, "changed": 1, "tgt_entities": 4, "pass": "fallback"},
        {"records": 5, "changed": 1, "tgt_entities": 4, "pass": "target_vote"},
        {"records": 5, "changed": 1, "tgt_entities": 5, "pass": "propagation"},
    ]
    memory = list(read_records(tmp_path / "in.jsonl"))
    assert run_passes(memory, after) == {"fallback": 1, "target_vote": 1, "propagation": 1}
    streamed = list(read_records(current))
    assert [r.to_dict() for r in streamed] == [r.to_dict() for r in memory]
    assert [r.tgt_ents for r in streamed] == [
        [Entity(0, 1, "PER")],
        [Entity(0, 1, "PER")],
        [Entity(0, 1, "PER")],
        [Entity(1, 2, "PER")],
        [Entity(0, 1, "LOC")],
    ]
    # the input file is left as it was
    assert [r.to_dict() for r in read_records(tmp_path / "in.jsonl")] == [
        r.to_dict() for r in _projected_corpus()
    ]


def test_corpus_pass_writes_nothing_when_a_record_fails(tmp_path: Path) -> None:
    records = _projected_corpus()
    records[3].alignment = None
    write_records(tmp_path / "in.jsonl", records)
    fallback = SupportedFallback(HeuristicProjector())
    with pytest.raises(ValueError, match="record 'c3' has no alignment"):
        corpus_pass(tmp_path / "in.jsonl", tmp_path / "out.jsonl", fallback)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]  # no temp file left
