"""One progress bar on stderr for a long step (issue 26): records done of the total, rate and
ETA, summed over shards and worker processes; off when stderr is not a terminal or with
``xner --quiet``; the output's bytes never change."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ANSI = re.compile(r"\x1b\[[0-9;?]*[a-zA-Z]")


def xner(*args: str | Path, progress: bool) -> subprocess.CompletedProcess:
    env = {**os.environ, "XNER_PROGRESS": "1" if progress else "0"}
    env.pop("XNER_QUIET", None)
    return subprocess.run(
        [sys.executable, "-c", "from xner_spacy.cli import main; main()", *map(str, args)],
        capture_output=True, text=True, cwd=REPO, env=env,
    )  # fmt: skip


@pytest.fixture
def records(tmp_path: Path) -> Path:
    path = tmp_path / "in.jsonl"
    with path.open("w", encoding="utf8") as fh:
        for k in range(30):
            rec = {"id": f"r{k}", "src_words": ["Bola", "went"], "tgt_words": ["Bola", "lọ"],
                   "src_ents": [[0, 1, "PER"]], "alignment": [[0, 0], [1, 1]]}  # fmt: skip
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    return path


@pytest.mark.parametrize("n_process", ["1", "2"])
def test_project_shows_one_bar_over_all_shards(
    tmp_path: Path, records: Path, n_process: str
) -> None:
    args = ["project", records, tmp_path / "out.jsonl", "--config", "configs/projection_fast.cfg",
            "--shard-size", "10", "--n-process", n_process]  # fmt: skip
    proc = xner(*args, progress=True)
    assert proc.returncode == 0, proc.stderr
    frames = ANSI.sub("", proc.stderr).replace("\r", "\n").splitlines()
    bars = [line for line in frames if line.startswith("project ")]
    assert bars and "30/30" in bars[-1] and "records/s" in bars[-1] and "ETA" in bars[-1]
    assert not any("/10 " in line for line in bars)  # one bar for the step, not one per shard
    quiet = xner("--quiet", *args[:2], tmp_path / "quiet.jsonl", *args[3:], progress=True)
    plain = xner(*args[:2], tmp_path / "plain.jsonl", *args[3:], progress=False)
    for proc in (quiet, plain):  # --quiet, and stderr not a terminal: no bar
        assert proc.returncode == 0 and "records/s" not in proc.stderr
    out = (tmp_path / "out.jsonl").read_bytes()
    assert out == (tmp_path / "quiet.jsonl").read_bytes() == (tmp_path / "plain.jsonl").read_bytes()
