from __future__ import annotations

from pathlib import Path

import pytest
import spacy
from spacy.language import Language
from spacy.tokens import Doc, Span

from xner_spacy.labelling.label_maps import get_label_map, map_label
from xner_spacy.labelling.spacy_labeller import SpacyLabeller
from xner_spacy.types import Entity


@pytest.fixture(scope="module")
def ruler_pipeline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A pipeline whose 'ner' is an entity ruler with OntoNotes labels, saved to disk."""
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler", name="ner")
    ruler.add_patterns(
        [
            {"label": "PERSON", "pattern": "Bola Tinubu"},
            {"label": "GPE", "pattern": "Abuja"},
            {"label": "NORP", "pattern": "Nigerian"},
        ]
    )
    path = tmp_path_factory.mktemp("ruler") / "pipeline"
    nlp.to_disk(path)
    return path


def test_labeller_maps_ontonotes_and_drops_unmapped(ruler_pipeline: Path) -> None:
    labeller = SpacyLabeller(str(ruler_pipeline), label_map="ontonotes")
    sents = [["The", "Nigerian", "Bola", "Tinubu", "went", "to", "Abuja", "."], [], ["x"]]
    assert list(labeller.label(sents)) == [
        [Entity(2, 4, "PER"), Entity(6, 7, "LOC")],
        [],
        [],
    ]


def test_labeller_custom_map_and_missing_model(ruler_pipeline: Path) -> None:
    labeller = SpacyLabeller(str(ruler_pipeline), label_map={"NORP": "MISC"})
    assert list(labeller.label([["Nigerian", "Bola", "Tinubu"]])) == [[Entity(0, 1, "MISC")]]
    with pytest.raises(OSError, match="Cannot load spaCy pipeline 'no_such_pipeline'"):
        list(SpacyLabeller("no_such_pipeline").label([["a"]]))


def test_label_maps() -> None:
    assert get_label_map("conll")["MISC"] is None
    assert map_label("MISC", get_label_map("conll")) is None
    assert map_label("ANY", get_label_map("identity")) == "ANY"
    with pytest.raises(ValueError, match="Built-in maps"):
        get_label_map("nope")


@Language.component("test_ner_needs_features")
def _ner_needs_features(doc: Doc) -> Doc:
    """A stand-in NER that, like one on xner.EncoderFeatures.v1, needs the encoder's features."""
    if doc._.get("xner_features") is None:
        raise ValueError("no doc._.xner_features: the encoder did not run")
    doc.ents = [Span(doc, 0, 1, label="PERSON")]
    return doc


def test_labeller_keeps_the_encoder_its_ner_reads(tmp_path: Path, tiny_xlmr_dir: Path) -> None:
    """A labeller trained on configs/ner_encoder.cfg: the xner_encoder must run before ner."""
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    # named apart from its factory: kept for what it is, not for its name
    nlp.add_pipe("xner_encoder", name="features", config={"model": str(tiny_xlmr_dir), "layer": 2})
    nlp.add_pipe("test_ner_needs_features", name="ner")
    nlp.to_disk(tmp_path / "pipeline")
    labeller = SpacyLabeller(str(tmp_path / "pipeline"), label_map="ontonotes")
    assert list(labeller.label([["Ada", "went", "home"]])) == [[Entity(0, 1, "PER")]]
    assert labeller.nlp.pipe_names == ["features", "ner"]  # the sentencizer feeds nothing
