"""Every function xner-spacy registers in spaCy's registry, under versioned names.

This is the one place where names such as ``xner.HeuristicProjector.v1`` are bound. The
factories are thin: they import the implementation (and heavy libraries such as eflomal or
torch) only when called, so resolving a config stays cheap. ``setup.cfg`` lists the same
names as entry points, so they resolve without importing the plugin first. A published
``.v1`` never changes behaviour; a new behaviour gets ``.v2``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from spacy.util import registry


def resolve_section(cfg: Mapping[str, Any], section: str) -> Any:
    """Build the registered object described by ``[section]`` of a loaded config."""
    if section not in cfg:
        raise ValueError(f"the config has no [{section}] section")
    return registry.resolve({section: cfg[section]})[section]


# --- tokenizers -----------------------------------------------------------------------------


@registry.tokenizers("xner.NFCTokenizer.v1")
def make_nfc_tokenizer() -> Callable[[Any], Any]:
    """The language's rule-based tokenizer, applied to NFC-normalised text."""
    from .pipeline.tokenizer import create_nfc_tokenizer

    return create_nfc_tokenizer()


# --- labellers ------------------------------------------------------------------------------


@registry.misc("xner.SpacyLabeller.v1")
def make_spacy_labeller(
    model: str,
    label_map: str | Mapping[str, str | None] = "ontonotes",
    batch_size: int = 256,
    n_process: int = 1,
) -> Any:
    """Source labeller on a spaCy pipeline (package name or path); labels mapped to PER/ORG/LOC."""
    from .labelling.spacy_labeller import SpacyLabeller

    return SpacyLabeller(
        model=model, label_map=label_map, batch_size=batch_size, n_process=n_process
    )


@registry.misc("xner.EnsembleLabeller.v1")
def make_ensemble_labeller(
    labellers: dict[str, Any],
    span_weights: dict[str, float] | None = None,
    label_weights: dict[str, float] | None = None,
    threshold: float = 0.5,
) -> Any:
    """Several labellers combined: spans by weighted vote, labels by a second weighted vote."""
    from .labelling.ensemble import EnsembleLabeller

    return EnsembleLabeller(
        labellers=labellers,
        span_weights=span_weights,
        label_weights=label_weights,
        threshold=threshold,
    )


# --- aligners -------------------------------------------------------------------------------


@registry.misc("xner.EflomalAligner.v1")
def make_eflomal_aligner(
    symmetrization: str = "grow-diag-final-and",
    lowercase: bool = True,
    prefix_len: int = 0,
    model: int = 3,
    n_iterations: int | None = None,
    n_samplers: int = 3,
    null_prior: float = 0.2,
) -> Any:
    """eflomal (Bayesian HMM+fertility, optional GPL-3 extra), both directions, symmetrised."""
    from .alignment.statistical import EflomalAligner

    return EflomalAligner(
        symmetrization=symmetrization,
        lowercase=lowercase,
        prefix_len=prefix_len,
        model=model,
        n_iterations=n_iterations,
        n_samplers=n_samplers,
        null_prior=null_prior,
    )


@registry.misc("xner.FastAlignAligner.v1")
def make_fast_align_aligner(
    symmetrization: str = "grow-diag-final-and",
    lowercase: bool = True,
    prefix_len: int = 0,
    iterations: int = 5,
    favor_diagonal: bool = True,
    diagonal_tension: float = 4.0,
    prob_align_null: float = 0.08,
) -> Any:
    """fast_align (IBM Model 2 variant, via systran-align), both directions, symmetrised."""
    from .alignment.statistical import FastAlignAligner

    return FastAlignAligner(
        symmetrization=symmetrization,
        lowercase=lowercase,
        prefix_len=prefix_len,
        iterations=iterations,
        favor_diagonal=favor_diagonal,
        diagonal_tension=diagonal_tension,
        prob_align_null=prob_align_null,
    )


# --- projectors -----------------------------------------------------------------------------


