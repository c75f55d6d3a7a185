"""Teachers give per-token distributions over the student's tags, whatever their own tags."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import spacy
from distill_toys import toy_sentences
from spacy.util import registry

from xner_spacy.distill.tag_sets import TagSet
from xner_spacy.distill.teachers import (
    HFTeacher,
    SpacyNerTeacher,
    StudentTeacher,
    Teacher,
    detect_kind,
    load_teacher,
)

WORDS = [w for w, _ in toy_sentences(5, seed=11)]
TAGS = TagSet(("LOC", "ORG", "PER"))


def check_rows(teacher: Teacher, tagset: TagSet = TAGS) -> list[np.ndarray]:
    out = teacher.distributions(WORDS, tagset)
    assert [p.shape for p in out] == [(len(w), len(tagset)) for w in WORDS]
    for p in out:
        np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-5)
        assert (p >= 0).all()
    return out


def test_student_teacher_reads_the_softmax(student_teacher_dir: Path) -> None:
    teacher = load_teacher(str(student_teacher_dir))
    assert isinstance(teacher, StudentTeacher)
    assert set(teacher.labels) == {"LOC", "PER"}
    sharp = check_rows(teacher)
    assert all(p[:, TAGS.tags.index("B-ORG")].max() == 0 for p in sharp)  # ORG unknown to it
    soft = check_rows(load_teacher(str(student_teacher_dir), temperature=4.0))
    entropy = [(-(p * np.log(p + 1e-12)).sum()) for p in (sharp[0], soft[0])]
    assert entropy[1] > entropy[0]  # a higher temperature softens
    # Labels the student lacks move their mass to O.
    only_loc = check_rows(load_teacher(str(student_teacher_dir), label_map={"LOC": "LOC"}))
    per_cols = [TAGS.index(t) for t in TAGS.tags if t.endswith("-PER")]
    assert all(p[:, per_cols].sum() == 0 for p in only_loc)
    assert only_loc[0][:, 0].sum() >= sharp[0][:, 0].sum()


def test_spacy_ner_teacher_gives_smoothed_one_hot(ner_teacher_dir: Path) -> None:
    assert detect_kind(str(ner_teacher_dir)) == "spacy_ner"
    teacher = load_teacher(str(ner_teacher_dir), smoothing=0.1)
    assert isinstance(teacher, SpacyNerTeacher)
    tagset = TagSet(("LOC", "PER"))
    for p in check_rows(teacher, tagset):
        assert np.isclose(p.max(axis=1), 0.9 + 0.1 / len(tagset)).all()
        assert tagset.is_valid(p.argmax(axis=1))  # the ner's own entities: a valid sequence
    only_per = load_teacher(str(ner_teacher_dir), label_map={"PER": "PER"})
    assert only_per.labels == ("PER",)
    check_rows(only_per, TagSet(("PER",)))
    with pytest.raises(ValueError, match="smoothing"):
        load_teacher(str(ner_teacher_dir), smoothing=1.0)


def test_hf_teacher_first_subtoken_distributions(hf_teacher_dir: Path) -> None:
    assert detect_kind(str(hf_teacher_dir)) == "hf"
    teacher = load_teacher(str(hf_teacher_dir), label_map="conll", temperature=2.0, device="cpu")
    assert isinstance(teacher, HFTeacher)
    assert set(teacher.labels) == {"PER", "ORG", "LOC"}  # MISC dropped by the conll map
    check_rows(teacher)
    check_rows(teacher, TagSet(("PER",), "BIO"))


def test_teacher_from_config_block(student_teacher_dir: Path) -> None:
    block = {"@misc": "xner.Teacher.v1", "model": str(student_teacher_dir), "temperature": 2.0}
    teacher = registry.resolve({"t": block})["t"]
    assert isinstance(teacher, StudentTeacher) and teacher.temperature == 2.0
    assert "T=2.0" in teacher.cache_key
    loaded = load_teacher(spacy.load(student_teacher_dir), kind="student")
    np.testing.assert_allclose(
        loaded.distributions(WORDS[:1], TAGS)[0],
        load_teacher(str(student_teacher_dir)).distributions(WORDS[:1], TAGS)[0],
        rtol=1e-5,
    )
    with pytest.raises(ValueError, match="kind"):
        load_teacher(str(student_teacher_dir), kind="crf")
