"""The teacher corpus reader and multi-teacher weights."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import spacy
from distill_toys import STUDENT_CONFIG, toy_sentences, write_lines
from spacy.tokens import Doc, DocBin
from spacy.util import registry

from xner_spacy.distill.student_ner import get_soft_targets
from xner_spacy.distill.tag_sets import TagSet, convert_distribution
from xner_spacy.distill.teacher_corpus import TeacherCorpus
from xner_spacy.distill.teacher_weights import similarity_weights, teacher_weights
from xner_spacy.distill.teachers import load_teacher


@dataclass
class FixedTeacher:
    """Every token: half O, half U-<label>. Counts its calls."""

    label: str
    calls: int = 0

    @property
    def cache_key(self) -> str:
        return f"fixed-{self.label}"

    @property
    def labels(self) -> tuple[str, ...]:
        return (self.label,)

    def distributions(self, sentences: list[list[str]], tagset: TagSet) -> list[np.ndarray]:
        self.calls += 1
        own = TagSet((self.label,))
        row = np.zeros(len(own))
        row[[0, own.index(f"U-{self.label}")]] = 0.5
        return [
            convert_distribution(np.tile(row, (len(w), 1)), own.tags, tagset) for w in sentences
        ]


def soft(eg: object) -> tuple[list[str], np.ndarray]:
    found = get_soft_targets(eg.reference)  # type: ignore[attr-defined]
    assert found is not None
    return found


def test_one_teacher_yields_soft_target_examples(student_teacher_dir: Path, tmp_path: Path) -> None:
    path = write_lines(tmp_path / "target.txt", 6)
    corpus = TeacherCorpus(path, teachers={"src": load_teacher(str(student_teacher_dir))})
    nlp = spacy.blank("xx")
    examples = list(corpus(nlp))
    assert len(examples) == 6 and corpus.weights == {"src": 1.0}
    tagset = TagSet(("LOC", "PER"))
    for eg in examples:
        tags, probs = soft(eg)
        assert tags == list(tagset.tags)
        assert probs.shape == (len(eg.predicted), len(tagset))
        assert [t.text for t in eg.predicted] == [t.text for t in eg.reference]
        np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
        ids = [tagset.from_biluo([t])[0] for t in eg.get_aligned_ner()]
        assert tagset.is_valid(ids)  # reference.ents: Viterbi-decoded from the soft targets


def test_three_teachers_are_mixed_by_weight(
    student_teacher_dir: Path, ner_teacher_dir: Path, hf_teacher_dir: Path, tmp_path: Path
) -> None:
    path = write_lines(tmp_path / "target.txt", 4)
    teachers = {
        "student": load_teacher(str(student_teacher_dir)),
        "ner": load_teacher(str(ner_teacher_dir), smoothing=0.1),
        "hf": load_teacher(str(hf_teacher_dir), label_map="conll", device="cpu"),
    }
    corpus = TeacherCorpus(path, teachers=teachers, weights=[1.0, 2.0, 1.0], labels=["PER", "LOC"])
    nlp = spacy.blank("xx")
    examples = list(corpus(nlp))
    assert corpus.weights == pytest.approx({"student": 0.25, "ner": 0.5, "hf": 0.25})
    tagset = TagSet(("PER", "LOC"))
    words = [[t.text for t in eg.predicted] for eg in examples]
    parts = {name: t.distributions(words, tagset) for name, t in teachers.items()}
    for k, eg in enumerate(examples):
        tags, probs = soft(eg)
        assert tags == list(tagset.tags) and probs.shape == (len(words[k]), len(tagset))
        expected = sum(corpus.weights[name] * parts[name][k] for name in teachers)  # type: ignore[index]
        np.testing.assert_allclose(probs, expected, rtol=1e-4, atol=1e-6)


def test_teacher_outputs_are_cached(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "target.txt", 5)
    nlp = spacy.blank("xx")
    first = FixedTeacher("PER")
    corpus = TeacherCorpus(path, teachers={"t": first}, cache_dir=tmp_path / "cache")
    a = [soft(eg)[1] for eg in corpus(nlp)]
    list(corpus(nlp))  # a second epoch: kept in memory
    assert first.calls == 1 and len(list((tmp_path / "cache").glob("t-*.npz"))) == 1
    again = FixedTeacher("PER")
    b = [
        soft(eg)[1]
        for eg in TeacherCorpus(path, teachers={"t": again}, cache_dir=tmp_path / "cache")(nlp)
    ]
    assert again.calls == 0  # read from the .npz
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    other = FixedTeacher("LOC")  # another teacher: another cache entry
    list(TeacherCorpus(path, teachers={"t": other}, cache_dir=tmp_path / "cache")(nlp))
    assert other.calls == 1


def test_docbin_input_and_config_block(tmp_path: Path) -> None:
    nlp = spacy.blank("xx")
    docs = [Doc(nlp.vocab, words=w) for w, _ in toy_sentences(3)]
    DocBin(docs=docs).to_disk(tmp_path / "target.spacy")
    block = {
        "@readers": "xner.TeacherCorpus.v1",
        "path": str(tmp_path / "target.spacy"),
        "teachers": {"a": FixedTeacher("PER"), "b": FixedTeacher("LOC")},
        "scheme": "BIO",
        "limit": 2,
    }
    corpus = registry.resolve({"c": block})["c"]
    examples = list(corpus(nlp))
    assert [len(eg.reference) for eg in examples] == [len(d) for d in docs[:2]]
    tags, probs = soft(examples[0])
    assert tags == list(TagSet(("LOC", "PER"), "BIO").tags)
    np.testing.assert_allclose(probs[:, 0], 0.5)  # each teacher: half O; averaged
    np.testing.assert_allclose(probs[:, tags.index("B-PER")], 0.25)


def test_student_initialises_from_the_reader(tmp_path: Path) -> None:
    nlp = spacy.blank("xx")
    nlp.add_pipe("xner_student_ner", config=STUDENT_CONFIG)
    corpus = TeacherCorpus(write_lines(tmp_path / "t.txt", 4), teachers={"t": FixedTeacher("ORG")})
    optimizer = nlp.initialize(lambda: corpus(nlp))
    assert nlp.get_pipe("xner_student_ner").labels == ("ORG",)
    assert corpus.tagset(nlp) == TagSet(("ORG",))
    losses = nlp.update(list(corpus(nlp)), sgd=optimizer)
    assert losses["xner_student_ner"] > 0


@pytest.mark.parametrize(
    "spec,expected",
    [
        ("uniform", [1 / 3, 1 / 3, 1 / 3]),
        ([1, 1, 2], [0.25, 0.25, 0.5]),
        ({"a": 3, "c": 1}, [0.75, 0.0, 0.25]),
    ],
)
def test_weights_sum_to_one(spec: object, expected: list[float]) -> None:
    w = teacher_weights(["a", "b", "c"], spec)  # type: ignore[arg-type]
    assert w.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(w, expected)


def test_similarity_weights_favour_the_closest_source(tmp_path: Path) -> None:
    target = ["awon eniyan Lagos feran Ada .", "a ri Bola ni Abuja loni ."]
    close = tmp_path / "close.txt"
    close.write_text("awon eniyan Kano feran Chidi .\na ri Ngozi ni Lagos loni .\n", "utf8")
    far = tmp_path / "far.txt"
    far.write_text("Zwölf Boxkämpfer jagen Viktor quer über den großen Sylter Deich.\n", "utf8")
    refs = {"close": close, "far": far}
    w = teacher_weights(["close", "far"], "similarity", target=target, references=refs)
    assert w.sum() == pytest.approx(1.0) and w[0] > 0.9
    flat = similarity_weights(target, [["x y"], ["a b"]], temperature=1e6)
    np.testing.assert_allclose(flat, [0.5, 0.5], atol=1e-4)


def test_weight_errors() -> None:
    with pytest.raises(ValueError, match="2 weights for 3"):
        teacher_weights(["a", "b", "c"], [1, 2])
    with pytest.raises(ValueError, match="unknown teachers"):
        teacher_weights(["a"], {"z": 1.0})
    with pytest.raises(ValueError, match="non-negative"):
        teacher_weights(["a", "b"], [0, 0])
    with pytest.raises(ValueError, match="references"):
        teacher_weights(["a"], "similarity", target=["x"])
    with pytest.raises(ValueError, match="unknown weighting"):
        teacher_weights(["a"], "softmax")


class SureTeacher(FixedTeacher):
    """Every token: 0.2 O, 0.8 U-<label>."""

    def distributions(self, sentences: list[list[str]], tagset: TagSet) -> list[np.ndarray]:
        own = TagSet((self.label,))
        row = np.zeros(len(own))
        row[0], row[own.index(f"U-{self.label}")] = 0.2, 0.8
        return [
            convert_distribution(np.tile(row, (len(w), 1)), own.tags, tagset) for w in sentences
        ]


def test_hard_targets_are_the_one_hot_viterbi_tags_of_the_mixture(tmp_path: Path) -> None:
    nlp = spacy.blank("xx")
    path = write_lines(tmp_path / "t.txt", 4)
    teachers = {"a": SureTeacher("PER"), "b": SureTeacher("LOC")}
    soft_egs = list(TeacherCorpus(path, teachers=teachers, weights=[0.7, 0.3])(nlp))
    hard_egs = list(TeacherCorpus(path, teachers=teachers, weights=[0.7, 0.3], hard=True)(nlp))
    for s, h in zip(soft_egs, hard_egs, strict=True):
        tags, soft_probs = soft(s)
        _, hard_probs = soft(h)
        assert set(np.unique(hard_probs)) <= {0.0, 1.0}
        np.testing.assert_array_equal(hard_probs.sum(axis=1), 1.0)
        # the same entities as the soft example's Viterbi decoding, now as certain targets
        assert [(e.start, e.end, e.label_) for e in h.reference.ents] == [
            (e.start, e.end, e.label_) for e in s.reference.ents
        ]
        assert not np.array_equal(soft_probs, hard_probs)
        # O 0.2, U-PER 0.56, U-LOC 0.24: every token a PER entity of its own
        assert [tags[i] for i in hard_probs.argmax(axis=1)] == ["U-PER"] * len(h.reference)


def test_langid_weights_favour_the_source_the_identifier_sees_in_the_target(
    tmp_path: Path,
) -> None:
    english = ["the people of the city like the new bridge", "we went to the market today"]
    german = ["die Leute der Stadt mögen die neue Brücke", "wir gingen heute zum Markt"]
    spanish = ["a la gente de la ciudad le gusta el puente", "hoy fuimos al mercado"]
    refs = {}
    for name, lines in (("en", english), ("de", german), ("es", spanish)):
        refs[name] = tmp_path / f"{name}.txt"
        refs[name].write_text("\n".join(lines * 20) + "\n", "utf8")
    target = ["die Kinder der Schule mögen den neuen Markt", "wir sahen heute die Brücke"]
    w = teacher_weights(["en", "de", "es"], "langid", target=target, references=refs)
    assert w.sum() == pytest.approx(1.0) and w.argmax() == 1
    again = teacher_weights(["en", "de", "es"], "langid", target=target, references=refs)
    np.testing.assert_array_equal(w, again)  # deterministic
    sharp = teacher_weights(
        ["en", "de", "es"], "langid", target=target, references=refs, langid_temperature=0.2
    )
    assert sharp[1] > w[1] and sharp.sum() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="references"):
        teacher_weights(["en"], "langid", target=target)
    with pytest.raises(ValueError, match="temperature"):
        teacher_weights(["en"], "langid", target=target, references=refs, langid_temperature=0)
