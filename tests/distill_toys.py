"""Tiny teachers and toy data for the distillation and experiment tests (trained in seconds).

A plain module, like toy_data.py: tests/distill/conftest.py and tests/experiments/conftest.py
import its fixtures.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
import spacy
from spacy.tokens import Doc, Span
from spacy.training import Example

import xner_spacy.registry  # noqa: F401  (registers the factory when run without install)

PEOPLE = ["Ada", "Bola", "Chidi", "Ngozi"]
PLACES = ["Lagos", "Abuja", "Port Harcourt", "Ile Ife"]
TEMPLATES = [
    "{p} lo si {l} lana .",
    "awon eniyan {l} feran {p} .",
    "a ri {p} ni {l} loni .",
]
# A tiny inline tok2vec, so the student trains in well under a second per update.
TINY_TOK2VEC = {
    "@architectures": "spacy.HashEmbedCNN.v2",
    "pretrained_vectors": None,
    "width": 32,
    "depth": 1,
    "embed_size": 300,
    "window_size": 1,
    "maxout_pieces": 2,
    "subword_features": True,
}
STUDENT_CONFIG = {"model": {"@architectures": "xner.SoftNERTagger.v1", "tok2vec": TINY_TOK2VEC}}


def toy_sentences(n: int, seed: int = 0) -> list[tuple[list[str], list[tuple[int, int, str]]]]:
    """Words and (start, end, label) entities of deterministic toy target sentences."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        fill = {"{p}": (rng.choice(PEOPLE), "PER"), "{l}": (rng.choice(PLACES), "LOC")}
        words: list[str] = []
        ents: list[tuple[int, int, str]] = []
        for slot in rng.choice(TEMPLATES).split():
            name, label = fill.get(slot, (slot, ""))
            if label:
                ents.append((len(words), len(words) + len(name.split()), label))
            words.extend(name.split())
        out.append((words, ents))
    return out


def hard_examples(nlp: Any, n: int = 12, seed: int = 0) -> list[Example]:
    """Examples whose reference Doc has silver entities."""
    examples = []
    for words, ents in toy_sentences(n, seed):
        ref = Doc(nlp.vocab, words=words)
        ref.set_ents([Span(ref, s, e, label=lab) for s, e, lab in ents])
        examples.append(Example(Doc(nlp.vocab, words=words), ref))
    return examples


def write_lines(path: Path, n: int, seed: int = 1) -> Path:
    path.write_text("\n".join(" ".join(w) for w, _ in toy_sentences(n, seed)) + "\n", "utf8")
    return path


def train_student(scheme: str = "BILUO", steps: int = 15, seed: int = 0) -> spacy.Language:
    nlp = spacy.blank("xx")
    nlp.add_pipe("xner_student_ner", config={**STUDENT_CONFIG, "scheme": scheme})
    examples = hard_examples(nlp, seed=seed)
    optimizer = nlp.initialize(lambda: examples)
    for _ in range(steps):
        nlp.update(examples, sgd=optimizer)
    return nlp


@pytest.fixture(scope="session")
def student_teacher_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A saved pipeline with a student NER trained on toy silver labels (PER, LOC)."""
    path = tmp_path_factory.mktemp("student_teacher") / "model"
    train_student().to_disk(path)
    return path


@pytest.fixture(scope="session")
def ner_teacher_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A saved pipeline with a tiny stock transition-based ``ner`` (PER, LOC)."""
    nlp = spacy.blank("xx")
    nlp.add_pipe(
        "ner",
        config={
            "model": {
                "@architectures": "spacy.TransitionBasedParser.v2",
                "state_type": "ner",
                "extra_state_tokens": False,
                "hidden_width": 16,
                "maxout_pieces": 2,
                "use_upper": True,
                "tok2vec": TINY_TOK2VEC,
            }
        },
    )
    examples = hard_examples(nlp)
    optimizer = nlp.initialize(lambda: examples)
    for _ in range(10):
        nlp.update(examples, sgd=optimizer)
    path = tmp_path_factory.mktemp("ner_teacher") / "model"
    nlp.to_disk(path)
    return path


@pytest.fixture(scope="session")
def hf_teacher_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random XLM-R token classifier over CoNLL BIO tags (PER, ORG, LOC, MISC)."""
    pytest.importorskip("transformers")
    from tiny_models import save_tiny_xlmr_token_classifier

    return save_tiny_xlmr_token_classifier(tmp_path_factory.mktemp("hf_teacher") / "model")
