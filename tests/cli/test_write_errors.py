"""Write errors and left-overs (issue 26): a full disk is one line naming the output and the
errno, finished shards stay for the rerun; a refused step leaves no shard folder; scratch
folders of a killed aligner are removed by the next run."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


def xner(*args: str | Path, limit: int | None = None, env: dict | None = None) -> Any:
    """``xner ARGS`` through the console entry point; ``limit``: the largest file it may write."""

    def cap() -> None:
        if limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return subprocess.run(
        [sys.executable, "-c", "from xner_spacy.cli import main; main()", *map(str, args)],
        capture_output=True, text=True, cwd=REPO, preexec_fn=cap, env={**os.environ, **(env or {})},
    )  # fmt: skip


def write_records(path: Path, n: int) -> Path:
    with path.open("w", encoding="utf8") as fh:
        for k in range(n):
            record = {
                "id": f"r{k}", "src_lang": "en", "tgt_lang": "yo",
                "src_words": ["Bola", "went", "to", "Lagos", str(k)],
                "tgt_words": ["Bola", "lọ", "sí", "Èkó", str(k)],
                "src_ents": [[0, 1, "PER"], [3, 4, "LOC"]],
                "alignment": [[0, 0], [1, 1], [2, 2], [3, 3], [4, 4]],
            }  # fmt: skip
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path


def test_a_full_disk_is_one_line_and_finished_shards_are_kept(tmp_path: Path) -> None:
    records = write_records(tmp_path / "in.jsonl", 100)
    out = tmp_path / "out.jsonl"
    args = (
        "project",
        records,
        out,
        "--config",
        "configs/projection_fast.cfg",
        "--shard-size",
        "25",
    )
    full = xner(*args, limit=12_000)  # each shard file fits, the merged output does not
    assert full.returncode == 1, full.stderr
    assert "Traceback" not in full.stderr
    errors = [line for line in full.stderr.splitlines() if line.startswith("error:")]
    assert errors == [f"error: {out}: File too large (errno 27, EFBIG)"], full.stderr
    assert not out.exists()  # atomic: no partial output
    assert not list(tmp_path.glob(".out.jsonl.*"))  # nor its temporary file
    assert len(list(Path(f"{out}.shards").glob("*.done.json"))) == 4
    rerun = xner(*args)
    assert rerun.returncode == 0, rerun.stderr
    assert "4 complete from an earlier run, 0 to run" in rerun.stderr
    clean = xner(*args[:2], tmp_path / "clean.jsonl", *args[3:])
    assert clean.returncode == 0 and out.read_bytes() == (tmp_path / "clean.jsonl").read_bytes()


def test_a_step_stopped_by_bad_input_leaves_no_shard_folder(tmp_path: Path) -> None:
    records = write_records(tmp_path / "in.jsonl", 3)
    with records.open("a", encoding="utf8") as fh:
        fh.write("{not json\n")
    out = tmp_path / "out.jsonl"
    proc = xner("project", records, out, "--config", "configs/projection_fast.cfg")
    assert proc.returncode == 1 and f"{records}:4:" in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]


def test_align_removes_the_scratch_folders_a_killed_run_left(tmp_path: Path) -> None:
    records = write_records(tmp_path / "in.jsonl", 5)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()  # fmt: skip
    stale = scratch / f"xner-fastalign-{dead}-abc"
    stale.mkdir()
    (stale / "corpus.txt").write_text("left by a killed run")
    live = scratch / f"xner-fastalign-{os.getpid()}-abc"  # a running process: kept
    live.mkdir()
    proc = xner(
        "align", records, tmp_path / "aligned.jsonl", "--config", "configs/projection_fast.cfg",
        env={"TMPDIR": str(scratch)},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in scratch.iterdir()) == [live.name]
