"""Hostile input: a clear error naming file and line (or a counted, logged skip), never a
half-written output, and a killed run that resumes to the bytes of an uninterrupted one."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import spacy
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from xner_spacy.alignment import FastAlignAligner
from xner_spacy.cli import app
from xner_spacy.io.conll import read_conll, write_conll
from xner_spacy.io.docbin import read_docbin
from xner_spacy.io.errors import DataFormatError, ReadStats
from xner_spacy.io.parallel import read_parallel
from xner_spacy.io.records import read_records, write_records
from xner_spacy.projection.heuristic_projection import HeuristicProjector
from xner_spacy.runner.batch_steps import (
    align_records,
    convert_records,
    label_records,
    prepare_parallel,
    project_records,
)
from xner_spacy.runner.shards import ConfigPart, RunOptions
from xner_spacy.text import tokenize
from xner_spacy.types import Entity, PairRecord, RecordError

REPO = Path(__file__).resolve().parents[1]
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@dataclass
class CapitalLabeller:
    """PER on every capitalised word; raises after ``crash_after`` sentences (if set)."""

    crash_after: int = -1
    seen: int = field(default=0, init=False, repr=False)

    def label(self, sentences: Iterable[Sequence[str]]) -> Iterator[list[Entity]]:
        for words in sentences:
            self.seen += 1
            if self.seen > self.crash_after >= 0:
                raise RuntimeError("labeller crashed")
            yield [Entity(i, i + 1, "PER") for i, w in enumerate(words) if w[:1].isupper()]


class DiagonalAligner:
    """Links word i to word i; per pair, so the align step shards it."""

    per_pair = True

    def align(
        self, src: Sequence[Sequence[str]], tgt: Sequence[Sequence[str]], **_: Any
    ) -> list[list[tuple[int, int]]]:
        return [[(i, i) for i in range(min(len(s), len(t)))] for s, t in zip(src, tgt, strict=True)]


class OffByOneAligner(DiagonalAligner):
    """A buggy aligner: links one word past the end of the target."""

    per_pair = False

    def align(self, src: Any, tgt: Any, **_: Any) -> list[list[tuple[int, int]]]:
        return [[(0, len(t))] for t in tgt]


def record(k: int, src: list[str] | None = None, tgt: list[str] | None = None) -> PairRecord:
    return PairRecord(f"r{k}", "en", "zzz", src or ["Ada", "saw", f"w{k}"], tgt or ["Ada", "ri"])


def siblings(path: Path) -> list[str]:
    """Names in ``path``'s folder other than shard folders (a temp file would show here)."""
    return sorted(p.name for p in path.parent.iterdir() if not p.name.endswith(".shards"))


# --- empty files and empty lines --------------------------------------------------------------


