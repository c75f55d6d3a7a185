"""Shared fixtures: the real-data mirror (optional) and tiny synthetic data directories."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from toy_data import synthetic_pairs, write_conll

REPO = Path(__file__).resolve().parents[1]

# Under pytest-xdist (the README's test command runs `-n 2`), each worker and the commands it
# starts take one BLAS/OpenMP thread unless told otherwise, so two workers share two cores
# instead of oversubscribing them. Set before any test imports torch or numpy's BLAS.
if os.environ.get("PYTEST_XDIST_WORKER"):
    for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(_var, "1")
DATA_DIR = Path(os.environ.get("XNER_DATA_DIR", REPO.parent / "shared" / "data"))

needs_data = pytest.mark.skipif(
    not (DATA_DIR / "masakhaner2").is_dir(), reason=f"real data mirror not found at {DATA_DIR}"
)


@pytest.fixture(scope="session")
def toy_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory with the layout of ../shared/data for source 'en', target 'zzz'."""
    root = tmp_path_factory.mktemp("data")
    pairs = synthetic_pairs(400)
    write_conll(root / "source_ner/en/train.txt", synthetic_pairs(300, seed=1), 0)
    write_conll(root / "source_ner/en/dev.txt", synthetic_pairs(60, seed=2), 0)
    write_conll(root / "source_ner/en/test.txt", synthetic_pairs(60, seed=3), 0)
    test_pairs = synthetic_pairs(40, seed=4)
    write_conll(root / "masakhaner2/zzz/test.txt", test_pairs, 1)
    mafand = root / "mafand/en-zzz"
    mafand.mkdir(parents=True)
    # Two test sentences are planted in MAFAND train: prepare must remove them.
    train = pairs[:300] + test_pairs[:2]
    for split, part in (("train", train), ("dev", pairs[300:])):
        (mafand / f"{split}.en").write_text("\n".join(p[0] for p in part) + "\n", "utf8")
        (mafand / f"{split}.zzz").write_text("\n".join(p[1] for p in part) + "\n", "utf8")
    return root


# --- tiny Hugging Face models (built locally in seconds; see tests/tiny_models.py) -----------


@pytest.fixture(scope="session")
def hf_offline() -> Iterator[None]:
    """Hugging Face offline mode for the session: nothing may try the network."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_HUB_OFFLINE", "1")
        mp.setenv("TRANSFORMERS_OFFLINE", "1")
        yield


@pytest.fixture(scope="session")
def tiny_xlmr_dir(tmp_path_factory: pytest.TempPathFactory, hf_offline: None) -> Path:
    """A 2-layer XLM-R encoder + SentencePiece-style (Unigram) fast tokenizer, saved to disk."""
    from tiny_models import save_tiny_xlmr

    return save_tiny_xlmr(tmp_path_factory.mktemp("hf") / "tiny-xlmr")


@pytest.fixture(scope="session")
def tiny_bert_dir(tmp_path_factory: pytest.TempPathFactory, hf_offline: None) -> Path:
    """A 2-layer BERT encoder + WordPiece fast tokenizer, saved to disk."""
    from tiny_models import save_tiny_bert

    return save_tiny_bert(tmp_path_factory.mktemp("hf") / "tiny-bert")


@pytest.fixture(scope="session")
def tiny_token_classifier_dir(tmp_path_factory: pytest.TempPathFactory, hf_offline: None) -> Path:
    """A 2-layer XLM-R token classifier over O/B-/I- PER, ORG, LOC, MISC (random weights)."""
    from tiny_models import save_tiny_xlmr_token_classifier

    return save_tiny_xlmr_token_classifier(tmp_path_factory.mktemp("hf") / "tiny-xlmr-ner")


# --- tiny seq2seq translators (see tests/tiny_translators.py) ---------------------------------


@pytest.fixture(scope="session")
def tiny_nllb_dir(tmp_path_factory: pytest.TempPathFactory, hf_offline: None) -> Path:
    """A random 1-layer M2M-100 model with an NLLB tokenizer (eng_Latn, yor_Latn, ...)."""
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from tiny_translators import build_tiny_nllb

    return build_tiny_nllb(tmp_path_factory.mktemp("mt") / "tiny-nllb")


@pytest.fixture(scope="session")
def tiny_m2m100_dir(tmp_path_factory: pytest.TempPathFactory, hf_offline: None) -> Path:
    """A random 1-layer M2M-100 model with its sentencepiece tokenizer (__en__, __yo__, ...)."""
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    pytest.importorskip("sentencepiece")
    from tiny_translators import build_tiny_m2m100

    return build_tiny_m2m100(tmp_path_factory.mktemp("mt") / "tiny-m2m100")


@pytest.fixture(scope="session")
def tiny_marian_dir(tmp_path_factory: pytest.TempPathFactory, hf_offline: None) -> Path:
    """A random 1-layer Marian model with >>yor<< / >>fra<< target tokens."""
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from tiny_translators import build_tiny_marian

    return build_tiny_marian(tmp_path_factory.mktemp("mt") / "tiny-marian")
