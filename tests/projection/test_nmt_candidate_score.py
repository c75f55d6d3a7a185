"""NMTScore-style translation probability: the scorer on a tiny model, and the batched
candidate score inside candidate matching."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from spacy.util import registry

from xner_spacy.projection.candidate_matching import CandidateMatcher
from xner_spacy.projection.candidate_scores import AlignmentDice
from xner_spacy.projection.nmt_candidate_score import NMTTranslationProbability
from xner_spacy.projection.pair_context import PairContext
from xner_spacy.types import Entity

if TYPE_CHECKING:
    from xner_spacy.translation.nmt_scorer import NMTScorer


class TableScorer:
    """Scores pairs from a table (0 elsewhere) and records each batch it is asked for."""

    def __init__(self, table: dict[tuple[str, str], float]) -> None:
        self.table = table
        self.batches: list[list[tuple[str, str]]] = []

    def score_pairs(self, pairs: list[tuple[str, str]]) -> list[float]:
        self.batches.append(list(pairs))
        return [self.table.get(p, 0.0) for p in pairs]


REPO = Path(__file__).resolve().parents[2]
SRC = ["Ada", "visited", "Lagos", "."]
TGT = ["Ada", "lo", "si", "Eko", "."]
ENTS = [Entity(0, 1, "PER"), Entity(2, 3, "LOC")]


def test_one_batch_per_sentence_pair_then_lookups() -> None:
    scorer = TableScorer({("Lagos", "Eko"): 0.9, ("Ada", "Ada"): 0.8})
    score = NMTTranslationProbability(scorer, max_len=2)
    ctx = PairContext(SRC, TGT, ENTS, [(0, 0)])
    assert score(ctx, 1, (3, 4)) == 0.9
    assert score(ctx, 0, (0, 1)) == 0.8
    assert score(ctx, 0, (1, 3)) == 0.0
    assert len(scorer.batches) == 1
    # both entities × every n-gram of up to 2 words without sentence punctuation
    spans = {(0, 1), (0, 2), (1, 2), (1, 3), (2, 3), (2, 4), (3, 4)}
    assert {(s, t) for s, t in scorer.batches[0]} == {
        (src, " ".join(TGT[a:b])) for src in ("Ada", "Lagos") for a, b in spans
    }
    assert score(ctx, 1, (0, 4)) == 0.0  # longer than max_len: scored on demand
    assert scorer.batches[-1] == [("Lagos", "Ada lo si Eko")]
    assert not score.alignment_bounded


def test_no_prefetch_with_max_len_zero_and_ner_spans_prefetched() -> None:
    scorer = TableScorer({("Lagos", "Eko"): 0.5})
    ctx = PairContext(SRC, TGT, ENTS, [], {"ner_spans": [(3, 4, "LOC", 1.0)]})
    assert NMTTranslationProbability(scorer, max_len=0)(ctx, 1, (3, 4)) == 0.5
    assert scorer.batches == [[("Lagos", "Eko")]]
    scorer.batches.clear()
    score = NMTTranslationProbability(scorer, max_len=1)
    score(ctx, 1, (3, 4))
    assert len(scorer.batches) == 1 and ("Lagos", "Eko") in scorer.batches[0]


def test_fused_matching_recovers_an_unaligned_translated_name() -> None:
    # Lagos is unaligned; Dice alone projects only Ada, the translation score finds Eko
    scorer = TableScorer({("Lagos", "Eko"): 0.9})
    align = [(0, 0), (1, 1)]
    dice_only = CandidateMatcher(scores=[AlignmentDice()])
    assert dice_only(SRC, TGT, ENTS, align) == [(0, 1, "PER")]
    fused = CandidateMatcher(
        scores=[AlignmentDice(), NMTTranslationProbability(scorer)], weights=[1.0, 0.5]
    )
    assert fused(SRC, TGT, ENTS, align) == [(0, 1, "PER"), (3, 4, "LOC")]
    assert len(scorer.batches) == 1


# --- the scorer on a tiny seq2seq model -------------------------------------------------------


@pytest.fixture(scope="module")
def scorer(tiny_nllb_dir: Path) -> NMTScorer:
    from xner_spacy.translation.nmt_scorer import NMTScorer

    return NMTScorer(tiny_nllb_dir, "eng", "yor", batch_size=2, device="cpu")


def test_scores_are_probabilities_cached_and_batch_independent(scorer: NMTScorer) -> None:
    pairs = [("Lagos", "Eko"), ("Ada", "Ada"), ("Bola Tinubu", "Bola"), ("Kano", "Kano ni")]
    got = scorer.score_pairs(pairs)
    assert all(0.0 < p <= 1.0 for p in got)
    passes = scorer.forward_passes
    assert scorer.score_pairs(pairs[::-1]) == got[::-1] and scorer.forward_passes == passes
    singles = [scorer(s, t) for s, t in pairs]  # cached: same numbers
    assert singles == got
    scorer._cache.clear()
    one_by_one = [scorer.score_pairs([p])[0] for p in pairs]  # no padding at all
    assert one_by_one == pytest.approx(got, rel=1e-4)
    assert scorer("", "Eko") == 0.0


def test_score_averages_both_length_normalised_directions(
    scorer: NMTScorer, tiny_nllb_dir: Path
) -> None:
    import torch
    from transformers.models.m2m_100.modeling_m2m_100 import shift_tokens_right

    from xner_spacy.translation.nmt_scorer import NMTScorer

    backend = scorer.backend
    model, tok = backend.model, backend.tokenizer

    def direct(src: str, tgt: str, src_lang: str, tgt_lang: str) -> float:
        """exp(-mean NLL) of the target tokens after the language tag, via the model's loss."""
        tok.src_lang, tok.tgt_lang = src_lang, tgt_lang
        enc = tok([src], return_tensors="pt")
        labels = tok(text_target=[tgt], return_tensors="pt")["input_ids"]
        decoder_input = shift_tokens_right(labels, tok.pad_token_id, 2)
        masked = labels.clone()
        masked[0, 0] = -100  # the forced language tag is not scored
        with torch.no_grad():
            loss = model(**enc, decoder_input_ids=decoder_input, labels=masked).loss
        return math.exp(-float(loss))

    fwd = direct("Lagos", "Eko", "eng_Latn", "yor_Latn")
    bwd = direct("Eko", "Lagos", "yor_Latn", "eng_Latn")
    assert scorer("Lagos", "Eko") == pytest.approx((fwd + bwd) / 2, rel=1e-5)
    one_way = NMTScorer(tiny_nllb_dir, "eng", "yor", bidirectional=False, device="cpu")
    assert one_way("Lagos", "Eko") == pytest.approx(fwd, rel=1e-5)


