"""Sub-word tokenisation of pre-split words, keeping track of which word each sub-token is.

Neural aligners and labellers see sentences as word lists (a record's ``src_words``) but the
models see sub-tokens: SentencePiece pieces (``▁`` marks a word start) or WordPiece pieces
(``##`` marks a continuation). Rather than guess word boundaries from those markers, the words
are given to a *fast* tokenizer with ``is_split_into_words=True`` and its ``word_ids()`` say
which word each sub-token came from, for every tokenizer family alike.

Two cases have defined outcomes here:

* A word can produce **no** sub-token (an empty string, or characters the normaliser deletes
  such as a zero-width space in BERT's). It then has no sub-token positions: aligners give it no
  link and labellers tag it ``O``. Word indices of the other words are unaffected.
* A sentence longer than the model's limit raises :class:`SequenceTooLongError` with
  ``on_overflow="error"`` (the default). With ``"truncate"`` the sentence is cut at the limit:
  words wholly past it have no sub-token positions (so no links, tag ``O``), a word cut in the
  middle keeps its leading sub-tokens, and :attr:`WordPieces.n_truncated` counts the words that
  lost sub-tokens.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

OVERFLOW_MODES = ("error", "truncate")

# Model types whose position ids start after the padding index (fairseq/RoBERTa convention).
_OFFSET_POSITIONS = {"roberta", "xlm-roberta", "xlm-roberta-xl", "camembert", "longformer"}
# Tokenizers without a configured limit report a huge sentinel as model_max_length.
_NO_LIMIT = 10**9


class SequenceTooLongError(ValueError):
    """A sentence has more sub-tokens than the model accepts (and truncation was not asked for).

    ``index`` is the position of the offending sentence in the batch that was encoded.
    """

    def __init__(self, message: str, index: int) -> None:
        super().__init__(message)
        self.index = index


def group_by_word(word_ids: Sequence[int | None], n_words: int) -> list[list[int]]:
    """Sub-token positions of each of ``n_words`` words, from a ``word_ids()`` list.

    ``None`` entries (special tokens, padding) belong to no word; a word without sub-tokens
    gets ``[]``.
    """
    groups: list[list[int]] = [[] for _ in range(n_words)]
    for pos, word in enumerate(word_ids):
        if word is not None:
            if not 0 <= word < n_words:
                raise ValueError(f"word id {word} at position {pos} out of range for {n_words}")
            groups[word].append(pos)
    return groups


def first_subwords(word_ids: Sequence[int | None], n_words: int) -> list[int | None]:
    """Position of each word's first sub-token, or ``None`` for a word without any."""
    return [g[0] if g else None for g in group_by_word(word_ids, n_words)]


def max_sequence_length(tokenizer: Any, config: Any = None) -> int | None:
    """Most sub-tokens (special tokens included) the model takes, or ``None`` if unbounded.

    The smaller of the tokenizer's ``model_max_length`` and the position table of ``config``;
    RoBERTa-family models lose ``pad_token_id + 1`` positions to their position-id offset.
    """
    limits = []
    tok_max = getattr(tokenizer, "model_max_length", None)
    if isinstance(tok_max, int) and 0 < tok_max < _NO_LIMIT:
        limits.append(tok_max)
    n_pos = getattr(config, "max_position_embeddings", None)
    if isinstance(n_pos, int) and n_pos > 0:
        if getattr(config, "model_type", None) in _OFFSET_POSITIONS:
            n_pos -= (getattr(config, "pad_token_id", None) or 0) + 1
        limits.append(n_pos)
    return min(limits) if limits else None


@dataclass
class WordPieces:
    """A padded batch of sub-tokenised sentences and the word index of every position.

    ``word_index[b, p]`` is the word of position ``p`` in sentence ``b``, or ``-1`` for special
    tokens and padding. Tensors are torch tensors; call :meth:`to` to move them to a device.
    """

    input_ids: Any
    attention_mask: Any
    word_index: Any
    word_ids: list[list[int | None]]
    n_words: list[int]
    n_truncated: list[int]

    def __len__(self) -> int:
        return len(self.n_words)

    def to(self, device: Any) -> WordPieces:
        """The same batch with its tensors on ``device``."""
        return WordPieces(
            input_ids=self.input_ids.to(device),
            attention_mask=self.attention_mask.to(device),
            word_index=self.word_index.to(device),
            word_ids=self.word_ids,
            n_words=self.n_words,
            n_truncated=self.n_truncated,
        )

    def model_inputs(self) -> dict[str, Any]:
        """Keyword arguments for the model's forward pass."""
        return {"input_ids": self.input_ids, "attention_mask": self.attention_mask}

    def groups(self, row: int) -> list[list[int]]:
        """Sub-token positions of each word of sentence ``row`` (see :func:`group_by_word`)."""
        return group_by_word(self.word_ids[row], self.n_words[row])

    def first_subwords(self, row: int) -> list[int | None]:
        """First sub-token position of each word of sentence ``row`` (``None``: no sub-token)."""
        return first_subwords(self.word_ids[row], self.n_words[row])


