"""The shipped training configs train (a few steps) on tiny data with stock `spacy train`."""

from __future__ import annotations

from pathlib import Path

import pytest
import spacy
from spacy.cli.train import train
from spacy.tokens import Doc, DocBin

REPO = Path(__file__).resolve().parents[2]


def _docbin(path: Path, nlp: spacy.Language, n: int = 20) -> Path:
    db = DocBin()
    for k in range(n):
        doc = Doc(nlp.vocab, words=["Ada", "went", "to", "Lagos", str(k), "."])
        doc.set_ents([doc.char_span(0, 3, "PER"), doc.char_span(12, 17, "LOC")])
        db.add(doc)
    db.to_disk(path)
    return path


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("corpus")
    nlp = spacy.blank("en")
    _docbin(root / "train.spacy", nlp)
    _docbin(root / "dev.spacy", nlp, 5)
    return root


@pytest.fixture(scope="module")
def base_pipeline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An 'installed pipeline' stand-in: a blank English pipeline with a width-96 tok2vec."""
    nlp = spacy.blank("en")
    nlp.add_pipe("tok2vec")
    nlp.initialize()
    path = tmp_path_factory.mktemp("base") / "en_base"
    nlp.to_disk(path)
    return path


@pytest.mark.parametrize("config", ["ner_cnn.cfg", "ner_sourced.cfg"])
def test_config_trains_and_predicts(
    config: str, corpus: Path, base_pipeline: Path, tmp_path: Path
) -> None:
    overrides = {
        "paths.train": str(corpus / "train.spacy"),
        "paths.dev": str(corpus / "dev.spacy"),
        "paths.base": str(base_pipeline),
        "nlp.lang": "en",
        "training.max_steps": 20,
        "training.eval_frequency": 10,
    }
    train(REPO / "configs" / config, tmp_path / "out", overrides=overrides)
    nlp = spacy.load(tmp_path / "out" / "model-last")
    assert nlp.pipe_names == ["tok2vec", "ner"]
    assert set(nlp.get_pipe("ner").labels) == {"PER", "LOC"}
    assert type(nlp.tokenizer).__name__ == "NFCTokenizer"
