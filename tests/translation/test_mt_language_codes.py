"""Language-code tables: ISO 639-1/-3 → NLLB-200 and M2M-100 codes, with clear errors."""

from __future__ import annotations

import pytest

from xner_spacy.translation.mt_language_codes import (
    M2M100_CODES,
    NLLB_BY_ISO3,
    NLLB_CODES,
    UnsupportedLanguageError,
    m2m100_code,
    model_code,
    nllb_code,
)

MASAKHANER = "bam bbj ewe fon hau ibo kin lug luo mos nya pcm sna swa tsn twi wol xho yor zul"
WIKIANN_XTREME = (
    "af ar bg bn de el en es et eu fa fi fr he hi hu id it ja jv ka kk ko ml mr ms my nl pt ru "
    "sw ta te th tl tr ur vi yo zh amh"
)


@pytest.mark.parametrize(
    "lang,code",
    [
        ("eng", "eng_Latn"),
        ("en", "eng_Latn"),
        ("fra", "fra_Latn"),
        ("fr", "fra_Latn"),
        ("swa", "swh_Latn"),
        ("sw", "swh_Latn"),
        ("yor", "yor_Latn"),
        ("amh", "amh_Ethi"),
        ("twi", "twi_Latn"),
        ("zh", "zho_Hans"),
        ("fa", "pes_Arab"),
        ("ms", "zsm_Latn"),
        ("ar", "arb_Arab"),
        ("yor_Latn", "yor_Latn"),  # explicit codes pass through
    ],
)
def test_nllb_codes(lang: str, code: str) -> None:
    assert nllb_code(lang) == code


def test_every_evaluation_language_but_pcm_and_bbj_has_an_nllb_code() -> None:
    for lang in MASAKHANER.split() + WIKIANN_XTREME.split():
        if lang in ("pcm", "bbj"):
            with pytest.raises(UnsupportedLanguageError, match="lang_codes"):
                nllb_code(lang)
        else:
            assert nllb_code(lang) in NLLB_CODES, lang
    assert set(NLLB_BY_ISO3.values()) <= NLLB_CODES


def test_pcm_needs_an_explicit_code_and_says_which() -> None:
    with pytest.raises(UnsupportedLanguageError, match='"pcm": "eng_Latn"'):
        nllb_code("pcm")
    assert nllb_code("pcm", {"pcm": "eng_Latn"}) == "eng_Latn"
    assert m2m100_code("pcm", {"pcm": "en"}) == "en"


@pytest.mark.parametrize(
    "lang,code",
    [("en", "en"), ("eng", "en"), ("yor", "yo"), ("swa", "sw"), ("swh", "sw"), ("nso", "ns"),
     ("__yo__", "yo"), ("zul", "zu"), ("ast", "ast")],
)  # fmt: skip
def test_m2m100_codes(lang: str, code: str) -> None:
    assert m2m100_code(lang) == code


def test_unknown_languages_name_the_way_out() -> None:
    with pytest.raises(UnsupportedLanguageError, match="M2M100_CODES"):
        m2m100_code("luo")
    with pytest.raises(UnsupportedLanguageError, match="NLLB_CODES"):
        nllb_code("xyz")
    with pytest.raises(ValueError, match="family"):
        model_code("en", "marian")
    assert model_code("yo", "nllb") == "yor_Latn"
    assert model_code("yo", "m2m100") == "yo"


def test_tables_match_the_tokenizers_of_transformers() -> None:
    pytest.importorskip("transformers")
    from transformers.models.m2m_100.tokenization_m2m_100 import FAIRSEQ_LANGUAGE_CODES as M2M
    from transformers.models.nllb.tokenization_nllb import FAIRSEQ_LANGUAGE_CODES as NLLB

    assert set(NLLB) == NLLB_CODES
    assert set(M2M["m2m100"]) == M2M100_CODES
