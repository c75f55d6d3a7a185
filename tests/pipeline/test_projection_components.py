"""xner_aligner + xner_projector: spaCy-native projection on hand-made and tiny-model Docs."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import spacy
from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.training import Example
from spacy.util import registry

import xner_spacy.registry  # noqa: F401  (registers the factories when run without install)
from xner_spacy.pipeline.projection_components import DEFAULT_SPANS_KEY, with_source

Words = Sequence[Sequence[str]]


class SameWordAligner:
    """Links identical words (a per-pair aligner, like the neural ones)."""

    per_pair = True

    def align(
        self, src: Words, tgt: Words, extra_src: Words | None = None, extra_tgt: Words | None = None
    ) -> list[list[tuple[int, int]]]:
        return [
            [(i, j) for i, a in enumerate(s) for j, b in enumerate(t) if a == b]
            for s, t in zip(src, tgt, strict=True)
        ]


class CorpusAligner(SameWordAligner):
    """Pretends to learn from the corpus (no ``per_pair``); records each corpus size."""

    per_pair = False
    corpus_sizes: list[int] = []

    def align(
        self, src: Words, tgt: Words, extra_src: Words | None = None, extra_tgt: Words | None = None
    ) -> list[list[tuple[int, int]]]:
        CorpusAligner.corpus_sizes.append(len(src))
        return super().align(src, tgt)


@registry.misc("test_components.SameWordAligner.v1")
def make_same_word_aligner() -> SameWordAligner:
    return SameWordAligner()


@registry.misc("test_components.CorpusAligner.v1")
def make_corpus_aligner() -> CorpusAligner:
    return CorpusAligner()


SAME: dict[str, Any] = {"@misc": "test_components.SameWordAligner.v1"}
EN = spacy.blank("en")


def source(text: str, ents: Sequence[tuple[int, int, str]]) -> Doc:
    doc = EN(text)
    doc.ents = [Span(doc, s, e, label=label) for s, e, label in ents]
    return doc


def projection_nlp(aligner: dict[str, Any] = SAME, **projector_cfg: Any) -> Language:
    nlp = spacy.blank("xx")
    nlp.add_pipe("xner_aligner", config={"aligner": aligner})
    nlp.add_pipe("xner_projector", config=projector_cfg)
    nlp.initialize()
    return nlp


def pair(nlp: Language, tgt: str, src: str, ents: Sequence[tuple[int, int, str]]) -> Doc:
    return with_source(nlp.make_doc(tgt), source(src, ents))


def test_aligner_and_projector_project_onto_target_tokens() -> None:
    nlp = projection_nlp(label_map="ontonotes")
    src = "Ada  went to New York on Monday ."  # two spaces: a whitespace token at index 1
    ents = [(0, 1, "PERSON"), (4, 6, "GPE"), (7, 8, "DATE")]
    doc = next(nlp.pipe([pair(nlp, "awon eniyan New York feran Ada Monday .", src, ents)]))
    assert doc._.xner_source[1].is_space
    # token indices, whitespace token skipped: Ada 0->5, New 4->2, York 5->3, Monday 7->6, . 8->7
    assert doc._.xner_alignment == [(0, 5), (4, 2), (5, 3), (7, 6), (8, 7)]
    assert [(e.start, e.end, e.label_) for e in doc.ents] == [(2, 4, "LOC"), (5, 6, "PER")]
    group = doc.spans[DEFAULT_SPANS_KEY]
    assert [(s.text, s.label_) for s in group] == [("New York", "LOC"), ("Ada", "PER")]
    assert group.attrs["scores"].tolist() == [1.0, 1.0]  # alignment Dice, every word linked
    assert group.attrs["source_ents"] == [
        1,
        0,
    ]  # indices into doc._.xner_source.ents (DATE dropped)


def test_projector_options_spans_key_and_set_ents() -> None:
    nlp = projection_nlp(spans_key="proj", set_ents=False)
    doc = pair(nlp, "Ada lo si Lagos lana .", "Ada went to Lagos yesterday .", [(0, 1, "PER")])
    doc.ents = [Span(doc, 3, 4, label="LOC")]  # kept: set_ents is off
    doc = nlp(doc)
    assert [(e.text, e.label_) for e in doc.ents] == [("Lagos", "LOC")]
    assert [(s.text, s.label_) for s in doc.spans["proj"]] == [("Ada", "PER")]
    assert DEFAULT_SPANS_KEY not in doc.spans


def test_candidate_matching_scores_and_ner_spans_from_doc_spans() -> None:
    projector = {
        "@misc": "xner.CandidateMatching.v1",
        "candidates": {"ner": {"@misc": "xner.NerCandidates.v1"}},
        "scores": {"ner": {"@misc": "xner.NerSpanScore.v1"}},
    }
    nlp = projection_nlp(projector=projector, ner_spans_key="ner_proposals")
    doc = pair(nlp, "Ada Obi lo si Lagos", "Ada Obi went to Lagos", [(0, 2, "PER"), (4, 5, "LOC")])
    proposals = [Span(doc, 0, 2, label="PER"), Span(doc, 4, 5, label="LOC")]
    doc.spans["ner_proposals"] = proposals
    doc.spans["ner_proposals"].attrs["scores"] = [0.9, 0.4]
    doc = nlp(doc)
    group = doc.spans[DEFAULT_SPANS_KEY]
    assert [(s.start, s.end, s.label_) for s in group] == [(0, 2, "PER"), (4, 5, "LOC")]
    assert group.attrs["scores"].tolist() == pytest.approx([0.9, 0.4])  # the matcher's scores
    assert group.attrs["source_ents"] == [0, 1]


def test_missing_source_or_alignment_is_a_clear_error() -> None:
    nlp = projection_nlp()
    with pytest.raises(ValueError, match="xner_source"):
        nlp("Ada lo si Lagos")
    only_projector = spacy.blank("xx")
    only_projector.add_pipe("xner_projector")
    doc = pair(only_projector, "Ada lo", "Ada went", [(0, 1, "PER")])
    with pytest.raises(ValueError, match="add the 'xner_aligner' component"):
        only_projector(doc)


def test_corpus_aligner_aligns_each_pipe_batch_as_one_corpus() -> None:
    nlp = projection_nlp(aligner={"@misc": "test_components.CorpusAligner.v1"})
    docs = [pair(nlp, f"Ada lo {k}", f"Ada went {k}", [(0, 1, "PER")]) for k in range(5)]
    with pytest.raises(ValueError, match="cannot align one Doc on its own"):
        nlp(docs[0])
    CorpusAligner.corpus_sizes.clear()
    out = list(nlp.pipe(docs, batch_size=3))
    assert CorpusAligner.corpus_sizes == [3, 2]
    assert [d._.xner_alignment for d in out] == [[(0, 0), (2, 2)]] * 5
    assert all([e.text for e in d.ents] == ["Ada"] for d in out)


def test_statistical_aligner_through_pipe() -> None:
    pytest.importorskip("systran_align")
    nlp = projection_nlp(aligner={"@misc": "xner.FastAlignAligner.v1"})
    names = ["Ada", "Bola", "Chidi", "Ngozi"]
    docs = [
        pair(nlp, f"{n} lo si Lagos lana .", f"{n} went to Lagos yesterday .", [(0, 1, "PER")])
        for n in names * 5
    ]
    out = list(nlp.pipe(docs, batch_size=20))
    for doc in out:
        n_src = len(doc._.xner_source)
        assert all(0 <= i < n_src and 0 <= j < len(doc) for i, j in doc._.xner_alignment)
        assert all(e.label_ == "PER" for e in doc.ents)


def test_pipeline_evaluates_and_round_trips(tmp_path: Path) -> None:
    nlp = projection_nlp()
    nlp.to_disk(tmp_path / "p")
    loaded = spacy.load(tmp_path / "p")
    assert loaded.pipe_names == ["xner_aligner", "xner_projector"]
    doc = pair(loaded, "Ada lo si Lagos", "Ada went to Lagos", [(0, 1, "PER"), (3, 4, "LOC")])
    gold = Doc(loaded.vocab, words=[t.text for t in doc], ents=["B-PER", "O", "O", "O"])
    scores = loaded.evaluate([Example(doc, gold)])
    assert scores["ents_r"] == 1.0 and scores["ents_p"] == 0.5


@pytest.mark.parametrize("layer", [1, 2])
def test_tiny_softmax_aligner_is_batch_invariant_and_valid(tiny_xlmr_dir: Path, layer: int) -> None:
    aligner = {
        "@misc": "xner.SoftmaxAligner.v1",
        "model": str(tiny_xlmr_dir),
        "layer": layer,
        "device": "cpu",
    }
    nlp = projection_nlp(aligner=aligner)
    texts = [
        ("Ada lo si Lagos lana .", "Ada went to Lagos yesterday .", [(0, 1, "PER"), (3, 4, "LOC")]),
        ("a ri Zoë ati Bola loni !", "we saw Zoë and Bola today !", [(2, 3, "PER"), (4, 5, "PER")]),
        ("awọn eniyan Kraków fẹran Ngozi .", "the people of Kraków like Ngozi .", [(3, 4, "LOC")]),
    ]
    one_by_one = [nlp(pair(nlp, *t)) for t in texts]
    batched = list(nlp.pipe([pair(nlp, *t) for t in texts], batch_size=2))
    for a, b in zip(one_by_one, batched, strict=True):
        assert a._.xner_alignment == b._.xner_alignment
        assert a._.xner_alignment  # random weights, but short sentences link somewhere
        assert [(e.start, e.end, e.label_) for e in a.ents] == [
            (e.start, e.end, e.label_) for e in b.ents
        ]
        n_src = len(a._.xner_source)
        assert all(0 <= i < n_src and 0 <= j < len(a) for i, j in a._.xner_alignment)
        assert {e.label_ for e in a.ents} <= {"PER", "LOC"}
        group = a.spans[DEFAULT_SPANS_KEY]
        assert len(group.attrs["scores"]) == len(group) == len(a.ents)
        assert all(s > 0 for s in group.attrs["scores"])
