"""Language codes: the data uses ISO 639-1 for source languages (``mafand/en-yor``) and ISO
639-3 for the rest (``masakhaner2/yor``, ``ntrex128/eng.txt``); this maps between them."""

from __future__ import annotations

#: ISO 639-1 → ISO 639-3 (macrolanguage codes where ISO 639-1 names a macrolanguage, as the
#: data does: ``sw`` → ``swa``): every two-letter code of the MasakhaNER, WikiANN/XTREME,
#: NLLB-200 and M2M-100 languages.
ISO1_TO_ISO3: dict[str, str] = {
    "af": "afr", "ak": "aka", "am": "amh", "ar": "ara", "as": "asm", "ay": "aym", "az": "aze",
    "ba": "bak", "be": "bel", "bg": "bul", "bm": "bam", "bn": "ben", "bo": "bod", "br": "bre",
    "bs": "bos", "ca": "cat", "cs": "ces", "cy": "cym", "da": "dan", "de": "deu", "dz": "dzo",
    "ee": "ewe", "el": "ell", "en": "eng", "eo": "epo", "es": "spa", "et": "est", "eu": "eus",
    "fa": "fas", "ff": "ful", "fi": "fin", "fj": "fij", "fo": "fao", "fr": "fra", "fy": "fry",
    "ga": "gle", "gd": "gla", "gl": "glg", "gn": "grn", "gu": "guj", "ha": "hau", "he": "heb",
    "hi": "hin", "hr": "hrv", "ht": "hat", "hu": "hun", "hy": "hye", "id": "ind", "ig": "ibo",
    "is": "isl", "it": "ita", "ja": "jpn", "jv": "jav", "ka": "kat", "kg": "kon", "ki": "kik",
    "kk": "kaz", "km": "khm", "kn": "kan", "ko": "kor", "ks": "kas", "ku": "kur", "ky": "kir",
    "lb": "ltz", "lg": "lug", "li": "lim", "ln": "lin", "lo": "lao", "lt": "lit", "lv": "lav",
    "mg": "mlg", "mi": "mri", "mk": "mkd", "ml": "mal", "mn": "mon", "mr": "mar", "ms": "msa",
    "mt": "mlt", "my": "mya", "nb": "nob", "ne": "nep", "nl": "nld", "nn": "nno", "no": "nor",
    "ny": "nya", "oc": "oci", "om": "orm", "or": "ori", "pa": "pan", "pl": "pol", "ps": "pus",
    "pt": "por", "qu": "que", "rn": "run", "ro": "ron", "ru": "rus", "rw": "kin", "sa": "san",
    "sc": "srd", "sd": "snd", "sg": "sag", "si": "sin", "sk": "slk", "sl": "slv", "sm": "smo",
    "sn": "sna", "so": "som", "sq": "sqi", "sr": "srp", "ss": "ssw", "st": "sot", "su": "sun",
    "sv": "swe", "sw": "swa", "ta": "tam", "te": "tel", "tg": "tgk", "th": "tha", "ti": "tir",
    "tk": "tuk", "tl": "tgl", "tn": "tsn", "tr": "tur", "ts": "tso", "tt": "tat", "tw": "twi",
    "ug": "uig", "uk": "ukr", "ur": "urd", "uz": "uzb", "vi": "vie", "wo": "wol", "xh": "xho",
    "yi": "yid", "yo": "yor", "zh": "zho", "zu": "zul",
}  # fmt: skip


def to_iso3(code: str) -> str:
    """The ISO 639-3 code of ``code`` (two-letter codes mapped, three-letter kept)."""
    return ISO1_TO_ISO3.get(code, code)