@registry.misc("xner.HeuristicProjector.v1")
def make_heuristic_projector(
    variant: str = "gf2022",
    max_gap: int = 1,
    min_length_ratio: float = 0.8,
    symmetric_ratio: bool = False,
    merge_only_inside: bool = True,
    merge_same_label: bool = True,
) -> Any:
    """Alignment heuristics: García-Ferrero et al. 2022 ("gf2022") or Politov et al. ("paper")."""
    from .projection.heuristic import HeuristicProjector

    return HeuristicProjector(
        variant=variant,
        max_gap=max_gap,
        min_length_ratio=min_length_ratio,
        symmetric_ratio=symmetric_ratio,
        merge_only_inside=merge_only_inside,
        merge_same_label=merge_same_label,
    )


@registry.misc("xner.CandidateMatching.v1")
def make_candidate_matching(
    candidates: dict[str, Any] | None = None,
    scores: dict[str, Any] | None = None,
    weights: dict[str, float] | None = None,
    solver: str = "greedy",
    min_score: float = 0.0,
    label_from: str = "source",
) -> Any:
    """Match source entities to target candidates by weighted scores (greedy or exact ILP).

    ``candidates`` and ``scores`` are named config blocks (``[projector.scores.dice]``);
    ``weights`` maps score names to weights (missing names weigh 1). Defaults: all n-grams
    up to 10 words, scored by alignment Dice.
    """
    from .projection.candidates import NgramCandidates
    from .projection.matching import CandidateMatcher
    from .projection.scores import AlignmentDice

    cands = list((candidates or {"ngram": NgramCandidates()}).values())
    named_scores = scores or {"dice": AlignmentDice()}
    unknown = set(weights or {}) - set(named_scores)
    if unknown:
        raise ValueError(
            f"weights name unknown scores {sorted(unknown)}; scores: {sorted(named_scores)}"
        )
    w = [float((weights or {}).get(name, 1.0)) for name in named_scores]
    return CandidateMatcher(
        candidates=cands,
        scores=list(named_scores.values()),
        weights=w,
        solver=solver,
        min_score=min_score,
        label_from=label_from,
    )


@registry.misc("xner.NgramCandidates.v1")
def make_ngram_candidates(
    max_len: int = 10,
    restrict_to_aligned_window: bool = True,
    sentence_punct: list[str] | None = None,
) -> Any:
    """All target n-grams up to ``max_len`` words without sentence punctuation inside."""
    from .projection.candidates import NgramCandidates

    if sentence_punct is None:
        return NgramCandidates(
            max_len=max_len, restrict_to_aligned_window=restrict_to_aligned_window
        )
    return NgramCandidates(
        max_len=max_len,
        restrict_to_aligned_window=restrict_to_aligned_window,
        sentence_punct=tuple(sentence_punct),
    )


@registry.misc("xner.NerCandidates.v1")
def make_ner_candidates(
    key: str = "ner_spans", min_score: float = 0.0, labels: list[str] | None = None
) -> Any:
    """Spans a NER model proposed on the target sentence (any class), read from ``extras[key]``."""
    from .projection.candidates import SpanCandidates

    return SpanCandidates(
        key=key, min_score=min_score, labels=None if labels is None else tuple(labels)
    )


@registry.misc("xner.AlignmentDice.v1")
def make_alignment_dice() -> Any:
    """2·|aligned pairs between s and t| / (|s| + |t|)."""
    from .projection.scores import AlignmentDice

    return AlignmentDice()


@registry.misc("xner.NerSpanScore.v1")
def make_ner_span_score(key: str = "ner_spans", same_label: bool = False) -> Any:
    """The target NER model's confidence in the candidate span (0 if it did not propose it)."""
    from .projection.scores import NerSpanScore

    return NerSpanScore(key=key, same_label=same_label)


@registry.misc("xner.StringSimilarity.v1")
def make_string_similarity(min_similarity: float = 0.0) -> Any:
    """Character similarity of source entity and candidate (names copied across languages)."""
    from .projection.scores import StringSimilarity

    return StringSimilarity(min_similarity=min_similarity)


@registry.misc("xner.TranslationProbability.v1")
def make_translation_probability(
    prob: Callable[[str, str], float] | None = None, key: str = "translation_probs"
) -> Any:
    """P(candidate | entity) under a translation model: ``extras[key]`` or ``prob(src, tgt)``."""
    from .projection.scores import TranslationProbability

    return TranslationProbability(prob=prob, key=key)
