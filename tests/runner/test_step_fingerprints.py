"""A step's fingerprint: command, configs, model identities and inputs; what changed, in words."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from xner_spacy.runner.step_fingerprints import (
    changes,
    decide,
    model_identity,
    path_identity,
    record_path,
    step_parts,
    store,
)


def _model(path: Path, version: str) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    (path / "meta.json").write_text(f'{{"name": "ner", "version": "{version}"}}')
    (path / "weights.bin").write_bytes(b"\0" * 10)
    return path


def test_a_model_is_identified_by_its_folder_package_or_name(tmp_path: Path) -> None:
    folder = model_identity(_model(tmp_path / "m", "1"))
    assert set(folder) == {"path", "cards", "files"} and "meta.json" in folder["cards"]
    assert model_identity(_model(tmp_path / "m", "2"))["cards"] != folder["cards"]  # retrained
    spacy_pkg = model_identity("spacy")  # an installed package: name and version
    assert spacy_pkg["package"] == "spacy" and spacy_pkg["version"]
    assert model_identity("xlm-roberta-large") == {"name": "xlm-roberta-large"}  # a hub name


def test_a_moved_model_folder_keeps_its_identity_but_not_its_path(tmp_path: Path) -> None:
    first = model_identity(_model(tmp_path / "a", "1"))
    (tmp_path / "a").rename(tmp_path / "b")
    moved = model_identity(tmp_path / "b")
    assert moved["cards"] == first["cards"] and moved["files"] == first["files"]


def test_changes_name_the_argument_model_config_and_input_that_changed(tmp_path: Path) -> None:
    config, data = tmp_path / "p.cfg", tmp_path / "in.jsonl"
    config.write_text("[a]\nx = 1\n")
    data.write_text("one\n")
    model = _model(tmp_path / "m", "1")
    old = step_parts(["xner", "label", "--m", "a"], configs=[config], models=[model], inputs=[data])
    assert changes(old, old) == []
    config.write_text("[a]\nx = 2\n")
    _model(model, "2")
    data.write_text("two\n")
    new = step_parts(["xner", "label", "--m", "b"], configs=[config], models=[model], inputs=[data])
    found = changes(old, new)
    assert found[0] == "command: 'a' → 'b'"
    assert f"config {config} changed" in found and f"model {model} changed" in found
    assert f"input {data} changed" in found
    assert changes(None, new) == ["no fingerprint stored with the output"]
    assert path_identity(tmp_path / "missing") is None


def test_decide_reruns_only_on_a_change_unless_forced_or_told_to_reuse(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    out = tmp_path / "out.json"
    parts = step_parts(["a"])
    assert decide("s", out, parts, force=False, reuse_stale=False)  # no output yet
    out.write_text("{}")
    store(out, parts)
    assert record_path(out).is_file()
    assert not decide("s", out, parts, force=False, reuse_stale=False)
    assert decide("s", out, parts, force=True, reuse_stale=False)
    other = step_parts(["b"])
    with caplog.at_level(logging.INFO, logger="xner_spacy"):
        assert decide("s", out, other, force=False, reuse_stale=False)
        assert not decide("s", out, other, force=False, reuse_stale=True)
    assert "s: rerun, command: 'a' → 'b'" in caplog.text
    assert "kept (--reuse-stale) though command: 'a' → 'b'" in caplog.text
