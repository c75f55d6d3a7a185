"""How likely one text translates another under a seq2seq model (NMTScore-style).

``NMTScorer(src, tgt)`` is the length-normalised translation probability of Vamvas & Sennrich
(2022): by forced decoding, ``exp`` of the mean token log-probability of ``tgt`` given
``src``, averaged with the reverse direction (``src`` given ``tgt``) when ``bidirectional``.
In ``[0, 1]``; a name and its transliteration, or a word and its translation, score high even
where the word aligner left them unlinked. Calls are batched (``score_pairs``) and cached in
memory, so it plugs into ``xner.TranslationProbability.v1`` as ``prob`` or, batched per
sentence, into ``xner.NMTTranslationProbability.v1``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from .seq2seq_models import Seq2SeqModel


class NMTScorer:
    """``prob(src_text, tgt_text)`` and batched ``score_pairs`` on a seq2seq model.

    ``src_lang``/``tgt_lang``: languages of the source entity and the target candidate
    (ISO 639-1/-3 or model codes); ``lang_codes`` explicit codes; ``bidirectional`` needs a
    model that translates both ways (NLLB-200, M2M-100; not a one-way Marian model);
    ``batch_size`` pairs per
    forward pass; ``max_length`` tokens per side; ``max_cache`` scored pairs kept in memory
    (the table is cleared when full).
    """

    def __init__(
        self,
        model: str | Path,
        src_lang: str,
        tgt_lang: str,
        *,
        lang_codes: Mapping[str, str] | None = None,
        family: str = "auto",
        bidirectional: bool = True,
        batch_size: int = 32,
        max_length: int = 64,
        device: str | int = "auto",
        max_cache: int = 1_000_000,
    ) -> None:
        if batch_size < 1 or max_length < 1:
            raise ValueError("batch_size and max_length must be >= 1")
        self.backend = Seq2SeqModel(
            str(model), family=family, device=device, lang_codes=dict(lang_codes or {})
        )
        self.src_lang = src_lang
        self.tgt_lang = tgt_lang
        self.bidirectional = bidirectional
        self.batch_size = batch_size
        self.max_length = max_length
        self.max_cache = max_cache
        self._cache: dict[tuple[str, str], float] = {}
        self.forward_passes = 0

    def __call__(self, src_text: str, tgt_text: str, /) -> float:
        return self.score_pairs([(src_text, tgt_text)])[0]

    def score_pairs(self, pairs: Sequence[tuple[str, str]]) -> list[float]:
        """Scores of ``(src_text, tgt_text)`` pairs; uncached ones in batched model calls."""
        known = {p: self._cache[p] for p in pairs if p in self._cache}
        todo = [p for p in dict.fromkeys(pairs) if p not in known and all(p)]
        if todo:
            fwd = self._probs([s for s, _ in todo], [t for _, t in todo], forward=True)
            if self.bidirectional:
                bwd = self._probs([t for _, t in todo], [s for s, _ in todo], forward=False)
                scores = [(a + b) / 2.0 for a, b in zip(fwd, bwd, strict=True)]
            else:
                scores = fwd
            new = dict(zip(todo, scores, strict=True))
            known.update(new)
            if len(self._cache) + len(new) > self.max_cache:
                self._cache.clear()
            self._cache.update(new)
        return [known.get(p, 0.0) for p in pairs]

    def _probs(self, sources: list[str], targets: list[str], *, forward: bool) -> list[float]:
        src, tgt = (self.src_lang, self.tgt_lang) if forward else (self.tgt_lang, self.src_lang)
        # sorted by length so that each batch pads little; results put back in order
        order = sorted(range(len(sources)), key=lambda i: len(sources[i]) + len(targets[i]))
        out = [0.0] * len(sources)
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            probs = self.backend.sequence_probs(
                [sources[i] for i in idx],
                [targets[i] for i in idx],
                src,
                tgt,
                max_length=self.max_length,
            )
            self.forward_passes += 1
            for i, p in zip(idx, probs, strict=True):
                out[i] = p
        return out
