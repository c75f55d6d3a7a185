"""The student NER component: trains on hard and soft targets, decodes valid sequences, saves."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import spacy
from distill_toys import STUDENT_CONFIG, hard_examples, toy_sentences, train_student
from spacy.tokens import Doc, DocBin
from spacy.training import Example

from xner_spacy.distill.student_ner import SOFT_TARGETS_KEY, get_soft_targets, set_soft_targets
from xner_spacy.distill.tag_sets import TagSet


def losses_over(nlp: spacy.Language, examples: list[Example], steps: int = 20) -> list[float]:
    optimizer = nlp.initialize(lambda: examples)
    out = []
    for _ in range(steps):
        out.append(nlp.update(examples, sgd=optimizer, losses={})["xner_student_ner"])
    return out


def soft_examples(nlp: spacy.Language, tagset: TagSet, n: int = 12) -> list[Example]:
    """Examples whose targets are smoothed distributions around the silver tags."""
    examples = []
    for eg in hard_examples(nlp, n):
        ids = tagset.from_biluo(eg.get_aligned_ner())
        probs = np.full((len(ids), len(tagset)), 0.1 / (len(tagset) - 1), dtype=np.float32)
        probs[np.arange(len(ids)), ids] = 0.9
        reference = Doc(nlp.vocab, words=[t.text for t in eg.reference])  # no ents
        set_soft_targets(reference, tagset.tags, probs)
        examples.append(Example(Doc(nlp.vocab, words=[t.text for t in reference]), reference))
    return examples


def assert_valid_predictions(nlp: spacy.Language, scheme: str) -> None:
    ner = nlp.get_pipe("xner_student_ner")
    for words, _ in toy_sentences(10, seed=7):
        probs = ner.predict([Doc(nlp.vocab, words=words)])[0]
        assert ner.tagset.is_valid(ner.decode(probs))
        doc = nlp(" ".join(words))
        assert all(e.label_ in {"PER", "LOC"} for e in doc.ents)
    assert ner.cfg["scheme"] == scheme


@pytest.mark.parametrize("scheme", ["BILUO", "BIO"])
def test_trains_on_hard_labels(scheme: str) -> None:
    nlp = spacy.blank("xx")
    nlp.add_pipe("xner_student_ner", config={**STUDENT_CONFIG, "scheme": scheme})
    examples = hard_examples(nlp)
    losses = losses_over(nlp, examples, steps=40)
    assert losses[19] < 0.7 * losses[0] and losses[-1] < 0.4 * losses[0]
    assert set(nlp.get_pipe("xner_student_ner").labels) == {"PER", "LOC"}
    assert_valid_predictions(nlp, scheme)
    fitted = sum(
        [(e.start, e.end, e.label_) for e in nlp(eg.reference.text).ents]
        == [(e.start, e.end, e.label_) for e in eg.reference.ents]
        for eg in examples
    )
    assert fitted >= 10  # of 12 training sentences, multi-word names included


def test_trains_on_soft_targets_from_another_tag_set() -> None:
    nlp = spacy.blank("xx")
    nlp.add_pipe("xner_student_ner", config=STUDENT_CONFIG)
    # Targets over BIO tags with an extra label the student will not have: mapped by name.
    examples = soft_examples(nlp, TagSet(("LOC", "PER"), "BIO"))
    losses = losses_over(nlp, examples)
    assert losses[-1] < 0.8 * losses[0]
    assert set(nlp.get_pipe("xner_student_ner").labels) == {"PER", "LOC"}
    assert_valid_predictions(nlp, "BILUO")


def test_soft_targets_survive_example_copy_and_docbin(tmp_path: Path) -> None:
    nlp = spacy.blank("xx")
    tagset = TagSet(("PER",))
    doc = Doc(nlp.vocab, words=["Ada", "lo"])
    probs = np.array([[0.1, 0.0, 0.0, 0.0, 0.9], [1.0, 0, 0, 0, 0]])
    set_soft_targets(doc, tagset.tags, probs)
    eg = Example(Doc(nlp.vocab, words=["Ada", "lo"]), doc).copy()
    tags, got = get_soft_targets(eg.reference)  # type: ignore[misc]
    assert tags == list(tagset.tags)
    np.testing.assert_allclose(got, probs)
    DocBin(docs=[doc], store_user_data=True).to_disk(tmp_path / "d.spacy")
    (back,) = DocBin().from_disk(tmp_path / "d.spacy").get_docs(nlp.vocab)
    np.testing.assert_allclose(get_soft_targets(back)[1], probs)  # type: ignore[index]
    with pytest.raises(ValueError, match="do not fit"):
        set_soft_targets(doc, tagset.tags, probs[:1])


def test_missing_annotation_is_masked_and_retokenised_rows_align() -> None:
    nlp = spacy.blank("xx")
    ner = nlp.add_pipe("xner_student_ner", config=STUDENT_CONFIG)
    for label in ("PER", "LOC"):
        ner.add_label(label)
    ref = Doc(nlp.vocab, words=["Ada", "lo", "si", "Lagos"], ents=["B-PER", "O", "", "B-LOC"])
    target, mask = ner.targets(Example(Doc(nlp.vocab, words=[t.text for t in ref]), ref))
    assert mask.tolist() == [1, 1, 0, 1]
    assert target[0, ner.tagset.index("U-PER")] == 1.0
    # Soft rows follow tokens that align one-to-one; a merged token is masked out.
    soft = Doc(nlp.vocab, words=["Ada", "lo", "si", "Lagos"])
    set_soft_targets(soft, ner.tagset.tags, np.eye(len(ner.tagset))[[8, 0, 0, 4]])
    pred = Doc(nlp.vocab, words=["Ada", "losi", "Lagos"], spaces=[True, True, False])
    soft_spaced = Doc(nlp.vocab, words=["Ada", "lo", "si", "Lagos"], spaces=[1, 0, 1, 0])
    soft_spaced.user_data.update(soft.user_data)
    target, mask = ner.targets(Example(pred, soft_spaced))
    assert mask.tolist() == [1, 0, 1]
    assert target[2, 4] == 1.0 and SOFT_TARGETS_KEY in soft_spaced.user_data


def test_initialize_with_configured_labels_and_round_trip(tmp_path: Path) -> None:
    nlp = spacy.blank("xx")
    nlp.add_pipe("xner_student_ner", config=STUDENT_CONFIG)
    examples = hard_examples(nlp)
    nlp.config["initialize"]["components"]["xner_student_ner"] = {"labels": ["LOC", "ORG", "PER"]}
    nlp.initialize(lambda: examples)
    assert nlp.get_pipe("xner_student_ner").labels == ("LOC", "ORG", "PER")
    with pytest.raises(ValueError, match="fixed"):
        nlp.get_pipe("xner_student_ner").add_label("MISC")
    trained = train_student(scheme="BIO")
    trained.to_disk(tmp_path / "student")
    loaded = spacy.load(tmp_path / "student")
    text = "Bola lo si Ile Ife lana ."
    assert [e.text for e in loaded(text).ents] == [e.text for e in trained(text).ents]
    assert loaded.get_pipe("xner_student_ner").tagset == TagSet(("LOC", "PER"), "BIO")
    scores = loaded.evaluate(hard_examples(loaded, 4, seed=3))
    assert {"ents_f", "ents_p", "ents_r", "ents_per_type"} <= set(scores)
