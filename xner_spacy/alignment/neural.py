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
:mod:`xner_spacy.alignment.subwords`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from ..hf import load_hf, prepare_model
from .subwords import (
    SequenceTooLongError,
    WordPieces,
    encode_words,
    length_sorted_batches,
)

Pair = tuple[int, int]
Sentences = Sequence[Sequence[str]]

SIMALIGN_METHODS = ("argmax", "itermax", "match")
TOKEN_TYPES = ("bpe", "word")
WEIGHTS_DTYPES = ("float32", "float16")
#: How the forward pass runs: as loaded, or with int8 dynamic quantization of every
#: ``torch.nn.Linear`` (CPU only; weights int8, activations quantized per batch).
QUANTIZE_MODES = ("none", "int8")


@dataclass
class SubwordEmbedder:
    """A pretrained encoder, loaded on first use, that returns one layer's sub-token vectors.

    ``layer`` indexes the hidden states: 0 is the embedding layer, ``n`` the output of
    transformer layer ``n``; a model with fewer layers is an error. Layers above ``layer`` are
    removed from BERT-style encoders after loading, since their output is never used.
    ``weights_dtype = "float16"`` rounds the weights to float16 values on load (computing in
    float32 still), so the encoder gives exactly the vectors it gives after :meth:`save`
    writes it in float16 and it is loaded again. ``quantize = "int8"`` runs the forward pass
    on a dynamically quantized copy (torch's ``quantize_dynamic`` on the linear layers, weights
    per output channel; CPU only): about twice as fast, with different vectors (a NER trained
    on float features loses F1 on them; README "int8").
    :meth:`save` still writes the unquantized weights.
    """

    model: str
    layer: int = 8
    device: str | int = "auto"
    max_length: int | None = None
    on_overflow: str = "error"
    weights_dtype: str = "float32"
    quantize: str = "none"
    _tokenizer: Any = field(default=None, init=False, repr=False)
    _model: Any = field(default=None, init=False, repr=False)
    _runner: Any = field(default=None, init=False, repr=False)
    _device: Any = field(default=None, init=False, repr=False)
    _limit: int | None = field(default=None, init=False, repr=False)

    def load(self) -> None:
        """Load tokenizer and model (once); check ``layer`` against the model's depth."""
        if self._model is not None:
            return
        if self.weights_dtype not in WEIGHTS_DTYPES:
            raise ValueError(
                f"weights_dtype must be one of {WEIGHTS_DTYPES}, got {self.weights_dtype!r}"
            )
        if self.quantize not in QUANTIZE_MODES:
            raise ValueError(f"quantize must be one of {QUANTIZE_MODES}, got {self.quantize!r}")
        from transformers import AutoModel, AutoTokenizer

        tokenizer = load_hf(AutoTokenizer, self.model, use_fast=True)
        model = load_hf(AutoModel, self.model)
        n_layers = int(getattr(model.config, "num_hidden_layers", -1))
        if n_layers >= 0 and not 0 <= self.layer <= n_layers:
            raise ValueError(
                f"layer {self.layer} is out of range: model '{self.model}' has {n_layers} "
                f"layers (use 0..{n_layers}; 0 is the embedding layer)"
            )
        _drop_layers_above(model, self.layer)
        model = model.float()
        if self.weights_dtype == "float16":
            import torch

            with torch.no_grad():
                for param in model.parameters():
                    param.copy_(param.half().float())
        model, device, limit = prepare_model(model, tokenizer, self.device, self.max_length)
        runner = model
        if self.quantize == "int8":
            runner = _quantize_int8(model, device, self.model)
        self._model, self._runner, self._device, self._limit = model, runner, device, limit
        self._tokenizer = tokenizer

    @property
    def hidden_size(self) -> int:
        """Width of the vectors :meth:`embed` returns (loads the model)."""
        self.load()
        return int(self._model.config.hidden_size)

    def save(self, path: str | Path) -> None:
        """Write the loaded encoder (layers above ``layer`` removed) and its tokenizer to ``path``.

        A ``save_pretrained`` directory, in ``weights_dtype``, that ``model`` can name later.
        """
        import torch

        self.load()
        dtype = torch.float16 if self.weights_dtype == "float16" else torch.float32
        state = {k: v.to(dtype).cpu() for k, v in self._model.state_dict().items()}
        self._model.save_pretrained(str(path), state_dict=state, safe_serialization=True)
        self._tokenizer.save_pretrained(str(path))
        _readable(Path(path))

    def embed(self, sentences: Sentences) -> tuple[Any, WordPieces]:
        """Hidden states ``(batch, length, hidden)`` of ``layer`` and the batch's sub-tokens."""
        import torch

        self.load()
        pieces = encode_words(self._tokenizer, sentences, self._limit, self.on_overflow)
        pieces = pieces.to(self._device)
        with torch.inference_mode():
            out = self._runner(**pieces.model_inputs(), output_hidden_states=True)
        hidden = out.hidden_states
        if self.layer >= len(hidden):
            raise ValueError(
                f"layer {self.layer} is out of range: model '{self.model}' returned "
                f"{len(hidden)} hidden states"
            )
        return hidden[self.layer], pieces


def _quantize_int8(model: Any, device: Any, name: str) -> Any:
    """An int8 dynamically quantized copy of ``model``'s linear layers (the original is kept).

    torch's dynamic quantization has CPU kernels only, so another device is an error. It is
    ``torch.ao.quantization.quantize_dynamic``, which torch marks deprecated in favour of
    torchao but still ships (and runs without ``torch.compile``) in the pinned 2.13; its
    deprecation warnings are silenced here, once per load.
    """
    import warnings

    import torch

    if torch.device(device).type != "cpu":
        raise ValueError(
            f"quantize = 'int8' runs on CPU only, but model '{name}' is on {device}; "
            "use device = 'cpu', or quantize = 'none' on a GPU"
        )
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        warnings.filterwarnings("ignore", message=".*quantize_per_tensor.*")
        from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

        # weights per output channel: nearer the float vectors than one scale per tensor (a
        # one-off check on multilingual-e5-small); `benchmarks/encoder.py --quantize none,int8`
        # prints how near
        spec = {torch.nn.Linear: per_channel_dynamic_qconfig}
        return quantize_dynamic(model, spec, dtype=torch.qint8, inplace=False)


def _readable(folder: Path) -> None:
    """Give files the permissions of the umask (safetensors writes its weights owner-only)."""
    import os

    umask = os.umask(0)
    os.umask(umask)
    for item in folder.iterdir():
        if item.is_file():
            item.chmod(0o666 & ~umask)


def _drop_layers_above(model: Any, layer: int) -> None:
    """Keep only the first ``layer`` transformer blocks of a BERT-style ``model.encoder.layer``.

    The config's ``num_hidden_layers`` follows, so a saved copy loads with only those blocks.
    """
    import torch

    blocks = getattr(getattr(model, "encoder", None), "layer", None)
    if isinstance(blocks, torch.nn.ModuleList) and len(blocks) > layer:
        model.encoder.layer = blocks[:layer]
        if hasattr(model.config, "num_hidden_layers"):
            model.config.num_hidden_layers = layer


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
