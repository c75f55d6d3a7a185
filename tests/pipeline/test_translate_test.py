"""xner_translate_test: translate → label → align → project back, in spaCy and as a package."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import spacy
from spacy.language import Language
from spacy.util import registry

import xner_spacy.registry  # noqa: F401  (registers the factories when run without install)
from xner_spacy.pipeline.projection_components import DEFAULT_SPANS_KEY
from xner_spacy.pipeline.translate_test import TranslateTest
from xner_spacy.types import Entity

REPO = Path(__file__).resolve().parents[2]
PACKAGE = "xner_tt_pkgtest"  # unique: never installed into the venv itself
LABELS = {"PER", "ORG", "LOC"}

# --- hand-made deterministic parts -----------------------------------------------------------

TRANSLATIONS = {
    "Ada lo si Lagos lana .": "Ada went to Lagos yesterday .",
    "awon eniyan Kano feran Chidi .": "the people of Kano like Chidi .",
    "Bola n sise fun Shell bayi .": "Bola works for Shell now .",
}
NAMES = {"Ada": "PER", "Bola": "PER", "Chidi": "PER", "Lagos": "LOC", "Kano": "LOC", "Shell": "ORG"}


class DictTranslator:
    """Looks translations up; records each call's texts and direction."""

    calls: list[tuple[list[str], str | None, str | None]] = []

    def translate(
        self, texts: Sequence[str], src_lang: str | None = None, tgt_lang: str | None = None
    ) -> list[str]:
        DictTranslator.calls.append((list(texts), src_lang, tgt_lang))
        return [TRANSLATIONS[t] for t in texts]


class DictLabeller:
    """Labels known names, one word each."""

    def label(self, sentences: Iterable[Sequence[str]]) -> Iterator[list[Entity]]:
        for words in sentences:
            yield [Entity(i, i + 1, NAMES[w]) for i, w in enumerate(words) if w in NAMES]


class SameWordAligner:
    per_pair = True

    def align(self, src: Any, tgt: Any, extra_src: Any = None, extra_tgt: Any = None) -> Any:
        return [
            [(i, j) for i, a in enumerate(s) for j, b in enumerate(t) if a == b]
            for s, t in zip(src, tgt, strict=True)
        ]


@registry.misc("test_translate_test.DictTranslator.v1")
def make_dict_translator() -> DictTranslator:
    return DictTranslator()


@registry.misc("test_translate_test.DictLabeller.v1")
def make_dict_labeller() -> DictLabeller:
    return DictLabeller()


@registry.misc("test_translate_test.SameWordAligner.v1")
def make_same_word_aligner() -> SameWordAligner:
    return SameWordAligner()


def fake_nlp() -> Language:
    nlp = spacy.blank("xx")
    config = {
        "translator": {"@misc": "test_translate_test.DictTranslator.v1"},
        "labeller": {"@misc": "test_translate_test.DictLabeller.v1"},
        "aligner": {"@misc": "test_translate_test.SameWordAligner.v1"},
        "target_lang": "yor",
    }
    nlp.add_pipe("xner_translate_test", config=config)
    nlp.initialize()
    return nlp


def test_entities_of_the_translation_land_on_the_right_target_tokens() -> None:
    nlp = fake_nlp()
    DictTranslator.calls.clear()
    texts = list(TRANSLATIONS)
    docs = list(nlp.pipe(texts, batch_size=2))
    # one translator call per batch, from the target language into the source language
    assert [(len(t), s, g) for t, s, g in DictTranslator.calls] == [
        (2, "yor", "en"),
        (1, "yor", "en"),
    ]
    got = [[(e.start, e.end, e.label_, e.text) for e in doc.ents] for doc in docs]
    assert got == [
        [(0, 1, "PER", "Ada"), (3, 4, "LOC", "Lagos")],
        [(2, 3, "LOC", "Kano"), (4, 5, "PER", "Chidi")],
        [(0, 1, "PER", "Bola"), (4, 5, "ORG", "Shell")],
    ]
    source = docs[1]._.xner_source
    assert source.text == "the people of Kano like Chidi ."
    assert [(e.text, e.label_) for e in source.ents] == [("Kano", "LOC"), ("Chidi", "PER")]
    assert docs[1]._.xner_alignment == [(3, 2), (5, 4), (6, 5)]  # Kano, Chidi, "."
    group = docs[1].spans[DEFAULT_SPANS_KEY]
    assert group.attrs["scores"].tolist() == [1.0, 1.0]
    assert group.attrs["source_ents"] == [0, 1]
    single = nlp("Ada lo si Lagos lana .")
    assert [(e.start, e.end, e.label_) for e in single.ents] == [(0, 1, "PER"), (3, 4, "LOC")]


