"""Language codes of multilingual translation models, from the ISO codes the data uses.

The data names languages by ISO 639-3 (``masakhaner2/yor``) or ISO 639-1 (``mafand/en-yor``);
NLLB-200 wants ``yor_Latn`` (ISO 639-3 + script) and M2M-100 ``yo``. Where ISO names a
macrolanguage and a model a member of it, the member is the one the model was trained on
(``swa`` → ``swh_Latn``, ``fas`` → ``pes_Arab``). A language the model lacks is an error that
says how to pass a code explicitly; nothing is guessed silently (Nigerian Pidgin, ``pcm``, has
no NLLB-200 or M2M-100 code: map it yourself, e.g. ``lang_codes = {"pcm": "eng_Latn"}``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from ..language_codes import to_iso3

_NLLB_LIST = """
    ace_Arab ace_Latn acm_Arab acq_Arab aeb_Arab afr_Latn ajp_Arab aka_Latn als_Latn amh_Ethi
    apc_Arab arb_Arab ars_Arab ary_Arab arz_Arab asm_Beng ast_Latn awa_Deva ayr_Latn azb_Arab
    azj_Latn bak_Cyrl bam_Latn ban_Latn bel_Cyrl bem_Latn ben_Beng bho_Deva bjn_Arab bjn_Latn
    bod_Tibt bos_Latn bug_Latn bul_Cyrl cat_Latn ceb_Latn ces_Latn cjk_Latn ckb_Arab crh_Latn
    cym_Latn dan_Latn deu_Latn dik_Latn dyu_Latn dzo_Tibt ell_Grek eng_Latn epo_Latn est_Latn
    eus_Latn ewe_Latn fao_Latn fij_Latn fin_Latn fon_Latn fra_Latn fur_Latn fuv_Latn gaz_Latn
    gla_Latn gle_Latn glg_Latn grn_Latn guj_Gujr hat_Latn hau_Latn heb_Hebr hin_Deva hne_Deva
    hrv_Latn hun_Latn hye_Armn ibo_Latn ilo_Latn ind_Latn isl_Latn ita_Latn jav_Latn jpn_Jpan
    kab_Latn kac_Latn kam_Latn kan_Knda kas_Arab kas_Deva kat_Geor kaz_Cyrl kbp_Latn kea_Latn
    khk_Cyrl khm_Khmr kik_Latn kin_Latn kir_Cyrl kmb_Latn kmr_Latn knc_Arab knc_Latn kon_Latn
    kor_Hang lao_Laoo lij_Latn lim_Latn lin_Latn lit_Latn lmo_Latn ltg_Latn ltz_Latn lua_Latn
    lug_Latn luo_Latn lus_Latn lvs_Latn mag_Deva mai_Deva mal_Mlym mar_Deva min_Latn mkd_Cyrl
    mlt_Latn mni_Beng mos_Latn mri_Latn mya_Mymr nld_Latn nno_Latn nob_Latn npi_Deva nso_Latn
    nus_Latn nya_Latn oci_Latn ory_Orya pag_Latn pan_Guru pap_Latn pbt_Arab pes_Arab plt_Latn
    pol_Latn por_Latn prs_Arab quy_Latn ron_Latn run_Latn rus_Cyrl sag_Latn san_Deva sat_Beng
    scn_Latn shn_Mymr sin_Sinh slk_Latn slv_Latn smo_Latn sna_Latn snd_Arab som_Latn sot_Latn
    spa_Latn srd_Latn srp_Cyrl ssw_Latn sun_Latn swe_Latn swh_Latn szl_Latn tam_Taml taq_Latn
    taq_Tfng tat_Cyrl tel_Telu tgk_Cyrl tgl_Latn tha_Thai tir_Ethi tpi_Latn tsn_Latn tso_Latn
    tuk_Latn tum_Latn tur_Latn twi_Latn tzm_Tfng uig_Arab ukr_Cyrl umb_Latn urd_Arab uzn_Latn
    vec_Latn vie_Latn war_Latn wol_Latn xho_Latn ydd_Hebr yor_Latn yue_Hant zho_Hans zho_Hant
    zsm_Latn zul_Latn
"""
#: Every language code of NLLB-200 (``facebook/nllb-200-*``), ISO 639-3 + ISO 15924 script.
NLLB_CODES: frozenset[str] = frozenset(_NLLB_LIST.split())

_M2M100_LIST = """
    af am ar ast az ba be bg bn br bs ca ceb cs cy da de el en es et fa ff fi fr fy ga gd gl gu
    ha he hi hr ht hu hy id ig ilo is it ja jv ka kk km kn ko lb lg ln lo lt lv mg mk ml mn mr
    ms my ne nl no ns oc or pa pl ps pt ro ru sd si sk sl so sq sr ss su sv sw ta th tl tn tr uk
    ur uz vi wo xh yi yo zh zu
