"""Machine translation of sentence lists with a Hugging Face seq2seq model, cached and resumable.

``HFTranslator.translate(texts)`` returns one translation per input, in input order. Inside,
texts already in the cache are skipped, duplicates are translated once, and the rest are sorted
by length and cut into batches (little padding, so fast), translated, and put back in order.
Each finished batch is appended to the cache file at once, so an interrupted run resumes
without translating anything twice.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..language_codes import to_iso3
from .seq2seq_models import Seq2SeqModel
from .translation_cache import TranslationCache, cache_key

logger = logging.getLogger("xner_spacy.translation")

DEFAULT_MODEL = "facebook/nllb-200-distilled-600M"


@dataclass
class TranslationStats:
    """What a translator did so far: texts from the cache, texts and batches translated."""

    cached: int = 0
    translated: int = 0
    batches: int = 0


class HFTranslator:
    """Translate with NLLB-200, M2M-100, Marian or any HF seq2seq model (name or directory).

    ``src_lang``/``tgt_lang`` are the default direction (ISO 639-1/-3, or explicit model
    codes such as ``yor_Latn``); ``translate`` may override them per call, e.g. for
    back-translation. ``lang_codes`` maps languages to explicit model codes. ``batch_size``
    sentences per batch, ``num_beams`` beam width, ``max_length`` new tokens at most,
    ``max_input_length`` tokens of input kept. ``device``: ``auto``, ``cpu``, ``cuda[:N]``.
    ``cache``: a JSONL file that makes reruns and resumes free (keyed by model name,
    languages, settings and text: delete it if the weights behind a name change).
    """

    def __init__(
        self,
        model: str | Path = DEFAULT_MODEL,
        src_lang: str | None = None,
        tgt_lang: str | None = None,
        *,
        lang_codes: Mapping[str, str] | None = None,
        family: str = "auto",
        batch_size: int = 16,
        num_beams: int = 4,
        max_length: int = 256,
        max_input_length: int = 512,
        device: str | int = "auto",
        cache: str | Path | None = None,
    ) -> None:
        if batch_size < 1 or num_beams < 1 or max_length < 1 or max_input_length < 1:
            raise ValueError("batch_size, num_beams, max_length and max_input_length must be >= 1")
        self.model_name = str(model)
        self.src_lang = src_lang
        self.tgt_lang = tgt_lang
        self.lang_codes = dict(lang_codes or {})
        self.batch_size = batch_size
        self.num_beams = num_beams
        self.max_length = max_length
        self.max_input_length = max_input_length
        self.backend = Seq2SeqModel(
            self.model_name, family=family, device=device, lang_codes=self.lang_codes
        )
        self.cache = TranslationCache(cache)
        self.stats = TranslationStats()

    def _lang_id(self, lang: str) -> str:
        """The language as it enters cache keys: its explicit code, else ISO 639-3."""
        return self.lang_codes.get(lang) or self.lang_codes.get(to_iso3(lang)) or to_iso3(lang)

    def _key(self, src: str, tgt: str, text: str) -> str:
        settings = [self.num_beams, self.max_length, self.max_input_length]
        return cache_key(self.model_name, self._lang_id(src), self._lang_id(tgt), settings, text)

    def _direction(self, src_lang: str | None, tgt_lang: str | None) -> tuple[str, str]:
        src, tgt = src_lang or self.src_lang, tgt_lang or self.tgt_lang
        if not src or not tgt:
            raise ValueError(
                "the translation direction is unknown: set src_lang and tgt_lang in the "
                "[translator] section or pass them to translate()"
            )
        return src, tgt

    def load(self) -> None:
        """Load tokenizer and weights now, not on the first batch (a spaCy ``initialize``)."""
        _ = self.backend.tokenizer, self.backend.model

    def translate(
        self, texts: Sequence[str], src_lang: str | None = None, tgt_lang: str | None = None
    ) -> list[str]:
        """One translation per text, in order (empty texts translate to empty strings)."""
        src, tgt = self._direction(src_lang, tgt_lang)
        keys = [self._key(src, tgt, t) for t in texts]
        out: list[str | None] = []
        todo: dict[str, str] = {}
        for key, text in zip(keys, texts, strict=True):
            if not text.strip():
                out.append("")
                continue
            hit = self.cache.get(key)
            out.append(hit)
            if hit is None:
                todo.setdefault(key, text)
            else:
                self.stats.cached += 1
        if todo:
            done = self._translate_missing(todo, src, tgt)
            out = [done[k] if o is None else o for k, o in zip(keys, out, strict=True)]
        return [o or "" for o in out]

    def _translate_missing(self, todo: Mapping[str, str], src: str, tgt: str) -> dict[str, str]:
        """Translate ``key → text`` in length-sorted batches, caching each batch."""
        self.backend.check_languages(src, tgt)
        order = sorted(todo, key=lambda k: (len(todo[k]), k))
        done: dict[str, str] = {}
        for start in range(0, len(order), self.batch_size):
            batch_keys = order[start : start + self.batch_size]
            outputs = self._generate([todo[k] for k in batch_keys], src, tgt)
            if len(outputs) != len(batch_keys):
                raise RuntimeError(
                    f"the model returned {len(outputs)} translations for {len(batch_keys)} inputs"
                )
            pairs = list(zip(batch_keys, outputs, strict=True))
            self.cache.put_many(pairs)
            done.update(pairs)
            self.stats.batches += 1
            self.stats.translated += len(batch_keys)
        return done

    def _generate(self, texts: list[str], src: str, tgt: str) -> list[str]:
        """One model call for one batch (the seam tests replace to count calls)."""
        return self.backend.generate(
            texts,
            src,
            tgt,
            num_beams=self.num_beams,
            max_new_tokens=self.max_length,
            max_input_length=self.max_input_length,
        )
