"""Source labellers: spaCy pipelines (here) and Hugging Face token classifiers; label maps."""

from .label_maps import BUILTIN_LABEL_MAPS, get_label_map

__all__ = ["BUILTIN_LABEL_MAPS", "get_label_map"]
