"""Span P/R/F1 and model evaluation against gold data."""

from .spans import DEFAULT_LABELS, score_spans

__all__ = ["DEFAULT_LABELS", "score_spans"]
