from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pytest

from xner_spacy.io.atomic import atomic_path, atomic_write


def test_atomic_write_replaces_only_on_success(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_write(target) as fh:
        fh.write("half")
        raise RuntimeError("crash")
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["out.txt"]  # no temp file left behind
    with atomic_write(target) as fh:
        fh.write("new")
    assert target.read_text() == "new"


def test_outputs_get_ordinary_permissions(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        with atomic_write(tmp_path / "a.txt") as fh:
            fh.write("x")
        with atomic_path(tmp_path / "b.bin") as tmp:
            tmp.write_bytes(b"x")
    finally:
        os.umask(old)
    for name in ("a.txt", "b.bin"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o644


@pytest.mark.parametrize(
    "code", [errno.ENOSPC, errno.EACCES, errno.EROFS, errno.EFBIG], ids=errno.errorcode.get
)
def test_a_failed_write_names_the_output_and_leaves_nothing(tmp_path: Path, code: int) -> None:
    out = tmp_path / "out.jsonl"
    with pytest.raises(OSError) as caught, atomic_write(out) as fh:
        fh.write("half")
        raise OSError(code, os.strerror(code))  # what a write on a full disk raises
    assert caught.value.errno == code and caught.value.filename == str(out)
    assert list(tmp_path.iterdir()) == []


def test_an_error_naming_another_file_is_kept(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError) as caught, atomic_write(tmp_path / "out.jsonl"):
        open(tmp_path / "missing.txt")  # noqa: SIM115 - reading an input inside the block
    assert caught.value.filename == str(tmp_path / "missing.txt")
