"""Smoke test of ``benchmarks/encoder.py`` on the tiny XLM-R: every figure is reported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from toy_data import synthetic_pairs, write_conll

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_encoder_benchmark_reports_every_figure(tiny_xlmr_dir: Path, tmp_path: Path) -> None:
    pytest.importorskip("torch")
    data = tmp_path / "dev.txt"
    write_conll(data, synthetic_pairs(20, seed=7), 0)
    out, table = tmp_path / "enc.json", tmp_path / "enc.md"
    cmd = [sys.executable, str(REPO / "benchmarks" / "encoder.py"), "--model", str(tiny_xlmr_dir),
           "--data", str(data), "--sentences", "12", "--layers", "2,1", "--batch-sizes", "4,8",
           "--quantize", "none,int8",
           "--train-steps", "3", "--train-batch", "4", "--threads", "1",
           "--output", str(out), "--markdown", str(table)]  # fmt: skip
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(out.read_text(encoding="utf8"))
    assert report == json.loads(proc.stdout)
    assert [(r["layer"], r["batch_size"], r["quantize"]) for r in report["encoder"]] == [
        (2, 4, "none"), (2, 4, "int8"), (2, 8, "none"), (2, 8, "int8"),
        (1, 4, "none"), (1, 4, "int8"), (1, 8, "none"), (1, 8, "int8"),
    ]  # fmt: skip
    for r in report["encoder"]:
        vs = r.get("vs_unquantized")
        assert (vs is None) == (r["quantize"] == "none")
        if vs:
            assert 0 < vs["min_cosine"] <= vs["mean_cosine"] <= 1 and vs["relative_error"] > 0
        assert r["sentences"] == 12 and r["sentences_per_s"] > 0 and r["sub_tokens_per_s"] > 0
        assert r["sub_tokens"] > 12 * 5
    ner = report["ner"]
    assert ner["layer"] == 2 and ner["train_steps"] == 3
    for key in (
        "cached_features_sentences_per_s",
        "train_sentences_per_s",
        "infer_sentences_per_s",
    ):
        assert ner[key] > 0
    assert "| 2 | 4 | int8 |" in table.read_text(encoding="utf8")
