"""Tag sets, their grammar, distribution mapping and constrained Viterbi decoding."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from xner_spacy.distill.tag_sets import TagSet, convert_distribution, soften
from xner_spacy.distill.viterbi import constrained_viterbi


def decode(tagset: TagSet, scores: np.ndarray) -> np.ndarray:
    return constrained_viterbi(scores, *tagset.transitions())


def test_tagset_columns_and_grammar() -> None:
    biluo = TagSet(("LOC", "PER"))
    assert biluo.tags == (
        "O",
        "B-LOC",
        "I-LOC",
        "L-LOC",
        "U-LOC",
        "B-PER",
        "I-PER",
        "L-PER",
        "U-PER",
    )
    ids = [biluo.index(t) for t in ["U-PER", "O", "B-LOC", "I-LOC", "L-LOC"]]
    assert biluo.is_valid(ids)
    assert biluo.spans(ids) == [(0, 1, "PER"), (2, 5, "LOC")]
    for bad in (["I-PER"], ["B-PER"], ["B-PER", "L-LOC"], ["U-PER", "L-PER"], ["B-LOC", "O"]):
        assert not biluo.is_valid([biluo.index(t) for t in bad]), bad
    bio = TagSet(("PER",), "BIO")
    assert bio.tags == ("O", "B-PER", "I-PER")
    assert bio.is_valid([1, 2, 1, 0])
    assert not bio.is_valid([0, 2])
    assert bio.spans([1, 2, 1, 0, 1]) == [(0, 2, "PER"), (2, 3, "PER"), (4, 5, "PER")]
    assert bio.from_biluo(["U-PER", "B-PER", "L-PER", None, "U-ORG"]) == [1, 1, 2, None, 0]
    with pytest.raises(ValueError, match="scheme"):
        TagSet(("PER",), "IOB1")


def test_viterbi_repairs_an_invalid_argmax() -> None:
    tagset = TagSet(("PER",))
    probs = np.full((3, 5), 0.01)
    probs[:, tagset.index("I-PER")] = 0.9  # the argmax I I I is invalid
    probs[0, tagset.index("B-PER")] = 0.5
    probs[2, tagset.index("L-PER")] = 0.5
    path = decode(tagset, np.log(probs))
    assert [tagset.tags[k] for k in path] == ["B-PER", "I-PER", "L-PER"]
    assert decode(tagset, np.zeros((0, 5))).shape == (0,)


def brute_force(tagset: TagSet, scores: np.ndarray) -> float:
    """The best total score over all valid sequences (small inputs only)."""
    best = -np.inf
    for seq in itertools.product(range(len(tagset)), repeat=scores.shape[0]):
        if tagset.is_valid(seq):
            best = max(best, float(scores[np.arange(len(seq)), list(seq)].sum()))
    return best


finite = st.floats(-20, 20, allow_nan=False, allow_infinity=False)


@settings(max_examples=150, deadline=None)
@given(
    data=st.data(),
    n_labels=st.integers(1, 3),
    scheme=st.sampled_from(["BILUO", "BIO"]),
    n=st.integers(0, 12),
)
def test_viterbi_never_emits_an_invalid_sequence(
    data: st.DataObject, n_labels: int, scheme: str, n: int
) -> None:
    tagset = TagSet(tuple(f"L{k}" for k in range(n_labels)), scheme)
    elements = st.one_of(finite, st.just(-np.inf), st.just(np.nan))
    scores = data.draw(arrays(np.float64, (n, len(tagset)), elements=elements))
    path = decode(tagset, scores)
    assert path.shape == (n,)
    assert tagset.is_valid(path)


@settings(max_examples=60, deadline=None)
@given(data=st.data(), scheme=st.sampled_from(["BILUO", "BIO"]), n=st.integers(1, 4))
def test_viterbi_finds_the_best_valid_sequence(data: st.DataObject, scheme: str, n: int) -> None:
    tagset = TagSet(("A",), scheme)
    scores = data.draw(arrays(np.float64, (n, len(tagset)), elements=finite))
    path = decode(tagset, scores)
    total = float(scores[np.arange(n), path].sum())
    assert total == pytest.approx(brute_force(tagset, scores))


def test_convert_bio_to_biluo_uses_the_next_token() -> None:
    src = ["O", "B-PER", "I-PER", "B-MISC", "I-MISC"]
    probs = np.array(
        [
            [0.0, 1.0, 0.0, 0.0, 0.0],  # B-PER followed by I-PER (0.6): B 0.6, U 0.4
            [0.2, 0.0, 0.6, 0.2, 0.0],  # I-PER, last token: all L-PER; MISC → O
        ]
    )
    dst = TagSet(("PER",))
    out = convert_distribution(probs, src, dst)
    assert out.shape == (2, 5)
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-6)
    row0 = dict(zip(dst.tags, out[0], strict=True))
    assert row0["B-PER"] == pytest.approx(0.6) and row0["U-PER"] == pytest.approx(0.4)
    row1 = dict(zip(dst.tags, out[1], strict=True))
    assert row1["L-PER"] == pytest.approx(0.6) and row1["O"] == pytest.approx(0.4)


def test_convert_with_label_map_and_to_bio() -> None:
    src = ["O", "B-PERSON", "I-PERSON", "L-PERSON", "U-PERSON", "U-GPE"]
    probs = np.array([[0.1, 0.2, 0.1, 0.1, 0.3, 0.2]])
    dst = TagSet(("LOC", "PER"), "BIO")
    out = convert_distribution(probs, src, dst, {"PERSON": "PER", "GPE": "LOC"})
    got = dict(zip(dst.tags, out[0], strict=True))
    assert got == pytest.approx({"O": 0.1, "B-LOC": 0.2, "I-LOC": 0.0, "B-PER": 0.5, "I-PER": 0.2})


def test_soften_is_a_tempered_softmax() -> None:
    logits = np.array([[2.0, 1.0, 0.0]])
    p = soften(np.exp(logits) / np.exp(logits).sum(), 2.0)
    expected = np.exp(logits / 2) / np.exp(logits / 2).sum()
    np.testing.assert_allclose(p, expected, rtol=1e-5)
    assert soften(p, 1.0).sum() == pytest.approx(1.0)
