"""Smoke test of ``benchmarks/run.py --quick``: every step runs and reports a throughput."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
#: Steps that need nothing beyond the test extras, so they must always produce a figure.
CORE_STEPS = {
    "read_parallel",
    "read_records",
    "write_records",
    "label",
    "align_fast_align",
    "project_gf2022",
    "project_paper",
    "match_greedy",
    "match_ilp",
    "convert",
    "train",
    "infer",
}


def run_bench(tmp_path: Path, *args: str) -> tuple[dict, str]:
    """Run ``benchmarks/run.py --quick ARGS``: its JSON report (as printed) and Markdown table."""
    out, table = tmp_path / "bench.json", tmp_path / "bench.md"
    cmd = [sys.executable, str(REPO / "benchmarks" / "run.py"), "--quick", *args]
    cmd += ["--cache-dir", str(tmp_path / "cache"), "--output", str(out), "--markdown", str(table)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(out.read_text(encoding="utf8"))
    assert report == json.loads(proc.stdout[: proc.stdout.index("\n}\n") + 2])
    return report, table.read_text(encoding="utf8")


@pytest.mark.slow
def test_quick_benchmark_every_step(tmp_path: Path) -> None:
    report, table = run_bench(tmp_path)
    selected = set(report["settings"]["steps"])
    assert selected >= CORE_STEPS
    done = {r["step"] for r in report["results"]}
    not_installed = {s["step"] for s in report["skipped"] if "not installed" in s["reason"]}
    assert done | not_installed == selected, report["skipped"]
    assert not done & not_installed
    for r in report["results"]:
        assert r["items"] > 0 and r["items_per_s"] > 0, r
        assert r["peak_rss_mb"] >= r["setup_rss_mb"] > 0, r
    for step in done:
        assert f"| {step} |" in table


def test_projection_only_at_two_sizes(tmp_path: Path) -> None:
    report, _ = run_bench(tmp_path, "--steps", "project", "--sizes", "30,60", "--repeat", "1")
    measured = {(r["step"], r["size"]) for r in report["results"]}
    steps = {"project_gf2022", "project_paper", "match_greedy", "match_ilp", "corpus_passes"}
    assert measured == {(s, n) for s in steps for n in (30, 60)}
    assert all(r["items_per_s"] > 0 for r in report["results"])
    passes = [r for r in report["results"] if r["step"] == "corpus_passes"]
    assert all(r["unit"] == "records" for r in passes)
    assert all(set(r["extra"]) == {"fallback", "target_vote", "propagation"} for r in passes)
