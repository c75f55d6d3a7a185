"""HFTranslator: order kept through length batching, cache reuse, resume after a kill, and
real translation on tiny random NLLB / M2M-100 / Marian models."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from xner_spacy.translation.mt_language_codes import UnsupportedLanguageError
from xner_spacy.translation.translation_cache import TranslationCache
from xner_spacy.translation.translator import HFTranslator

TEXTS = [
    "a medium sentence here",
    "short",
    "the longest sentence of them all by far",
    "tiny",
    "another medium one",
    "x",
]


class FakeBackend:
    """Stands in for the model: upper-cases, records every batch, may die after N batches."""

    def __init__(self, die_after: int | None = None) -> None:
        self.batches: list[list[str]] = []
        self.die_after = die_after

    def check_languages(self, src: str, tgt: str) -> None:
        pass

    def generate(self, texts: list[str], src: str, tgt: str, **kw: Any) -> list[str]:
        if self.die_after is not None and len(self.batches) >= self.die_after:
            raise KeyboardInterrupt("killed")
        self.batches.append(list(texts))
        return [f"{t.upper()}>{tgt}" for t in texts]


def fake_translator(cache: Path | None = None, **kw: Any) -> tuple[HFTranslator, FakeBackend]:
    tr = HFTranslator("some/model", "en", "yo", batch_size=2, cache=cache, **kw)
    backend = FakeBackend()
    tr.backend = backend  # type: ignore[assignment]
    return tr, backend


def expected(texts: list[str], tgt: str = "yo") -> list[str]:
    return [f"{t.upper()}>{tgt}" for t in texts]


def test_length_batching_restores_input_order() -> None:
    tr, backend = fake_translator()
    assert tr.translate(TEXTS) == expected(TEXTS)
    assert len(backend.batches) == 3 and all(len(b) <= 2 for b in backend.batches)
    lengths = [[len(t) for t in b] for b in backend.batches]
    for prev, nxt in zip(lengths, lengths[1:], strict=False):
        assert max(prev) <= min(nxt)  # sorted by length across batches
    assert tr.stats.translated == len(TEXTS) and tr.stats.batches == 3


def test_duplicates_once_empty_texts_never() -> None:
    tr, backend = fake_translator()
    assert tr.translate(["same", "", "same", "  "]) == ["SAME>yo", "", "SAME>yo", ""]
    assert backend.batches == [["same"]]


def test_direction_per_call_and_required() -> None:
    tr, backend = fake_translator()
    assert tr.translate(["abc"], src_lang="yo", tgt_lang="en") == ["ABC>en"]
    tr.tgt_lang = None
    with pytest.raises(ValueError, match="direction"):
        tr.translate(["abc"])


def test_cache_makes_a_second_run_free(tmp_path: Path) -> None:
    cache = tmp_path / "mt.jsonl"
    first, backend1 = fake_translator(cache)
    assert first.translate(TEXTS) == expected(TEXTS)
    second, backend2 = fake_translator(cache)
    assert second.translate(TEXTS) == expected(TEXTS)
    assert backend2.batches == [] and second.stats.cached == len(TEXTS)
    # another direction or other settings are other keys
    third, backend3 = fake_translator(cache, num_beams=1)
    third.translate(TEXTS[:1])
    assert backend3.batches == [[TEXTS[0]]]
    second.translate(TEXTS[:1], tgt_lang="fr")
    assert backend2.batches == [[TEXTS[0]]]
    # ISO 639-1 and -3 names of a language share entries
    fourth, backend4 = fake_translator(cache)
    fourth.translate(TEXTS, src_lang="eng", tgt_lang="yor")
    assert backend4.batches == []


def test_resume_after_kill_with_truncated_last_line(tmp_path: Path) -> None:
    cache = tmp_path / "mt.jsonl"
    tr, _ = fake_translator(cache)
    tr.backend = FakeBackend(die_after=2)  # type: ignore[assignment]
    with pytest.raises(KeyboardInterrupt):
        tr.translate(TEXTS)
    lines = cache.read_text(encoding="utf8").splitlines()
    assert len(lines) == 4  # two finished batches of two
    with cache.open("a", encoding="utf8") as fh:  # the kill cut a line in half
        fh.write('{"key": "0123abc", "te')
    resumed, backend = fake_translator(cache)
    assert len(resumed.cache) == 4
    assert resumed.translate(TEXTS) == expected(TEXTS)
    assert sum(map(len, backend.batches)) == 2 and resumed.stats.cached == 4
    text = cache.read_text(encoding="utf8")
    assert text.endswith("\n") and all(json.loads(x) for x in text.splitlines())
    assert len(TranslationCache(cache)) == len(TEXTS)


def test_cache_skips_unreadable_lines(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text('{"key": "a", "text": "A"}\nnot json\n{"key": "b"}\n', encoding="utf8")
    cache = TranslationCache(path)
    assert cache.get("a") == "A" and len(cache) == 1 and cache.skipped_lines == 2


def test_uncached_hub_name_fails_fast_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("transformers")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    tr = HFTranslator("xner-test/no-such-model", "en", "yo")
    with pytest.raises(OSError, match="no-such-model"):
        tr.translate(["hello"])


# --- tiny real models ------------------------------------------------------------------------


def test_tiny_nllb_round_trip(tiny_nllb_dir: Path, tmp_path: Path) -> None:
    tr = HFTranslator(
        tiny_nllb_dir, "eng", "yor", batch_size=2, num_beams=2, max_length=6, device="cpu",
        cache=tmp_path / "c.jsonl",
    )  # fmt: skip
    out = tr.translate(TEXTS)
    assert len(out) == len(TEXTS) and all(isinstance(t, str) for t in out)
    assert tr.backend.family == "nllb" and tr.stats.batches == 3
    again = HFTranslator(tiny_nllb_dir, "eng", "yor", batch_size=2, num_beams=2, max_length=6,
                         device="cpu", cache=tmp_path / "c.jsonl")  # fmt: skip
    assert again.translate(TEXTS) == out and again.stats.batches == 0
    assert again.backend._model is None  # a fully cached run never loads the weights


def test_tiny_nllb_language_tokens(tiny_nllb_dir: Path) -> None:
    tr = HFTranslator(tiny_nllb_dir, "en", "sw", num_beams=1, max_length=4, device="cpu")
    backend = tr.backend
    enc = backend.encode(["Ada went home"], "en", "sw", 32)
    tok = backend.tokenizer
    assert int(enc["input_ids"][0, 0]) == tok.convert_tokens_to_ids("eng_Latn")
    assert backend.forced_bos("sw") == tok.convert_tokens_to_ids("swh_Latn")
    assert len(tr.translate(["Ada went home", "Bola"])) == 2
    with pytest.raises(UnsupportedLanguageError, match="no language token 'amh_Ethi'"):
        tr.translate(["x"], tgt_lang="amh")  # a real NLLB code the tiny tokenizer lacks
    with pytest.raises(UnsupportedLanguageError, match="pcm"):
        tr.translate(["x"], tgt_lang="pcm")
    explicit = HFTranslator(tiny_nllb_dir, "pcm", "yor", lang_codes={"pcm": "eng_Latn"},
                            num_beams=1, max_length=4, device="cpu")  # fmt: skip
    assert len(explicit.translate(["How you dey"])) == 1


def test_tiny_m2m100(tiny_m2m100_dir: Path) -> None:
    tr = HFTranslator(tiny_m2m100_dir, "eng", "yor", num_beams=2, max_length=5, device="cpu")
    out = tr.translate(TEXTS[:3])
    assert len(out) == 3 and tr.backend.family == "m2m100"
    tok = tr.backend.tokenizer
    enc = tr.backend.encode(["Ada"], "en", "yo", 16)
    assert int(enc["input_ids"][0, 0]) == tok.get_lang_id("en")
    assert tr.backend.forced_bos("yor") == tok.get_lang_id("yo")
    assert all("__" not in t for t in out)  # language tags are not text


def test_tiny_marian_target_token(tiny_marian_dir: Path) -> None:
    tr = HFTranslator(tiny_marian_dir, "en", "yo", num_beams=1, max_length=5, device="cpu")
    assert tr.backend.target_prefix("yo") == ">>yor<<"
    assert tr.backend.family == "marian"
    enc = tr.backend.encode(["Ada"], "en", "yor", 16)
    assert int(enc["input_ids"][0, 0]) == tr.backend.tokenizer.convert_tokens_to_ids(">>yor<<")
    assert len(tr.translate(["Ada went", "Bola"])) == 2
    with pytest.raises(UnsupportedLanguageError, match="target token"):
        tr.translate(["Ada"], tgt_lang="swa")
