"""Neural aligners on tiny random-weight models: structure, determinism, batching, errors."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from spacy.util import registry

from xner_spacy.alignment.neural_aligners import SimAlignAligner, SoftmaxAligner
from xner_spacy.encoders.hub_loading import ModelNotFoundError
from xner_spacy.encoders.subword_embedder import SubwordEmbedder
from xner_spacy.encoders.subwords import SequenceTooLongError

pytestmark = pytest.mark.usefixtures("hf_offline")

SRC = [
    ["José", "fue", "a", "São", "Paulo", "ayer", "."],
    ["Ada", "went", "to", "Lagos", "\u200b", "", "yesterday", "."],
    [],
    ["naïve", "café", "owners", "in", "Zürich", "met", "Zoë", "."],
    ["a"],
]
TGT = [
    ["José", "est", "allé", "à", "São", "Paulo", "hier", "."],
    ["Ada", "lọ", "si", "Lagos", "lana", "."],
    ["x"],
    ["Zoë", "a", "rencontré", "des", "cafetiers", "à", "Zürich", "."],
    [],
]

CONFIGS = {
    "softmax": lambda m, **kw: SoftmaxAligner(m, layer=2, device="cpu", **kw),
    "simalign-bpe-itermax": lambda m, **kw: SimAlignAligner(m, layer=1, device="cpu", **kw),
    "simalign-word-match": lambda m, **kw: SimAlignAligner(
        m, layer=2, method="match", token_type="word", device="cpu", **kw
    ),
    "simalign-bpe-argmax": lambda m, **kw: SimAlignAligner(
        m, layer=2, method="argmax", distortion=0.5, device="cpu", **kw
    ),
}


@pytest.fixture(scope="module", params=["xlmr", "bert"])
def model_dir(request: pytest.FixtureRequest) -> Path:
    return request.getfixturevalue(f"tiny_{request.param}_dir")


def _valid(links: list[list[tuple[int, int]]], src: list, tgt: list) -> None:
    assert len(links) == len(src)
    for pairs, s, t in zip(links, src, tgt, strict=True):
        assert pairs == sorted(set(pairs))
        assert all(0 <= i < len(s) and 0 <= j < len(t) for i, j in pairs)
        assert all(isinstance(i, int) and isinstance(j, int) for i, j in pairs)


@pytest.mark.parametrize("config", sorted(CONFIGS))
def test_links_are_valid_deterministic_and_batch_independent(config: str, model_dir: Path) -> None:
    one_by_one = CONFIGS[config](str(model_dir), batch_size=1).align(SRC, TGT)
    _valid(one_by_one, SRC, TGT)
    assert one_by_one[2] == [] and one_by_one[4] == []  # empty side, no links
    assert all(one_by_one[k] for k in (0, 1, 3))
    batched = CONFIGS[config](str(model_dir), batch_size=8)
    assert batched.align(SRC, TGT) == one_by_one
    # Extra parallel text is accepted and ignored: pretrained encoders learn nothing from it.
    assert batched.align(SRC, TGT, extra_src=SRC, extra_tgt=TGT) == one_by_one


def test_words_without_subwords_get_no_links(tiny_bert_dir: Path) -> None:
    # BERT's normaliser deletes the zero-width space (word 4); word 5 is empty.
    for config in CONFIGS.values():
        links = config(str(tiny_bert_dir)).align(SRC[1:2], TGT[1:2])[0]
        assert not any(i in (4, 5) for i, _ in links)


def test_identical_sentences_align_mostly_diagonally(model_dir: Path) -> None:
    sents = [s for s in SRC if s]
    links = SoftmaxAligner(str(model_dir), layer=2, device="cpu").align(sents, sents)
    diagonal = [(i, i) for s in sents for i, w in enumerate(s) if w.strip("\u200b")]
    found = {(k, i, j) for k, pairs in enumerate(links) for i, j in pairs}
    on_diagonal = sum((k, i, i) in found for k, s in enumerate(sents) for i in range(len(s)))
    assert on_diagonal >= 0.8 * len(diagonal)
    assert on_diagonal >= 0.5 * len(found)


def test_embedder_drops_unused_layers_without_changing_the_output(tiny_xlmr_dir: Path) -> None:
    import torch
    from transformers import AutoModel

    embedder = SubwordEmbedder(str(tiny_xlmr_dir), layer=1, device="cpu")
    hidden, pieces = embedder.embed(SRC[:2])
    assert len(embedder._model.encoder.layer) == 1
    full = AutoModel.from_pretrained(tiny_xlmr_dir).eval()
    with torch.no_grad():
        expected = full(**pieces.model_inputs(), output_hidden_states=True).hidden_states[1]
    assert torch.allclose(hidden, expected, atol=1e-6)


def test_layer_out_of_range_is_a_clear_error(tiny_xlmr_dir: Path) -> None:
    with pytest.raises(ValueError, match="layer 8 is out of range: .* has 2 layers"):
        SoftmaxAligner(str(tiny_xlmr_dir), device="cpu").align([["a"]], [["b"]])


def test_over_long_sentence_error_names_the_pair(tiny_xlmr_dir: Path) -> None:
    long = ["naïvement"] * 20
    src, tgt = [["a"], ["Ada"]], [["b"], long]
    aligner = SoftmaxAligner(str(tiny_xlmr_dir), layer=1, device="cpu", max_length=16)
    with pytest.raises(SequenceTooLongError, match="pair 1, target side"):
        aligner.align(src, tgt)
    cut = SoftmaxAligner(
        str(tiny_xlmr_dir), layer=1, device="cpu", max_length=16, on_overflow="truncate"
    ).align(src, tgt)
    _valid(cut, src, tgt)
    assert all(j < 3 for _, j in cut[1])  # 14 sub-tokens fit: words 0-1 whole, word 2 in part


def test_uncached_hub_name_fails_fast_with_a_helpful_message() -> None:
    # Warm the lazy imports: what is timed is the failure, not importing transformers.
    from transformers import AutoModel, AutoTokenizer  # noqa: F401

    start = time.monotonic()
    with pytest.raises(ModelNotFoundError, match="set the config's model option to a local"):
        SimAlignAligner("xner-test/no-such-model", device="cpu").align([["a"]], [["b"]])
    with pytest.raises(ModelNotFoundError, match="not a directory"):
        SoftmaxAligner("./no/such/dir", device="cpu").align([["a"]], [["b"]])
    assert time.monotonic() - start < 5


def test_argument_checks() -> None:
    with pytest.raises(ValueError, match="method"):
        SimAlignAligner("m", method="mwmf")
    with pytest.raises(ValueError, match="token_type"):
        SimAlignAligner("m", token_type="char")
    with pytest.raises(ValueError, match="threshold"):
        SoftmaxAligner("m", threshold=1.0)
    with pytest.raises(ValueError, match="batch_size"):
        SoftmaxAligner("m", batch_size=0)
    with pytest.raises(ValueError, match="2 sentences"):
        SoftmaxAligner("m").align([["a"], ["b"]], [["c"]])


def test_registered_aligners_resolve(tiny_xlmr_dir: Path) -> None:
    for name, extra in (
        ("xner.SoftmaxAligner.v1", {"threshold": 0.01}),
        ("xner.SimAlignAligner.v1", {"method": "argmax", "token_type": "word"}),
    ):
        block = {"@misc": name, "model": str(tiny_xlmr_dir), "layer": 1, "device": "cpu", **extra}
        aligner = registry.resolve({"a": block})["a"]
        _valid(aligner.align(SRC, TGT), SRC, TGT)
