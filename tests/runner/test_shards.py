"""Sharded steps: planning, equality with a single pass, resume rules, worker processes."""

from __future__ import annotations

import json
import pickle
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from xner_spacy.cli import app
from xner_spacy.io.errors import DataFormatError
from xner_spacy.io.records import read_records, write_records
from xner_spacy.projection.heuristic_projection import HeuristicProjector
from xner_spacy.runner.batch_steps import (
    align_records,
    convert_records,
    label_records,
    project_records,
)
from xner_spacy.runner.shards import (
    ConfigPart,
    RunOptions,
    ShardStore,
    files_digest,
    fingerprint,
    merge_counts,
    plan_shards,
)
from xner_spacy.types import Entity, PairRecord

PROJECTOR = ConfigPart.from_config(
    {"projector": {"@misc": "xner.HeuristicProjector.v1", "variant": "gf2022"}}, "projector"
)


def make_records(n: int) -> list[PairRecord]:
    """Aligned, labelled toy pairs with a few different shapes (some project nothing)."""
    out = []
    for k in range(n):
        src = ["Ada", "saw", f"Bola{k % 3}", "."]
        tgt = ["Ada", "ri", f"Bola{k % 3}", "."] if k % 4 else ["ri", "."]
        ents = [Entity(0, 1, "PER"), Entity(2, 3, "LOC")]
        links = [(i, i) for i in range(min(len(src), len(tgt)))]
        out.append(PairRecord(f"r{k}", "en", "zzz", src, tgt, ents, links, meta={"k": k}))
    return out


@pytest.fixture()
def records_file(tmp_path: Path) -> Path:
    path = tmp_path / "in.jsonl"
    write_records(path, make_records(23))
    return path


def test_plan_counts_records_not_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    path.write_bytes(b"\n{a}\n\n{b}\n{c}\n  \n{d}\n{e}\n\n")
    shards = plan_shards(path, 2)
    assert [(s.first_line, s.records) for s in shards] == [(1, 2), (5, 2), (8, 1)]
    assert shards[0].start == 0 and shards[-1].stop == path.stat().st_size
    assert all(a.stop == b.start for a, b in zip(shards, shards[1:], strict=False))
    assert len(plan_shards(path, 0)) == 1
    (tmp_path / "empty.jsonl").write_bytes(b"\n\n")
    assert plan_shards(tmp_path / "empty.jsonl", 2) == []
    with pytest.raises(ValueError, match="shard_size"):
        plan_shards(path, -1)


def test_errors_in_a_later_shard_name_the_line_of_the_whole_file(records_file: Path) -> None:
    lines = records_file.read_text(encoding="utf8").splitlines()
    lines[16] = "{not json"
    records_file.write_text("\n".join(lines) + "\n", encoding="utf8")
    opts = RunOptions(shard_size=5)
    with pytest.raises(DataFormatError, match=rf"{records_file.name}:17: invalid JSON"):
        project_records(records_file, records_file.with_name("out.jsonl"), PROJECTOR, options=opts)


@pytest.mark.parametrize("shard_size", [1, 5, 23, 0])
def test_sharded_run_writes_the_bytes_of_a_single_pass(
    records_file: Path, tmp_path: Path, shard_size: int
) -> None:
    single = tmp_path / "single.jsonl"
    counts = project_records(records_file, single, HeuristicProjector())
    assert counts["records"] == 23 and counts["doubtful"] == 6  # the 6 short targets
    sharded = tmp_path / "sharded.jsonl"
    opts = RunOptions(shard_size=shard_size)
    assert project_records(records_file, sharded, PROJECTOR, options=opts) == counts
    assert sharded.read_bytes() == single.read_bytes()
    assert not Path(f"{sharded}.shards").exists()  # removed after the merge


@dataclass
class FlakyLabeller:
    """Labels capitalised words; fails on a chosen record id (module-level switch)."""

    label_name: str = "PER"

    def label(self, sentences: Iterable[Sequence[str]]) -> Iterator[list[Entity]]:
        for words in sentences:
            CALLS.append(words[2])
            if words[2] == FAIL_ON[0]:
                raise RuntimeError("simulated crash")
            caps = [i for i, w in enumerate(words) if w[:1].isupper()]
            yield [Entity(i, i + 1, self.label_name) for i in caps]


CALLS: list[str] = []
FAIL_ON: list[str | None] = [None]


