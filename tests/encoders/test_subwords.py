from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from xner_spacy.encoders.subwords import (
    SequenceTooLongError,
    encode_words,
    first_subwords,
    group_by_word,
    length_sorted_batches,
    max_sequence_length,
)

pytestmark = pytest.mark.usefixtures("hf_offline")

WORDS = ["José", "fue", "a", "São", "Paulo", "naïvement", "", "U.S.", "Zürich", "."]


def _tokenizer(path: Path) -> object:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(path)


@pytest.fixture(scope="module", params=["xlmr", "bert"])
def tokenizer(request: pytest.FixtureRequest) -> object:
    return _tokenizer(request.getfixturevalue(f"tiny_{request.param}_dir"))


def test_group_by_word_exact() -> None:
    word_ids = [None, 0, 0, 2, 2, 2, None, None]
    assert group_by_word(word_ids, 4) == [[1, 2], [], [3, 4, 5], []]
    assert first_subwords(word_ids, 4) == [1, None, 3, None]
    assert group_by_word([None, None], 0) == []
    with pytest.raises(ValueError, match="out of range"):
        group_by_word([None, 3], 2)


def test_each_word_gets_exactly_its_own_subwords(tokenizer: object) -> None:
    """Same pieces as tokenising the word alone; SentencePiece/WordPiece markers in place."""
    pieces = encode_words(tokenizer, [WORDS, ["Ada"]])
    ids = pieces.input_ids[0].tolist()
    family = type(tokenizer).__name__
    for word, group in zip(WORDS, pieces.groups(0), strict=True):
        alone = tokenizer.tokenize(word)  # type: ignore[attr-defined]
        assert [ids[p] for p in group] == tokenizer.convert_tokens_to_ids(alone), word  # type: ignore[attr-defined]
        assert group == list(range(group[0], group[0] + len(group))) if group else True
        if alone and family.startswith("XLMRoberta"):
            assert alone[0].startswith("▁")
        if alone and family.startswith("Bert") and word.isalpha():
            assert not alone[0].startswith("##") and all(t.startswith("##") for t in alone[1:])
    assert pieces.groups(0)[WORDS.index("")] == []  # a word without sub-tokens
    assert pieces.n_words == [len(WORDS), 1] and pieces.n_truncated == [0, 0]
    # Special tokens and padding belong to no word.
    index = pieces.word_index.tolist()
    assert index[0][0] == -1 and index[1][0] == -1
    assert index[1][pieces.groups(1)[0][-1] + 1 :] == [-1] * (
        len(index[1]) - pieces.groups(1)[0][-1] - 1
    )
    assert pieces.attention_mask[1].sum() == len(pieces.groups(1)[0]) + 2


def test_bert_normaliser_drops_zero_width_space(tiny_bert_dir: Path) -> None:
    pieces = encode_words(_tokenizer(tiny_bert_dir), [["Ada", "\u200b", "Lagos"]])
    groups = pieces.groups(0)
    assert groups[1] == [] and groups[0] and groups[2]
    assert pieces.first_subwords(0) == [groups[0][0], None, groups[2][0]]


def test_empty_sentence(tokenizer: object) -> None:
    pieces = encode_words(tokenizer, [[], ["Ada"]])
    assert pieces.groups(0) == [] and pieces.n_words == [0, 1]
    none = encode_words(tokenizer, [])
    assert len(none) == 0 and none.input_ids.shape == (0, 0)


def test_overflow_is_an_error_or_a_documented_cut(tokenizer: object) -> None:
    words = ["naïvement", "Zürich", "São", "Paulo", "José", "Ada"] * 2
    lengths = [len(tokenizer.tokenize(w)) for w in words]  # type: ignore[attr-defined]
    limit = 12
    with pytest.raises(SequenceTooLongError, match="sentence 1 .* on_overflow") as err:
        encode_words(tokenizer, [["Ada"], words], max_length=limit)
    assert err.value.index == 1
    pieces = encode_words(tokenizer, [["Ada"], words], max_length=limit, on_overflow="truncate")
    kept, total = 0, 0
    for n in lengths:
        if total + n > limit - 2:
            break
        total, kept = total + n, kept + 1
    groups = pieces.groups(1)
    assert [len(g) for g in groups[:kept]] == lengths[:kept]
    assert len(groups[kept]) == limit - 2 - total  # the word cut in the middle keeps its start
    assert all(g == [] for g in groups[kept + 1 :])
    assert pieces.n_truncated == [0, len(words) - kept]
    assert pieces.input_ids.shape[1] == limit
    with pytest.raises(ValueError, match="on_overflow"):
        encode_words(tokenizer, [words], on_overflow="drop")


def test_slow_tokenizer_is_refused(tiny_bert_dir: Path) -> None:
    from transformers import BertTokenizer

    with pytest.raises(TypeError, match="not a fast tokenizer"):
        encode_words(BertTokenizer.from_pretrained(tiny_bert_dir), [["Ada"]])


def test_max_sequence_length(tiny_xlmr_dir: Path, tiny_bert_dir: Path) -> None:
    from transformers import AutoConfig

    for path in (tiny_xlmr_dir, tiny_bert_dir):
        assert max_sequence_length(_tokenizer(path), AutoConfig.from_pretrained(path)) == 512
    unbounded = SimpleNamespace(model_max_length=int(1e30))
    roberta = SimpleNamespace(model_type="xlm-roberta", max_position_embeddings=514, pad_token_id=1)
    assert max_sequence_length(unbounded, roberta) == 512
    assert max_sequence_length(unbounded) is None
    assert max_sequence_length(SimpleNamespace(model_max_length=128), roberta) == 128


def test_length_sorted_batches() -> None:
    sents = [["a"], ["a", "b", "c"], [], ["ab", "c"], ["abcd"]]
    batches = list(length_sorted_batches(sents, 2))
    assert [len(b) for b in batches] == [2, 2, 1]
    assert sorted(k for b in batches for k in b) == list(range(5))
    assert batches[-1] == [2]  # the empty sentence comes last
    with pytest.raises(ValueError):
        list(length_sorted_batches(sents, 0))
