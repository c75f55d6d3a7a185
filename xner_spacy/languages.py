"""Language codes: the data uses ISO 639-1 for source languages (``mafand/en-yor``) and ISO
639-3 for the rest (``masakhaner2/yor``, ``ntrex128/eng.txt``); this maps between them."""

from __future__ import annotations

#: ISO 639-1 → ISO 639-3 for languages that have a two-letter code and appear as sources.
ISO1_TO_ISO3: dict[str, str] = {
    "af": "afr", "am": "amh", "ar": "ara", "de": "deu", "en": "eng", "es": "spa", "fr": "fra",
    "ha": "hau", "ig": "ibo", "it": "ita", "nl": "nld", "pt": "por", "ru": "rus", "rw": "kin",
    "sn": "sna", "so": "som", "sw": "swa", "wo": "wol", "xh": "xho", "yo": "yor", "zh": "zho",
    "zu": "zul",
}  # fmt: skip


def to_iso3(code: str) -> str:
    """The ISO 639-3 code of ``code`` (two-letter codes mapped, three-letter kept)."""
    return ISO1_TO_ISO3.get(code, code)