def test_spacy_pipeline_as_labeller_and_target_lang_from_nlp(tmp_path: Path) -> None:
    en = spacy.blank("en")
    ruler = en.add_pipe("entity_ruler", name="ner")  # SpacyLabeller needs a component "ner"
    ruler.add_patterns(  # type: ignore[attr-defined]
        [{"label": "PERSON", "pattern": "Ada"}, {"label": "GPE", "pattern": "Lagos"}]
    )
    en.to_disk(tmp_path / "en_ner")
    nlp = spacy.blank("yo")  # no target_lang: the pipeline's language
    config = {
        "translator": {"@misc": "test_translate_test.DictTranslator.v1"},
        "labeller": {
            "@misc": "xner.SpacyLabeller.v1",
            "model": str(tmp_path / "en_ner"),
            "label_map": "ontonotes",
        },
        "aligner": {"@misc": "test_translate_test.SameWordAligner.v1"},
    }
    nlp.add_pipe("xner_translate_test", config=config)
    nlp.initialize()
    DictTranslator.calls.clear()
    doc = nlp("Ada lo si Lagos lana .")
    assert DictTranslator.calls[0][1:] == ("yo", "en")
    assert [(e.text, e.label_) for e in doc._.xner_source.ents] == [
        ("Ada", "PER"),
        ("Lagos", "LOC"),
    ]
    assert [(e.start, e.end, e.label_) for e in doc.ents] == [(0, 1, "PER"), (3, 4, "LOC")]


def test_unknown_target_language_is_a_clear_error() -> None:
    nlp = spacy.blank("xx")
    translator = {"@misc": "xner.HFTranslator.v1", "model": "not/loaded"}  # loads on first use
    labeller = {"@misc": "test_translate_test.DictLabeller.v1"}
    nlp.add_pipe("xner_translate_test", config={"translator": translator, "labeller": labeller})
    with pytest.raises(ValueError, match="set target_lang"):
        nlp("Ada lo si Lagos lana .")


def test_empty_doc_gets_no_translation_call_and_no_entities() -> None:
    nlp = fake_nlp()
    DictTranslator.calls.clear()
    doc = nlp("   ")
    assert DictTranslator.calls == [] and not doc.ents
    assert doc._.xner_source is not None and not len(doc._.xner_source)


def test_to_disk_saves_settings_not_models(tmp_path: Path) -> None:
    nlp = fake_nlp()
    nlp.to_disk(tmp_path / "p")
    cfg = json.loads((tmp_path / "p/xner_translate_test/cfg").read_text())
    assert cfg["source_lang"] == "en" and cfg["target_lang"] == "yor"
    assert os.listdir(tmp_path / "p/xner_translate_test") == ["cfg"]
    loaded = spacy.load(tmp_path / "p")
    assert [e.text for e in loaded("Bola n sise fun Shell bayi .").ents] == ["Bola", "Shell"]


# --- tiny random models ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def constant_per_dir(tmp_path_factory: pytest.TempPathFactory, hf_offline: None) -> Path:
    """A tiny token classifier that tags every word B-PER: entities whatever the translation."""
    from tiny_models import save_tiny_xlmr_token_classifier

    path = tmp_path_factory.mktemp("hf") / "tiny-per"
    return save_tiny_xlmr_token_classifier(path, constant_label="B-PER")


def tiny_config(translator: Path, labeller: Path, aligner: Path) -> dict[str, Any]:
    return {
        "translator": {
            "@misc": "xner.HFTranslator.v1",
            "model": str(translator),
            "num_beams": 1,
            "device": "cpu",
        },
        "labeller": {
            "@misc": "xner.HFTokenClassifier.v1",
            "model": str(labeller),
            "label_map": "conll",
            "device": "cpu",
        },
        "aligner": {
            "@misc": "xner.SoftmaxAligner.v1",
            "model": str(aligner),
            "layer": 2,
            "device": "cpu",
        },
        "target_lang": "yor",
    }


TEXTS = ["Ada lo si Lagos lana .", "awon eniyan Kano feran Chidi .", "", "a ri Ada ati Bola loni ."]


def check_valid(doc: Any) -> None:
    assert all(0 <= e.start < e.end <= len(doc) and e.label_ in LABELS for e in doc.ents)
    neighbours = zip(doc.ents, doc.ents[1:], strict=False)
    assert all(a.end <= b.start for a, b in neighbours)  # sorted, disjoint
    group = doc.spans[DEFAULT_SPANS_KEY]
    assert [(s.start, s.end) for s in group] == [(e.start, e.end) for e in doc.ents]
    assert len(group.attrs["scores"]) == len(group)
    n_src = len(doc._.xner_source)
    assert all(0 <= i < n_src and 0 <= j < len(doc) for i, j in doc._.xner_alignment)


