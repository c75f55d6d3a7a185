"""xner-spacy: cross-lingual NER for low-resource languages by projection and distillation."""

from .types import Entity, PairRecord

__version__ = "0.1.0"

__all__ = ["Entity", "PairRecord", "__version__"]
