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
    """Alignment heuristics: García-Ferrero et al. 2022 ("gf2022") or Politov et al. 2025 ("paper")."""
    from .projection.heuristic import HeuristicProjector

    return HeuristicProjector(
        variant=variant,
        max_gap=max_gap,
        min_length_ratio=min_length_ratio,
        symmetric_ratio=symmetric_ratio,
        merge_only_inside=merge_only_inside,
        merge_same_label=merge_same_label,
    )
