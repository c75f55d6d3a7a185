"""What a step skips, repairs or cannot score is said once, counted, or refused (issue 26)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
FAST = "configs/projection_fast.cfg"


def xner(*args: str | Path) -> Any:
    return subprocess.run(
        [sys.executable, "-c", "from xner_spacy.cli import main; main()", *map(str, args)],
        capture_output=True, text=True, cwd=REPO, env=dict(os.environ),
    )  # fmt: skip


def record(k: int, **fields: Any) -> str:
    rec = {"id": f"r{k}", "src_lang": "en", "tgt_lang": "yo", "src_words": ["Bola", "went"],
           "tgt_words": ["Bola", "lọ"], "src_ents": [[0, 1, "PER"]], **fields}  # fmt: skip
    return json.dumps(rec, ensure_ascii=False) + "\n"


def test_align_logs_each_skipped_line_once(tmp_path: Path) -> None:
    records = tmp_path / "in.jsonl"
    records.write_text(record(0) + record(1) + "{bad\n", encoding="utf8")
    proc = xner("align", records, tmp_path / "out.jsonl", "--config", FAST, "--skip-malformed")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count(f"{records}:3: skipped (invalid JSON)") == 1


def test_every_record_skipped_is_an_error_unless_allow_empty(tmp_path: Path) -> None:
    records = tmp_path / "in.jsonl"
    records.write_text("{bad\n{worse\n", encoding="utf8")
    out = tmp_path / "out.jsonl"
    args = ("project", records, out, "--config", FAST, "--skip-malformed")
    proc = xner(*args)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "every record was skipped (2 malformed line(s)); pass --allow-empty" in proc.stderr
    assert not out.exists()
    assert xner(*args, "--allow-empty").returncode == 0 and out.read_text() == ""


def test_convert_refuses_an_entity_type_outside_the_labels(tmp_path: Path) -> None:
    records = tmp_path / "in.jsonl"
    records.write_text(record(0, tgt_ents=[[0, 1, "PER"]]) + record(1, tgt_ents=[[0, 1, "FOO"]]))
    proc = xner("convert", records, tmp_path / "corpus")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert f"{records}:2: record 'r1': entity type 'FOO'" in proc.stderr
    assert not (tmp_path / "corpus" / "train.spacy").exists()
    ok = xner("convert", records, tmp_path / "corpus", "--labels", "PER,FOO")
    assert ok.returncode == 0, ok.stderr


def test_a_lone_inside_tag_is_repaired_counted_and_said(tmp_path: Path) -> None:
    gold = tmp_path / "gold.txt"
    gold.write_text("Bola I-PER\nlọ O\nsí O\nAbuja B-LOC\n\n", encoding="utf8")
    stats = tmp_path / "stats.json"
    proc = xner("convert-gold", gold, tmp_path / "gold.spacy", "--stats", stats)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(stats.read_text())["repaired_tags"] == 1
    assert "1 entity(ies) start with I- (no B- before it)" in proc.stderr


def test_evaluate_warns_of_labels_the_model_never_predicts(tmp_path: Path) -> None:
    import spacy

    nlp = spacy.blank("xx")
    ner = nlp.add_pipe("ner")
    for label in ("PER", "LOC"):
        ner.add_label(label)
    nlp.initialize()
    nlp.to_disk(tmp_path / "model")
    gold = tmp_path / "gold.txt"
    gold.write_text("Bola B-PER\nlọ O\nsí O\nParis B-MISC\n\n", encoding="utf8")
    metrics = tmp_path / "metrics.json"
    proc = xner("evaluate", tmp_path / "model", gold, "--labels", "PER,MISC",
                "--output", metrics)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "never predicts MISC (its types after --label-map identity: LOC,PER)" in proc.stderr
    assert json.loads(metrics.read_text())["labels_not_predicted"] == ["MISC"]
