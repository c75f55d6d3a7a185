import importlib.util
import os
import random
from pathlib import Path

import pytest

from xner_spacy.alignment import EflomalAligner, FastAlignAligner

HAS_EFLOMAL = importlib.util.find_spec("eflomal") is not None
needs_eflomal = pytest.mark.skipif(not HAS_EFLOMAL, reason="eflomal (GPL-3 extra) not installed")

# A tiny bilingual dictionary: every source word has one target word.
LEXICON = {
    "the": "le",
    "dog": "kuta",
    "cat": "bilo",
    "sees": "vidi",
    "eats": "jede",
    "big": "mago",
    "small": "pito",
    "house": "dom",
    "river": "reka",
    "green": "zel",
    "old": "star",
    "man": "muz",
    "woman": "zena",
    "runs": "bezi",
    "near": "blizu",
    "red": "cerv",
    "bird": "ptak",
    "tree": "drvo",
    "sleeps": "spi",
    "under": "pod",
    "child": "dete",
    "loves": "voli",
    "bread": "hleb",
    "water": "voda",
    "drinks": "pije",
}
SRC_VOCAB = sorted(LEXICON)
FILLER = "ke"  # target-only function word, aligned to nothing


def make_corpus(n_pairs, seed=0):
    """Random sentences, translated word by word, with local swaps and inserted fillers."""
    rng = random.Random(seed)
    src, tgt, gold = [], [], []
    for _ in range(n_pairs):
        words = [rng.choice(SRC_VOCAB) for _ in range(rng.randint(3, 9))]
        order = list(range(len(words)))
        for k in range(len(order) - 1):  # swap neighbours now and then (reordering)
            if rng.random() < 0.25:
                order[k], order[k + 1] = order[k + 1], order[k]
        out, links = [], set()
        for i in order:
            if rng.random() < 0.2:
                out.append(FILLER)
            links.add((i, len(out)))
            out.append(LEXICON[words[i]])
        src.append(words)
        tgt.append(out)
        gold.append(links)
    return src, tgt, gold


def precision_recall(pred, gold):
    n_pred = sum(len(p) for p in pred)
    n_gold = sum(len(g) for g in gold)
    hits = sum(len(set(p) & g) for p, g in zip(pred, gold, strict=True))
    return hits / max(n_pred, 1), hits / max(n_gold, 1)


def in_range(pred, src, tgt):
    return all(
        0 <= i < len(s) and 0 <= j < len(t)
        for p, s, t in zip(pred, src, tgt, strict=True)
        for i, j in p
    )


ALIGNERS = [
    pytest.param(lambda **kw: FastAlignAligner(**kw), id="fast_align"),
    pytest.param(
        lambda **kw: EflomalAligner(n_iterations=(4, 4, 8), **kw),
        id="eflomal",
        marks=needs_eflomal,
    ),
]


@pytest.fixture(scope="module")
def corpus():
    return make_corpus(300)


@pytest.mark.parametrize("make", ALIGNERS)
def test_recovers_dictionary_links(make, corpus):
    src, tgt, gold = corpus
    pred = make().align(src, tgt)
    assert len(pred) == len(src)
    assert in_range(pred, src, tgt)
    assert all(p == sorted(set(p)) for p in pred)
    precision, recall = precision_recall(pred, gold)
    assert precision > 0.9 and recall > 0.9, (precision, recall)
    # intersection trades recall for precision
    p_int, _ = precision_recall(make(symmetrization="intersection").align(src, tgt), gold)
    assert p_int > 0.95


@pytest.mark.parametrize("make", ALIGNERS)
def test_empty_sentences_and_odd_words(make, corpus):
    src, tgt, _ = corpus
    src = [[], ["the", "dog"], *src, ["New York", "", "|||", "dog"]]
    tgt = [["le"], [], *tgt, ["ke", "kuta", " "]]
    pred = make().align(src, tgt)
    assert pred[0] == [] and pred[1] == []
    assert len(pred) == len(src)
    assert in_range(pred, src, tgt)
    assert (3, 1) in pred[-1]  # "dog" still aligns to "kuta" next to the odd words


@pytest.mark.parametrize("make", ALIGNERS)
def test_extra_corpus_trains_but_is_not_returned(make, corpus):
    src, tgt, gold = corpus
    pred = make().align(src[:40], tgt[:40], extra_src=src[40:], extra_tgt=tgt[40:])
    assert len(pred) == 40
    assert in_range(pred, src[:40], tgt[:40])
    precision, recall = precision_recall(pred, gold[:40])
    assert precision > 0.85 and recall > 0.85, (precision, recall)


def test_fast_align_is_deterministic(corpus):
    src, tgt, _ = corpus
    assert FastAlignAligner().align(src, tgt) == FastAlignAligner().align(src, tgt)


def test_all_empty_and_mismatch():
    assert FastAlignAligner().align([[], ["a"]], [["b"], []]) == [[], []]
    assert FastAlignAligner().align([], []) == []
    with pytest.raises(ValueError):
        FastAlignAligner().align([["a"]], [])
    with pytest.raises(ValueError):
        FastAlignAligner(symmetrization="nope")
    with pytest.raises(ValueError):
        EflomalAligner(symmetrization="nope")


def _data_dir():
    env = os.environ.get("XNER_DATA_DIR")
    path = Path(env) if env else Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
    return path / "mafand" / "en-yor"


@pytest.mark.skipif(not (_data_dir() / "train.en").exists(), reason="real data not available")
def test_real_data_smoke():
    from xner_spacy.text import tokenize

    data = _data_dir()
    with (
        open(data / "train.en", encoding="utf-8") as f_en,
        open(data / "train.yor", encoding="utf-8") as f_yo,
    ):
        pairs = [(a, b) for _, a, b in zip(range(2000), f_en, f_yo, strict=False)]
    src = [tokenize(a, "en") for a, _ in pairs]
    tgt = [tokenize(b, "xx") for _, b in pairs]
    pred = FastAlignAligner().align(src, tgt)
    assert len(pred) == len(src) and in_range(pred, src, tgt)
    # line 2: "Activists in Madrid protest LGBT rights violations in Russia"
    i = src[1].index("Madrid")
    j = tgt[1].index("Madrid")
    assert (i, j) in pred[1]
    assert (src[1].index("Russia"), tgt[1].index("Russia")) in pred[1]