def test_empty_files_give_empty_outputs(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    blank = tmp_path / "blank.txt"
    blank.write_bytes(b"\n\n  \n\t\n")
    (tmp_path / "empty.txt.copy").write_bytes(b"")
    for path in (empty, blank):
        assert list(read_conll(path)) == []
        assert list(read_records(path)) == []
    assert list(read_parallel(empty, tmp_path / "empty.txt.copy")) == []
    with pytest.raises(DataFormatError, match=r"blank\.txt:1: .*empty\.txt has 0 lines"):
        list(read_parallel(empty, blank))

    counts = label_records(blank, tmp_path / "lab.jsonl", CapitalLabeller())
    assert counts == {"records": 0, "entities": 0, "labels": {}}
    assert (tmp_path / "lab.jsonl").read_bytes() == b""
    counts = project_records(empty, tmp_path / "proj.jsonl", HeuristicProjector())
    assert counts == {"records": 0, "src_entities": 0, "tgt_entities": 0, "doubtful": 0}
    summary = convert_records(empty, tmp_path / "corpus")
    assert summary["train"]["docs"] == summary["dev"]["docs"] == 0
    vocab = spacy.blank("xx").vocab
    assert list(read_docbin(tmp_path / "corpus" / "train.spacy", vocab)) == []


def test_empty_and_whitespace_lines_are_counted_skips(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    src, tgt = tmp_path / "a.en", tmp_path / "a.zzz"
    src.write_text("Ada came .\n\n\u00a0\nBola left .\nOk .\n", encoding="utf8")
    tgt.write_text("Ada wa .\nx\ny\n \u2003\nO dara .\n", encoding="utf8")
    stats = ReadStats()
    with caplog.at_level(logging.WARNING, logger="xner_spacy.io"):
        pairs = list(read_parallel(src, tgt, stats=stats))
    assert [p.line for p in pairs] == [1, 5]
    assert stats.skipped == {"empty line": 3}
    assert f"{src}:2: skipped" in caplog.text and f"{src}:4: skipped" in caplog.text


# --- sizes and scripts ------------------------------------------------------------------------


def test_a_5000_word_sentence_flows_through_every_step(tmp_path: Path) -> None:
    n = 5000
    words = [f"Name{i}" if i % 50 == 0 else f"w{i}" for i in range(n)]
    gold = tmp_path / "long.txt"
    write_conll(gold, [(words, [Entity(i, i + 1, "PER") for i in range(0, n, 50)])])
    sent = next(read_conll(gold))
    assert len(sent.words) == n and len(sent.ents) == n // 50

    write_records(tmp_path / "in.jsonl", [record(0, words, words), record(1)])
    label_records(tmp_path / "in.jsonl", tmp_path / "lab.jsonl", CapitalLabeller())
    align_records(tmp_path / "lab.jsonl", tmp_path / "ali.jsonl", DiagonalAligner())
    for name in ("HeuristicProjector", "CandidateMatching"):
        part = ConfigPart.from_config({"p": {"@misc": f"xner.{name}.v1"}}, "p")
        counts = project_records(tmp_path / "ali.jsonl", tmp_path / "proj.jsonl", part)
        assert counts["tgt_entities"] == counts["src_entities"] == n // 50 + 1
    convert_records(tmp_path / "proj.jsonl", tmp_path / "corpus", dev_fraction=0.0)
    docs = list(read_docbin(tmp_path / "corpus" / "train.spacy", spacy.blank("xx").vocab))
    assert [len(d) for d in docs] == [n, 2] and len(docs[0].ents) == n // 50


WORD = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"),
    min_size=1,
    max_size=8,
)  # any script, marks, emoji, controls, line/paragraph separators; NUL is refused (below)


@FUZZ
@given(src=st.lists(WORD, min_size=1, max_size=12), tgt=st.lists(WORD, min_size=1, max_size=12))
def test_records_of_any_script_round_trip_through_jsonl_and_docbin(
    src: list[str], tgt: list[str]
) -> None:
    rec = PairRecord("x", "en", "zzz", src, tgt, tgt_ents=[Entity(0, 1, "PER")])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "r.jsonl"
        write_records(path, [rec, rec])
        assert list(read_records(path)) == [rec, rec]  # a U+2028 never splits a line
        convert_records(path, Path(tmp) / "c", dev_fraction=0.0)
        docs = list(read_docbin(Path(tmp) / "c" / "train.spacy", spacy.blank("xx").vocab))
    assert [t.text for t in docs[0]] == tgt
    assert [(e.start, e.end, e.label_) for e in docs[0].ents] == [(0, 1, "PER")]


MARKED = st.text(
    alphabet=st.sampled_from("aeiouOEnmgb\u0300\u0301\u0303\u0323\u0329\u030c\u0331"),
    min_size=1,
    max_size=10,
)


@FUZZ
@given(words=st.lists(MARKED, min_size=1, max_size=6))
def test_combining_marks_are_composed_by_every_reader(words: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        conll = Path(tmp) / "g.txt"
        conll.write_text("".join(f"{w} O\n" for w in words), encoding="utf8")
        read = next(read_conll(conll)).words
        src, tgt = Path(tmp) / "p.en", Path(tmp) / "p.zzz"
        text = " ".join(words)
        src.write_text(text + "\n", encoding="utf8")
        tgt.write_text(text + "\n", encoding="utf8")
        pair = next(read_parallel(src, tgt))
    assert read == [unicodedata.normalize("NFC", w) for w in words]
    assert pair.tgt == unicodedata.normalize("NFC", text)
    assert all(unicodedata.is_normalized("NFC", w) for w in tokenize(text))


# --- invalid bytes, mismatched files, unknown tags ----------------------------------------------


def test_invalid_utf8_names_file_and_line(tmp_path: Path) -> None:
    conll = tmp_path / "g.txt"
    conll.write_bytes(b"Ada B-PER\n\nBola B-PER\nl\xe1 O\n")
    with pytest.raises(DataFormatError, match=r"g\.txt:4: invalid UTF-8"):
        list(read_conll(conll))
    src, tgt = tmp_path / "a.en", tmp_path / "a.zzz"
    src.write_bytes(b"one\ntwo\nthree\n")
    tgt.write_bytes(b"eni\nm\xc3\x28ji\nmeta\n")
    with pytest.raises(DataFormatError, match=r"a\.zzz:2: invalid UTF-8"):
        list(read_parallel(src, tgt))


def _xner(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the ``xner`` console entry point in a fresh interpreter."""
    code = "from xner_spacy.cli import main; main()"
    cmd = [sys.executable, "-c", code, *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=REPO, timeout=300)


def test_cli_reports_bad_bytes_in_a_later_shard_in_one_line(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    recs = [record(k) for k in range(9)]
    for r in recs:
        r.src_ents, r.alignment = [], []
    write_records(src, recs)
    data = src.read_bytes().split(b"\n")
    data[6] = data[6].replace(b"saw", b"s\xffw")
    src.write_bytes(b"\n".join(data))
    cfg = tmp_path / "p.cfg"
    cfg.write_text('[projector]\n@misc = "xner.HeuristicProjector.v1"\n')
    out = tmp_path / "out.jsonl"
    proc = _xner("project", str(src), str(out), "--config", str(cfg), "--shard-size", "3")
    assert proc.returncode == 1, proc.stderr
    assert f"{src}:7: invalid UTF-8" in proc.stderr and "Traceback" not in proc.stderr
    assert not out.exists() and siblings(out) == ["in.jsonl", "p.cfg"]


def _summary(proc: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_skip_malformed_skips_a_line_of_invalid_utf8(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    recs = [record(k) for k in range(9)]
    for r in recs:
        r.src_ents, r.alignment = [], [(0, 0)]
    write_records(src, recs)
    data = src.read_bytes().split(b"\n")
    data[6] = data[6].replace(b"saw", b"s\xffw")
    src.write_bytes(b"\n".join(data))
    cfg = tmp_path / "p.cfg"
    cfg.write_text('[projector]\n@misc = "xner.HeuristicProjector.v1"\n')
    out = tmp_path / "out.jsonl"
    for shards in (["--shard-size", "3"], ["--shard-size", "3", "--n-process", "2"]):
        args = ["project", str(src), str(out), "--config", str(cfg), *shards, "--skip-malformed"]
        proc = _xner(*args)
        assert _summary(proc)["skipped_lines"] == {"invalid UTF-8": 1}
        assert f"{src}:7: skipped (invalid UTF-8)" in proc.stderr
        assert [r.id for r in read_records(out)] == [f"r{k}" for k in range(9) if k != 6]
    aligned = tmp_path / "ali.jsonl"  # a statistical aligner reads the file unsharded
    fast = str(REPO / "configs" / "projection_fast.cfg")
    proc = _xner("align", str(src), str(aligned), "--config", fast, "--skip-malformed")
    assert _summary(proc)["skipped_lines"] == {"invalid UTF-8": 1}
    assert len(list(read_records(aligned))) == 8


def test_nul_inside_a_word_is_a_malformed_record(tmp_path: Path) -> None:
    src = tmp_path / "nul.jsonl"
    lines = [
        {"id": "a", "src_words": ["Local", "radio"], "tgt_words": ["Ilé", "redio"]},
        {"id": "b", "src_words": ["Lo\u0000cal", "radio"], "tgt_words": ["Ilé", "redio"]},
        {"id": "c", "src_words": ["Local", "news"], "tgt_words": ["Ilé", "iroyin"]},
    ]
    src.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf8")
    out = tmp_path / "out.jsonl"
    fast = str(REPO / "configs" / "projection_fast.cfg")
    proc = _xner("align", str(src), str(out), "--config", fast)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert f"{src}:2: src_words[0] 'Lo\\x00cal' contains NUL" in proc.stderr
    assert not out.exists()
    proc = _xner("align", str(src), str(out), "--config", fast, "--skip-malformed")
    assert _summary(proc)["skipped_lines"] == {"invalid record": 1}
    assert [r.id for r in read_records(out)] == ["a", "c"]
    # The Python API takes any word: NUL is replaced for the aligner, never a crash.
    links = FastAlignAligner().align([["Lo\0cal", "radio"]] * 3, [["Ilé", "redio"]] * 3)
    assert all(0 <= i < 2 and 0 <= j < 2 for i, j in links[0])


def test_mismatched_parallel_files_name_the_longer_file(tmp_path: Path) -> None:
    pair = tmp_path / "data" / "mafand" / "en-zzz"
    pair.mkdir(parents=True)
    (pair / "train.en").write_text("Ada came .\nBola left .\nThey met .\n", encoding="utf8")
    (pair / "train.zzz").write_text("Ada wa .\nBola lo .\n", encoding="utf8")
    out = tmp_path / "pairs.jsonl"
    with pytest.raises(DataFormatError, match=r"train\.en:3: .*train\.en has 3 lines but"):
        prepare_parallel(tmp_path / "data", "en", "zzz", out)
    assert not out.exists() and siblings(out) == ["data"]


def test_tags_outside_the_label_set(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    gold = tmp_path / "g.txt"
    gold.write_text("Ada B-PER\nsaw O\n\nIBM B-ORG\nin O\nParis B-FOO\n", encoding="utf8")
    with pytest.raises(DataFormatError, match=r"g\.txt:6: unknown tag 'B-FOO' \(allowed: LOC"):
        list(read_conll(gold, labels={"PER", "ORG", "LOC"}))
    gold.write_text("Ada B_PER\nsaw O\nBola B-PER\n", encoding="utf8")
    with pytest.raises(DataFormatError, match=r"g\.txt:1: malformed line"):
        list(read_conll(gold))
    stats = ReadStats()
    with caplog.at_level(logging.WARNING, logger="xner_spacy.io"):
        sents = list(read_conll(gold, skip_malformed=True, stats=stats))
    assert sents[0].words == ["saw", "Bola"] and stats.skipped == {"malformed tag": 1}
    assert f"{gold}:1: skipped (malformed tag)" in caplog.text


# --- through the CLI: unknown entity types, empty inputs, mojibake ----------------------------

CLI = CliRunner()


def _cli(*args: str) -> Any:
    return CLI.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def ruler_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A pipeline that tags "Ada" PER and "Lagos" LOC: something `xner evaluate` can score."""
    nlp = spacy.blank("xx")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns([{"label": "PER", "pattern": "Ada"}, {"label": "LOC", "pattern": "Lagos"}])
    path = tmp_path_factory.mktemp("ruler") / "model"
    nlp.to_disk(path)
    return path


def test_convert_gold_refuses_an_unknown_entity_type(tmp_path: Path) -> None:
    gold = tmp_path / "g.txt"
    gold.write_text("Ada B-PER\nin O\nLagos B-PLACE\nCity I-PLACE\n\n", encoding="utf8")
    out = tmp_path / "g.spacy"
    proc = _xner("convert-gold", str(gold), str(out))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert f"{gold}:3: unknown tag 'B-PLACE' (allowed: LOC, ORG, PER" in proc.stderr
    assert "--unknown-labels drop" in proc.stderr and not out.exists()

    result = _cli("convert-gold", gold, out, "--unknown-labels", "drop")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["dropped_labels"] == {"PLACE": 1}
    docs = list(read_docbin(out, spacy.blank("xx").vocab))
    assert [(e.text, e.label_) for e in docs[0].ents] == [("Ada", "PER")]

    result = _cli("convert-gold", gold, out, "--label-map", "conll,PLACE=LOC")
    assert result.exit_code == 0, result.output
    docs = list(read_docbin(out, spacy.blank("xx").vocab))
    assert [(e.text, e.label_) for e in docs[0].ents] == [("Ada", "PER"), ("Lagos City", "LOC")]
    assert _cli("convert-gold", gold, out, "--unknown-labels", "keep").exit_code == 2


def test_evaluate_refuses_an_unknown_gold_type_but_ignores_date(
    tmp_path: Path, ruler_model: Path
) -> None:
    gold = tmp_path / "test.txt"
    gold.write_text("Ada B-PER\nin O\nLagos B-LOC\nMonday B-DATE\n\n", encoding="utf8")
    result = _cli("evaluate", ruler_model, gold)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["f1"] == 1.0
    gold.write_text("Ada B-PER\nin O\nLagos B-PLACE\n\n", encoding="utf8")
    result = _cli("evaluate", ruler_model, gold)
    assert result.exit_code == 1 and isinstance(result.exception, DataFormatError)
    assert str(result.exception).startswith(f"{gold}:3: unknown tag 'B-PLACE'")
    result = _cli("evaluate", ruler_model, gold, "--gold-label-map", "PLACE=LOC")
    assert result.exit_code == 0 and json.loads(result.stdout)["f1"] == 1.0
    result = _cli("evaluate", ruler_model, gold, "--unknown-labels", "drop")
    summary = json.loads(result.stdout)
    assert summary["dropped_labels"] == {"PLACE": 1} and summary["precision"] == 0.5


def test_empty_inputs_are_refused_by_the_cli(tmp_path: Path, ruler_model: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    blank = tmp_path / "blank.jsonl"
    blank.write_bytes(b"\n \n")
    docstart = tmp_path / "docstart.txt"
    docstart.write_text("-DOCSTART- -X- -X- O\n\n", encoding="utf8")
    cfg = tmp_path / "p.cfg"
    cfg.write_text('[projector]\n@misc = "xner.HeuristicProjector.v1"\n')
    runs = {
        "convert-gold": ["convert-gold", empty, tmp_path / "o.spacy"],
        "convert-gold (only -DOCSTART-)": ["convert-gold", docstart, tmp_path / "o.spacy"],
        "project": ["project", blank, tmp_path / "o.jsonl", "--config", cfg],
        "evaluate": ["evaluate", ruler_model, empty],
        "label": ["label", empty, tmp_path / "l.jsonl", "--config", cfg],
        "convert": ["convert", blank, tmp_path / "corpus"],
    }
    for what, args in runs.items():
        result = _cli(*args)
        assert result.exit_code == 1, what
        assert "--allow-empty" in result.output, what
        assert any(f"{p} " in result.output for p in (empty, blank, docstart)), what
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["empty.txt", "blank.jsonl", "docstart.txt", "p.cfg"]
    )
    for what in ("convert-gold", "project", "evaluate"):
        result = _cli(*runs[what], "--allow-empty")
        assert result.exit_code == 0, (what, result.output)
    assert json.loads(_cli(*runs["evaluate"], "--allow-empty").stdout)["sentences"] == 0


def test_mojibake_is_reported_repaired_or_refused_by_the_cli(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    gold = tmp_path / "es.txt"
    gold.write_text("Vive O\nen O\nLa B-LOC\nCoruÃ±a I-LOC\n\n", encoding="utf8")
    out = tmp_path / "es.spacy"
    with caplog.at_level(logging.WARNING, logger="xner_spacy.io"):
        result = _cli("convert-gold", gold, out)
    assert result.exit_code == 0 and json.loads(result.stdout)["mojibake_lines"] == 1
    assert f"{gold}:4: 'CoruÃ±a' → 'Coruña'" in caplog.text and "1 line(s)" in caplog.text
    assert _cli("convert-gold", gold, out, "--mojibake", "fix").exit_code == 0
    docs = list(read_docbin(out, spacy.blank("xx").vocab))
    assert [e.text for e in docs[0].ents] == ["La Coruña"]
    result = _cli("convert-gold", gold, out, "--mojibake", "error")
    assert result.exit_code == 1 and str(result.exception).startswith(f"{gold}:4: mojibake")

    pair = tmp_path / "data" / "mafand" / "en-zzz"
    pair.mkdir(parents=True)
    (pair / "train.en").write_text("Itâ€™s Ada .\nOk .\n", encoding="utf8")
    (pair / "train.zzz").write_text("Ada ni .\nO dara .\n", encoding="utf8")
    pairs = tmp_path / "pairs.jsonl"
    base = ["prepare", "--data-dir", tmp_path / "data", "--src", "en", "--tgt", "zzz"]
    result = _cli(*base, "--output", pairs, "--mojibake", "fix")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["mojibake_lines"] == 1
    assert "’s" in next(read_records(pairs)).src_words


# --- JSONL records with missing or wrong-typed fields ---------------------------------------

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-3, 6)
    | st.floats(allow_nan=False)
    | st.text(max_size=3),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=6,
)
FIELDS = ["id", "src_lang", "tgt_lang", "src_words", "tgt_words", "src_ents", "alignment"]
FIELDS += ["tgt_ents", "meta"]


@FUZZ
@given(
    changes=st.lists(
        st.tuples(st.sampled_from(FIELDS), st.none() | JSON | st.just("<delete>")), max_size=3
    )
)
def test_malformed_records_raise_with_file_and_line_or_are_skipped(
    changes: list[tuple[str, Any]],
) -> None:
    good = record(0, ["Ada", "saw", "Bola"], ["Ada", "ri", "Bola"])
    good.src_ents, good.alignment = [Entity(0, 1, "PER")], [(0, 0), (2, 2)]
    data = good.to_dict()
    for key, value in changes:
        if value == "<delete>":
            data.pop(key, None)
        else:
            data[key] = value
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "r.jsonl"
        line = json.dumps(data, ensure_ascii=False)
        path.write_text(json.dumps(good.to_dict()) + "\n" + line + "\n", encoding="utf8")
        try:
            records = list(read_records(path))
        except (RecordError, DataFormatError) as err:
            assert str(err).startswith(f"{path}:2: ")
        else:
            assert len(records) == 2 and records[1] == PairRecord.from_dict(records[1].to_dict())
        stats = ReadStats()
        kept = list(read_records(path, skip_invalid=True, stats=stats))
        assert len(kept) + sum(stats.skipped.values()) == 2


@FUZZ
@given(raw=st.binary(max_size=200))
@example(raw=b"Ada B-PER\n\x0b\n")  # a lone vertical tab once crashed the CoNLL reader
def test_arbitrary_bytes_never_escape_as_another_error(raw: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.txt"
        path.write_bytes(raw)
        other = Path(tmp) / "y.txt"
        other.write_bytes(raw[::-1])
        readers = [
            lambda: list(read_records(path)),
            lambda: list(read_conll(path)),
            lambda: list(read_parallel(path, other)),
        ]
        for read in readers:
            try:
                read()
            except (DataFormatError, RecordError) as err:
                assert str(err).startswith((f"{path}:", f"{other}:"))


def test_absurdly_nested_json_is_a_format_error(tmp_path: Path) -> None:
    path = tmp_path / "deep.jsonl"
    path.write_text("[" * 100_000 + "\n", encoding="utf8")
    with pytest.raises(DataFormatError, match=r"deep\.jsonl:1: invalid JSON"):
        list(read_records(path))


# --- alignment indices out of range -------------------------------------------------------------


def test_alignment_out_of_range_in_input_or_from_the_aligner(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    recs = [record(0), record(1)]
    for r in recs:
        r.src_ents, r.alignment = [Entity(0, 1, "PER")], [(0, 0)]
    write_records(src, recs)
    lines = src.read_text(encoding="utf8").splitlines()
    bad = json.loads(lines[1]) | {"alignment": [[0, 0], [3, 1]]}
    src.write_text(lines[0] + "\n" + json.dumps(bad) + "\n", encoding="utf8")
    with pytest.raises(RecordError, match=r"in\.jsonl:2: alignment\[1\]: pair \(3, 1\) out"):
        project_records(src, tmp_path / "p.jsonl", HeuristicProjector())

    write_records(src, [record(0), record(1)])
    out = tmp_path / "ali.jsonl"
    linked = r"in\.jsonl:1: record .*: alignment\[\d+\]: pair \(0, 2\) out of range"
    with pytest.raises(RecordError, match=linked):
        align_records(src, out, OffByOneAligner())
    assert not out.exists()


# --- crashes never leave half-written output ----------------------------------------------------


def test_a_crash_mid_write_leaves_old_output_intact(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    write_records(src, [record(k) for k in range(30)])
    out = tmp_path / "out.jsonl"
    out.write_text("old\n", encoding="utf8")
    with pytest.raises(RuntimeError, match="labeller crashed"):
        label_records(src, out, CapitalLabeller(crash_after=7), batch_size=4)
    assert out.read_text(encoding="utf8") == "old\n"
    assert siblings(out) == ["in.jsonl", "out.jsonl"]  # no temp file beside it

    projected = tmp_path / "proj.jsonl"
    recs = [record(k) for k in range(10)]
    for r in recs:
        r.tgt_ents = [Entity(0, 1, "PER")]
    recs[8].tgt_ents = [Entity(0, 2, "PER"), Entity(1, 2, "LOC")]  # overlap: a projector bug
    write_records(projected, recs)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "train.spacy").write_bytes(b"old")
    with pytest.raises(RecordError, match=r"proj\.jsonl:9: record 'r8': overlapping entities"):
        convert_records(projected, corpus, dev_fraction=0.0, options=RunOptions(shard_size=3))
    assert (corpus / "train.spacy").read_bytes() == b"old"
    assert sorted(p.name for p in corpus.iterdir()) == ["train.spacy"]


KILLABLE_STEP = textwrap.dedent(
    """
    import json, os, signal, sys
    from dataclasses import dataclass
    from xner_spacy.runner.shards import RunOptions
    from xner_spacy.runner.batch_steps import label_records
    from xner_spacy.types import Entity

    @dataclass
    class Labeller:
        def label(self, sentences):
            for words in sentences:
                if words[2] == os.environ.get("KILL_AT"):
                    os.kill(os.getpid(), signal.SIGKILL)  # no cleanup, no finally
                print(words[2], file=sys.stderr)
                yield [Entity(i, i + 1, "PER") for i, w in enumerate(words) if w[:1].isupper()]

    src, out = sys.argv[1], sys.argv[2]
    print(json.dumps(label_records(src, out, Labeller(), options=RunOptions(shard_size=5))))
    """
)


def test_a_killed_run_resumes_to_the_bytes_of_an_uninterrupted_run(tmp_path: Path) -> None:
    script = tmp_path / "step.py"
    script.write_text(KILLABLE_STEP, encoding="utf8")
    src = tmp_path / "in.jsonl"
    write_records(src, [record(k) for k in range(23)])
    out, ref = tmp_path / "out.jsonl", tmp_path / "ref.jsonl"

    def run(target: Path, kill_at: str = "") -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "KILL_AT": kill_at}
        cmd = [sys.executable, str(script), str(src), str(target)]
        return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)

    killed = run(out, kill_at="w12")
    assert killed.returncode == -9 and not out.exists()
    done = sorted(p.name for p in Path(f"{out}.shards").glob("*.done.json"))
    assert done == ["000000.done.json", "000001.done.json"]

    resumed = run(out)
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stderr.split()[0] == "w10"  # shards 0 and 1 were not labelled again
    fresh = run(ref)
    assert json.loads(resumed.stdout) == json.loads(fresh.stdout)
    assert out.read_bytes() == ref.read_bytes()
    assert not Path(f"{out}.shards").exists()


def _children(pid: int) -> dict[int, str]:
    """``{pid: start time}`` of the live processes whose parent is ``pid`` (from /proc)."""
    found = {}
    for entry in Path("/proc").iterdir():
        fields = _proc_stat(entry)
        if fields and int(fields[1]) == pid:
            found[int(entry.name)] = fields[19]
    return found


def _proc_stat(entry: Path) -> list[str] | None:
    """The fields of ``/proc/<pid>/stat`` after the command name (state first), if alive."""
    if not entry.name.isdigit():
        return None
    try:
        fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return None if fields[0] in "ZX" else fields  # a zombie has ended


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc (Linux)")
def test_workers_die_with_a_killed_main_process(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    recs = [record(k) for k in range(6000)]
    for r in recs:
        r.src_ents, r.alignment = [Entity(0, 1, "PER")], [(0, 0)]
    write_records(src, recs)
    cfg = tmp_path / "p.cfg"
    cfg.write_text('[projector]\n@misc = "xner.HeuristicProjector.v1"\n')
    out = tmp_path / "out.jsonl"
    args = ["project", str(src), str(out), "--config", str(cfg), "--n-process", "2"]
    code = "from xner_spacy.cli import main; main()"
    cmd = [sys.executable, "-c", code, *args, "--shard-size", "10"]
    main = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO)
    workers: dict[int, str] = {}
    try:
        deadline = time.monotonic() + 240
        while not any(Path(f"{out}.shards").glob("*.done.json")):  # workers are running shards
            assert main.poll() is None and time.monotonic() < deadline, "no shard completed"
            workers.update(_children(main.pid))
            time.sleep(0.02)
        workers.update(_children(main.pid))
        main.kill()  # SIGKILL: no cleanup in the main process
        main.wait()
        assert len(workers) >= 2
        deadline = time.monotonic() + 10
        alive = workers
        while alive and time.monotonic() < deadline:
            time.sleep(0.2)
            alive = {p: t for p, t in workers.items() if _started(p) == t}
        assert not alive, f"orphaned workers still running: {sorted(alive)}"
    finally:
        main.kill()
        for pid, started in workers.items():
            if _started(pid) == started:  # the same process, not a reused pid
                os.kill(pid, signal.SIGKILL)


def _started(pid: int) -> str | None:
    fields = _proc_stat(Path(f"/proc/{pid}"))
    return None if fields is None else fields[19]
