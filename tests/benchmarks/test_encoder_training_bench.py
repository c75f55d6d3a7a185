"""Smoke test of ``benchmarks/encoder_training.py`` on the tiny XLM-R: every figure reported."""

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
def test_training_benchmark_compares_frozen_and_trained_top(
    tiny_xlmr_dir: Path, tmp_path: Path
) -> None:
    pytest.importorskip("torch")
    data = tmp_path / "dev.txt"
    write_conll(data, synthetic_pairs(12, seed=3), 0)
    out = tmp_path / "train.json"
    cmd = [sys.executable, str(REPO / "benchmarks" / "encoder_training.py"),
           "--model", str(tiny_xlmr_dir), "--data", str(data), "--sentences", "8",
           "--layer", "2", "--trainable-layers", "0,2", "--steps", "2", "--batch", "4",
           "--threads", "1", "--output", str(out)]  # fmt: skip
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(out.read_text(encoding="utf8"))
    assert [(r["trainable_layers"], r["cached_layer"]) for r in report["runs"]] == [(0, 2), (2, 0)]
    for r in report["runs"]:
        assert r["train_sentences_per_s"] > 0 and r["peak_rss_mb"] > 0
        assert r["infer_words_per_s"] > 0 and r["cache_fill_sentences_per_s"] > 0
    assert "| trainable_layers |" in proc.stderr
    assert all(r["rss_after_training_mb"] > 0 for r in report["runs"])
    # batched by words as spacy train batches, without the heap trim (the memory comparison)
    cmd = [*cmd[: cmd.index("--trainable-layers")], "--trainable-layers", "2", "--steps", "3",
           "--batch-words", "20", "--malloc-trim-every", "0", "--threads", "1",
           "--output", str(out)]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    (run,) = json.loads(out.read_text(encoding="utf8"))["runs"]
    assert run["train_steps"] == 3 and run["train_sentences_per_s"] > 0
    assert json.loads(out.read_text(encoding="utf8"))["settings"]["malloc_trim_every"] == 0
