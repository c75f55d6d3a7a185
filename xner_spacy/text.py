"""Text normalisation, tokenisation and the normalised keys used to join and deduplicate."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable

_SPACE_RE = re.compile(r"\s+")


def nfc(text: str) -> str:
    """Unicode NFC: composes base letters with tone marks where Unicode has a precomposed form."""
    return unicodedata.normalize("NFC", text)


def is_punct(word: str) -> bool:
    """True for a word made only of punctuation and symbols (Unicode categories P* and S*)."""
    return bool(word) and all(unicodedata.category(ch)[0] in "PS" for ch in word)


def strict_key(text: str) -> str:
    """Join key that survives re-tokenisation: NFC, every whitespace deleted."""
    return _SPACE_RE.sub("", nfc(text))


def loose_key(text: str) -> str:
    """Looser key: NFKC, case-folded, with whitespace, punctuation, symbols and marks removed.

    Survives tokenisation, quote styles (straight vs curly), apostrophes and tone-mark
    differences, so it is the key for removing test sentences from training data.
    """
    norm = unicodedata.normalize("NFKD", text).casefold()
    return "".join(ch for ch in norm if unicodedata.category(ch)[0] in "LN")


@functools.lru_cache(maxsize=16)
def _spacy_tokenizer(lang: str) -> Callable[[str], list[str]]:
    import spacy

    try:
        nlp = spacy.blank(lang)
    except Exception:  # unknown language code: spaCy's multi-language tokenizer
        nlp = spacy.blank("xx")
    tok = nlp.tokenizer
    return lambda text: [t.text for t in tok(text) if not t.is_space]


def tokenize(text: str, lang: str = "xx") -> list[str]:
    """NFC-normalise and split raw text into words with spaCy's rule-based tokenizer.

    The target side uses ``xx`` (language-neutral) rules, the same tokenizer a packaged
    ``xx_xner_<lang>`` pipeline applies at run time, so training and inference agree.
    """
    return _spacy_tokenizer(lang)(nfc(text).strip())
