"""Every name xner-spacy registers in spaCy's registry, bound to its implementation.

As in spaCy's own ``spacy/registrations.py``, the implementations (classes and functions
whose signatures are the config parameters) are registered directly, so a parameter is
declared once, where it is used. ``setup.cfg`` lists the same names as entry points that
point at the same objects, so a config resolves them without importing this module. The
implementation modules import heavy libraries (torch, transformers, eflomal, HiGHS) only
inside the methods that need them. A published ``.v1`` never changes behaviour; a new
behaviour gets ``.v2``. Factories remain only where a config's shape differs from the
implementation's constructor; each says why in its docstring.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from spacy.util import registry

from .alignment.backtranslation import BackTranslationRefiner
from .alignment.combined_aligner import CombinedAligner
from .alignment.neural_aligners import SimAlignAligner, SoftmaxAligner
from .alignment.statistical_aligners import EflomalAligner, FastAlignAligner

# The spaCy components register their factories beside their classes; importing the
# modules here registers them together with everything else.
from .distill import student_ner as _student  # noqa: F401, I001
from .distill.soft_tagger import build_soft_ner_tagger
from .distill.teacher_corpus import TeacherCorpus
from .distill.teachers import load_teacher
from .labelling.ensemble import EnsembleLabeller
from .labelling.hf_labeller import HFTokenClassifier
from .labelling.spacy_labeller import SpacyLabeller
from .pipeline import encoder_component as _encoder  # noqa: F401
from .pipeline import projection_components as _components  # noqa: F401
from .pipeline import translate_test as _translate_test  # noqa: F401
from .pipeline.encoder_features import build_encoder_features
from .pipeline.nfc_tokenizer import create_nfc_tokenizer
from .pipeline.train_logger import encoder_logger
from .pipeline.tuned_encoder_features import build_tuned_encoder_features
from .projection.candidate_matching import CandidateMatcher
from .projection.candidate_scores import (
    AlignmentDice,
    NerSpanScore,
    PairScore,
    StringSimilarity,
    TranslationProbability,
)
from .projection.candidate_spans import CandidateExtractor, NgramCandidates, SpanCandidates
from .projection.corpus_passes import NamePropagation, SupportedFallback
from .projection.heuristic_projection import HeuristicProjector
from .projection.label_consistency import LabelConsistency
from .projection.nmt_candidate_score import NMTTranslationProbability
from .translation.nmt_scorer import NMTScorer
from .translation.translator import HFTranslator


def resolve_section(cfg: Mapping[str, Any], section: str) -> Any:
    """Build the registered object described by ``[section]`` of a loaded config."""
    if section not in cfg:
        raise ValueError(f"the config has no [{section}] section")
    return registry.resolve({section: cfg[section]})[section]


# --- bindings: name → implementation ---------------------------------------------------------

registry.tokenizers("xner.NFCTokenizer.v1")(create_nfc_tokenizer)
registry.architectures("xner.SoftNERTagger.v1")(build_soft_ner_tagger)
registry.architectures("xner.EncoderFeatures.v1")(build_encoder_features)
registry.architectures("xner.TunedEncoderFeatures.v1")(build_tuned_encoder_features)
registry.readers("xner.TeacherCorpus.v1")(TeacherCorpus)
registry.loggers("xner.EncoderLogger.v1")(encoder_logger)

# labellers
registry.misc("xner.SpacyLabeller.v1")(SpacyLabeller)
registry.misc("xner.HFTokenClassifier.v1")(HFTokenClassifier)
# aligners
registry.misc("xner.EflomalAligner.v1")(EflomalAligner)
registry.misc("xner.FastAlignAligner.v1")(FastAlignAligner)
registry.misc("xner.SimAlignAligner.v1")(SimAlignAligner)
registry.misc("xner.SoftmaxAligner.v1")(SoftmaxAligner)
registry.misc("xner.CombinedAligner.v1")(CombinedAligner)
registry.misc("xner.BackTranslationRefiner.v1")(BackTranslationRefiner)
# projectors, candidates, scores, corpus-level passes
registry.misc("xner.HeuristicProjector.v1")(HeuristicProjector)
registry.misc("xner.NgramCandidates.v1")(NgramCandidates)
registry.misc("xner.NerCandidates.v1")(SpanCandidates)
registry.misc("xner.AlignmentDice.v1")(AlignmentDice)
registry.misc("xner.NerSpanScore.v1")(NerSpanScore)
registry.misc("xner.StringSimilarity.v1")(StringSimilarity)
registry.misc("xner.TranslationProbability.v1")(TranslationProbability)
registry.misc("xner.NMTTranslationProbability.v1")(NMTTranslationProbability)
registry.misc("xner.LabelConsistency.v1")(LabelConsistency)
registry.misc("xner.SupportedFallback.v1")(SupportedFallback)
registry.misc("xner.NamePropagation.v1")(NamePropagation)
# translation
registry.misc("xner.HFTranslator.v1")(HFTranslator)
registry.misc("xner.NMTScorer.v1")(NMTScorer)
# distillation
registry.misc("xner.Teacher.v1")(load_teacher)


# --- factories: where the config's shape is not the constructor's ---------------------------


@registry.misc("xner.EnsembleLabeller.v1")
def make_ensemble_labeller(
    # Any, not Labeller: confection checks blocks nested in a dict before building them.
    labellers: dict[str, Any],
    span_weights: dict[str, float] | None = None,
    label_weights: dict[str, float] | None = None,
    threshold: float = 0.5,
) -> EnsembleLabeller:
    """Several labellers combined: spans by weighted vote, labels by a second weighted vote.

    A factory only because the labellers arrive as config blocks in a dict (see above).
    """
    return EnsembleLabeller(labellers, span_weights, label_weights, threshold)


@registry.misc("xner.CandidateMatching.v1")
def make_candidate_matching(
    # Any, not the Protocols: confection checks blocks nested in a dict before building them.
    candidates: dict[str, Any] | None = None,
    scores: dict[str, Any] | None = None,
    weights: dict[str, float] | None = None,
    solver: str = "greedy",
    min_score: float = 0.0,
    label_from: str = "source",
) -> CandidateMatcher:
    """Match source entities to target candidates by weighted scores (greedy or exact ILP).

    A factory because a config names its candidate generators and scores as blocks
    (``[projector.scores.dice]``) and weighs scores by name, while the matcher takes lists:
    ``weights`` maps score names to weights (missing names weigh 1). Defaults: all n-grams
    up to 10 words, scored by alignment Dice.
    """
    named_scores: dict[str, PairScore] = scores or {"dice": AlignmentDice()}
    extractors: list[CandidateExtractor] = list(
        (candidates or {"ngram": NgramCandidates()}).values()
    )
    unknown = set(weights or {}) - set(named_scores)
    if unknown:
        raise ValueError(
            f"weights name unknown scores {sorted(unknown)}; scores: {sorted(named_scores)}"
        )
    return CandidateMatcher(
        candidates=extractors,
        scores=list(named_scores.values()),
        weights=[float((weights or {}).get(name, 1.0)) for name in named_scores],
        solver=solver,
        min_score=min_score,
        label_from=label_from,
    )
