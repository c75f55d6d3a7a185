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

from spacy.language import Language
from spacy.util import registry
from thinc.api import Config

# The spaCy components (xner_aligner, xner_projector, xner_translate_test) register their
# factories where they are defined; importing them here registers them with everything else.
from .pipeline import components as _components  # noqa: F401
from .pipeline import translate_test as _translate_test  # noqa: F401


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


@registry.misc("xner.HFTokenClassifier.v1")
def make_hf_token_classifier(
    model: str,
    label_map: str | Mapping[str, str | None] = "conll",
    batch_size: int = 32,
    device: str | int = "auto",
    max_length: int | None = None,
    on_overflow: str = "error",
) -> Any:
    """Source labeller on a HF token classifier; a word takes its first sub-token's tag."""
    from .labelling.hf_labeller import HFTokenClassifier

    return HFTokenClassifier(
        model=model,
        label_map=label_map,
        batch_size=batch_size,
        device=device,
        max_length=max_length,
        on_overflow=on_overflow,
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


@registry.misc("xner.SimAlignAligner.v1")
def make_simalign_aligner(
    model: str = "bert-base-multilingual-cased",
    layer: int = 8,
    method: str = "itermax",
    token_type: str = "bpe",
    distortion: float = 0.0,
    device: str | int = "auto",
    batch_size: int = 32,
    max_length: int | None = None,
    on_overflow: str = "error",
) -> Any:
    """SimAlign: cosine similarity of one encoder layer, matched by argmax, itermax or match."""
    from .alignment.neural import SimAlignAligner

    return SimAlignAligner(
        model=model,
        layer=layer,
        method=method,
        token_type=token_type,
        distortion=distortion,
        device=device,
        batch_size=batch_size,
        max_length=max_length,
        on_overflow=on_overflow,
    )


@registry.misc("xner.SoftmaxAligner.v1")
def make_softmax_aligner(
    model: str = "bert-base-multilingual-cased",
    layer: int = 8,
    threshold: float = 1e-3,
    device: str | int = "auto",
    batch_size: int = 32,
    max_length: int | None = None,
    on_overflow: str = "error",
) -> Any:
    """AWESoME-style extraction: sub-token pairs above ``threshold`` in both softmax directions."""
    from .alignment.neural import SoftmaxAligner

    return SoftmaxAligner(
        model=model,
        layer=layer,
        threshold=threshold,
        device=device,
        batch_size=batch_size,
        max_length=max_length,
        on_overflow=on_overflow,
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


@registry.misc("xner.LabelConsistency.v1")
def make_label_consistency(
    source: bool = True,
    target: bool = True,
    ner_weight: float = 0.5,
    min_share: float = 0.0,
    lowercase: bool = True,
    labels: list[str] | None = None,
) -> Any:
    """Corpus-level label vote per surface string, before and after projection."""
    from .projection.consistency import LabelConsistency

    return LabelConsistency(
        source=source,
        target=target,
        ner_weight=ner_weight,
        min_share=min_share,
        lowercase=lowercase,
        labels=labels,
    )


@registry.misc("xner.SupportedFallback.v1")
def make_supported_fallback(
    projector: Any,
    support: str = "corpus",
    ner_support: bool = True,
    lowercase: bool = True,
    labels: list[str] | None = None,
) -> Any:
    """Add a second projector's spans where the target is free and the corpus vouches for them."""
    from .projection.corpus import SupportedFallback

    return SupportedFallback(
        projector=projector,
        support=support,
        ner_support=ner_support,
        lowercase=lowercase,
        labels=labels,
    )


@registry.misc("xner.NamePropagation.v1")
def make_name_propagation(
    min_share: float = 0.5,
    min_count: int = 2,
    max_len: int = 6,
    lowercase: bool = True,
    labels: list[str] | None = None,
) -> Any:
    """Mark every occurrence of a name projected in at least ``min_share`` of them."""
    from .projection.corpus import NamePropagation

    return NamePropagation(
        min_share=min_share,
        min_count=min_count,
        max_len=max_len,
        lowercase=lowercase,
        labels=labels,
    )


@registry.misc("xner.NMTScorer.v1")
def make_nmt_scorer(
    model: str = "facebook/nllb-200-distilled-600M",
    src_lang: str = "eng",
    tgt_lang: str = "yor",
    lang_codes: dict[str, str] | None = None,
    family: str = "auto",
    bidirectional: bool = True,
    batch_size: int = 32,
    max_length: int = 64,
    device: str | int = "auto",
) -> Any:
    """Length-normalised translation probability of a seq2seq model (NMTScore), as ``prob``."""
    from .translation.scoring import NMTScorer

    return NMTScorer(
        model,
        src_lang,
        tgt_lang,
        lang_codes=lang_codes,
        family=family,
        bidirectional=bidirectional,
        batch_size=batch_size,
        max_length=max_length,
        device=device,
    )


@registry.misc("xner.NMTTranslationProbability.v1")
def make_nmt_translation_probability(scorer: Any, max_len: int = 10) -> Any:
    """Candidate score from ``scorer`` (``xner.NMTScorer.v1``), batched per sentence pair."""
    from .projection.nmt_score import NMTTranslationProbability

    return NMTTranslationProbability(scorer=scorer, max_len=max_len)


# --- translation ----------------------------------------------------------------------------


@registry.misc("xner.HFTranslator.v1")
def make_hf_translator(
    model: str = "facebook/nllb-200-distilled-600M",
    src_lang: str | None = None,
    tgt_lang: str | None = None,
    lang_codes: dict[str, str] | None = None,
    family: str = "auto",
    batch_size: int = 16,
    num_beams: int = 4,
    max_length: int = 256,
    max_input_length: int = 512,
    device: str | int = "auto",
    cache: str | None = None,
) -> Any:
    """Seq2seq translation (NLLB-200, M2M-100, Marian): length-batched, cached, resumable."""
    from .translation.translator import HFTranslator

    return HFTranslator(
        model,
        src_lang,
        tgt_lang,
        lang_codes=lang_codes,
        family=family,
        batch_size=batch_size,
        num_beams=num_beams,
        max_length=max_length,
        max_input_length=max_input_length,
        device=device,
        cache=cache or None,
    )


@registry.misc("xner.BackTranslationRefiner.v1")
def make_back_translation_refiner(
    rule: str = "union", threshold: float = 0.8, min_fuzzy_len: int = 4
) -> Any:
    """Word alignment refined via the back-translation: "union", "intersect" or "replace"."""
    from .alignment.backtranslation import BackTranslationRefiner

    return BackTranslationRefiner(rule=rule, threshold=threshold, min_fuzzy_len=min_fuzzy_len)


# --- distillation: student component, its network, teachers, teacher corpus ----------------

_STUDENT_MODEL = """
[model]
@architectures = "xner.SoftNERTagger.v1"
nO = null

[model.tok2vec]
@architectures = "spacy.HashEmbedCNN.v2"
pretrained_vectors = null
width = 96
depth = 4
embed_size = 2000
window_size = 1
maxout_pieces = 3
subword_features = true
"""


@registry.architectures("xner.SoftNERTagger.v1")
def make_soft_ner_tagger(tok2vec: Any, nO: int | None = None) -> Any:
    """Token vectors → softmax over BILUO/BIO tags: the student NER's network."""
    from .distill.model import build_soft_ner_tagger

    return build_soft_ner_tagger(tok2vec, nO=nO)


@Language.factory(
    "xner_student_ner",
    assigns=["doc.ents", "token.ent_iob", "token.ent_type"],
    default_config={
        "model": Config().from_str(_STUDENT_MODEL)["model"],
        "scheme": "BILUO",
        "scorer": {"@scorers": "spacy.ner_scorer.v1"},
    },
    default_score_weights={"ents_f": 1.0, "ents_p": 0.0, "ents_r": 0.0, "ents_per_type": None},
)
def make_student_ner(
    nlp: Language, name: str, model: Any, scheme: str, scorer: Callable[..., Any] | None
) -> Any:
    """Student NER: token softmax trained on soft (teacher) or hard targets, Viterbi-decoded."""
    from .distill.student import StudentEntityRecognizer

    return StudentEntityRecognizer(nlp.vocab, model, name, scheme=scheme, scorer=scorer)


@registry.misc("xner.Teacher.v1")
def make_teacher(
    model: str,
    kind: str = "auto",
    label_map: str | Mapping[str, str | None] = "identity",
    temperature: float = 1.0,
    smoothing: float = 0.0,
    component: str | None = None,
    batch_size: int = 64,
    device: str = "auto",
) -> Any:
    """A teacher giving per-token tag distributions: student pipeline, spaCy ``ner`` or HF model.

    ``kind``: "auto", "student", "spacy_ner" or "hf". ``temperature`` softens the teacher's
    distribution (softmax(logits / T)); ``smoothing`` spreads mass of the one-hot
    distributions a spaCy ``ner`` gives; ``device`` is for HF models. Loaded on first use.
    """
    from .distill.teachers import load_teacher

    return load_teacher(
        model,
        kind=kind,
        label_map=label_map,
        temperature=temperature,
        smoothing=smoothing,
        component=component,
        batch_size=batch_size,
        device=device,
    )


@registry.readers("xner.TeacherCorpus.v1")
def make_teacher_corpus(
    path: str | None,
    teachers: dict[str, Any],
    weights: str | list[float] | dict[str, float] = "uniform",
    references: dict[str, str] | None = None,
    similarity_temperature: float = 0.1,
    labels: list[str] | None = None,
    scheme: str | None = None,
    cache_dir: str | None = None,
    min_length: int = 1,
    max_length: int = 0,
    limit: int = 0,
) -> Callable[[Language], Any]:
    """Unlabelled target text (lines or DocBin) labelled by weighted teachers: soft-target examples.

    ``weights``: "uniform", "similarity" (needs ``references``: teacher name → text file),
    a list (teacher order) or a dict of fixed weights; normalised to sum to 1.
    """
    from .distill.corpus import TeacherCorpus

    if path is None:
        raise ValueError("xner.TeacherCorpus.v1 needs a path (set paths.train)")
    return TeacherCorpus(
        path,
        teachers=teachers,
        weights=weights,
        references=references,
        similarity_temperature=similarity_temperature,
        labels=labels,
        scheme=scheme,
        cache_dir=cache_dir,
        min_length=min_length,
        max_length=max_length,
        limit=limit,
    )
