"""The frozen-encoder component ``xner_encoder``: one layer of a pretrained encoder, cached.

It writes a float32 array ``(len(doc), hidden)`` into ``doc._.xner_features`` for every Doc:
the hidden states of one ``layer`` of a multilingual encoder (a hub name or a
``save_pretrained`` directory), pooled per token from its sub-tokens (``"first"`` sub-token or
``"mean"``). Whitespace tokens, and words the tokenizer turns into no sub-token or that a
truncated sentence lost, get zeros. A tok2vec layer reads the array (``xner.EncoderFeatures.v1``
in :mod:`xner_spacy.pipeline.encoder_features`), as spacy-transformers' listener reads
``doc._.trf_data``, but nothing is fine-tuned: that keeps a transformer usable on CPU.

* **Cached**: the features of a sentence are kept in memory keyed by its words (least
  recently used dropped past ``cache_size`` sentences), so ``spacy train`` encodes each training
  and dev sentence once, in the first epoch and the first evaluation; later epochs cost only
  the NER. Uncached sentences of a ``pipe`` batch are deduplicated, sorted by length and encoded
  ``batch_size`` at a time. With ``cache_dir`` the features are also kept on disk
  (:class:`DiskFeatureCache`, one SQLite file per encoder fingerprint), so later processes
  (other students, teachers, evaluations on the same text) never run the encoder again.
* **Not trainable**: there is no ``update``. In a training config list it in
  ``[training] frozen_components`` (spaCy then skips its ``initialize``; the model loads on
  first use) and ``annotating_components`` (so the Docs the NER trains on carry features).
* **Self-contained when saved**: ``to_disk`` writes the encoder (layers above ``layer`` removed,
  in ``weights_dtype``; float16 halves the size) and its tokenizer into the component's
  directory and ``from_disk`` loads that copy, so a packaged pipeline needs neither the
  original model path nor the network. With ``weights_dtype = "float16"`` the weights are
  rounded to float16 values as soon as they load, so training sees exactly the features the
  saved pipeline computes.
* **Trainable top** (``trainable_layers = t > 0``): the component stops at layer ``k = layer - t``
  and writes that layer's sub-token states instead (``doc._.xner_states``: a dict of
  ``states`` ``(n_sub_tokens, hidden)``, ``token_index`` ``(n_sub_tokens,)``, the token of each
  position or -1, and ``layer`` ``k``), cached like the features (as float16, in memory as on
  disk) under a fingerprint that covers the encoder, ``k`` and the length limit. Layers
  ``k+1..layer`` are trained with the NER by ``xner.TunedEncoderFeatures.v1``
  (:mod:`xner_spacy.pipeline.tuned_encoder_features`); ``to_disk`` keeps only layers up to
  ``k``, since the NER holds the trained ones.
* **Truncation is counted**: ``n_truncated_sentences`` and ``n_truncated_words`` (words that
  lost sub-tokens past the encoder's limit) grow as sentences are encoded; the training log
  prints them.

torch and transformers are imported only when the encoder loads.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from spacy.language import Language
from spacy.pipeline import Pipe
from spacy.tokens import Doc
from spacy.util import minibatch

from ..encoders.feature_cache import (
    DiskFeatureCache,
    FeatureCache,
    Words,
    encoder_fingerprint,
    pool_words,
    state_rows,
)
from ..encoders.subword_embedder import (
    QUANTIZE_MODES,
    WEIGHTS_DTYPES,
    SubwordEmbedder,
    check_trainable_layers,
)
from ..encoders.subwords import OVERFLOW_MODES, length_sorted_batches
from .projection_components import token_words

#: ``doc._`` attribute holding the features: float32 ``(len(doc), hidden)``.
FEATURES_ATTR = "xner_features"
#: ``doc._`` attribute holding layer ``k``'s sub-token states when the top layers are trained.
STATES_ATTR = "xner_states"
#: float16 (the disk cache) holds integers exactly up to 2048: the most sub-tokens in states mode.
_MAX_STATE_POSITIONS = 2048
POOLING = ("first", "mean")
CFG_FILE = "cfg"
MODEL_DIR = "model"


def register_features_extension() -> None:
    """Register ``Doc._.xner_features`` (idempotent)."""
    for attr in (FEATURES_ATTR, STATES_ATTR):
        if not Doc.has_extension(attr):
            Doc.set_extension(attr, default=None)


register_features_extension()


class FrozenEncoder(Pipe):
    """Sets ``doc._.xner_features`` from one layer of a frozen pretrained encoder (cached).

    Since the component was made: ``n_encoded`` sentences went through the encoder, with
    ``n_sub_tokens`` sub-tokens (special tokens included, padding not), in ``encode_seconds``
    (model loading excluded), and ``n_cached`` were served from the cache.
    """

    default_batch_size = 256

    def __init__(
        self,
        name: str,
        *,
        model: str,
        layer: int,
        pooling: str,
        batch_size: int,
        device: str,
        max_length: int | None,
        on_overflow: str,
        cache_size: int,
        weights_dtype: str,
        cache_dir: str | Path | None = None,
        quantize: str = "none",
        trainable_layers: int = 0,
        source_name: str | None = None,
    ) -> None:
        if pooling not in POOLING:
            raise ValueError(f"pooling must be one of {POOLING}, got {pooling!r}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if on_overflow not in OVERFLOW_MODES:
            raise ValueError(f"on_overflow must be one of {OVERFLOW_MODES}, got {on_overflow!r}")
        if weights_dtype not in WEIGHTS_DTYPES:
            raise ValueError(
                f"weights_dtype must be one of {WEIGHTS_DTYPES}, got {weights_dtype!r}"
            )
        if quantize not in QUANTIZE_MODES:
            raise ValueError(f"quantize must be one of {QUANTIZE_MODES}, got {quantize!r}")
        if layer < 0:
            raise ValueError(f"layer must be >= 0, got {layer}")
        check_trainable_layers(layer, trainable_layers, -1, model)
        self.trainable_layers = trainable_layers
        self.source_name = source_name
        self.name = name
        self.model_name = model
        self.layer = layer
        self.pooling = pooling
        self.batch_size = batch_size
        self.cache = FeatureCache(cache_size)
        self.cache_dir = None if cache_dir is None else Path(cache_dir)
        self._disk: DiskFeatureCache | None = None
        self.embedder = SubwordEmbedder(
            model=model,
            layer=layer - trainable_layers,
            device=device,
            max_length=max_length,
            on_overflow=on_overflow,
            weights_dtype=weights_dtype,
            quantize=quantize,
        )
        self.n_encoded = 0
        self.n_sub_tokens = 0
        self.n_cached = 0
        self.n_from_disk = 0
        self.encode_seconds = 0.0
        self.n_truncated_sentences = 0
        self.n_truncated_words = 0

    @property
    def cached_layer(self) -> int:
        """The layer whose output is cached: ``layer``, or ``layer - trainable_layers``."""
        return self.layer - self.trainable_layers

    @property
    def mode(self) -> str:
        """``"features"`` (pooled words of ``layer``) or ``"states"`` (sub-tokens of layer k)."""
        return "states" if self.trainable_layers else "features"

    @property
    def disk(self) -> DiskFeatureCache | None:
        """The on-disk cache (opened on first use; loads the model), or None without cache_dir."""
        if self.cache_dir is not None and self._disk is None:
            self._load()
            pooling = self.pooling if self.mode == "features" else "states"
            fingerprint = encoder_fingerprint(self.embedder, pooling)
            extra = 0 if self.mode == "features" else 1  # the states' word-index column
            self._disk = DiskFeatureCache(self.cache_dir, fingerprint, self.width + extra)
        return self._disk

    @property
    def width(self) -> int:
        """The encoder's hidden size: the width of the features (loads the model)."""
        return self.embedder.hidden_size

    def initialize(
        self,
        get_examples: Callable[[], Iterable[Any]] | None = None,
        *,
        nlp: Language | None = None,
    ) -> None:
        """Load the encoder now (otherwise it loads on first use); no examples are needed."""
        self._load()

    def _load(self) -> None:
        """Load the embedder (once); refuse a sub-token limit the states' cache cannot hold."""
        self.embedder.load()
        if self.mode == "states" and (self.embedder._limit or 0) > _MAX_STATE_POSITIONS:
            raise ValueError(
                f"trainable_layers needs max_length <= {_MAX_STATE_POSITIONS} sub-tokens, "
                f"got {self.embedder._limit}"
            )

    def __call__(self, doc: Doc) -> Doc:
        self.set_annotations([doc], self.predict([doc]))
        return doc

    def pipe(self, stream: Iterable[Doc], *, batch_size: int | None = None) -> Iterator[Doc]:
        """Annotate the stream ``batch_size`` Docs at a time (each batch encoded length-sorted)."""
        size = self.default_batch_size if batch_size is None else batch_size
        error_handler = self.get_error_handler()
        for batch in minibatch(stream, size=size):
            docs = list(batch)
            try:
                self.set_annotations(docs, self.predict(docs))
                yield from docs
            except Exception as err:
                error_handler(self.name, self, docs, err)

    def predict(self, docs: Sequence[Doc]) -> list[Any]:
        """The feature array (or the states, with trainable layers) of each Doc, cached."""
        words = [token_words(doc) for doc in docs]
        keys = [tuple(w) for w, _ in words]
        found: dict[Words, np.ndarray] = {}
        todo: dict[Words, None] = {}  # ordered and deduplicated
        for key in keys:
            if key in found or key in todo:
                continue
            hit = self.cache.get(key)
            if hit is None:
                todo[key] = None
            else:
                found[key] = hit
                self.n_cached += 1
        disk = self.disk
        if disk is not None and todo:
            for key, vectors in disk.get_many(list(todo)).items():
                del todo[key]
                vectors = self._stored(vectors)
                self.cache.put(key, vectors)
                found[key] = vectors
                self.n_from_disk += 1
        fresh = list(zip(todo, self.encode(list(todo)), strict=True))
        if disk is not None and fresh:
            # float16 values, as a later read from disk gives them
            fresh = [(k, v.astype(np.float16).astype(np.float32)) for k, v in fresh]
            disk.put_many(fresh)
        fresh = [(k, self._stored(v)) for k, v in fresh]
        for key, vectors in fresh:
            self.cache.put(key, vectors)
            found[key] = vectors
        out: list[Any] = []
        for doc, key, (_, index) in zip(docs, keys, words, strict=True):
            vectors = found[key]
            if self.mode == "states":
                out.append(_doc_states(vectors, index, self.cached_layer))
            elif len(index) == len(doc):
                out.append(vectors)
            else:  # whitespace tokens get zeros
                full = np.zeros((len(doc), self.width), dtype=np.float32)
                full[index] = vectors
                out.append(full)
        return out

    def _stored(self, array: np.ndarray) -> np.ndarray:
        """What the memory cache keeps: features as float32; states as float16 (half the memory
        of the many sub-token rows; the values the disk cache gives back anyway)."""
        return array.astype(np.float16) if self.mode == "states" else array

    def encode(self, sentences: Sequence[Sequence[str]]) -> list[np.ndarray]:
        """Pooled word vectors ``(n_words, hidden)`` of each sentence, from the encoder.

        In states mode: layer k's sub-token states with the word index as a last column,
        ``(n_sub_tokens, hidden + 1)`` (special tokens included, padding not).
        """
        if not sentences:
            return []
        self._load()
        empty = np.zeros((0, self.width + (self.mode == "states")), dtype=np.float32)
        out = [empty] * len(sentences)
        keep = [k for k, sent in enumerate(sentences) if len(sent)]
        start = time.perf_counter()
        for batch in length_sorted_batches([sentences[k] for k in keep], self.batch_size):
            ks = [keep[b] for b in batch]
            hidden, pieces = self.embedder.embed([sentences[k] for k in ks])
            if self.mode == "states":
                rows = state_rows(hidden, pieces.word_index, pieces.attention_mask)
                for row, k in enumerate(ks):
                    out[k] = rows[row]
            else:
                pooled = pool_words(hidden, pieces.word_index, max(pieces.n_words), self.pooling)
                for row, k in enumerate(ks):
                    out[k] = pooled[row, : len(sentences[k])].copy()
            self.n_truncated_sentences += sum(1 for n in pieces.n_truncated if n)
            self.n_truncated_words += sum(pieces.n_truncated)
            self.n_encoded += len(ks)
            self.n_sub_tokens += int(pieces.attention_mask.sum())
        self.encode_seconds += time.perf_counter() - start
        return out

    def set_annotations(self, docs: Iterable[Doc], features: Sequence[Any]) -> None:
        attr = FEATURES_ATTR if self.mode == "features" else STATES_ATTR
        for doc, array in zip(docs, features, strict=True):
            doc._.set(attr, array)

    def to_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> None:
        """Write the encoder and tokenizer (``model/``) and a ``cfg`` describing them."""
        import srsly

        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        self.embedder.save(folder / MODEL_DIR)
        cfg = {
            "source_model": self.model_name,
            "layer": self.layer,
            "hidden_size": self.width,
            "weights_dtype": self.embedder.weights_dtype,
            "trainable_layers": self.trainable_layers,
            "cached_layer": self.cached_layer,
            "source_name": self.source_name,
            "quantize": self.embedder.quantize,
        }
        srsly.write_json(folder / CFG_FILE, cfg)

    def from_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> FrozenEncoder:
        """Load the encoder saved by :meth:`to_disk` (the configured ``model`` is not used)."""
        import srsly

        folder = Path(path)
        cfg = srsly.read_json(folder / CFG_FILE)
        kept = int(cfg.get("cached_layer", cfg["layer"]))
        if self.cached_layer > kept:
            raise ValueError(
                f"[{self.name}] layer {self.cached_layer} was asked for, but the saved encoder "
                f"keeps only layers up to {kept}"
            )
        e = self.embedder
        self.embedder = SubwordEmbedder(
            model=str(folder / MODEL_DIR),
            layer=self.cached_layer,
            device=e.device,
            max_length=e.max_length,
            on_overflow=e.on_overflow,
            weights_dtype=e.weights_dtype,
            quantize=e.quantize,
        )
        self._load()
        self.cache.clear()
        self._disk = None  # reopened for the loaded copy's fingerprint
        return self


