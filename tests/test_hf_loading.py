"""xner_spacy.encoders.hub_loading: model loading that fails fast and clearly, and device choice."""

from __future__ import annotations

import shutil
import socket
import time
from pathlib import Path

import pytest

from xner_spacy.encoders.hub_loading import ModelNotFoundError, is_offline, load_hf, pick_device

pytestmark = pytest.mark.usefixtures("hf_offline")


def _fake_hub_cache(cache: Path, repo_id: str, model_dir: Path) -> Path:
    """Lay ``model_dir`` out as the Hugging Face hub cache holds a downloaded ``repo_id``."""
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    revision = "0" * 40
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(revision)
    shutil.copytree(model_dir, repo / "snapshots" / revision)
    return cache


def test_offline_flag_is_read_at_call_time(monkeypatch: pytest.MonkeyPatch) -> None:
    assert is_offline()
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "0")
    assert not is_offline()


def test_local_directory_and_cached_hub_name_load(tiny_bert_dir: Path, tmp_path: Path) -> None:
    from transformers import AutoConfig, AutoTokenizer

    assert load_hf(AutoConfig, tiny_bert_dir).num_hidden_layers == 2
    cache = _fake_hub_cache(tmp_path / "hub", "xner-test/tiny-bert", tiny_bert_dir)
    tok = load_hf(AutoTokenizer, "xner-test/tiny-bert", cache_dir=str(cache))
    assert tok.is_fast


def test_uncached_name_and_bad_paths_fail_fast_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from transformers import AutoModel

    def no_network(*args: object) -> None:
        raise AssertionError("load_hf tried the network in offline mode")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    start = time.monotonic()
    with pytest.raises(ModelNotFoundError) as err:
        load_hf(AutoModel, "xner-test/not-downloaded")
    message = str(err.value)
    assert "\n" not in message and err.value.__cause__ is None
    assert "not in the Hugging Face cache (offline mode is on)" in message
    assert "huggingface-cli download xner-test/not-downloaded" in message
    assert "local directory" in message
    with pytest.raises(ModelNotFoundError, match="not a directory"):
        load_hf(AutoModel, tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelNotFoundError, match="from directory"):
        load_hf(AutoModel, tmp_path / "empty")
    assert time.monotonic() - start < 5


def test_pick_device() -> None:
    import torch

    assert pick_device("cpu").type == "cpu"
    assert pick_device(-1).type == "cpu"
    assert pick_device("-1").type == "cpu"
    assert pick_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(ValueError, match="Unknown device"):
        pick_device("gpu-please")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            pick_device("cuda")
        with pytest.raises(ValueError, match="CUDA is not available"):
            pick_device(0)
