"""The frozen lower layers' word features, computed once per sentence and cached.

:func:`pool_words` turns one layer's sub-token states into word vectors; :class:`FeatureCache`
keeps them in memory and :class:`DiskFeatureCache` on disk (SQLite, shared by processes), keyed
by the sentence's words under :func:`encoder_fingerprint`, so a changed encoder never reads
another's features. The ``xner_encoder`` component (:mod:`xner_spacy.pipeline.encoder_component`)
is built on these.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .subword_embedder import SubwordEmbedder

Words = tuple[str, ...]


class FeatureCache:
    """Per-sentence feature arrays keyed by the words, least recently used dropped first.

    ``size`` is the most sentences kept (0 keeps none). Stored arrays are read-only, so a Doc
    can hold the cached array itself rather than a copy.
    """

    def __init__(self, size: int) -> None:
        if size < 0:
            raise ValueError(f"cache_size must be >= 0, got {size}")
        self.size = size
        self._items: OrderedDict[Words, np.ndarray] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: Words) -> np.ndarray | None:
        found = self._items.get(key)
        if found is not None:
            self._items.move_to_end(key)
        return found

    def put(self, key: Words, value: np.ndarray) -> None:
        if not self.size:
            return
        value.flags.writeable = False
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def clear(self) -> None:
        self._items.clear()


class DiskFeatureCache:
    """Feature arrays on disk, shared by processes: SQLite, keyed by the sentence's words.

    One database per encoder ``fingerprint`` (:func:`encoder_fingerprint`: the model's config and
    weights, the layer, pooling and length limit), so a changed encoder never reads stale
    features. Arrays are stored as float16; the component rounds fresh features to float16
    values too, so a sentence gets the same features whether it was encoded now or read back.
    SQLite (stdlib) gives atomic, concurrent writes from several training processes.
    """

    def __init__(self, folder: str | Path, fingerprint: str, hidden: int) -> None:
        self.path = Path(folder) / f"features-{fingerprint}.sqlite"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.hidden = hidden
        self._db = sqlite3.connect(str(self.path), timeout=300, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS features (key BLOB PRIMARY KEY, n INTEGER, data BLOB)"
        )
        self._db.commit()

    @staticmethod
    def key(words: Words) -> bytes:
        return hashlib.sha1("\x1f".join(words).encode("utf8")).digest()

    def get_many(self, keys: Sequence[Words]) -> dict[Words, np.ndarray]:
        """The stored arrays of those ``keys`` that are on disk (float32)."""
        by_hash = {self.key(k): k for k in keys}
        found: dict[Words, np.ndarray] = {}
        hashes = list(by_hash)
        for start in range(0, len(hashes), 500):
            chunk = hashes[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT key, n, data FROM features WHERE key IN ({marks})", chunk
            )
            for key, n, data in rows:
                array = np.frombuffer(data, dtype=np.float16).reshape(n, self.hidden)
                found[by_hash[key]] = array.astype(np.float32)
        return found

    def put_many(self, items: Sequence[tuple[Words, np.ndarray]]) -> None:
        rows = [(self.key(k), len(v), v.astype(np.float16).tobytes()) for k, v in items if len(k)]
        with self._db:
            self._db.executemany("INSERT OR IGNORE INTO features VALUES (?, ?, ?)", rows)

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM features").fetchone()[0])


def encoder_fingerprint(embedder: SubwordEmbedder, pooling: str) -> str:
    """A content hash of a loaded encoder and the way features are taken from it.

    The config (without paths, versions and dtype), the tokenizer's class and size, the first
    values of every weight tensor, the layer, pooling and length limit: equal for the original
    model and the copy a saved pipeline holds, different when any of them changes.
    """
    embedder.load()
    model, tok = embedder._model, embedder._tokenizer
    config = {
        k: v
        for k, v in model.config.to_dict().items()
        if k not in ("_name_or_path", "transformers_version", "torch_dtype", "dtype")
    }
    h = hashlib.sha1()
    settings = [config, type(tok).__name__, len(tok), embedder.layer, pooling]
    settings += [embedder._limit, embedder.on_overflow]
    if embedder.quantize != "none":  # appended only then: unquantized fingerprints unchanged
        settings.append(embedder.quantize)
    h.update(json.dumps(settings, sort_keys=True, default=str).encode("utf8"))
    for name, param in sorted(model.state_dict().items()):
        h.update(name.encode("utf8"))
        h.update(param.detach().flatten()[:1024].float().half().cpu().numpy().tobytes())
    return h.hexdigest()[:16]


def pool_words(hidden: Any, word_index: Any, n_words: int, pooling: str) -> np.ndarray:
    """Word vectors ``(batch, n_words, hidden)`` from sub-token vectors, as float32 numpy.

    ``word_index[b, p]`` is the word of position ``p`` (``-1``: none). ``"first"`` takes each
    word's first sub-token, ``"mean"`` averages them; a word without sub-tokens gets zeros.
    """
    import torch

    hidden = hidden.float()
    words = torch.arange(n_words, device=word_index.device)
    member = (word_index[:, None, :] == words[None, :, None]).to(hidden.dtype)  # (B, W, L)
    if pooling == "mean":
        counts = member.sum(dim=2, keepdim=True).clamp(min=1.0)
        pooled = torch.bmm(member, hidden) / counts
    else:
        first = member.argmax(dim=2)  # the first position holding the word's maximum (1)
        pooled = torch.gather(hidden, 1, first[:, :, None].expand(-1, -1, hidden.shape[2]))
        pooled = pooled * (member.sum(dim=2, keepdim=True) > 0)
    return pooled.cpu().numpy().astype(np.float32, copy=False)


def state_rows(hidden: Any, word_index: Any, attention_mask: Any) -> list[np.ndarray]:
    """Each sentence's sub-token states with its word index as a last column, float32 numpy.

    ``(n_positions, hidden + 1)`` per sentence: the real positions (special tokens included,
    padding dropped), the last column the word of each (``-1``: none), so one array holds what
    the trainable top layers need and the caches store it as they store features.
    """
    hidden = hidden.float().cpu().numpy()
    words = word_index.cpu().numpy().astype(np.float32)
    lengths = attention_mask.sum(dim=1).cpu().numpy()
    return [
        np.concatenate([hidden[b, : int(n)], words[b, : int(n), None]], axis=1)
        for b, n in enumerate(lengths)
    ]