@Language.factory(
    "xner_encoder",
    assigns=[f"doc._.{FEATURES_ATTR}"],
    default_config={
        "model": "xlm-roberta-base",
        "layer": 8,
        "pooling": "first",
        "batch_size": 32,
        "device": "auto",
        "max_length": None,
        "on_overflow": "truncate",
        "cache_size": 50000,
        "weights_dtype": "float16",
        "cache_dir": None,
        "quantize": "none",
        "trainable_layers": 0,
        "source_name": None,
    },
)
def make_encoder(
    nlp: Language,
    name: str,
    model: str,
    layer: int,
    pooling: str,
    batch_size: int,
    device: str,
    max_length: int | None,
    on_overflow: str,
    cache_size: int,
    weights_dtype: str,
    cache_dir: str | None = None,
    quantize: str = "none",
    trainable_layers: int = 0,
    source_name: str | None = None,
) -> FrozenEncoder:
    """Frozen encoder features per token (``doc._.xner_features``), cached by sentence.

    ``model``: hub name or local directory; ``layer``: hidden-state index (0 = embeddings);
    ``pooling``: ``"first"`` or ``"mean"`` sub-token; ``batch_size``: sentences per forward
    pass; ``device``: ``"auto"``, ``"cpu"``, ``"cuda:0"``; ``max_length``/``on_overflow``: the
    sub-token limit and what a longer sentence does (``"truncate"``: the words past it get
    zeros; ``"error"``); ``cache_size``: sentences kept in memory; ``weights_dtype``: how
    ``to_disk`` stores the weights (``"float16"`` or ``"float32"``); ``cache_dir``: a folder
    where features are also kept on disk for other processes (null: memory only);
    ``quantize``: ``"int8"`` runs the encoder dynamically quantized (CPU inference; load a
    trained pipeline with ``config={"components.xner_encoder.quantize": "int8"}``), ``"none"``;
    ``trainable_layers``: 0 (frozen features of ``layer``) or how many layers below and up to
    ``layer`` the NER trains (the component then caches layer ``layer - trainable_layers``);
    ``source_name``: the hub name the encoder at ``model`` was made from, for the model card
    (null: ``model``).
    """
    return FrozenEncoder(
        name,
        model=model,
        layer=layer,
        pooling=pooling,
        batch_size=batch_size,
        device=device,
        max_length=max_length,
        on_overflow=on_overflow,
        cache_size=cache_size,
        weights_dtype=weights_dtype,
        cache_dir=cache_dir,
        quantize=quantize,
        trainable_layers=trainable_layers,
        source_name=source_name,
    )


def _doc_states(rows: np.ndarray, index: Sequence[int], layer: int) -> dict[str, Any]:
    """``doc._.xner_states`` from cached rows (states + word column); words → the Doc's tokens."""
    word = rows[:, -1].astype(np.int64)
    tokens = np.asarray(index, dtype=np.int64)
    token_index = np.where(word >= 0, tokens[np.clip(word, 0, None)] if len(tokens) else -1, -1)
    return {
        "states": rows[:, :-1],
        "token_index": token_index.astype(np.int32),
        "layer": layer,
    }
