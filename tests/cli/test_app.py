"""The `xner` command line: one sub-command per step, JSON summaries, clean input errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

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
