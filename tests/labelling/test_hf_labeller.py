"""The Hugging Face token-classification labeller on tiny local models."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from spacy.util import registry

from xner_spacy.encoders.hub_loading import ModelNotFoundError
from xner_spacy.encoders.subwords import SequenceTooLongError
from xner_spacy.labelling.hf_labeller import HFTokenClassifier, normalise_tag, word_tags
from xner_spacy.types import Entity

pytestmark = pytest.mark.usefixtures("hf_offline")

SENTS = [
    ["José", "fue", "a", "São", "Paulo", "."],
    [],
    ["Ada", "", "Lagos"],
    ["naïve", "café", "owners", "in", "Zürich", "met", "Zoë", "."],
]


@pytest.fixture(scope="module")
def constant_classifier(
    tmp_path_factory: pytest.TempPathFactory, hf_offline: None
) -> Callable[..., str]:
    """Build (once per label) a classifier that predicts one label for every sub-token."""
    from tiny_models import save_tiny_xlmr_token_classifier

    root = tmp_path_factory.mktemp("constant")
    built: dict[tuple[str, tuple[str, ...]], Path] = {}

    def build(label: str, labels: tuple[str, ...] | None = None) -> str:
        key = (label, labels or ())
        if key not in built:
            kwargs = {"labels": labels} if labels else {}
            path = root / f"{label}-{len(built)}"
            built[key] = save_tiny_xlmr_token_classifier(path, constant_label=label, **kwargs)
        return str(built[key])

    return build


def test_normalise_tag_and_first_subword_tags() -> None:
    assert normalise_tag("O") == "O"
    assert normalise_tag("B-PER") == "B-PER"
    assert normalise_tag("E-LOC") == "E-LOC"
    assert normalise_tag("PER") == "I-PER"  # IO scheme
    id2label = {0: "O", 1: "B-PER", 2: "I-PER", 3: "LOC"}
    # Sub-tokens: <s> w0 w0 w1 w2 w2 </s>; word 3 has none.
    predicted = [0, 1, 0, 2, 3, 0, 0]
    assert word_tags(predicted, [1, 3, 4, None], id2label) == ["B-PER", "I-PER", "I-LOC", "O"]


def test_begin_tags_give_one_entity_per_word(constant_classifier: Callable[..., str]) -> None:
    labeller = HFTokenClassifier(constant_classifier("B-PER"), device="cpu")
    assert list(labeller.label(SENTS[:3])) == [
        [Entity(i, i + 1, "PER") for i in range(6)],
        [],
        # The empty word has no sub-token: tagged O, not an entity.
        [Entity(0, 1, "PER"), Entity(2, 3, "PER")],
    ]


def test_inside_tags_are_repaired_into_spans_and_mapped(
    constant_classifier: Callable[..., str],
) -> None:
    labeller = HFTokenClassifier(constant_classifier("I-LOC"), label_map={"LOC": "GPE"})
    assert list(labeller.label(SENTS[:3])) == [
        [Entity(0, 6, "GPE")],
        [],
        [Entity(0, 1, "GPE"), Entity(2, 3, "GPE")],
    ]


def test_label_map_drops_misc_by_default(constant_classifier: Callable[..., str]) -> None:
    path = constant_classifier("B-MISC")
    assert list(HFTokenClassifier(path).label([["a", "b"]])) == [[]]
    with_misc = HFTokenClassifier(path, label_map="conll+misc")
    assert list(with_misc.label([["a", "b"]])) == [[Entity(0, 1, "MISC"), Entity(1, 2, "MISC")]]


def test_io_scheme_labels(constant_classifier: Callable[..., str]) -> None:
    labeller = HFTokenClassifier(constant_classifier("ORG", ("O", "PER", "ORG")))
    assert labeller.labels == ["O", "PER", "ORG"]
    assert list(labeller.label([["Shell", "Nigeria"]])) == [[Entity(0, 2, "ORG")]]


def test_batching_keeps_order_and_results(tiny_token_classifier_dir: Path) -> None:
    sents = [SENTS[k % len(SENTS)][: 1 + k % 7] for k in range(45)]
    big = list(HFTokenClassifier(str(tiny_token_classifier_dir), device="cpu").label(sents))
    small = HFTokenClassifier(str(tiny_token_classifier_dir), batch_size=2, device="cpu")
    assert list(small.label(iter(sents))) == big
    assert len(big) == len(sents)
    for ents, words in zip(big, sents, strict=True):
        assert all(0 <= e.start < e.end <= len(words) for e in ents)
        assert all(e.label in {"PER", "ORG", "LOC"} for e in ents)
        assert all(a.end <= b.start for a, b in zip(ents, ents[1:], strict=False))


def test_over_long_sentence(tiny_token_classifier_dir: Path) -> None:
    path = str(tiny_token_classifier_dir)
    long = ["naïvement"] * 20
    with pytest.raises(SequenceTooLongError, match="sentence 2"):
        list(HFTokenClassifier(path, max_length=16).label([["a"], ["b"], long]))
    cut = list(HFTokenClassifier(path, max_length=16, on_overflow="truncate").label([long]))
    assert all(e.end <= 3 for e in cut[0])  # words past the limit are tagged O


def test_uncached_hub_name_fails_fast() -> None:
    # Warm the lazy imports: what is timed is the failure, not importing transformers.
    from transformers import AutoModelForTokenClassification, AutoTokenizer  # noqa: F401

    start = time.monotonic()
    labeller = HFTokenClassifier("xner-test/no-such-ner-model")  # loading is lazy
    with pytest.raises(ModelNotFoundError, match="not in the Hugging Face cache"):
        list(labeller.label([["a"]]))
    assert time.monotonic() - start < 5


def test_registered_labeller_resolves(tiny_token_classifier_dir: Path) -> None:
    block = {
        "@misc": "xner.HFTokenClassifier.v1",
        "model": str(tiny_token_classifier_dir),
        "label_map": "conll+misc",
        "batch_size": 4,
        "device": "cpu",
    }
    labeller = registry.resolve({"l": block})["l"]
    assert isinstance(labeller, HFTokenClassifier)
    assert len(list(labeller.label(SENTS))) == len(SENTS)
