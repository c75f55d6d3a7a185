"""The Dask back end gives the bytes of a single-process run (local schedulers and cluster)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from spacy.util import registry

from xner_spacy.io.records import read_records, write_records
from xner_spacy.runner.batch_steps import label_records, project_records
from xner_spacy.runner.shards import ConfigPart, Counts, RecordStream, RunOptions, map_records
from xner_spacy.types import Entity, PairRecord

pytest.importorskip("dask")
from xner_spacy.runner.distributed import DaskExecutor, register_step, run_step  # noqa: E402


@pytest.fixture(scope="module")
def ruler_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A source 'NER' pipeline without training: an entity ruler named ``ner``."""
    import spacy

    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler", name="ner")
    ruler.add_patterns([{"label": "PER", "pattern": n} for n in ("Ada", "Bola")])
    ruler.add_patterns([{"label": "LOC", "pattern": "Lagos"}])
    path = tmp_path_factory.mktemp("ruler") / "model"
    nlp.to_disk(path)
    return path


@pytest.fixture()
def pairs(tmp_path: Path) -> Path:
    path = tmp_path / "pairs.jsonl"
    names = ["Ada", "Bola", "Lagos", "Chidi"]
    write_records(
        path,
        (
            PairRecord(
                f"r{k}",
                "en",
                "zzz",
                [names[k % 4], "went", "to", names[(k + 1) % 4], "."],
                [names[k % 4], "lo", "si", names[(k + 1) % 4], "."],
                alignment=[(i, i) for i in range(5)],
            )
            for k in range(17)
        ),
    )
    return path


def _config(model: Path) -> dict[str, Any]:
    return {
        "labeller": {
            "@misc": "xner.SpacyLabeller.v1",
            "model": str(model),
            "label_map": "identity",
        },
        "projector": {"@misc": "xner.HeuristicProjector.v1", "variant": "gf2022"},
    }


def _label_project(pairs: Path, out: Path, cfg: dict[str, Any], opts: RunOptions) -> list[Counts]:
    labelled = out.with_suffix(".lab.jsonl")
    return [
        label_records(pairs, labelled, ConfigPart.from_config(cfg, "labeller"), options=opts),
        project_records(labelled, out, ConfigPart.from_config(cfg, "projector"), options=opts),
    ]


@pytest.mark.parametrize("scheduler", ["synchronous", "threads"])
def test_local_schedulers_equal_single_process(
    pairs: Path, ruler_model: Path, tmp_path: Path, scheduler: str
) -> None:
    cfg = _config(ruler_model)
    ref = tmp_path / "ref.jsonl"
    ref_counts = _label_project(pairs, ref, cfg, RunOptions())
    assert ref_counts[0]["labels"] == {"PER": 18, "LOC": 8}
    out = tmp_path / "dask.jsonl"
    opts = RunOptions(shard_size=4, executor=DaskExecutor(scheduler))
    assert _label_project(pairs, out, cfg, opts) == ref_counts
    assert out.read_bytes() == ref.read_bytes()


def test_local_cluster_equals_single_process(
    pairs: Path, ruler_model: Path, tmp_path: Path
) -> None:
    distributed = pytest.importorskip("distributed")
    cfg = _config(ruler_model)
    ref = tmp_path / "ref.jsonl"
    ref_counts = _label_project(pairs, ref, cfg, RunOptions())
    out = tmp_path / "cluster.jsonl"
    with (
        distributed.LocalCluster(n_workers=1, threads_per_worker=2, dashboard_address=None) as lc,
        distributed.Client(lc) as client,
    ):
        opts = RunOptions(shard_size=5, executor=DaskExecutor(client))
        assert _label_project(pairs, out, cfg, opts) == ref_counts
    assert out.read_bytes() == ref.read_bytes()


@registry.misc("test.EqualWordAligner.v1")
def make_equal_word_aligner() -> Any:
    return EqualWordAligner()


class EqualWordAligner:
    """A per-pair aligner: links identical words."""

    per_pair = True

    def align(
        self, src: Sequence[Sequence[str]], tgt: Sequence[Sequence[str]], **_: Any
    ) -> list[list[tuple[int, int]]]:
        pairs = zip(src, tgt, strict=True)
        return [
            [(i, j) for i, a in enumerate(s) for j, b in enumerate(t) if a == b] for s, t in pairs
        ]


def test_run_step_resolves_sections_per_task(pairs: Path, tmp_path: Path) -> None:
    cfg = {"aligner": {"@misc": "test.EqualWordAligner.v1"}}
    counts = run_step("align", pairs, tmp_path / "a.jsonl", cfg, scheduler="threads", shard_size=3)
    assert counts["records"] == 17 and counts["links"] == 17 * 3
    assert next(read_records(tmp_path / "a.jsonl")).alignment == [(0, 0), (3, 3), (4, 4)]
    with pytest.raises(ValueError, match="unknown step 'nope'"):
        run_step("nope", pairs, tmp_path / "x.jsonl", cfg)


def shout_shard(part: Any, records: RecordStream, counts: Counts) -> Iterator[PairRecord]:
    """A stand-in for a new step such as translate: rewrites the target words."""
    counts.setdefault("records", 0)
    for rec in records:
        rec.tgt_words = [part(w) for w in rec.tgt_words]
        counts["records"] += 1
        yield rec


def shout_records(input_path: Path, output: Path, part: Any, *, options: RunOptions) -> Counts:
    return map_records("shout", input_path, output, shout_shard, part, options=options)


@registry.misc("test.Upper.v1")
def make_upper() -> Any:
    return str.upper


def test_a_new_step_plugs_into_the_same_machinery(pairs: Path, tmp_path: Path) -> None:
    register_step("shout", "shouter", shout_records)
    cfg = {"shouter": {"@misc": "test.Upper.v1"}}
    out = tmp_path / "loud.jsonl"
    assert run_step("shout", pairs, out, cfg, scheduler="threads", shard_size=5) == {"records": 17}
    assert next(read_records(out)).tgt_words == ["ADA", "LO", "SI", "BOLA", "."]


def test_entities_reach_the_target(pairs: Path, ruler_model: Path, tmp_path: Path) -> None:
    out = tmp_path / "p.jsonl"
    opts = RunOptions(shard_size=6, executor=DaskExecutor("threads"))
    _label_project(pairs, out, _config(ruler_model), opts)
    first = next(read_records(out))
    assert first.tgt_ents == [Entity(0, 1, "PER"), Entity(3, 4, "PER")]


def test_cli_scheduler_option(pairs: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from xner_spacy.cli import app

    recs = list(read_records(pairs))
    for r in recs:
        r.src_ents = [Entity(0, 1, "PER")]
    write_records(pairs, recs)
    cfg = tmp_path / "p.cfg"
    cfg.write_text('[projector]\n@misc = "xner.HeuristicProjector.v1"\n', encoding="utf8")
    outs = []
    for extra in ([], ["--scheduler", "threads", "--shard-size", "4", "--n-process", "2"]):
        out = tmp_path / f"out{len(outs)}.jsonl"
        args = ["project", str(pairs), str(out), "--config", str(cfg), *extra]
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
