"""Text normalisation, tokenisation and the normalised keys used to join and deduplicate."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

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


def blank_parts(lang: str) -> tuple[Any, Any]:
    """The vocab and tokenizer of ``spacy.blank(lang)`` (``xx`` for an unknown code), built
    without a ``Language``: its constructor imports every package's spaCy factories (with
    spacy-transformers installed, transformers and torch: seconds). Languages with their
    own tokenizer (ja, zh, …) still go through ``spacy.blank``."""
    import spacy
    from spacy.language import create_tokenizer
    from spacy.util import get_lang_class
    from spacy.vocab import create_vocab

    try:
        cls = get_lang_class(lang)
    except Exception:  # unknown language code: spaCy's multi-language tokenizer
        cls = get_lang_class("xx")
    if cls.default_config["nlp"]["tokenizer"].get("@tokenizers") != "spacy.Tokenizer.v1":
        nlp = spacy.blank(cls.lang)
        return nlp.vocab, nlp.tokenizer
    shim = SimpleNamespace(Defaults=cls.Defaults, vocab=create_vocab(cls.lang, cls.Defaults))
    return shim.vocab, create_tokenizer()(shim)


@functools.lru_cache(maxsize=16)
def _spacy_tokenizer(lang: str) -> Callable[[str], list[str]]:
    tok = blank_parts(lang)[1]
    return lambda text: [t.text for t in tok(text) if not t.is_space]


def tokenize(text: str, lang: str = "xx") -> list[str]:
    """NFC-normalise and split raw text into words with spaCy's rule-based tokenizer.

    The target side uses ``xx`` (language-neutral) rules, the same tokenizer a packaged
    ``xx_xner_<lang>`` pipeline applies at run time, so training and inference agree.
    """
    return _spacy_tokenizer(lang)(nfc(text).strip())
