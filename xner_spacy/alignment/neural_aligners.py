"""Word aligners on multilingual transformer embeddings: SimAlign and AWESoME-style softmax.

Both embed each sentence on its own with a pretrained encoder (mBERT, XLM-R, ... — a hub name
or a local ``save_pretrained`` directory), take the hidden states of one layer, compare every
source sub-token with every target sub-token, and turn sub-token links into word links (two
words are linked when any of their sub-tokens are). Nothing is trained, so unlike the
statistical aligners they ignore ``extra_src``/``extra_tgt``. Sentences are embedded in padded
batches, on a GPU when one is available (``device = "auto"``).

* :class:`SimAlignAligner` — Jalili Sabet et al. (2020): cosine similarity, then SimAlign's
  own matching (``argmax``: mutual best; ``itermax``: mutual best, iterated; ``match``: maximum
  weight bipartite matching), from the ``simalign`` package. SimAlign's ``SentenceAligner``
  embeds one pair at a time and maps sub-tokens with per-word ``tokenize`` calls that break on
  words without sub-tokens and on truncation, so only its matching functions are used here.
* :class:`SoftmaxAligner` — Dou & Neubig (2021, awesome-align) extraction: dot-product
  similarities, softmax over each row and each column, keep pairs where both probabilities
  exceed ``threshold``.

How words map to sub-tokens (words without sub-tokens, over-long sentences) is defined in
:mod:`xner_spacy.encoders.subwords`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..encoders.subword_embedder import SubwordEmbedder
from ..encoders.subwords import (
    SequenceTooLongError,
    WordPieces,
    length_sorted_batches,
)

Pair = tuple[int, int]
Sentences = Sequence[Sequence[str]]

SIMALIGN_METHODS = ("argmax", "itermax", "match")
TOKEN_TYPES = ("bpe", "word")


def _check_corpus(src: Sentences, tgt: Sentences) -> list[int]:
    """Indices of the pairs with two non-empty sides (the others get no links)."""
    if len(src) != len(tgt):
        raise ValueError(f"src has {len(src)} sentences but tgt has {len(tgt)}")
    return [k for k in range(len(src)) if len(src[k]) and len(tgt[k])]


@dataclass
class _NeuralAligner:
    """Shared batching: length-sorted batches of pairs, one embedding pass per side."""

    #: each pair is aligned on its own (the align step may shard; see ``types.Aligner``)
    per_pair: ClassVar[bool] = True

    model: str
    layer: int
    device: str | int
    batch_size: int
    max_length: int | None
    on_overflow: str
    _embedder: SubwordEmbedder = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size}")
        self._embedder = SubwordEmbedder(
            model=self.model,
            layer=self.layer,
            device=self.device,
            max_length=self.max_length,
            on_overflow=self.on_overflow,
        )

    def load(self) -> None:
        """Load the encoder now rather than on the first batch (a spaCy ``initialize``)."""
        self._embedder.load()

    def align(
        self,
        src: Sentences,
        tgt: Sentences,
        extra_src: Sentences | None = None,
        extra_tgt: Sentences | None = None,
    ) -> list[list[Pair]]:
        """Align each ``(src[k], tgt[k])``; one sorted list of word pairs ``(i, j)`` per pair.

        ``extra_src``/``extra_tgt`` are accepted for the :class:`~xner_spacy.types.Aligner`
        protocol and ignored: a pretrained encoder does not learn from more text. A pair with an
        empty side gets ``[]``.
        """
        result: list[list[Pair]] = [[] for _ in src]
        keep = _check_corpus(src, tgt)
        pairs = [list(src[k]) + list(tgt[k]) for k in keep]
        for batch in length_sorted_batches(pairs, self.batch_size):
            ks = [keep[b] for b in batch]
            src_h, src_p = self._embed([src[k] for k in ks], ks, "source")
            tgt_h, tgt_p = self._embed([tgt[k] for k in ks], ks, "target")
            for k, links in zip(ks, self._links(src_h, src_p, tgt_h, tgt_p), strict=True):
                result[k] = links
        return result

    def _embed(self, sentences: Sentences, ks: list[int], side: str) -> tuple[Any, WordPieces]:
        try:
            return self._embedder.embed(sentences)
        except SequenceTooLongError as err:
            raise SequenceTooLongError(
                f"pair {ks[err.index]}, {side} side: {err}", index=ks[err.index]
            ) from None

    def _links(
        self, src_h: Any, src_p: WordPieces, tgt_h: Any, tgt_p: WordPieces
    ) -> list[list[Pair]]:
        raise NotImplementedError


@dataclass
class SoftmaxAligner(_NeuralAligner):
    """AWESoME-style extraction: keep sub-token pairs likely in both softmax directions.

    For each pair, ``S = H_src · H_tgtᵀ`` over the hidden states of ``layer``; a sub-token pair
    is kept when ``softmax(S)`` over the target (row) *and* over the source (column) both exceed
    ``threshold`` (awesome-align's default 1e-3). Special tokens and padding take no part.
    Deterministic for a given model and device.
    """

    model: str = "bert-base-multilingual-cased"
    layer: int = 8
    threshold: float = 1e-3
    device: str | int = "auto"
    batch_size: int = 32
    max_length: int | None = None
    on_overflow: str = "error"

    def __post_init__(self) -> None:
        if not 0.0 <= self.threshold < 1.0:
            raise ValueError(f"threshold must be in [0, 1), got {self.threshold}")
        super().__post_init__()

    def _links(
        self, src_h: Any, src_p: WordPieces, tgt_h: Any, tgt_p: WordPieces
    ) -> list[list[Pair]]:
        import torch

        src_w, tgt_w = src_p.word_index, tgt_p.word_index
        valid = (src_w >= 0)[:, :, None] & (tgt_w >= 0)[:, None, :]
        scores = torch.bmm(src_h.float(), tgt_h.float().transpose(1, 2))
        # A finite fill keeps rows without any valid position free of NaNs; they are masked.
        scores = scores.masked_fill(~valid, torch.finfo(scores.dtype).min)
        keep = (
            (scores.softmax(dim=2) > self.threshold)
            & (scores.softmax(dim=1) > self.threshold)
            & valid
        )
        b, i, j = keep.nonzero(as_tuple=True)
        triples = torch.stack([b, src_w[b, i], tgt_w[b, j]], dim=1).unique(dim=0).tolist()
        links: list[list[Pair]] = [[] for _ in range(len(src_p))]
        for row, s, t in triples:  # unique() sorts, so each list comes out sorted
            links[row].append((s, t))
        return links


@dataclass
class SimAlignAligner(_NeuralAligner):
    """SimAlign: cosine similarity of ``layer`` embeddings, then SimAlign's matching.

    ``token_type = "bpe"`` compares sub-tokens and links the words they belong to; ``"word"``
    first averages each word's sub-token vectors. ``method``: ``argmax`` (mutual best match,
    SimAlign's "inter"), ``itermax`` (argmax repeated on the still unaligned words), ``match``
    (maximum weight matching; needs ``networkx``). ``distortion`` > 0 favours links near the
    diagonal (SimAlign's distortion correction). Deterministic.
    """

    model: str = "bert-base-multilingual-cased"
    layer: int = 8
    method: str = "itermax"
    token_type: str = "bpe"
    distortion: float = 0.0
    device: str | int = "auto"
    batch_size: int = 32
    max_length: int | None = None
    on_overflow: str = "error"

    def __post_init__(self) -> None:
        if self.method not in SIMALIGN_METHODS:
            raise ValueError(f"method must be one of {SIMALIGN_METHODS}, got {self.method!r}")
        if self.token_type not in TOKEN_TYPES:
            raise ValueError(f"token_type must be one of {TOKEN_TYPES}, got {self.token_type!r}")
        super().__post_init__()

    def _links(
        self, src_h: Any, src_p: WordPieces, tgt_h: Any, tgt_p: WordPieces
    ) -> list[list[Pair]]:
        from simalign import SentenceAligner

        src_np = src_h.float().cpu().numpy()
        tgt_np = tgt_h.float().cpu().numpy()
        links: list[list[Pair]] = []
        for row in range(len(src_p)):
            x, x_words = self._vectors(src_np[row], src_p.groups(row))
            y, y_words = self._vectors(tgt_np[row], tgt_p.groups(row))
            if not len(x_words) or not len(y_words):
                links.append([])
                continue
            sim = SentenceAligner.get_similarity(x, y)
            sim = SentenceAligner.apply_distortion(sim, self.distortion)
            if self.method == "argmax":
                fwd, rev = SentenceAligner.get_alignment_matrix(sim)
                chosen = fwd * rev
            elif self.method == "itermax":
                chosen = SentenceAligner.iter_max(sim)
            else:
                chosen = SentenceAligner.get_max_weight_match(sim)
            rows, cols = chosen.nonzero()
            links.append(
                sorted({(x_words[r], y_words[c]) for r, c in zip(rows, cols, strict=True)})
            )
        return links

    def _vectors(self, hidden: Any, groups: list[list[int]]) -> tuple[Any, list[int]]:
        """Rows to compare and the word of each row (words without sub-tokens drop out)."""
        import numpy as np

        if self.token_type == "word":
            words = [w for w, g in enumerate(groups) if g]
            vectors = [hidden[groups[w]].mean(axis=0) for w in words]
            return np.array(vectors).reshape(len(words), hidden.shape[-1]), words
        positions = [p for g in groups for p in g]
        words = [w for w, g in enumerate(groups) for _ in g]
        return hidden[positions], words
