"""xner.EncoderLogger.v1: spaCy's console table, then the frozen encoder's own counters."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
import spacy
from spacy.util import registry

import xner_spacy.registry  # noqa: F401
from xner_spacy.pipeline.train_logger import encoder_summary

pytest.importorskip("torch")
pytest.importorskip("transformers")

SENTENCES = ["Ada went to Lagos yesterday .", "Bola est allé à Zürich hier ."]


def test_training_ends_with_the_encoders_time_and_cache_use(tiny_xlmr_dir: Path) -> None:
    nlp = spacy.blank("xx")
    pipe = nlp.add_pipe("xner_encoder", config={"model": str(tiny_xlmr_dir), "layer": 2})
    nlp.add_pipe("sentencizer")  # counts nothing: no line of its own
    for _ in range(3):  # 2 sentences encoded, then 4 requests served from the memory cache
        list(nlp.pipe(SENTENCES))
    out = io.StringIO()
    log_step, finalize = registry.loggers.get("xner.EncoderLogger.v1")()(nlp, out, out)
    log_step(None)  # a step without an evaluation prints nothing
    finalize()
    lines = [line for line in out.getvalue().splitlines() if "xner_encoder" in line]
    assert len(lines) == 1
    sub_tokens = pipe.n_sub_tokens  # type: ignore[attr-defined]
    assert f"2 sentences ({sub_tokens:,} sub-tokens) encoded in" in lines[0]
    assert "4 requests served from the memory cache, 0 from the disk cache" in lines[0]
    rate = re.search(r"\(([\d,.]+) sentences/s", lines[0])
    assert rate is not None
    seconds = pipe.encode_seconds  # type: ignore[attr-defined]
    assert float(rate.group(1).replace(",", "")) == pytest.approx(2 / seconds, rel=0.05)


def test_a_pipeline_without_an_encoder_adds_no_line() -> None:
    nlp = spacy.blank("xx")
    nlp.add_pipe("sentencizer")
    assert encoder_summary(nlp) == []


def test_truncated_sentences_are_counted_in_the_log(tiny_xlmr_dir: Path) -> None:
    nlp = spacy.blank("xx")
    config = {"model": str(tiny_xlmr_dir), "layer": 2, "max_length": 8}
    pipe = nlp.add_pipe("xner_encoder", config=config)
    nlp("Ada .")
    assert "truncated" not in encoder_summary(nlp)[0]
    nlp(" ".join(["Ada went to Lagos"] * 5))
    (line,) = encoder_summary(nlp)
    words = pipe.n_truncated_words  # type: ignore[attr-defined]
    assert words > 0
    assert f"1 sentences truncated at the encoder's limit ({words:,} words past it" in line