"""
#: Every language code of M2M-100 (``facebook/m2m100_418M``, ``_1.2B``); tokens are ``__xx__``.
M2M100_CODES: frozenset[str] = frozenset(_M2M100_LIST.split())

#: ISO 639-3 codes (macrolanguages, and languages NLLB-200 writes in several scripts) → the
#: NLLB-200 code used for them; other languages have exactly one ``<iso3>_<Script>`` code.
NLLB_PREFERRED: dict[str, str] = {
    "ara": "arb_Arab", "aym": "ayr_Latn", "aze": "azj_Latn", "din": "dik_Latn", "ekk": "est_Latn",
    "fas": "pes_Arab", "ful": "fuv_Latn", "kau": "knc_Latn", "kur": "kmr_Latn", "lav": "lvs_Latn",
    "mlg": "plt_Latn", "mon": "khk_Cyrl", "msa": "zsm_Latn", "nep": "npi_Deva", "nor": "nob_Latn",
    "ori": "ory_Orya", "orm": "gaz_Latn", "pus": "pbt_Arab", "que": "quy_Latn", "sqi": "als_Latn",
    "swa": "swh_Latn", "uzb": "uzn_Latn", "yid": "ydd_Hebr", "zho": "zho_Hans",
    "ace": "ace_Latn", "bjn": "bjn_Latn", "kas": "kas_Arab", "knc": "knc_Latn", "taq": "taq_Latn",
}  # fmt: skip

#: ISO 639-3 codes of individual languages → the macrolanguage code M2M-100 uses for them.
M2M100_MACRO: dict[str, str] = {
    "arb": "ara", "azj": "aze", "ekk": "est", "fuv": "ful", "khk": "mon", "lvs": "lav",
    "nob": "nor", "npi": "nep", "ory": "ori", "pbt": "pus", "pes": "fas", "plt": "mlg",
    "als": "sqi", "swh": "swa", "uzn": "uzb", "ydd": "yid", "zsm": "msa", "cmn": "zho",
}  # fmt: skip

#: Why some languages of the evaluation data have no code, and the usual explicit stand-in.
MISSING_NOTES: dict[str, str] = {
    "pcm": "Nigerian Pidgin is in neither NLLB-200 nor M2M-100; it is English-lexified, so "
    'English is the usual stand-in, if you choose it: lang_codes = {"pcm": "eng_Latn"}',
    "bbj": "Ghomálá' is in neither NLLB-200 nor M2M-100",
}

FAMILIES_WITH_CODES = ("nllb", "m2m100")
_NLLB_RE = re.compile(r"^[a-z]{3}_[A-Z][a-z]{3}$")


class UnsupportedLanguageError(ValueError):
    """A language that the translation model has no code for."""


def _nllb_by_iso3() -> dict[str, str]:
    table: dict[str, str] = {}
    for code in sorted(NLLB_CODES):
        table.setdefault(code.split("_")[0], code)
    table.update(NLLB_PREFERRED)
    return table


def _m2m_by_iso3() -> dict[str, str]:
    table = {(to_iso3(c) if len(c) == 2 else c): c for c in M2M100_CODES if c != "ns"}
    table["nso"] = "ns"  # fairseq's code for Northern Sotho
    return table


NLLB_BY_ISO3: dict[str, str] = _nllb_by_iso3()
M2M100_BY_ISO3: dict[str, str] = _m2m_by_iso3()


def _missing(lang: str, iso3: str, model: str, table: str) -> UnsupportedLanguageError:
    note = MISSING_NOTES.get(iso3)
    return UnsupportedLanguageError(
        f"{model} has no code for language {lang!r}"
        + (f" (ISO 639-3 {iso3!r})" if iso3 != lang else "")
        + (f". {note}" if note else "")
        + ". Pass a code of the model instead (one of "
        + f"xner_spacy.translation.mt_language_codes.{table}), "
        f'or map the language in the [translator] section: lang_codes = {{"{lang}": "<code>"}}'
    )


def nllb_code(lang: str, overrides: Mapping[str, str] | None = None) -> str:
    """NLLB-200 code of an ISO 639-1/-3 language, or an explicit NLLB code passed through."""
    lang = lang.strip()
    if overrides and lang in overrides:
        return overrides[lang]
    if _NLLB_RE.match(lang):
        return lang
    iso3 = to_iso3(lang.lower())
    if overrides and iso3 in overrides:
        return overrides[iso3]
    code = NLLB_BY_ISO3.get(iso3)
    if code is None:
        raise _missing(lang, iso3, "NLLB-200", "NLLB_CODES")
    return code


def m2m100_code(lang: str, overrides: Mapping[str, str] | None = None) -> str:
    """M2M-100 code (``yo``, not ``__yo__``) of an ISO 639-1/-3 language or explicit code."""
    lang = lang.strip()
    if overrides and lang in overrides:
        return overrides[lang].strip("_")
    if lang.startswith("__") and lang.endswith("__"):
        return lang.strip("_")
    if lang in M2M100_CODES:
        return lang
    iso3 = to_iso3(lang.lower())
    if overrides and iso3 in overrides:
        return overrides[iso3].strip("_")
    iso3 = M2M100_MACRO.get(iso3, iso3)
    code = M2M100_BY_ISO3.get(iso3)
    if code is None:
        raise _missing(lang, iso3, "M2M-100", "M2M100_CODES")
    return code


def model_code(lang: str, family: str, overrides: Mapping[str, str] | None = None) -> str:
    """The code of ``lang`` for a model family: ``"nllb"`` or ``"m2m100"``."""
    if family == "nllb":
        return nllb_code(lang, overrides)
    if family == "m2m100":
        return m2m100_code(lang, overrides)
    raise ValueError(
        f"family {family!r} has no language-code table; use one of {FAMILIES_WITH_CODES}"
    )
