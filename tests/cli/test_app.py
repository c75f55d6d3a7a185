"""The `xner` command line: one sub-command per step, JSON summaries, clean input errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from xner_spacy.cli import app

runner = CliRunner()
STEPS = ["convert-gold", "prepare", "label", "align", "project", "convert", "evaluate", "report"]


def test_help_lists_one_command_per_step() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for step in STEPS:
        assert step in result.output


def test_convert_gold_then_evaluate_summary(tmp_path: Path) -> None:
    gold = tmp_path / "gold.txt"
    gold.write_text("Bola B-PER\nTinubu I-PER\nlọ O\nsí O\nAbuja B-LOC\n\n", encoding="utf8")
    out = tmp_path / "gold.spacy"
    stats = tmp_path / "stats.json"
    result = runner.invoke(app, ["convert-gold", str(gold), str(out), "--stats", str(stats)])
    assert result.exit_code == 0, result.output
    summary = json.loads(stats.read_text())
    assert summary["docs"] == 1 and summary["step"] == "convert-gold"
    assert out.is_file()


def test_timed_logs_and_propagates_exit_status(tmp_path: Path) -> None:
    log = tmp_path / "t.jsonl"
    ok = runner.invoke(app, ["timed", "--name", "a", "--log", str(log), "--", "true"])
    bad = runner.invoke(app, ["timed", "--name", "b", "--log", str(log), "--", "false"])
    assert ok.exit_code == 0 and bad.exit_code == 1
    entries = [json.loads(x) for x in log.read_text().splitlines()]
    assert [(e["step"], e["status"]) for e in entries] == [("a", 0), ("b", 1)]
    report = runner.invoke(app, ["report", "--help"])
    assert report.exit_code == 0


def test_malformed_input_is_one_line_error_naming_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text("Bola B-PER\n O\n", encoding="utf8")
    proc = subprocess.run(
        [sys.executable, "-c", "from xner_spacy.cli import main; main()",
         "convert-gold", str(bad), str(tmp_path / "o.spacy")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == 1
    assert f"{bad}:2:" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "o.spacy").exists()


def test_project_with_consistency_section_votes_both_sides(tmp_path: Path) -> None:
    records = tmp_path / "aligned.jsonl"
    labels = ["PER", "PER", "ORG"]
    lines = [
        {
            "id": str(i),
            "src_lang": "en",
            "tgt_lang": "xx",
            "src_words": ["Otunnu", "spoke"],
            "tgt_words": ["Otunnu", "yogedde"],
            "src_ents": [[0, 1, label]],
            "alignment": [[0, 0], [1, 1]],
        }
        for i, label in enumerate(labels)
    ]
    records.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf8")
    cfg = tmp_path / "project.cfg"
    cfg.write_text(
        '[projector]\n@misc = "xner.HeuristicProjector.v1"\n\n'
        '[consistency]\n@misc = "xner.LabelConsistency.v1"\n',
        encoding="utf8",
    )
    out, stats = tmp_path / "projected.jsonl", tmp_path / "stats.json"
    args = ["project", str(records), str(out), "--config", str(cfg), "--stats", str(stats)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    projected = [json.loads(x) for x in out.read_text().splitlines()]
    assert [r["src_ents"] for r in projected] == [[[0, 1, "PER"]]] * 3
    assert [r["tgt_ents"] for r in projected] == [[[0, 1, "PER"]]] * 3
    summary = json.loads(stats.read_text())
    assert summary["corpus_passes"] == {"source_vote": 1, "target_vote": 0}
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "aligned.jsonl", "project.cfg", "projected.jsonl", "stats.json"
    ]  # fmt: skip


def _write_pairs(path: Path, pairs: list[tuple[str, str, list, list]]) -> None:
    """(source, target, src_ents, alignment) per line, as labelled and aligned records."""
    lines = [
        {
            "id": str(i),
            "src_lang": "en",
            "tgt_lang": "xx",
            "src_words": src.split(),
            "tgt_words": tgt.split(),
            "src_ents": src_ents,
            "alignment": alignment,
        }
        for i, (src, tgt, src_ents, alignment) in enumerate(pairs)
    ]
    path.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf8")


def _project(tmp_path: Path, records: Path, cfg_text: str) -> tuple[list[dict], dict]:
    cfg = tmp_path / "project.cfg"
    cfg.write_text(cfg_text, encoding="utf8")
    out, stats = tmp_path / "projected.jsonl", tmp_path / "stats.json"
    args = ["project", str(records), str(out), "--config", str(cfg), "--stats", str(stats)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    projected = [json.loads(x) for x in out.read_text().splitlines()]
    return projected, json.loads(stats.read_text())


PAPER_PROJECTOR = '[projector]\n@misc = "xner.HeuristicProjector.v1"\nvariant = "paper"\n\n'


def test_project_runs_every_corpus_pass_in_order(tmp_path: Path) -> None:
    records = tmp_path / "aligned.jsonl"
    _write_pairs(
        records,
        [
            # a two-word source name on one target word: the paper heuristic drops it (length
            # ratio 0.5), the gf2022 fallback finds it, and "tinubu" is projected elsewhere
            ("Bola Tinubu spoke", "Tinubu sọrọ", [[0, 2, "PER"]], [[0, 0], [1, 0], [2, 1]]),
            ("Tinubu came", "Tinubu wa", [[0, 1, "PER"]], [[0, 0], [1, 1]]),
            # the source vote relabels this ORG: PER has 2 of 3 votes for "tinubu"
            ("Tinubu left", "Tinubu lọ", [[0, 1, "ORG"]], [[0, 0], [1, 1]]),
            ("Tinubu won", "Tinubu bori", [[0, 1, "PER"]], [[0, 0], [1, 1]]),
            # the labeller missed the name: propagation marks it (4 of 5 occurrences)
            ("He met him", "O pade Tinubu", [], [[0, 0], [1, 1], [2, 2]]),
            # "eko" is projected LOC twice ...
            ("Lagos is big", "Eko tobi", [[0, 1, "LOC"]], [[0, 0], [2, 1]]),
            ("Lagos city", "Eko", [[0, 1, "LOC"]], [[0, 0], [1, 0]]),
            # ... and here ORG, by the fallback only; the target vote makes it LOC
            ("Eko club", "Eko", [[0, 2, "ORG"]], [[0, 0], [1, 0]]),
            # "Femi" is projected nowhere else: the fallback's span is not supported
            ("Femi Kuti sang", "Kuti kọrin", [[0, 2, "PER"]], [[0, 0], [1, 0], [2, 1]]),
        ],
    )
    projected, summary = _project(
        tmp_path,
        records,
        PAPER_PROJECTOR + '[consistency]\n@misc = "xner.LabelConsistency.v1"\n\n'
        '[fallback]\n@misc = "xner.SupportedFallback.v1"\n\n'
        '[fallback.projector]\n@misc = "xner.HeuristicProjector.v1"\nvariant = "gf2022"\n\n'
        '[propagation]\n@misc = "xner.NamePropagation.v1"\n',
    )
    assert [r["src_ents"] for r in projected][1:4] == [[[0, 1, "PER"]]] * 3
    assert [r["tgt_ents"] for r in projected] == [
        [[0, 1, "PER"]],
        [[0, 1, "PER"]],
        [[0, 1, "PER"]],
        [[0, 1, "PER"]],
        [[2, 3, "PER"]],
        [[0, 1, "LOC"]],
        [[0, 1, "LOC"]],
        [[0, 1, "LOC"]],
        [],
    ]
    assert summary["corpus_passes"] == {
        "source_vote": 1,
        "fallback": 2,
        "target_vote": 1,
        "propagation": 1,
    }
    assert list(summary["corpus_passes"]) == [
        "source_vote",
        "fallback",
        "target_vote",
        "propagation",
    ]
    assert summary["records"] == 9
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "aligned.jsonl", "project.cfg", "projected.jsonl", "stats.json"
    ]  # fmt: skip


def test_project_with_only_after_or_only_before_passes(tmp_path: Path) -> None:
    records = tmp_path / "aligned.jsonl"
    _write_pairs(
        records,
        [
            ("Otunnu spoke", "Otunnu yogedde", [[0, 1, "PER"]], [[0, 0], [1, 1]]),
            ("Otunnu went", "Otunnu agenze", [[0, 1, "PER"]], [[0, 0], [1, 1]]),
            ("Otunnu left", "Otunnu agenze", [[0, 1, "ORG"]], [[0, 0], [1, 1]]),
            ("now", "ssaawa Otunnu", [], [[0, 0]]),
        ],
    )
    files = ["aligned.jsonl", "project.cfg", "projected.jsonl", "stats.json"]
    # no [consistency]: nothing runs before projection
    projected, summary = _project(
        tmp_path, records, PAPER_PROJECTOR + '[propagation]\n@misc = "xner.NamePropagation.v1"\n'
    )
    # "otunnu": PER 2, ORG 1, in 3 of 4 sentences
    assert [r["tgt_ents"] for r in projected] == [
        [[0, 1, "PER"]], [[0, 1, "PER"]], [[0, 1, "ORG"]], [[1, 2, "PER"]]
    ]  # fmt: skip
    assert summary["corpus_passes"] == {"propagation": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == files
    # only the source vote: the projected file itself becomes the output
    projected, summary = _project(
        tmp_path,
        records,
        PAPER_PROJECTOR + '[consistency]\n@misc = "xner.LabelConsistency.v1"\ntarget = false\n',
    )
    assert [r["tgt_ents"] for r in projected] == [[[0, 1, "PER"]]] * 3 + [[]]
    assert summary["corpus_passes"] == {"source_vote": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == files


def test_project_skip_malformed_with_a_source_vote(tmp_path: Path) -> None:
    records = tmp_path / "aligned.jsonl"
    _write_pairs(
        records,
        [
            ("Otunnu spoke", "Otunnu yogedde", [[0, 1, "PER"]], [[0, 0], [1, 1]]),
            ("Otunnu went", "Otunnu agenze", [[0, 1, "PER"]], [[0, 0], [1, 1]]),
        ],
    )
    with records.open("a", encoding="utf8") as fh:
        fh.write('{"id": "bad", "src_words": []\n')
    cfg = tmp_path / "project.cfg"
    cfg.write_text(PAPER_PROJECTOR + '[consistency]\n@misc = "xner.LabelConsistency.v1"\n', "utf8")
    out = tmp_path / "projected.jsonl"
    stats = tmp_path / "stats.json"
    args = ["project", str(records), str(out), "--config", str(cfg), "--skip-malformed"]
    result = runner.invoke(app, [*args, "--stats", str(stats)])
    assert result.exit_code == 0, result.output
    assert len(out.read_text().splitlines()) == 2
    summary = json.loads(stats.read_text())
    assert summary["skipped_lines"] == {"invalid JSON": 1}
    assert summary["tgt_entities"] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "aligned.jsonl", "project.cfg", "projected.jsonl", "stats.json"
    ]  # fmt: skip


def test_a_bad_scheduler_is_a_one_line_usage_error_before_any_work(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "a", "src_words": ["A"], "tgt_words": ["B"]}) + "\n")
    out = tmp_path / "out.jsonl"
    for bad in ("bogus", "tcp://host", "http://host:8786", "local2"):
        result = runner.invoke(app, ["label", str(src), str(out), "--scheduler", bad])
        assert result.exit_code == 2, result.output
        assert "Invalid value for '--scheduler'" in result.output
        assert f"unknown scheduler {bad!r}: one of synchronous" in result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
        assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]  # no out.jsonl.shards
    help_text = "".join(runner.invoke(app, ["align", "--help"]).output.split())
    assert 'pipinstall"xner-spacy[distributed]"' in help_text


def test_scheduler_values_dask_accepts_pass_the_check() -> None:
    from xner_spacy.runner.distributed import DaskExecutor, check_scheduler

    for good in ("synchronous", "threads", "processes", "local", "tcp://10.0.0.5:8786"):
        assert check_scheduler(good) == good
    assert check_scheduler("tls://[::1]:8786") == "tls://[::1]:8786"
    with pytest.raises(ValueError, match="unknown scheduler 'thread'"):
        DaskExecutor("thread")  # the Python API checks too
