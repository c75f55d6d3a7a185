"""Machine translation: HF seq2seq translators (NLLB-200, M2M-100, Marian), language-code
tables, a resumable translation cache, and NMTScore-style translation probabilities.

Light to import: torch and transformers are imported only when a model is used.
"""

from .mt_language_codes import UnsupportedLanguageError, m2m100_code, model_code, nllb_code
from .nmt_scorer import NMTScorer
from .translation_cache import TranslationCache
from .translator import HFTranslator

__all__ = [
    "HFTranslator",
    "NMTScorer",
    "TranslationCache",
    "UnsupportedLanguageError",
    "m2m100_code",
    "model_code",
    "nllb_code",
]
