"""A Hugging Face seq2seq translation model and how it marks languages.

One wrapper serves translation (``generate``) and forced decoding (``sequence_probs``), for
the three families that matter here:

- ``nllb`` (NLLB-200): the source code (``eng_Latn``) starts the input, the target code is
  forced as the first generated token;
- ``m2m100`` (M2M-100): the same with ``__en__``-style tokens;
- ``marian`` (OPUS-MT): bilingual models need nothing; multilingual ones start the input with
  a ``>>yor<<`` target token, added when the vocabulary has one for the target language;
- ``plain``: any other seq2seq model, used as is.

Loaded models are shared by name and device, so a translator and a scorer on the same model
hold one copy. torch and transformers are imported inside the functions.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..language_codes import to_iso3
from .mt_language_codes import UnsupportedLanguageError, model_code

FAMILIES = ("auto", "nllb", "m2m100", "marian", "plain")

_LOCK = threading.Lock()
_TOKENIZERS: dict[str, tuple[Any, Any]] = {}
_MODELS: dict[tuple[str, str], Any] = {}


def detect_family(tokenizer: Any, config: Any) -> str:
    """The family of a loaded tokenizer/config pair (see the module docstring)."""
    name = type(tokenizer).__name__
    if name.startswith("Nllb"):
        return "nllb"
    if name.startswith("M2M100"):
        return "m2m100"
    if getattr(config, "model_type", "") == "marian":
        return "marian"
    return "plain"


def _load_tokenizer(name: str) -> tuple[Any, Any]:
    """Tokenizer and config of a model (cached), without the weights."""
    from transformers import AutoConfig, AutoTokenizer

    from ..encoders.hub_loading import load_hf

    with _LOCK:
        if name not in _TOKENIZERS:
            _TOKENIZERS[name] = (load_hf(AutoTokenizer, name), load_hf(AutoConfig, name))
        return _TOKENIZERS[name]


def _load_model(name: str, device: Any) -> Any:
    """The seq2seq model on ``device``, in eval mode (cached by name and device)."""
    from transformers import AutoModelForSeq2SeqLM

    from ..encoders.hub_loading import load_hf

    key = (name, str(device))
    with _LOCK:
        if key not in _MODELS:
            model = load_hf(AutoModelForSeq2SeqLM, name)
            _MODELS[key] = model.to(device).eval()
        return _MODELS[key]


@dataclass
class Seq2SeqModel:
    """A seq2seq model by name or path, loaded lazily: tokenizer first, weights when needed.

    ``lang_codes`` maps languages to explicit model codes (``{"pcm": "eng_Latn"}``) before
    the built-in tables of :mod:`.codes` are consulted.
    """

    name: str
    family: str = "auto"
    device: str | int = "auto"
    lang_codes: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise ValueError(f"family must be one of {FAMILIES}, got {self.family!r}")
        self.name = str(self.name)
        self._tokenizer: Any = None
        self._model: Any = None
        self._device: Any = None

    @property
    def tokenizer(self) -> Any:
        if self._tokenizer is None:
            self._tokenizer, config = _load_tokenizer(self.name)
            if self.family == "auto":
                self.family = detect_family(self._tokenizer, config)
        return self._tokenizer

    @property
    def model(self) -> Any:
        if self._model is None:
            from ..encoders.hub_loading import pick_device

            self._device = pick_device(self.device)
            self._model = _load_model(self.name, self._device)
        return self._model

    def resolved_family(self) -> str:
        """The family, loading the tokenizer if it is ``"auto"``."""
        _ = self.tokenizer
        return self.family

    # --- languages ------------------------------------------------------------------------

    def _check_token(self, token: str, lang: str) -> int:
        tok = self.tokenizer
        tid = tok.convert_tokens_to_ids(token)
        if tid is None or (tid == tok.unk_token_id and token != tok.unk_token):
            raise UnsupportedLanguageError(
                f"model {self.name!r} has no language token {token!r} (for {lang!r}); pass "
                "a code its tokenizer knows, e.g. lang_codes = {"
                f'"{lang}": "..."}} in the [translator] section'
            )
        return int(tid)

    def lang_code(self, lang: str) -> str | None:
        """The model's code for ``lang`` (``yor_Latn``, ``yo``), None if it uses none."""
        family = self.resolved_family()
        if family in ("nllb", "m2m100"):
            return model_code(lang, family, self.lang_codes)
        return None

    def forced_bos(self, tgt_lang: str) -> int | None:
        """Token id forced as the first output token for ``tgt_lang`` (None: nothing forced)."""
        code = self.lang_code(tgt_lang)
        if code is None:
            return None
        token = code if self.family == "nllb" else f"__{code}__"
        return self._check_token(token, tgt_lang)

    def target_prefix(self, tgt_lang: str) -> str | None:
        """Marian's ``>>xxx<<`` target token, if the vocabulary has one for ``tgt_lang``."""
        if self.resolved_family() != "marian":
            return None
        vocab = self.tokenizer.get_vocab()
        if not any(t.startswith(">>") and t.endswith("<<") for t in vocab):
            return None  # a bilingual model
        explicit = self.lang_codes.get(tgt_lang, tgt_lang)
        for cand in (explicit, to_iso3(tgt_lang), f">>{explicit}<<", f">>{to_iso3(tgt_lang)}<<"):
            if cand.startswith(">>") and cand in vocab:
                return cand
        raise UnsupportedLanguageError(
            f"multilingual Marian model {self.name!r} has no target token for {tgt_lang!r}; "
            f'map it explicitly, e.g. lang_codes = {{"{tgt_lang}": ">>xxx<<"}}'
        )

    def check_languages(self, src_lang: str, tgt_lang: str) -> None:
        """Raise early if either language has no code in this model."""
        if self.resolved_family() in ("nllb", "m2m100"):
            self._set_src(src_lang)
            self.forced_bos(tgt_lang)
        self.target_prefix(tgt_lang)

    def _set_src(self, src_lang: str) -> None:
        code = self.lang_code(src_lang)
        if code is not None:
            self._check_token(code if self.family == "nllb" else f"__{code}__", src_lang)
            self.tokenizer.src_lang = code

    # --- model calls ----------------------------------------------------------------------

    def encode(
        self, texts: Sequence[str], src_lang: str, tgt_lang: str, max_length: int
    ) -> dict[str, Any]:
        """Padded source-side inputs on the model's device (language tokens included)."""
        self._set_src(src_lang)
        prefix = self.target_prefix(tgt_lang)
        batch = [f"{prefix} {t}" for t in texts] if prefix else list(texts)
        enc = self.tokenizer(
            batch, padding=True, truncation=True, max_length=max_length, return_tensors="pt"
        )
        device = self.model.device
        return {k: enc[k].to(device) for k in ("input_ids", "attention_mask")}

    def generate(
        self,
        texts: Sequence[str],
        src_lang: str,
        tgt_lang: str,
        *,
        num_beams: int = 4,
        max_new_tokens: int = 256,
        max_input_length: int = 512,
    ) -> list[str]:
        """Translate one batch (beam search, no sampling); one string per input."""
        import torch

        enc = self.encode(texts, src_lang, tgt_lang, max_input_length)
        bos = self.forced_bos(tgt_lang)
        kwargs: dict[str, Any] = {"num_beams": num_beams, "max_new_tokens": max_new_tokens}
        if bos is not None:
            kwargs["forced_bos_token_id"] = bos
        with torch.inference_mode():
            out = self.model.generate(**enc, do_sample=False, **kwargs)
        if bos is not None:  # the language tag is not text (some tokenizers do not skip it)
            out = out.masked_fill(out == bos, self.tokenizer.pad_token_id)
        decoded = self.tokenizer.batch_decode(out, skip_special_tokens=True)
        return [" ".join(s.split()) for s in decoded]

    def sequence_probs(
        self,
        sources: Sequence[str],
        targets: Sequence[str],
        src_lang: str,
        tgt_lang: str,
        *,
        max_length: int = 128,
    ) -> list[float]:
        """Per pair, ``exp`` of the mean token log-probability of ``target`` given ``source``.

        Forced decoding of the tokenised target (end-of-sentence included; the target
        language tag excluded, since translation forces it rather than predicts it): the
        length-normalised translation probability of NMTScore (Vamvas & Sennrich 2022).
        """
        import torch

        enc = self.encode(sources, src_lang, tgt_lang, max_length)
        tok = self.tokenizer
        code = self.lang_code(tgt_lang)
        if code is not None:
            tok.tgt_lang = code
        labels = tok(
            text_target=list(targets),
            padding=True,
            truncation=True,
            max_length=max_length,
            return_tensors="pt",
        )["input_ids"].to(enc["input_ids"].device)
        model = self.model
        start = model.config.decoder_start_token_id
        pad = tok.pad_token_id
        decoder_input = torch.cat([torch.full_like(labels[:, :1], start), labels[:, :-1]], dim=1)
        mask = labels != pad
        bos = self.forced_bos(tgt_lang)
        if bos is not None:
            mask &= labels != bos
        with torch.inference_mode():
            logits = model(**enc, decoder_input_ids=decoder_input).logits
            logp = torch.log_softmax(logits.float(), dim=-1)
            token_logp = logp.gather(-1, labels.unsqueeze(-1)).squeeze(-1)
            total = (token_logp * mask).sum(dim=1)
            avg = total / mask.sum(dim=1).clamp(min=1)
        return [float(x) for x in torch.exp(avg).cpu()]
