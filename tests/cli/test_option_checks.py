"""Bad paths and values are refused in one line before any work (issue 26): exit status 2 for
usage errors, 1 for data errors, a traceback only with ``xner --debug`` or ``XNER_DEBUG=1``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def xner(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """``xner ARGS`` through the console entry point, from the repository root."""
    return subprocess.run(
        [sys.executable, "-c", "from xner_spacy.cli import main; main()", *map(str, args)],
        capture_output=True, text=True, cwd=REPO, env={**os.environ, **(env or {})},
    )  # fmt: skip


def usage_error(proc: subprocess.CompletedProcess, *needles: str) -> None:
    """Exit status 2, no traceback, and one ``Error:`` line holding every needle."""
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, proc.stderr
    for needle in needles:
        assert needle in errors[0], proc.stderr


@pytest.fixture
def records(tmp_path: Path) -> Path:
    """A file no step can read: any check that reads it first fails with status 1."""
    path = tmp_path / "in.jsonl"
    path.write_text("not json\n", encoding="utf8")
    return path


def test_an_output_whose_parent_is_a_file_is_refused(tmp_path: Path, records: Path) -> None:
    (tmp_path / "afile").write_text("x")
    proc = xner("project", records, tmp_path / "afile" / "out.jsonl")
    usage_error(proc, "OUTPUT", "afile' is a file, not a directory")


def test_an_output_that_is_a_directory_is_refused(tmp_path: Path, records: Path) -> None:
    (tmp_path / "adir").mkdir()
    usage_error(xner("project", records, tmp_path / "adir"), "OUTPUT", "is a directory")
    usage_error(
        xner("project", records, tmp_path / "o.jsonl", "--stats", tmp_path / "adir"),
        "--stats", "is a directory",
    )  # fmt: skip
    (tmp_path / "afile").write_text("x")
    usage_error(xner("convert", records, tmp_path / "afile"), "OUTPUT_DIR", "is a file")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["adir", "afile", "in.jsonl"]


def test_a_missing_pipeline_is_refused_before_loading(tmp_path: Path, records: Path) -> None:
    proc = xner("evaluate", tmp_path / "no-model", records)
    usage_error(proc, "MODEL", "no-model': no such pipeline directory")
    usage_error(xner("evaluate", "xx_no_such_package", records), "nor an installed package")


def test_enum_like_options_are_refused_before_any_data_is_read(
    tmp_path: Path, records: Path
) -> None:
    usage_error(
        xner("convert", records, tmp_path / "out", "--doubtful", "bogus"),
        "'--doubtful'", "'bogus'", "drop | keep | missing",
    )  # fmt: skip
    usage_error(
        xner("evaluate", "blank:xx", records, "--label-map", "bogusmap"),
        "'--label-map'", "'bogusmap'", "ontonotes",
    )  # fmt: skip
    usage_error(
        xner("convert-gold", records, tmp_path / "o.spacy", "--label-map", "bogusmap"),
        "--label-map", "bogusmap",
    )  # fmt: skip
    usage_error(
        xner("convert-gold", records, tmp_path / "o.spacy", "--mojibake", "ignore"),
        "'--mojibake'", "warn | fix | error",
    )  # fmt: skip
    data = tmp_path / "data"
    data.mkdir()
    proc = xner(
        "languages-table", "--data-dir", data, "--langs", "yor", "--labeller", "en=x",
        "--variant", "cnn=configs/ner_cnn.cfg", "--work-dir", tmp_path / "work",
        "--output", tmp_path / "table.json", "--doubtful", "bogus",
    )  # fmt: skip
    usage_error(proc, "'--doubtful'", "'bogus'")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "in.jsonl"]


def test_config_values_of_registered_parts_are_refused_before_any_data_is_read(
    tmp_path: Path, records: Path
) -> None:
    out = tmp_path / "out.jsonl"
    usage_error(
        xner("align", records, out, "--aligner.symmetrization", "bogus"),
        "--aligner.symmetrization", "'bogus'", "grow-diag-final-and",
    )  # fmt: skip
    usage_error(
        xner("project", records, out, "--projector.variant", "bogus"),
        "--projector.variant", "'bogus'", "gf2022",
    )  # fmt: skip
    usage_error(xner("project", records, out, "--projector.nonsense", "3"), "nonsense")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]  # no out.jsonl.shards


def test_data_errors_exit_1_in_one_line_and_debug_shows_the_traceback(
    tmp_path: Path, records: Path
) -> None:
    out = tmp_path / "out.jsonl"
    proc = xner("project", records, out)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.count("error:") == 1 and f"{records}:1:" in proc.stderr
    for debug in (
        xner("--debug", "project", records, out),
        xner("project", records, out, env={"XNER_DEBUG": "1"}),
    ):
        assert debug.returncode == 1 and "Traceback" in debug.stderr
    assert "--debug" in xner("--help").stdout


def test_labeller_refiner_and_input_lists_are_checked_before_any_work(
    tmp_path: Path, records: Path
) -> None:
    out = tmp_path / "out.jsonl"
    usage_error(
        xner("label", records, out, "--labeller.label_map", "bogus"),
        "--labeller.label_map", "Unknown label map 'bogus'", "ontonotes",
    )  # fmt: skip
    usage_error(xner("refine", records, out, "--refiner.bogus", "1"), "--refiner.bogus")
    usage_error(xner("vote", tmp_path / "none.jsonl", "--output", out), "INPUTS", "none.jsonl")
    usage_error(xner("report", tmp_path / "none.json"), "METRICS", "does not exist")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]
