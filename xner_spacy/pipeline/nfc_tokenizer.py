"""A tokenizer that NFC-normalises text first, so tone-marked input matches the training data."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import Any

from spacy.tokenizer import Tokenizer
from spacy.tokens import Doc


class NFCTokenizer(Tokenizer):
    """spaCy's rule-based tokenizer applied to the NFC form of the text.

    Yorùbá and other tone-marked scripts reach the model in several Unicode forms (a base letter
    followed by combining marks, or precomposed). Hash-embedding features see different strings
    for the same word unless the text is normalised, so the pipeline normalises before splitting.
    """

    def __call__(self, text: str) -> Doc:
        return super().__call__(unicodedata.normalize("NFC", text))


def create_nfc_tokenizer() -> Callable[[Any], NFCTokenizer]:
    """Registered as ``xner.NFCTokenizer.v1``: the language's default rules, NFC first."""

    def make_tokenizer(nlp: Any) -> NFCTokenizer:
        defaults = nlp.Defaults
        prefix = defaults.prefixes
        suffix = defaults.suffixes
        infix = defaults.infixes
        from spacy.util import compile_infix_regex, compile_prefix_regex, compile_suffix_regex

        return NFCTokenizer(
            nlp.vocab,
            rules=defaults.tokenizer_exceptions,
            prefix_search=compile_prefix_regex(prefix).search if prefix else None,
            suffix_search=compile_suffix_regex(suffix).search if suffix else None,
            infix_finditer=compile_infix_regex(infix).finditer if infix else None,
            token_match=defaults.token_match,
            url_match=defaults.url_match,
        )

    return make_tokenizer