def test_registered_blocks_plug_into_candidate_matching(tiny_nllb_dir: Path) -> None:
    scorer_block = {"@misc": "xner.NMTScorer.v1", "model": str(tiny_nllb_dir),
                    "src_lang": "en", "tgt_lang": "yo", "device": "cpu"}  # fmt: skip
    block = {
        "@misc": "xner.CandidateMatching.v1",
        "candidates": {"ngram": {"@misc": "xner.NgramCandidates.v1", "max_len": 3}},
        "scores": {
            "dice": {"@misc": "xner.AlignmentDice.v1"},
            "nmt": {"@misc": "xner.NMTTranslationProbability.v1", "scorer": scorer_block},
        },
        "weights": {"nmt": 0.5},
    }
    matcher = registry.resolve({"p": block})["p"]
    ents = matcher(SRC, TGT, ENTS, [(0, 0), (2, 3)])
    assert [e.label for e in ents] == ["PER", "LOC"]
    # the plain callable also serves TranslationProbability.v1 as its prob
    tp = {"@misc": "xner.TranslationProbability.v1", "prob": scorer_block}
    score = registry.resolve({"s": tp})["s"]
    ctx = PairContext(SRC, TGT, ENTS, [])
    assert 0.0 < score(ctx, 1, (3, 4)) <= 1.0


def test_shipped_method_config_resolves(tiny_nllb_dir: Path) -> None:
    from spacy.util import load_config

    overrides = {
        "projector.scores.nmt.scorer.model": str(tiny_nllb_dir),
        "projector.scores.nmt.scorer.device": "cpu",
    }
    cfg = load_config(REPO / "configs/projection_nmt.cfg", overrides=overrides, interpolate=True)
    projector = registry.resolve({"p": cfg["projector"]})["p"]
    ents = projector(SRC, TGT, ENTS, [(0, 0), (2, 3)])
    assert [e.label for e in ents] == ["PER", "LOC"]


def test_scorer_on_m2m100_and_one_way_marian(tiny_m2m100_dir: Path, tiny_marian_dir: Path) -> None:
    from xner_spacy.translation.nmt_scorer import NMTScorer

    m2m = NMTScorer(tiny_m2m100_dir, "en", "yo", device="cpu")
    assert all(0.0 < p <= 1.0 for p in m2m.score_pairs([("Lagos", "Eko"), ("Ada", "Ada")]))
    # a Marian model translates one way only (here into >>yor<<): score that direction
    marian = NMTScorer(tiny_marian_dir, "en", "yo", bidirectional=False, device="cpu")
    assert 0.0 < marian("Lagos", "Eko") <= 1.0
