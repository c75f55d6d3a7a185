"""The drivers' resumable steps: data steps and model training rerun when what decided them did."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from xner_spacy.experiments.job_running import cached_step, train_unless_current
from xner_spacy.runner.step_fingerprints import step_parts


def test_a_data_step_reruns_when_its_labeller_is_retrained_at_the_same_path(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    model = tmp_path / "teacher" / "model-best"
    model.mkdir(parents=True)
    (model / "meta.json").write_text('{"version": "1"}')
    out, runs = tmp_path / "labelled.jsonl", []

    def label() -> dict[str, int]:
        runs.append(1)
        out.write_text("x\n")
        return {"records": 1}

    log: dict[str, object] = {}
    assert cached_step(out, "label", label, log, {"teacher": str(model)}, models=[model])
    assert not cached_step(out, "label", label, log, {"teacher": str(model)}, models=[model])
    (model / "meta.json").write_text('{"version": "2"}')  # retrained where the old one was
    with caplog.at_level(logging.INFO, logger="xner_spacy"):
        assert cached_step(out, "label", label, log, {"teacher": str(model)}, models=[model])
    assert len(runs) == 2 and "label: rerun, changed: models" in caplog.text


def test_a_model_is_retrained_only_when_its_fingerprint_changes(tmp_path: Path) -> None:
    model = tmp_path / "job" / "model-best"
    trained: list[str] = []

    def train(tag: str) -> None:
        model.mkdir(parents=True)
        (model / "meta.json").write_text(json.dumps({"tag": tag}))
        trained.append(tag)

    one, two = step_parts(["config one"]), step_parts(["config two"])
    assert train_unless_current("job", model, one, lambda: train("a"))
    assert not train_unless_current("job", model, one, lambda: train("b"))
    assert not train_unless_current("job", model, two, lambda: train("c"), reuse_stale=True)
    assert train_unless_current("job", model, two, lambda: train("d"))  # stale: replaced
    assert train_unless_current("job", model, two, lambda: train("e"), force=True)
    assert trained == ["a", "d", "e"]
    assert json.loads((model / "meta.json").read_text()) == {"tag": "e"}
    with pytest.raises(RuntimeError, match="did not write"):
        train_unless_current("job", tmp_path / "none", one, lambda: None)