def encode_words(
    tokenizer: Any,
    sentences: Sequence[Sequence[str]],
    max_length: int | None = None,
    on_overflow: str = "error",
) -> WordPieces:
    """Sub-tokenise pre-split sentences with a fast tokenizer into one padded batch.

    ``max_length`` counts special tokens; ``None`` means the tokenizer's ``model_max_length``
    (pass :func:`max_sequence_length` of the model to respect its position table too).
    ``on_overflow``: ``"error"`` raises :class:`SequenceTooLongError` for a longer sentence,
    ``"truncate"`` cuts it (see the module docstring for what the cut words get).
    """
    import torch

    if on_overflow not in OVERFLOW_MODES:
        raise ValueError(f"on_overflow must be one of {OVERFLOW_MODES}, got {on_overflow!r}")
    if not getattr(tokenizer, "is_fast", False):
        raise TypeError(
            f"{type(tokenizer).__name__} is not a fast tokenizer; word-to-sub-token mapping "
            "needs one (load with AutoTokenizer, use_fast=True, and the `tokenizers` package)."
        )
    if max_length is None:
        max_length = max_sequence_length(tokenizer)
    words = [[str(w) for w in sent] for sent in sentences]
    if not words:  # the tokenizer would read [] as one empty sentence, not an empty batch
        empty = torch.zeros((0, 0), dtype=torch.long)
        return WordPieces(empty, empty, empty, [], [], [])
    enc = tokenizer(
        words,
        is_split_into_words=True,
        truncation=max_length is not None,
        max_length=max_length,
        return_overflowing_tokens=max_length is not None,
        padding=True,
        return_tensors="pt",
    )
    # With truncation on, a sentence over the limit continues in extra rows; keep its first.
    if "overflow_to_sample_mapping" in enc:
        sample = enc["overflow_to_sample_mapping"].tolist()
    else:
        sample = list(range(len(words)))
    rows: list[int] = []
    for row, k in enumerate(sample):
        if k == len(rows):
            rows.append(row)
    word_ids = [list(enc.word_ids(r)) for r in rows]
    n_truncated = []
    for k, row in enumerate(rows):
        if row + 1 >= len(sample) or sample[row + 1] != k:
            n_truncated.append(0)
            continue
        if on_overflow == "error":
            raise SequenceTooLongError(
                f"sentence {k} ({len(words[k])} words) has more than {max_length} sub-tokens, "
                'the model\'s limit. Split long sentences, or set on_overflow = "truncate" '
                "to cut them (words past the limit then get no alignment links / the tag O).",
                index=k,
            )
        # The first word of the next row is the first to lose sub-tokens (whole or in part).
        first_lost = next(w for w in enc.word_ids(row + 1) if w is not None)
        n_truncated.append(len(words[k]) - first_lost)
    index = torch.tensor(rows, dtype=torch.long)
    word_index = torch.tensor(
        [[-1 if w is None else w for w in ids] for ids in word_ids], dtype=torch.long
    )
    input_ids = enc["input_ids"][index]
    attention_mask = enc["attention_mask"][index]
    # Drop padding columns that only the discarded overflow rows needed (right padding only).
    width = input_ids.shape[1]
    if getattr(tokenizer, "padding_side", "right") == "right":
        width = int(attention_mask.sum(dim=1).max())
    return WordPieces(
        input_ids=input_ids[:, :width],
        attention_mask=attention_mask[:, :width],
        word_index=word_index[:, :width],
        word_ids=[ids[:width] for ids in word_ids],
        n_words=[len(w) for w in words],
        n_truncated=n_truncated,
    )


def length_sorted_batches(
    sentences: Sequence[Sequence[str]], batch_size: int
) -> Iterator[list[int]]:
    """Indices of ``sentences`` in batches of similar length (less padding), longest first."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    order = sorted(range(len(sentences)), key=lambda k: -sum(len(w) for w in sentences[k]))
    for start in range(0, len(order), batch_size):
        yield order[start : start + batch_size]
