"""Scratch folders: removed on exit, also after an error; stale ones of dead processes swept."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from xner_spacy.io import scratch
from xner_spacy.io.scratch import remove_stale, scratch_dir


def test_a_scratch_folder_is_removed_on_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scratch.tempfile, "tempdir", str(tmp_path))
    with pytest.raises(RuntimeError), scratch_dir("xner-test-") as path:
        assert path.parent == tmp_path and path.name.startswith(f"xner-test-{os.getpid()}-")
        raise RuntimeError
    assert not path.exists()


def test_only_folders_of_dead_processes_are_swept(tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()  # fmt: skip
    for name in (f"xner-test-{dead}-a", f"xner-test-{os.getpid()}-b", "xner-test-x", "other"):
        (tmp_path / name).mkdir()
    assert remove_stale("xner-test-", tmp_path) == [tmp_path / f"xner-test-{dead}-a"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "other", f"xner-test-{os.getpid()}-b", "xner-test-x"
    ]  # fmt: skip
