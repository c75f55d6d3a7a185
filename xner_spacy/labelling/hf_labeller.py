"""Source-language labelling with a Hugging Face token-classification model.

Word-level tags come from the model's prediction on each word's **first** sub-token: the usual
fine-tuning recipe puts the gold tag on the first sub-token and ignores the rest (label -100),
so the first one carries the trained decision. A word without any sub-token (see
:mod:`xner_spacy.encoders.subwords`) is tagged ``O``. The tag sequence is decoded to spans
leniently by :func:`xner_spacy.io.conll.tags_to_ents` (BIO, IOB1 and BIOES alike; a stray
``I-X`` starts an entity), and span labels are mapped with the same maps as the spaCy labeller.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from ..encoders.hub_loading import load_hf, prepare_model
from ..encoders.subwords import (
    SequenceTooLongError,
    encode_words,
    length_sorted_batches,
)
from ..io.conll import tags_to_ents
from ..types import Entity, Words
from .label_maps import get_label_map, map_label

_PREFIXED = re.compile(r"^[BIESLU]-\S+$")


def normalise_tag(tag: str) -> str:
    """A model label as a CoNLL tag: ``O`` and ``B-X``-style tags unchanged, a bare ``X``
    (IO scheme) as ``I-X``, so consecutive words with the same bare label form one entity."""
    if tag == "O" or _PREFIXED.match(tag):
        return tag
    return f"I-{tag}"


def word_tags(
    predicted: Sequence[int], first: Sequence[int | None], id2label: Mapping[int, str]
) -> list[str]:
    """Tag of each word: the label predicted at its first sub-token, ``O`` without one."""
    return ["O" if pos is None else normalise_tag(id2label[predicted[pos]]) for pos in first]


@dataclass
class HFTokenClassifier:
    """Labels pre-tokenised sentences with a token-classification model (hub name or path).

    ``label_map`` is a built-in map name or a dict (see
    :mod:`~xner_spacy.labelling.label_maps`); labels it drops are removed. ``batch_size``
    sentences run together, sorted by length within a window of 16 batches to limit padding;
    output order is input order. ``on_overflow``: ``"error"`` for a sentence over the model's
    limit, or ``"truncate"`` (the words cut off are tagged ``O``; see
    :mod:`~xner_spacy.encoders.subwords`).
    """

    model: str
    label_map: str | Mapping[str, str | None] = "conll"
    batch_size: int = 32
    device: str | int = "auto"
    max_length: int | None = None
    on_overflow: str = "error"
    _map: dict[str, str | None] = field(default_factory=dict, init=False, repr=False)
    _tokenizer: Any = field(default=None, init=False, repr=False)
    _model: Any = field(default=None, init=False, repr=False)
    _device: Any = field(default=None, init=False, repr=False)
    _limit: int | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size}")
        self._map = get_label_map(self.label_map)

    def load(self) -> None:
        """Load tokenizer and model once, on first use."""
        if self._model is not None:
            return
        from transformers import AutoModelForTokenClassification, AutoTokenizer

        tokenizer = load_hf(AutoTokenizer, self.model, use_fast=True)
        model = load_hf(AutoModelForTokenClassification, self.model)
        self._model, self._device, self._limit = prepare_model(
            model, tokenizer, self.device, self.max_length
        )
        self._tokenizer = tokenizer

    @property
    def labels(self) -> list[str]:
        """The model's labels, in id order."""
        self.load()
        id2label = self._model.config.id2label
        return [id2label[i] for i in sorted(id2label)]

    def label(self, sentences: Iterable[Words]) -> Iterator[list[Entity]]:
        """Entities of each sentence, in input order, with mapped labels."""
        it = iter(sentences)
        done = 0
        while window := [list(s) for s in islice(it, self.batch_size * 16)]:
            out: list[list[Entity]] = [[] for _ in window]
            for batch in length_sorted_batches(window, self.batch_size):
                try:
                    found = self._predict([window[k] for k in batch])
                except SequenceTooLongError as err:
                    k = done + batch[err.index]
                    raise SequenceTooLongError(f"sentence {k}: {err}", index=k) from None
                for k, ents in zip(batch, found, strict=True):
                    out[k] = ents
            done += len(window)
            yield from out

    def _predict(self, sentences: list[list[str]]) -> list[list[Entity]]:
        import torch

        self.load()
        pieces = encode_words(self._tokenizer, sentences, self._limit, self.on_overflow)
        inputs = pieces.to(self._device).model_inputs()
        with torch.inference_mode():
            predicted = self._model(**inputs).logits.argmax(dim=-1).cpu().tolist()
        id2label = self._model.config.id2label
        result: list[list[Entity]] = []
        for row, words in enumerate(sentences):
            if not words:
                result.append([])
                continue
            tags = word_tags(predicted[row], pieces.first_subwords(row), id2label)
            result.append(
                [
                    Entity(e.start, e.end, label)
                    for e in tags_to_ents(tags)
                    if (label := map_label(e.label, self._map)) is not None
                ]
            )
        return result