@pytest.fixture(autouse=True)
def _reset_flaky() -> Iterator[None]:
    CALLS[:], FAIL_ON[0] = [], None
    yield
    CALLS[:], FAIL_ON[0] = [], None


def _distinct_records(n: int) -> list[PairRecord]:
    return [PairRecord(f"r{k}", "en", "zzz", ["Ada", "saw", f"w{k}"], ["a", "b"]) for k in range(n)]


def test_failed_run_resumes_from_complete_shards(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    write_records(src, _distinct_records(20))
    ref = tmp_path / "ref.jsonl"
    label_records(src, ref, FlakyLabeller(), options=RunOptions(shard_size=6))

    out = tmp_path / "out.jsonl"
    out.write_text("old\n", encoding="utf8")
    FAIL_ON[0], CALLS[:] = "w14", []
    opts = RunOptions(shard_size=6, n_process=1)
    with pytest.raises(RuntimeError, match="simulated crash"):
        label_records(src, out, FlakyLabeller(), batch_size=4, options=opts)
    assert out.read_text(encoding="utf8") == "old\n"  # old output intact
    root = Path(f"{out}.shards")
    done = sorted(p.name for p in root.glob("*.done.json"))
    assert done == ["000000.done.json", "000001.done.json"]
    assert not list(root.glob(".*.tmp"))

    FAIL_ON[0], CALLS[:] = None, []
    counts = label_records(src, out, FlakyLabeller(), batch_size=4, options=opts)
    assert [f"w{k}" for k in range(12, 20)] == CALLS  # shards 0 and 1 were not redone
    assert counts == {"records": 20, "entities": 20, "labels": {"PER": 20}}
    assert out.read_bytes() == ref.read_bytes()


def test_changed_input_or_settings_are_recomputed(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    write_records(src, _distinct_records(12))
    out = tmp_path / "out.jsonl"
    keep = RunOptions(shard_size=4, keep_shards=True)
    label_records(src, out, FlakyLabeller(), options=keep)

    CALLS[:] = []
    label_records(src, out, FlakyLabeller(), options=keep)
    assert CALLS == []  # everything reused

    changed = _distinct_records(12)
    changed[5].src_words[2] = "w5b"  # shard 1 changes
    write_records(src, changed)
    label_records(src, out, FlakyLabeller(), options=keep)
    assert CALLS == ["w4", "w5b", "w6", "w7"]

    shard2 = Path(f"{out}.shards") / "000002.jsonl"
    shard2.write_text(shard2.read_text(encoding="utf8")[:-20], encoding="utf8")  # damaged
    CALLS[:] = []
    label_records(src, out, FlakyLabeller(), options=keep)
    assert CALLS == ["w8", "w9", "w10", "w11"]

    CALLS[:] = []
    label_records(src, out, FlakyLabeller(label_name="LOC"), options=keep)  # another part
    assert len(CALLS) == 12
    assert all(e.label == "LOC" for r in read_records(out) for e in r.src_ents or [])


def test_fingerprint_follows_files_the_config_names(tmp_path: Path) -> None:
    model = tmp_path / "model"
    model.mkdir()
    (model / "weights").write_bytes(b"1")
    part = ConfigPart.from_config({"labeller": {"model": str(model)}}, "labeller")
    before = fingerprint("label", part, {})
    assert fingerprint("label", part, {}) == before
    (model / "weights").write_bytes(b"22")  # retrained in place
    assert fingerprint("label", part, {}) != before
    assert fingerprint("label", part, {"seed": 1}) != fingerprint("label", part, {})
    punct = {"sentence_punct": [".", "..", "!"], "model": str(model)}  # "." is not the project
    assert [f[0] for f in files_digest(punct)] == [str(model / "weights")]


def test_a_foreign_folder_is_never_emptied(records_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    foreign = Path(f"{out}.shards")
    foreign.mkdir()
    (foreign / "precious.txt").write_text("x")
    with pytest.raises(FileExistsError, match="not a shard folder"):
        project_records(records_file, out, PROJECTOR)
    assert (foreign / "precious.txt").exists()


def test_manifest_and_markers_record_hashes(records_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    project_records(records_file, out, PROJECTOR, options=RunOptions(10, keep_shards=True))
    root = Path(f"{out}.shards")
    manifest = json.loads((root / "manifest.json").read_text())
    assert manifest["step"] == "project" and manifest["shard_size"] == 10
    marker = json.loads((root / "000001.done.json").read_text())
    assert marker["records"] == 10 and marker["first_line"] == 11
    assert marker["fingerprint"] == manifest["fingerprint"]
    assert set(marker) >= {"input_sha256", "files", "counts"}
    store = ShardStore(root, manifest["fingerprint"])
    assert store.completed(plan_shards(records_file, 10)[1], [".jsonl"]) == marker["counts"]


def test_merge_counts_sums_nested_numbers_and_keeps_other_values() -> None:
    parts = [
        {"records": 2, "labels": {"PER": 1}, "mode": "drop", "flag": True},
        {"records": 3, "labels": {"PER": 1, "LOC": 2}, "mode": "drop", "flag": True},
    ]
    merged = merge_counts(parts)
    assert merged == {"records": 5, "labels": {"PER": 2, "LOC": 2}, "mode": "drop", "flag": True}
    assert parts[0]["labels"] == {"PER": 1}  # inputs untouched


def test_data_format_error_survives_pickling() -> None:
    err = pickle.loads(pickle.dumps(DataFormatError("a.txt", 3, "bad")))
    assert str(err) == "a.txt:3: bad" and (err.path, err.line) == ("a.txt", 3)


def test_worker_processes_give_the_single_process_result(
    records_file: Path, tmp_path: Path
) -> None:
    single = tmp_path / "single.jsonl"
    counts = project_records(records_file, single, PROJECTOR)
    good = records_file.read_bytes()
    lines = good.decode().splitlines()
    lines[20] = '{"id": 1}'
    records_file.write_text("\n".join(lines) + "\n", encoding="utf8")
    opts = RunOptions(shard_size=6, n_process=2)
    out = tmp_path / "out.jsonl"
    with pytest.raises(ValueError, match=rf"{records_file.name}:21: field 'id' must be str"):
        project_records(records_file, out, PROJECTOR, options=opts)  # raised in a worker
    records_file.write_bytes(good)
    assert project_records(records_file, out, PROJECTOR, options=opts) == counts
    assert out.read_bytes() == single.read_bytes()


def test_convert_shards_merge_to_the_same_docbins(records_file: Path, tmp_path: Path) -> None:
    projected = tmp_path / "proj.jsonl"
    project_records(records_file, projected, PROJECTOR)
    one = convert_records(projected, tmp_path / "one", dev_fraction=0.3, doubtful="missing")
    opts = RunOptions(shard_size=4)
    many = convert_records(
        projected, tmp_path / "many", dev_fraction=0.3, doubtful="missing", options=opts
    )
    assert one == many and one["train"]["docs"] + one["dev"]["docs"] == 23
    for name in ("train.spacy", "dev.spacy"):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "many" / name).read_bytes()
    with pytest.raises(ValueError, match="doubtful must be one of"):
        convert_records(projected, tmp_path / "bad", doubtful="maybe")


class PerPairAligner:
    """Links equal words; needs no corpus statistics, so it may run shard by shard."""

    per_pair = True

    def align(
        self, src: Sequence[Sequence[str]], tgt: Sequence[Sequence[str]], **_: object
    ) -> list[list[tuple[int, int]]]:
        pairs = zip(src, tgt, strict=True)
        return [
            [(i, j) for i, a in enumerate(s) for j, b in enumerate(t) if a == b] for s, t in pairs
        ]


def test_per_pair_aligners_are_sharded_statistical_ones_are_not(
    records_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "ali.jsonl"
    opts = RunOptions(shard_size=5, keep_shards=True)
    counts = align_records(records_file, out, PerPairAligner(), options=opts)
    assert counts["records"] == 23 and counts["extra_pairs"] == 0
    assert len(list(Path(f"{out}.shards").glob("*.done.json"))) == 5
    assert list(read_records(out))[1].alignment == [(0, 0), (2, 2), (3, 3)]

    fast = ConfigPart.from_config({"aligner": {"@misc": "xner.FastAlignAligner.v1"}}, "aligner")
    out2 = tmp_path / "fast.jsonl"
    counts = align_records(records_file, out2, fast, options=opts)
    assert counts["records"] == 23 and not Path(f"{out2}.shards").exists()


def test_cli_step_options(records_file: Path, tmp_path: Path) -> None:
    cfg = tmp_path / "p.cfg"
    cfg.write_text('[projector]\n@misc = "xner.HeuristicProjector.v1"\n', encoding="utf8")
    outs = []
    for extra in ([], ["--shard-size", "4", "--skip-malformed"]):
        out = tmp_path / f"out{len(outs)}.jsonl"
        args = ["project", str(records_file), str(out), "--config", str(cfg), *extra]
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
