"""Corpus-level passes: supported fallback, name propagation, their order and streaming."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xner_spacy.projection.corpus_passes import (
    SECTIONS,
    CorpusPass,
    LabelVote,
    NamePropagation,
    SupportedFallback,
    passes_from,
    run_passes,
)
from xner_spacy.projection.heuristic_projection import HeuristicProjector
from xner_spacy.projection.label_consistency import LabelConsistency
from xner_spacy.types import Entity, PairRecord


def rec(
    tgt: str,
    tgt_ents: Sequence[tuple[int, int, str]] | None = (),
    *,
    src: str | None = None,
    src_ents: Sequence[tuple[int, int, str]] = (),
    alignment: Sequence[tuple[int, int]] | None = None,
    ner_spans: Sequence[Sequence[Any]] | None = None,
    id: str | None = None,
) -> PairRecord:
    """A pair record; ``src`` defaults to ``tgt`` and ``alignment`` to the diagonal."""
    src = tgt if src is None else src
    if alignment is None:
        alignment = [(i, i) for i in range(min(len(src.split()), len(tgt.split())))]
    meta = {"ner_spans": [list(s) for s in ner_spans]} if ner_spans is not None else {}
    return PairRecord(
        id=id or tgt,
        src_lang="en",
        tgt_lang="xx",
        src_words=src.split(),
        tgt_words=tgt.split(),
        src_ents=[Entity(*e) for e in src_ents],
        alignment=list(alignment),
        tgt_ents=None if tgt_ents is None else [Entity(*e) for e in tgt_ents],
        meta=meta,
    )


def tgt(records: Sequence[PairRecord]) -> list[list[tuple[int, int, str]]]:
    return [[tuple(e) for e in r.tgt_ents or ()] for r in records]  # type: ignore[misc]


# --- name propagation ---------------------------------------------------------------------------


def test_propagation_marks_other_occurrences_with_the_majority_label() -> None:
    records = [
        rec("Otunnu yogedde", [(0, 1, "PER")]),
        rec("Otunnu agenze", [(0, 1, "PER")]),
        rec("Otunnu Ltd", [(0, 1, "ORG")]),
        rec("ssaawa Otunnu ali wano", []),
        rec("wano", []),
    ]
    # 3 of 4 occurrences projected (0.75 >= 0.5), 3 times (>= 2): PER (2 votes) beats ORG (1)
    assert run_passes(records, [NamePropagation()]) == {"propagation": 1}
    assert tgt(records) == [
        [(0, 1, "PER")],
        [(0, 1, "PER")],
        [(0, 1, "ORG")],  # an occurrence already projected keeps its own label
        [(1, 2, "PER")],
        [],
    ]


def test_propagation_label_ties_go_to_the_larger_label_name() -> None:
    records = [
        rec("Kato a", [(0, 1, "ORG")]),
        rec("Kato b", [(0, 1, "PER")]),
        rec("c Kato", []),
    ]
    assert NamePropagation().count(lambda: records) == {"kato": "PER"}
    run_passes(records, [NamePropagation()])
    assert tgt(records)[2] == [(1, 2, "PER")]


def test_propagation_fills_a_record_without_tgt_ents() -> None:
    records = [rec("Otunnu a", [(0, 1, "PER")]), rec("Otunnu b", [(0, 1, "PER")])]
    records.append(rec("x Otunnu", None))
    assert run_passes(records, [NamePropagation()]) == {"propagation": 1}
    assert records[2].tgt_ents == [Entity(1, 2, "PER")]


def _share_corpus() -> list[PairRecord]:
    # "Otunnu" occurs 5 times (twice in one sentence) and was projected twice: share 0.4
    return [
        rec("Otunnu yogedde", [(0, 1, "PER")]),
        rec("Otunnu agenze", [(0, 1, "PER")]),
        rec("Otunnu ne Otunnu", []),
        rec("ye Otunnu", []),
    ]


@pytest.mark.parametrize(
    ("min_share", "expected"),
    [
        (0.5, [[(0, 1, "PER")], [(0, 1, "PER")], [], []]),
        (0.41, [[(0, 1, "PER")], [(0, 1, "PER")], [], []]),
        (0.4, [[(0, 1, "PER")], [(0, 1, "PER")], [(0, 1, "PER"), (2, 3, "PER")], [(1, 2, "PER")]]),
        (0.0, [[(0, 1, "PER")], [(0, 1, "PER")], [(0, 1, "PER"), (2, 3, "PER")], [(1, 2, "PER")]]),
    ],
)
def test_propagation_min_share(min_share: float, expected: list) -> None:
    records = _share_corpus()
    changed = run_passes(records, [NamePropagation(min_share=min_share)])
    assert tgt(records) == expected
    assert changed == {"propagation": sum(map(len, expected)) - 2}


@pytest.mark.parametrize(("min_count", "added"), [(1, 1), (2, 0)])
def test_propagation_min_count(min_count: int, added: int) -> None:
    records = [rec("Otunnu yogedde", [(0, 1, "PER")]), rec("ye Otunnu", [])]
    # share 1 of 2 = 0.5, projected once
    assert run_passes(records, [NamePropagation(min_count=min_count)]) == {"propagation": added}
    assert tgt(records)[1] == [(1, 2, "PER")] * added


def test_propagation_never_touches_an_occurrence_inside_or_across_an_entity() -> None:
    records = [
        rec("Otunnu Olara a", [(0, 2, "PER")]),
        rec("Otunnu Olara b", [(0, 2, "PER")]),
        rec("Otunnu c", [(0, 1, "PER")]),
        rec("Otunnu d", [(0, 1, "PER")]),
        rec("x Otunnu Olara", [(0, 2, "LOC")]),  # "otunnu olara" partly covered
        rec("Ms Otunnu Olara e", [(0, 3, "ORG")]),  # both names inside a longer entity
        rec("Otunnu", [(0, 1, "LOC")]),  # the same span with another label
    ]
    prop = NamePropagation(min_share=0.0)
    assert prop.count(lambda: records) == {"otunnu olara": "PER", "otunnu": "PER"}
    before = tgt(records)
    assert run_passes(records, [prop]) == {"propagation": 0}
    assert tgt(records) == before


def test_propagation_matches_longest_names_first() -> None:
    records = [
        rec("new york is big", [(0, 2, "LOC")]),
        rec("in new york", [(1, 3, "LOC")]),
        rec("york came", [(0, 1, "PER")]),
        rec("york left", [(0, 1, "PER")]),
        rec("new york york", []),
    ]
    prop = NamePropagation(min_share=0.3)
    # "new york": 2 of 3 occurrences; "york": 2 of 6 (its occurrences inside "new york" count)
    assert prop.count(lambda: records) == {"new york": "LOC", "york": "PER"}
    assert run_passes(records, [prop]) == {"propagation": 2}
    assert tgt(records)[4] == [(0, 2, "LOC"), (2, 3, "PER")]
    assert tgt(records)[:4] == [[(0, 2, "LOC")], [(1, 3, "LOC")], [(0, 1, "PER")], [(0, 1, "PER")]]


@pytest.mark.parametrize(("max_len", "added"), [(2, 0), (3, 1), (10, 1)])
def test_propagation_max_len(max_len: int, added: int) -> None:
    records = [
        rec("Bank of Uganda a", [(0, 3, "ORG")]),
        rec("b Bank of Uganda", [(1, 4, "ORG")]),
        rec("Bank of Uganda", []),
    ]
    prop = NamePropagation(max_len=max_len)
    assert len(prop.count(lambda: records)) == added
    assert run_passes(records, [prop]) == {"propagation": added}
    assert tgt(records)[2] == [(0, 3, "ORG")] * added


@pytest.mark.parametrize(("lowercase", "expected"), [(True, [(0, 1, "PER")]), (False, [])])
def test_propagation_lowercase(lowercase: bool, expected: list) -> None:
    records = [
        rec("Otunnu a", [(0, 1, "PER")]),
        rec("Otunnu b", [(0, 1, "PER")]),
        rec("OTUNNU c", []),
        rec("otunnu", []),
    ]
    # lowercased: 2 of 4 occurrences (0.5); case-sensitive: 2 of 2, but no other occurrence
    assert run_passes(records, [NamePropagation(lowercase=lowercase)]) == {
        "propagation": 2 * len(expected)
    }
    assert tgt(records)[2:] == [expected, expected]


def test_propagation_labels_restrict_what_propagates() -> None:
    def corpus() -> list[PairRecord]:
        return [
            rec("Otunnu Kampala", [(0, 1, "PER"), (1, 2, "LOC")]),
            rec("Otunnu Kampala", [(0, 1, "PER"), (1, 2, "LOC")]),
            rec("Kampala Otunnu", []),
        ]

    records = corpus()
    assert run_passes(records, [NamePropagation(labels=["PER"])]) == {"propagation": 1}
    assert tgt(records)[2] == [(1, 2, "PER")]
    records = corpus()
    assert run_passes(records, [NamePropagation()]) == {"propagation": 2}
    assert tgt(records)[2] == [(0, 1, "LOC"), (1, 2, "PER")]


@pytest.mark.parametrize(
    "kwargs",
    [{"min_share": -0.1}, {"min_share": 1.5}, {"min_count": 0}, {"max_len": 0}],
)
def test_propagation_bad_settings_are_refused(kwargs: dict) -> None:
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        NamePropagation(**kwargs)


def test_propagation_apply_returns_the_entities_it_added() -> None:
    records = [
        rec("Otunnu ne Kato", [(0, 1, "PER"), (2, 3, "PER")]),
        rec("Kato ne Otunnu", [(0, 1, "PER"), (2, 3, "PER")]),
        rec("Otunnu Kato Otunnu", []),
        rec("Kato", [(0, 1, "ORG")]),
    ]
    prop = NamePropagation(min_share=0.0)
    stats = prop.count(lambda: records)
    assert stats == {"otunnu": "PER", "kato": "PER"}
    sizes = [len(r.tgt_ents or ()) for r in records]
    counts = [prop.apply(r, stats) for r in records]
    assert counts == [0, 0, 3, 0]
    assert counts == [len(r.tgt_ents or ()) - n for r, n in zip(records, sizes, strict=True)]
    assert prop.apply(rec("Otunnu", []), {}) == 0


def test_propagation_names_whose_token_holds_a_space() -> None:
    # tokenisers may keep "New York" as one token: the name is one word, not two
    def one_token(words: list[str], ents: list[tuple[int, int, str]]) -> PairRecord:
        r = rec("x", ents)
        r.src_words = r.tgt_words = words
        r.alignment = [(i, i) for i in range(len(words))]
        return r

    records = [
        one_token(["in", "New York", "today"], [(1, 2, "LOC")]),
        one_token(["New York", "again"], [(0, 1, "LOC")]),
        one_token(["to", "New York"], []),
        one_token(["New", "York"], []),  # two tokens: a different name
    ]
    prop = NamePropagation(min_share=0.5)
    stats = prop.count(lambda: records)
    assert stats == {"new york": "LOC"}
    assert [prop.apply(r, stats) for r in records] == [0, 0, 1, 0]
    assert records[2].tgt_ents == [Entity(1, 2, "LOC")] and records[3].tgt_ents == []


# --- supported fallback -----------------------------------------------------------------------


def _fallback_corpus() -> list[PairRecord]:
    return [
        # the first projector missed Bola (second entity)
        rec(
            "Ada ri Bola",
            [(0, 1, "PER")],
            src="Ada met Bola",
            src_ents=[(0, 1, "PER"), (2, 3, "PER")],
        ),
        # ... but projected BOLA here: "bola" is supported by the corpus
        rec("BOLA wa", [(0, 1, "PER")], src="BOLA came", src_ents=[(0, 1, "PER")]),
        # Chidi was projected nowhere, only proposed by the NER model in the next sentence
        rec("Chidi wa", [], src="Chidi came", src_ents=[(0, 1, "PER")]),
        rec("Chidi lo", [], ner_spans=[[0, 1, "PER", 1.0]]),
        # Femi: neither projected nor proposed anywhere
        rec("Femi wa", [], src="Femi came", src_ents=[(0, 1, "PER")]),
        # the fallback's span (0, 2) overlaps what was projected: never added
        rec("Ada Tolu", [(1, 2, "ORG")], src="Ada Tolu", src_ents=[(0, 2, "PER")]),
        # a LOC that is supported by an NER proposal of the same sentence
        rec("si Kano", [], src="to Kano", src_ents=[(1, 2, "LOC")], ner_spans=[[1, 2, "LOC", 1.0]]),
    ]


BEFORE = [[(0, 1, "PER")], [(0, 1, "PER")], [], [], [], [(1, 2, "ORG")], []]


@pytest.mark.parametrize(
    ("kwargs", "added"),
    [
        ({}, {0: [(2, 3, "PER")], 2: [(0, 1, "PER")], 6: [(1, 2, "LOC")]}),
        ({"ner_support": False}, {0: [(2, 3, "PER")]}),
        ({"lowercase": False}, {2: [(0, 1, "PER")], 6: [(1, 2, "LOC")]}),
        (
            {"support": "none"},
            {0: [(2, 3, "PER")], 2: [(0, 1, "PER")], 4: [(0, 1, "PER")], 6: [(1, 2, "LOC")]},
        ),
        ({"labels": ["PER"]}, {0: [(2, 3, "PER")], 2: [(0, 1, "PER")]}),
        ({"labels": ["LOC"]}, {6: [(1, 2, "LOC")]}),
        ({"labels": ["LOC"], "ner_support": False}, {}),
    ],
)
def test_fallback_adds_free_supported_spans(kwargs: dict, added: dict) -> None:
    records = _fallback_corpus()
    changed = run_passes(records, [SupportedFallback(HeuristicProjector(), **kwargs)])
    expected = [sorted(BEFORE[k] + added.get(k, [])) for k in range(len(BEFORE))]
    assert tgt(records) == expected
    assert changed == {"fallback": sum(map(len, added.values()))}


def test_fallback_support_comes_from_projections_before_the_pass() -> None:
    # Tinubu is re-projected in two sentences but projected in none: no support, no snowball
    records = [
        rec("Tinubu wa", [], src="Tinubu came", src_ents=[(0, 1, "PER")]),
        rec("Tinubu lo", [], src="Tinubu left", src_ents=[(0, 1, "PER")]),
    ]
    assert run_passes(records, [SupportedFallback(HeuristicProjector())]) == {"fallback": 0}
    assert tgt(records) == [[], []]


class FakeProjector:
    """Returns fixed spans (overlapping each other, too); records what it was given."""

    def __init__(self, spans: Sequence[Entity]) -> None:
        self.spans = list(spans)
        self.calls: list[tuple[list[Entity], Mapping[str, Any] | None]] = []

    def __call__(
        self,
        src_words: Sequence[str],
        tgt_words: Sequence[str],
        src_ents: Sequence[Entity],
        alignment: Sequence[tuple[int, int]],
        extras: Mapping[str, Any] | None = None,
    ) -> list[Entity]:
        self.calls.append((list(src_ents), extras))
        return list(self.spans)


def test_fallback_labels_filter_the_source_entities_given_to_the_projector() -> None:
    fake = FakeProjector([Entity(0, 2, "PER"), Entity(1, 3, "LOC"), Entity(3, 4, "ORG")])
    r = rec(
        "a b c d e",
        [(4, 5, "MISC")],
        src="A B C D E",
        src_ents=[(0, 1, "PER"), (1, 2, "MISC"), (2, 3, "ORG")],
        ner_spans=[],
    )
    fallback = SupportedFallback(fake, support="none", labels=["PER", "ORG"])
    assert fallback.labels == ("PER", "ORG")
    assert fallback.apply(r, None) == 2
    assert fake.calls == [([Entity(0, 1, "PER"), Entity(2, 3, "ORG")], r.meta)]
    # (1, 3) overlaps the (0, 2) just added; the existing MISC stays
    assert tgt([r]) == [[(0, 2, "PER"), (3, 4, "ORG"), (4, 5, "MISC")]]
    # no scored source entity: the projector is not called and tgt_ents is left as it was
    empty = rec("a b", None, src="A B", src_ents=[(0, 1, "MISC")])
    assert fallback.apply(empty, None) == 0 and empty.tgt_ents is None
    assert len(fake.calls) == 1


def test_fallback_counts_scored_surfaces() -> None:
    records = _fallback_corpus()
    fallback = SupportedFallback(HeuristicProjector())
    assert fallback.count(lambda: records) == frozenset({"ada", "bola", "tolu", "chidi", "kano"})
    cased = SupportedFallback(HeuristicProjector(), lowercase=False, ner_support=False)
    assert cased.count(lambda: records) == frozenset({"Ada", "BOLA", "Tolu"})
    by_org = SupportedFallback(HeuristicProjector(), labels=["ORG"])
    assert by_org.count(lambda: records) == frozenset({"tolu"})
    assert SupportedFallback(HeuristicProjector(), support="none").count(lambda: records) is None


def test_fallback_refuses_a_bad_support_and_a_record_without_alignment() -> None:
    with pytest.raises(ValueError, match="support must be one of"):
        SupportedFallback(HeuristicProjector(), support="all")
    r = rec("Ada wa", [], src="Ada came", src_ents=[(0, 1, "PER")], id="doc-7:3")
    r.alignment = None
    with pytest.raises(ValueError, match=r"record 'doc-7:3' has no alignment"):
        run_passes([r], [SupportedFallback(HeuristicProjector(), support="none")])


# --- order of the passes ------------------------------------------------------------------------


def test_passes_from_order_and_switches() -> None:
    assert passes_from() == ([], [])
    fallback, propagation = SupportedFallback(HeuristicProjector()), NamePropagation()
    before, after = passes_from(LabelConsistency(), fallback, propagation)
    assert [p.name for p in before] == ["source_vote"]
    assert [p.name for p in after] == ["fallback", "target_vote", "propagation"]
    assert after[0] is fallback and after[2] is propagation  # nothing to scope
    assert isinstance(before[0], LabelVote) and isinstance(after[1], LabelVote)
    assert before[0].consistency is after[1].consistency
    before, after = passes_from(LabelConsistency(source=False), propagation=propagation)
    assert before == [] and [p.name for p in after] == ["target_vote", "propagation"]
    before, after = passes_from(LabelConsistency(target=False), fallback)
    assert [p.name for p in before] == ["source_vote"] and [p.name for p in after] == ["fallback"]
    assert passes_from(LabelConsistency(source=False, target=False)) == ([], [])
    assert SECTIONS == ("consistency", "fallback", "propagation")
    with pytest.raises(ValueError, match="side"):
        LabelVote(LabelConsistency(), "both")


def test_passes_from_labels_fill_unset_labels_only() -> None:
    consistency = LabelConsistency()
    fallback = SupportedFallback(HeuristicProjector())
    propagation = NamePropagation(labels=["LOC"])
    before, after = passes_from(consistency, fallback, propagation, labels=("PER", "ORG"))
    assert before[0].consistency.labels == ("PER", "ORG")  # type: ignore[attr-defined]
    assert after[0].labels == ("PER", "ORG")  # type: ignore[attr-defined]
    assert after[1].consistency.labels == ("PER", "ORG")  # type: ignore[attr-defined]
    assert after[2] is propagation and propagation.labels == ("LOC",)
    # the parts passed in are not changed
    assert consistency.labels is None and fallback.labels is None
    explicit = LabelConsistency(labels=["LOC"])
    before, _ = passes_from(explicit, labels=("PER",))
    assert before[0].consistency is explicit  # type: ignore[attr-defined]


def test_run_passes_in_order_returns_changes_per_pass() -> None:
    records = [
        rec("Otunnu yogedde", [], src="Otunnu spoke", src_ents=[(0, 1, "PER")]),
        rec("Otunnu agenze", [(0, 1, "PER")], src="Otunnu went", src_ents=[(0, 1, "PER")]),
        rec("Otunnu ali wano", [(0, 1, "ORG")], src="Otunnu is here", src_ents=[(0, 1, "ORG")]),
        rec("ssaawa Otunnu", [], src="now", src_ents=[]),
    ]
    before, after = passes_from(
        LabelConsistency(), SupportedFallback(HeuristicProjector()), NamePropagation()
    )
    # source vote: PER 2, ORG 1 -> the ORG source entity becomes PER
    assert run_passes(records, before) == {"source_vote": 1}
    assert [e.label for r in records for e in r.src_ents or ()] == ["PER", "PER", "PER"]
    # fallback adds Otunnu (PER) to the first; the target vote then makes the ORG a PER
    # (PER 2, ORG 1); propagation marks the fourth (3 of 4 occurrences)
    assert run_passes(records, after) == {"fallback": 1, "target_vote": 1, "propagation": 1}
    assert tgt(records) == [[(0, 1, "PER")], [(0, 1, "PER")], [(0, 1, "PER")], [(1, 2, "PER")]]
    assert run_passes(records, []) == {}


# --- property: the passes only add, and keep the target spans well-formed -----------------------


def _spans(draw: st.DrawFn, n: int, labels: Sequence[str]) -> list[Entity]:
    """Sorted, non-overlapping random spans over ``n`` words."""
    cuts = sorted(draw(st.sets(st.integers(0, n), max_size=6)))
    out = []
    for a, b in zip(cuts, cuts[1:], strict=False):
        if b > a and draw(st.booleans()):
            out.append(Entity(a, b, draw(st.sampled_from(labels))))
    return out


@st.composite
def corpora(draw: st.DrawFn) -> list[PairRecord]:
    vocab = st.sampled_from(["Ada", "ada", "Bola", "ri", "ni", "Kano", "."])
    records = []
    for k in range(draw(st.integers(1, 6))):
        src = draw(st.lists(vocab, min_size=1, max_size=7))
        words = draw(st.lists(vocab, min_size=1, max_size=7))
        pairs = st.tuples(st.integers(0, len(src) - 1), st.integers(0, len(words) - 1))
        ner = [[e.start, e.end, e.label, 1.0] for e in _spans(draw, len(words), ["PER", "LOC"])]
        records.append(
            PairRecord(
                id=str(k),
                src_lang="en",
                tgt_lang="xx",
                src_words=src,
                tgt_words=words,
                src_ents=_spans(draw, len(src), ["PER", "ORG", "LOC"]),
                alignment=sorted(set(draw(st.lists(pairs, max_size=12)))),
                tgt_ents=None if draw(st.booleans()) else _spans(draw, len(words), ["PER", "LOC"]),
                meta={"ner_spans": ner} if draw(st.booleans()) else {},
            )
        )
    return records


@settings(max_examples=200, deadline=None)
@given(
    corpora(),
    st.sampled_from(["gf2022", "paper"]),
    st.sampled_from(["corpus", "none"]),
    st.floats(0.0, 1.0),
    st.integers(1, 3),
    st.integers(1, 4),
    st.booleans(),
)
def test_fallback_and_propagation_only_add_well_formed_spans(
    records: list[PairRecord],
    variant: str,
    support: str,
    min_share: float,
    min_count: int,
    max_len: int,
    lowercase: bool,
) -> None:
    before = [list(r.tgt_ents or ()) for r in records]
    src_before = [list(r.src_ents or ()) for r in records]
    passes: list[CorpusPass] = [
        SupportedFallback(
            HeuristicProjector(variant=variant), support=support, lowercase=lowercase
        ),
        NamePropagation(
            min_share=min_share, min_count=min_count, max_len=max_len, lowercase=lowercase
        ),
    ]
    changed = run_passes(records, passes)
    added = 0
    for r, old, src in zip(records, before, src_before, strict=True):
        ents = list(r.tgt_ents or ())
        assert ents == sorted(ents, key=lambda e: (e.start, e.end))
        assert all(0 <= e.start < e.end <= len(r.tgt_words) for e in ents)
        assert all(a.end <= b.start for a, b in zip(ents, ents[1:], strict=False))
        assert set(old) <= set(ents)
        assert r.src_ents == src
        added += len(ents) - len(old)
    assert set(changed) == {"fallback", "propagation"}
    assert all(n >= 0 for n in changed.values())
    assert sum(changed.values()) == added