def test_tiny_models_give_valid_entities(
    tiny_nllb_dir: Path, tiny_token_classifier_dir: Path, tiny_xlmr_dir: Path
) -> None:
    nlp = spacy.blank("xx")
    cfg = tiny_config(tiny_nllb_dir, tiny_token_classifier_dir, tiny_xlmr_dir)
    nlp.add_pipe("xner_translate_test", config=cfg)
    component = nlp.get_pipe("xner_translate_test")
    assert isinstance(component, TranslateTest)
    nlp.initialize()  # no examples: loads the three models
    assert component.labeller._model is not None  # type: ignore[attr-defined]
    assert component.translator.backend._model is not None  # type: ignore[attr-defined]
    batched = list(nlp.pipe(TEXTS, batch_size=3))
    for text, doc in zip(TEXTS, batched, strict=True):
        check_valid(doc)
        assert doc.text == text
        alone = nlp(text)
        assert [(e.start, e.end, e.label_) for e in alone.ents] == [
            (e.start, e.end, e.label_) for e in doc.ents
        ]
    assert not batched[2].ents


def test_constant_labeller_entities_are_projected(
    tiny_nllb_dir: Path, constant_per_dir: Path, tiny_xlmr_dir: Path
) -> None:
    nlp = spacy.blank("xx")
    nlp.add_pipe(
        "xner_translate_test", config=tiny_config(tiny_nllb_dir, constant_per_dir, tiny_xlmr_dir)
    )
    docs = list(nlp.pipe(TEXTS))
    for doc in docs:
        check_valid(doc)
    source = docs[0]._.xner_source
    assert len(source) and all(e.label_ == "PER" for e in source.ents)
    assert docs[0].ents and {e.label_ for e in docs[0].ents} == {"PER"}


# --- configs/translate_test.cfg: assemble, package, install, load ---------------------------


def _run(cmd: list[str], **kwargs: Any) -> str:
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        **kwargs.pop("env", {}),
    }
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, **kwargs)
    assert proc.returncode == 0, f"{cmd} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


@pytest.fixture(scope="module")
def assembled(
    tmp_path_factory: pytest.TempPathFactory,
    tiny_nllb_dir: Path,
    constant_per_dir: Path,
    tiny_xlmr_dir: Path,
) -> Path:
    """`spacy assemble configs/translate_test.cfg` with the tiny models (absolute paths)."""
    out = tmp_path_factory.mktemp("tt") / "pipeline"
    _run(
        [sys.executable, "-m", "spacy", "assemble", str(REPO / "configs/translate_test.cfg"),
         str(out), "--paths.translator", str(tiny_nllb_dir), "--paths.source_ner",
         str(constant_per_dir), "--paths.aligner", str(tiny_xlmr_dir),
         "--components.xner_translate_test.aligner.layer", "2"]
    )  # fmt: skip
    return out


def test_assembled_config_loads_and_stays_small(assembled: Path) -> None:
    size = sum(p.stat().st_size for p in assembled.rglob("*") if p.is_file())
    assert size < 200_000  # config, vocab strings and tokenizer rules; no weights
    nlp = spacy.load(assembled)
    assert nlp.pipe_names == ["xner_translate_test"]
    assert type(nlp.tokenizer).__name__ == "NFCTokenizer"
    doc = nlp("Ada lo si Lagos lana .")  # models load lazily: no initialize after spacy.load
    check_valid(doc)
    assert doc.ents


@pytest.mark.slow
def test_translate_test_pipeline_packages_installs_and_loads(
    assembled: Path, tmp_path: Path
) -> None:
    packages = tmp_path / "packages"
    packages.mkdir()
    _run(
        [sys.executable, "-m", "spacy", "package", str(assembled), str(packages),
         "--name", PACKAGE, "--version", "0.0.1", "--build", "wheel", "--force"]
    )  # fmt: skip
    wheels = list(packages.glob(f"xx_{PACKAGE}-0.0.1/dist/*.whl"))
    assert len(wheels) == 1
    assert wheels[0].stat().st_size < 200_000
    site = tmp_path / "site"  # installed beside, not into, the venv
    _run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index",
         "--target", str(site), str(wheels[0])]
    )  # fmt: skip
    code = (
        "import json, spacy\n"
        f"nlp = spacy.load('xx_{PACKAGE}')\n"
        "docs = list(nlp.pipe(['Ada lo si Lagos lana .', 'a ri Bola loni .']))\n"
        "print(json.dumps({'requirements': nlp.meta['requirements'], 'pipes': nlp.pipe_names,"
        " 'ents': [[(e.start, e.end, e.label_) for e in d.ents] for d in docs],"
        " 'n_tokens': [len(d) for d in docs]}))\n"
    )
    out = json.loads(_run([sys.executable, "-c", code], env={"PYTHONPATH": str(site)}))
    assert any(r.startswith("xner-spacy") for r in out["requirements"])
    assert out["pipes"] == ["xner_translate_test"]
    for ents, n in zip(out["ents"], out["n_tokens"], strict=True):
        assert ents and all(0 <= s < e <= n and label == "PER" for s, e, label in ents)
