"""configs/ner_trf.cfg trains a few steps offline, a tiny local XLM-R standing in for the hub."""

from __future__ import annotations

from pathlib import Path

import pytest
import spacy
from spacy.cli.train import train
from spacy.tokens import Doc, DocBin, Span
from spacy.util import load_config

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "configs" / "ner_trf.cfg"

pytest.importorskip("spacy_transformers")
pytestmark = pytest.mark.usefixtures("hf_offline")


def _docbin(path: Path, n: int) -> Path:
    nlp = spacy.blank("xx")
    db = DocBin()
    for k in range(n):
        doc = Doc(nlp.vocab, words=["José", "fue", "a", "São", "Paulo", str(k), "."])
        doc.set_ents([Span(doc, 0, 1, "PER"), Span(doc, 3, 5, "LOC")])
        db.add(doc)
    db.to_disk(path)
    return path


def test_default_encoder_is_xlm_roberta_base() -> None:
    cfg = load_config(CONFIG)
    assert cfg["components"]["transformer"]["model"]["name"] == "xlm-roberta-base"
    assert cfg["nlp"]["lang"] == "xx"
    assert cfg["nlp"]["tokenizer"]["@tokenizers"] == "xner.NFCTokenizer.v1"


def test_trf_config_trains_and_predicts(tiny_xlmr_dir: Path, tmp_path: Path) -> None:
    overrides = {
        "paths.train": str(_docbin(tmp_path / "train.spacy", 12)),
        "paths.dev": str(_docbin(tmp_path / "dev.spacy", 3)),
        "components.transformer.model.name": str(tiny_xlmr_dir),
        "system.gpu_allocator": None,
        "training.max_steps": 4,
        "training.eval_frequency": 2,
        "training.accumulate_gradient": 1,
    }
    train(CONFIG, tmp_path / "out", overrides=overrides)
    nlp = spacy.load(tmp_path / "out" / "model-last")
    assert nlp.pipe_names == ["transformer", "ner"]
    assert set(nlp.get_pipe("ner").labels) == {"PER", "LOC"}
    assert type(nlp.tokenizer).__name__ == "NFCTokenizer"
    doc = nlp("José fue a São Paulo .")
    assert all(0 <= e.start < e.end <= len(doc) for e in doc.ents)
