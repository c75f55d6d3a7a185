"""xner_encoder (frozen, cached encoder features) and xner.EncoderFeatures.v1 on tiny models."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import spacy
from spacy.language import Language
from spacy.tokens import Doc, DocBin
from spacy.training import Example
from thinc.api import Config

from xner_spacy.encoders.subword_embedder import SubwordEmbedder
from xner_spacy.pipeline.encoder_component import FEATURES_ATTR, FrozenEncoder
from xner_spacy.pipeline.encoder_features import FeaturesMissingError

pytest.importorskip("torch")
pytest.importorskip("transformers")

REPO = Path(__file__).resolve().parents[2]
SENTENCES = [
    "Ada went to Lagos yesterday .",
    "Bola est allé à Zürich hier .",
    "the people of Abuja like Chidi very much .",
    "a ri Ngozi ati Dakar loni !",
]


def encoder_nlp(model: Path, **config: Any) -> tuple[Language, FrozenEncoder]:
    nlp = spacy.blank("xx")
    pipe = nlp.add_pipe("xner_encoder", config={"model": str(model), "layer": 2, **config})
    assert isinstance(pipe, FrozenEncoder)
    return nlp, pipe


# --- features ---------------------------------------------------------------------------------


@pytest.mark.parametrize("pooling", ["first", "mean"])
@pytest.mark.parametrize("family", ["xlmr", "bert"])
def test_features_pool_one_layer_of_sub_token_states(
    pooling: str, family: str, tiny_xlmr_dir: Path, tiny_bert_dir: Path
) -> None:
    model = tiny_xlmr_dir if family == "xlmr" else tiny_bert_dir
    nlp, _ = encoder_nlp(model, layer=1, pooling=pooling, weights_dtype="float32")
    doc = nlp("Ada  went to Zürich .")
    assert [t.text for t in doc] == ["Ada", " ", "went", "to", "Zürich", "."]
    feats = doc._.get(FEATURES_ATTR)
    assert feats.dtype == np.float32 and feats.shape == (6, 32)
    assert not feats[1].any()  # the whitespace token
    embedder = SubwordEmbedder(str(model), layer=1, device="cpu")
    hidden, pieces = embedder.embed([["Ada", "went", "to", "Zürich", "."]])
    groups = pieces.groups(0)
    for row, group in zip([0, 2, 3, 4, 5], groups, strict=True):
        states = hidden[0, group].numpy()
        expected = states[0] if pooling == "first" else states.mean(axis=0)
        np.testing.assert_allclose(feats[row], expected, rtol=1e-5, atol=1e-5)


def test_words_without_sub_tokens_or_past_the_limit_get_zeros(tiny_xlmr_dir: Path) -> None:
    nlp, pipe = encoder_nlp(tiny_xlmr_dir, max_length=6)
    words = ["Ada", "went", "to", "Lagos", "yesterday", "again", "."]
    doc = pipe(Doc(nlp.vocab, words=words))
    feats = doc._.get(FEATURES_ATTR)
    assert feats.shape == (len(words), 32)
    assert feats[0].any() and not feats[-1].any()  # cut by the 6-sub-token limit
    assert not pipe(nlp.make_doc(""))._.get(FEATURES_ATTR).size
    nlp, pipe = encoder_nlp(tiny_xlmr_dir, max_length=6, on_overflow="error")
    with pytest.raises(ValueError, match="sub-tokens"):
        pipe(Doc(nlp.vocab, words=words))


def test_cache_serves_repeated_sentences_and_drops_the_oldest(tiny_xlmr_dir: Path) -> None:
    nlp, pipe = encoder_nlp(tiny_xlmr_dir, cache_size=3, batch_size=2)
    first = list(nlp.pipe(SENTENCES + SENTENCES[:2]))
    assert (pipe.n_encoded, pipe.n_cached, len(pipe.cache)) == (4, 0, 3)
    again = list(nlp.pipe(SENTENCES[1:]))  # the first sentence was dropped
    assert (pipe.n_encoded, pipe.n_cached) == (4, 3)
    for a, b in zip(first[1:4], again, strict=True):
        assert a._.get(FEATURES_ATTR) is b._.get(FEATURES_ATTR)  # the cached array itself
    assert not b._.get(FEATURES_ATTR).flags.writeable
    nlp, pipe = encoder_nlp(tiny_xlmr_dir, cache_size=0)
    list(nlp.pipe(SENTENCES + SENTENCES, batch_size=4))  # a batch encodes a sentence once
    assert (pipe.n_encoded, pipe.n_cached, len(pipe.cache)) == (8, 0, 0)


def test_features_do_not_depend_on_the_batch(tiny_xlmr_dir: Path) -> None:
    _, alone = encoder_nlp(tiny_xlmr_dir, batch_size=1)
    nlp, _ = encoder_nlp(tiny_xlmr_dir, batch_size=4)
    docs = [nlp.make_doc(t) for t in SENTENCES]
    for a, b in zip(nlp.pipe(SENTENCES), alone.pipe(docs), strict=True):
        np.testing.assert_allclose(a._.xner_features, b._.xner_features, rtol=1e-5, atol=1e-5)


def test_bad_settings_are_refused(tiny_xlmr_dir: Path) -> None:
    for bad in ({"pooling": "max"}, {"batch_size": 0}, {"cache_size": -1},
                {"weights_dtype": "int8"}, {"on_overflow": "wrap"},
                {"quantize": "int4"}):  # fmt: skip
        with pytest.raises(ValueError):
            encoder_nlp(tiny_xlmr_dir, **bad)
    nlp, pipe = encoder_nlp(tiny_xlmr_dir, layer=3)  # the tiny model has 2 layers
    with pytest.raises(ValueError, match="out of range"):
        pipe.initialize()


# --- serialisation ----------------------------------------------------------------------------


def test_to_disk_keeps_the_encoder_up_to_layer_in_float16(
    tiny_xlmr_dir: Path, tmp_path: Path
) -> None:
    sizes = {}
    for dtype in ("float32", "float16"):
        nlp, pipe = encoder_nlp(tiny_xlmr_dir, layer=1, weights_dtype=dtype)
        before = [d._.xner_features for d in nlp.pipe(SENTENCES)]
        nlp.to_disk(tmp_path / dtype)
        saved = tmp_path / dtype / "xner_encoder" / "model"
        assert json.loads((saved / "config.json").read_text())["num_hidden_layers"] == 1
        assert (saved / "tokenizer.json").is_file()
        umask = os.umask(0)
        os.umask(umask)  # safetensors writes owner-only files; a package must be readable
        assert (saved / "model.safetensors").stat().st_mode & 0o777 == 0o666 & ~umask
        sizes[dtype] = (saved / "model.safetensors").stat().st_size
        loaded = spacy.load(tmp_path / dtype)
        after = [d._.xner_features for d in loaded.pipe(SENTENCES)]
        for a, b in zip(before, after, strict=True):  # float16 weights were rounded on load
            np.testing.assert_array_equal(a, b)
    assert sizes["float16"] < 0.6 * sizes["float32"]
    _, higher = encoder_nlp(tiny_xlmr_dir, layer=2)
    with pytest.raises(ValueError, match="keeps only layers up to 1"):
        higher.from_disk(tmp_path / "float16" / "xner_encoder")


# --- the feature layer ------------------------------------------------------------------------


def _student_config(width: int = 16) -> dict[str, Any]:
    return {
        "model": {
            "@architectures": "spacy.Tagger.v2",
            "nO": None,
            "normalize": True,
            "tok2vec": {
                "@architectures": "xner.EncoderFeatures.v1",
                "width": width,
                "maxout_pieces": 2,
                "embed": {
                    "@architectures": "spacy.HashEmbedCNN.v2",
                    "pretrained_vectors": None,
                    "width": 8,
                    "depth": 1,
                    "embed_size": 100,
                    "window_size": 1,
                    "maxout_pieces": 2,
                    "subword_features": True,
                },
            },
        }
    }


def _examples(nlp: Language, n: int = 12) -> list[Example]:
    names = [("Ada", "PER"), ("Bola", "PER"), ("Lagos", "LOC"), ("Abuja", "LOC")]
    out = []
    for k in range(n):
        (a, la), (b, lb) = names[k % 4], names[(k + 1) % 4]
        words = [a, "went", "to", b, "yesterday", "."] if k % 2 else ["we", "saw", a, "and", b]
        ref = Doc(nlp.vocab, words=words)
        spans = [ref.char_span(ref.text.index(w), ref.text.index(w) + len(w), label)
                 for w, label in ((a, la), (b, lb))]  # fmt: skip
        ref.set_ents(spans)
        out.append(Example(Doc(nlp.vocab, words=words), ref))
    return out


def test_student_ner_trains_on_the_features(tiny_xlmr_dir: Path, tmp_path: Path) -> None:
    """xner_student_ner (spacy.Tagger.v2) over xner.EncoderFeatures.v1: learns, saves, loads."""
    nlp, pipe = encoder_nlp(tiny_xlmr_dir)
    nlp.add_pipe("xner_student_ner", config=_student_config())
    examples = _examples(nlp)
    optimizer = nlp.initialize(lambda: examples)
    optimizer.learn_rate = 0.01
    losses = []
    for _ in range(30):
        step: dict[str, float] = {}
        nlp.update(examples, sgd=optimizer, losses=step,
                   exclude=["xner_encoder"], annotates=["xner_encoder"])  # fmt: skip
        losses.append(step["xner_student_ner"])
    assert losses[-1] < 0.1 * losses[0]
    assert pipe.n_encoded == len({eg.text for eg in examples})  # once each over 30 epochs
    texts = ["Bola went to Abuja yesterday .", "we saw Lagos and Ada"]
    docs = list(nlp.pipe(texts))
    assert [e.label_ for e in docs[0].ents] == ["PER", "LOC"]
    student = nlp.get_pipe("xner_student_ner")
    probs = student.predict(docs)
    nlp.to_disk(tmp_path / "student")
    loaded = spacy.load(tmp_path / "student")
    again = list(loaded.pipe(texts))
    for a, b in zip(probs, loaded.get_pipe("xner_student_ner").predict(again), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_a_doc_without_features_is_a_clear_error(tiny_xlmr_dir: Path) -> None:
    nlp, _ = encoder_nlp(tiny_xlmr_dir)
    nlp.add_pipe("xner_student_ner", config=_student_config())
    examples = _examples(nlp, 4)
    optimizer = nlp.initialize(lambda: examples)  # initialises on Docs without features
    with pytest.raises(FeaturesMissingError, match="annotating_components"):
        nlp.update(examples, sgd=optimizer, exclude=["xner_encoder"])  # not annotating
    nlp.update(examples, sgd=optimizer, exclude=["xner_encoder"], annotates=["xner_encoder"])
    with nlp.select_pipes(disable=["xner_encoder"]), pytest.raises(FeaturesMissingError):
        nlp("Ada went to Lagos .")


def test_feature_layer_sends_no_gradient_to_the_features(tiny_xlmr_dir: Path) -> None:
    nlp, _ = encoder_nlp(tiny_xlmr_dir)
    docs = list(nlp.pipe(SENTENCES))
    from spacy.util import registry

    block = {"@architectures": "xner.EncoderFeatures.v1", "width": 12, "dropout": None}
    layer = registry.resolve({"m": block})["m"]
    bare = [nlp.make_doc(text) for text in SENTENCES]  # as spaCy initialises: no features yet
    zeros = layer.predict(bare)
    assert [z.shape for z in zeros] == [(len(d), 12) for d in docs] and not zeros[0].any()
    layer.initialize(X=docs)
    assert layer.get_dim("nF") == 32 and layer.get_dim("nO") == 12
    before = [d._.xner_features.copy() for d in docs]
    out, backprop = layer.begin_update(docs)
    assert [o.shape for o in out] == [(len(d), 12) for d in docs]
    assert backprop([np.ones_like(o) for o in out]) == []
    for doc, b in zip(docs, before, strict=True):
        np.testing.assert_array_equal(doc._.xner_features, b)


# --- configs/ner_encoder.cfg with stock `spacy train`, packaging ------------------------------


def _docbin(path: Path, texts: list[tuple[str, list[tuple[str, str]]]]) -> Path:
    nlp = spacy.blank("xx")
    db = DocBin()
    for text, ents in texts:
        doc = nlp.make_doc(text)
        doc.set_ents([doc.char_span(text.index(w), text.index(w) + len(w), lab) for w, lab in ents])
        db.add(doc)
    db.to_disk(path)
    return path


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, tiny_xlmr_dir: Path) -> dict[str, Any]:
    """configs/ner_encoder.cfg trained 30 steps on a copy of the tiny encoder; encoder calls."""
    from toy_data import synthetic_pairs

    root = tmp_path_factory.mktemp("enc_train")
    encoder = root / "encoder"
    shutil.copytree(tiny_xlmr_dir, encoder)
    pairs = synthetic_pairs(30, seed=5)
    train = _docbin(root / "train.spacy", [(p[0], p[2]) for p in pairs[:24]])
    dev = _docbin(root / "dev.spacy", [(p[0], p[2]) for p in pairs[24:]])
    calls: list[tuple[str, ...]] = []
    embed = SubwordEmbedder.embed

    def counting(self: SubwordEmbedder, sentences: Any) -> Any:
        calls.extend(tuple(s) for s in sentences)
        return embed(self, sentences)

    from spacy.cli.train import train as spacy_train

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(SubwordEmbedder, "embed", counting)
        spacy_train(
            REPO / "configs" / "ner_encoder.cfg",
            root / "out",
            overrides={
                "paths.train": str(train),
                "paths.dev": str(dev),
                "paths.encoder": str(encoder),
                "components.xner_encoder.layer": 2,
                "training.max_steps": 30,
                "training.eval_frequency": 10,
            },
        )
    texts = [p[0] for p in pairs]
    return {"root": root, "encoder": encoder, "calls": calls, "texts": texts}


@pytest.mark.slow
def test_training_encodes_each_sentence_once(trained: dict[str, Any]) -> None:
    """30 steps over 24 training sentences (several epochs) and 3 evaluations of 6 dev ones."""
    calls = trained["calls"]
    nlp = spacy.blank("xx", config={"nlp": {"tokenizer": {"@tokenizers": "xner.NFCTokenizer.v1"}}})
    expected = {tuple(t.text for t in nlp.make_doc(text)) for text in trained["texts"]}
    assert len(calls) == len(set(calls)) and set(calls) == expected


@pytest.mark.slow
def test_saved_pipeline_predicts_the_same_without_the_model_dir(
    trained: dict[str, Any], tmp_path: Path
) -> None:
    model = trained["root"] / "out" / "model-last"
    nlp = spacy.load(model)
    assert nlp.pipe_names == ["xner_encoder", "ner"]
    texts = trained["texts"][:10] + ["Zoë est allé à Bamako hier ."]
    docs = list(nlp.pipe(texts))
    copy = tmp_path / "copy"
    nlp.to_disk(copy)
    moved = trained["encoder"].with_name("encoder_moved")
    trained["encoder"].rename(moved)  # the configured model path no longer exists
    try:
        loaded = spacy.load(copy)
        again = list(loaded.pipe(texts))
    finally:
        moved.rename(trained["encoder"])
    assert [[(e.start, e.end, e.label_) for e in d.ents] for d in docs] == [
        [(e.start, e.end, e.label_) for e in d.ents] for d in again
    ]
    for a, b in zip(docs, again, strict=True):
        np.testing.assert_array_equal(a._.xner_features, b._.xner_features)


def _run(cmd: list[str], **kwargs: Any) -> str:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           **kwargs.pop("env", {})}  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, **kwargs)
    assert proc.returncode == 0, f"{cmd} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


@pytest.mark.slow
def test_package_installs_and_loads_without_the_model_dir(
    trained: dict[str, Any], tmp_path: Path
) -> None:
    model = trained["root"] / "out" / "model-best"
    texts = trained["texts"][:6]
    nlp = spacy.load(model)
    expected = [[[e.start, e.end, e.label_] for e in d.ents] for d in nlp.pipe(texts)]
    packages = tmp_path / "packages"
    packages.mkdir()
    _run([sys.executable, "-m", "spacy", "package", str(model), str(packages), "--name",
          "xner_encoder_test", "--version", "0.0.1", "--build", "wheel", "--force"])  # fmt: skip
    wheels = list(packages.glob("*/dist/*.whl"))
    assert len(wheels) == 1
    site = tmp_path / "site"
    _run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--target",
          str(site), str(wheels[0])])  # fmt: skip
    moved = trained["encoder"].with_name("encoder_moved")
    trained["encoder"].rename(moved)
    try:
        code = (
            "import json, spacy\n"
            "nlp = spacy.load('xx_xner_encoder_test')\n"
            f"docs = list(nlp.pipe({texts!r}))\n"
            "print(json.dumps({'pipes': nlp.pipe_names, 'ents': "
            "[[[e.start, e.end, e.label_] for e in d.ents] for d in docs]}))\n"
        )
        out = json.loads(_run([sys.executable, "-c", code], env={"PYTHONPATH": str(site)}))
    finally:
        moved.rename(trained["encoder"])
    assert out == {"pipes": ["xner_encoder", "ner"], "ents": expected}


@pytest.mark.parametrize("config", ["ner_encoder.cfg", "student_encoder.cfg"])
def test_configs_are_language_neutral_and_frozen(config: str) -> None:
    cfg = Config().from_disk(REPO / "configs" / config, interpolate=False)
    assert cfg["nlp"]["lang"] == "xx" and cfg["paths"]["encoder"] == "assets/encoder"
    assert cfg["components"]["xner_encoder"]["model"] == "${paths.encoder}"
    training = cfg["training"]
    assert training["frozen_components"] == training["annotating_components"] == ["xner_encoder"]


@pytest.mark.slow
def test_student_config_trains_and_predicts(tiny_xlmr_dir: Path, tmp_path: Path) -> None:
    from spacy.cli.train import train as spacy_train
    from toy_data import synthetic_pairs

    pairs = synthetic_pairs(24, seed=6)
    train = _docbin(tmp_path / "train.spacy", [(p[0], p[2]) for p in pairs[:20]])
    dev = _docbin(tmp_path / "dev.spacy", [(p[0], p[2]) for p in pairs[20:]])
    overrides = {"paths.train": str(train), "paths.dev": str(dev),
                 "paths.encoder": str(tiny_xlmr_dir), "components.xner_encoder.layer": 2,
                 "training.max_steps": 20, "training.eval_frequency": 10}  # fmt: skip
    spacy_train(REPO / "configs" / "student_encoder.cfg", tmp_path / "out", overrides=overrides)
    nlp = spacy.load(tmp_path / "out" / "model-last")
    assert nlp.pipe_names == ["xner_encoder", "xner_student_ner"]
    assert set(nlp.get_pipe("xner_student_ner").labels) == {"PER", "LOC", "ORG"}
    doc = nlp(pairs[0][0])
    assert doc._.xner_features.shape == (len(doc), 32)
    assert all(0 <= e.start < e.end <= len(doc) for e in doc.ents)


# --- the disk cache (cache_dir) ---------------------------------------------------------------


def test_disk_cache_serves_other_instances_and_a_saved_copy(
    tiny_xlmr_dir: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "features"
    nlp, first = encoder_nlp(tiny_xlmr_dir, cache_dir=str(cache))
    docs = [nlp.make_doc(s) for s in SENTENCES]
    a = first.predict(docs)
    assert first.n_encoded == len(SENTENCES) and first.n_from_disk == 0
    # the features are float16 values, fresh or read back
    assert all(np.array_equal(x, x.astype(np.float16).astype(np.float32)) for x in a)
    _, second = encoder_nlp(tiny_xlmr_dir, cache_dir=str(cache))
    b = second.predict([nlp.make_doc(s) for s in SENTENCES])
    assert second.n_encoded == 0 and second.n_from_disk == len(SENTENCES)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    # a saved pipeline's own copy of the encoder has the same fingerprint: same database
    nlp.to_disk(tmp_path / "pipeline")
    loaded = spacy.load(tmp_path / "pipeline")
    third = loaded.get_pipe("xner_encoder")
    c = third.predict([loaded.make_doc(s) for s in SENTENCES])
    assert third.n_encoded == 0 and third.n_from_disk == len(SENTENCES)
    for x, y in zip(a, c, strict=True):
        np.testing.assert_array_equal(x, y)
    assert len(list(cache.glob("features-*.sqlite"))) == 1


def test_disk_cache_is_keyed_by_the_encoder_and_layer(tiny_xlmr_dir: Path, tmp_path: Path) -> None:
    cache = tmp_path / "features"
    nlp, layer2 = encoder_nlp(tiny_xlmr_dir, cache_dir=str(cache))
    layer2.predict([nlp.make_doc(SENTENCES[0])])
    _, layer1 = encoder_nlp(tiny_xlmr_dir, cache_dir=str(cache), layer=1)
    layer1.predict([nlp.make_doc(SENTENCES[0])])
    assert layer1.n_encoded == 1 and layer1.n_from_disk == 0  # never another layer's features
    _, mean = encoder_nlp(tiny_xlmr_dir, cache_dir=str(cache), pooling="mean")
    mean.predict([nlp.make_doc(SENTENCES[0])])
    assert mean.n_encoded == 1
    assert len(list(cache.glob("features-*.sqlite"))) == 3


# --- int8 inference ---------------------------------------------------------------------------


def test_int8_features_are_close_and_cached_apart(tiny_xlmr_dir: Path, tmp_path: Path) -> None:
    cache = tmp_path / "features"
    nlp, full = encoder_nlp(tiny_xlmr_dir, cache_dir=str(cache))
    _, int8 = encoder_nlp(tiny_xlmr_dir, cache_dir=str(cache), quantize="int8")
    docs = [nlp.make_doc(t) for t in SENTENCES]
    a = np.concatenate(full.predict(docs))
    b = np.concatenate(int8.predict(docs))
    assert int8.n_encoded == len(SENTENCES) and int8.n_from_disk == 0  # not the float features
    assert a.shape == b.shape and not np.array_equal(a, b)
    cosine = (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    assert cosine.min() > 0.95, cosine.min()
    assert len(list(cache.glob("features-*.sqlite"))) == 2
    # the forward pass ran on quantized linear layers; the kept model (saved, hashed) is float
    import torch

    runner, model = int8.embedder._runner, int8.embedder._model
    assert any("quantized" in type(m).__module__ for m in runner.modules())
    assert all(isinstance(m, torch.nn.Linear) is False or "quantized" not in type(m).__module__
               for m in model.modules())  # fmt: skip


def test_int8_pipeline_saves_the_float_encoder(tiny_xlmr_dir: Path, tmp_path: Path) -> None:
    nlp, _ = encoder_nlp(tiny_xlmr_dir, quantize="int8", weights_dtype="float32")
    reference, _ = encoder_nlp(tiny_xlmr_dir, weights_dtype="float32")
    nlp.to_disk(tmp_path / "int8")
    loaded = spacy.load(tmp_path / "int8", config={"components.xner_encoder.quantize": "none"})
    for a, b in zip(loaded.pipe(SENTENCES), reference.pipe(SENTENCES), strict=True):
        np.testing.assert_allclose(a._.xner_features, b._.xner_features, rtol=1e-5, atol=1e-5)


def test_int8_is_refused_off_the_cpu() -> None:
    from xner_spacy.encoders.subword_embedder import _quantize_int8

    with pytest.raises(ValueError, match="CPU only"):
        _quantize_int8(None, "cuda:0", "some-model")


@pytest.mark.slow
def test_evaluate_takes_config_overrides_and_reports_speed(
    trained: dict[str, Any], tmp_path: Path
) -> None:
    from toy_data import synthetic_pairs, write_conll

    test = tmp_path / "test.txt"
    write_conll(test, synthetic_pairs(8, seed=11), side=0)
    model = str(trained["root"] / "out" / "model-best")
    outputs = {}
    for name, extra in (("float", []), ("int8", ["--components.xner_encoder.quantize", "int8"])):
        out = tmp_path / f"{name}.json"
        _run([sys.executable, "-m", "xner_spacy.cli", "evaluate", model, str(test),
              "--output", str(out), *extra])  # fmt: skip
        outputs[name] = json.loads(out.read_text())
    assert outputs["float"]["config_overrides"] == {}
    assert outputs["int8"]["config_overrides"] == {"components.xner_encoder.quantize": "int8"}
    for result in outputs.values():
        assert result["words_per_s"] > 0 and result["predict_seconds"] >= 0
        assert 0.0 <= result["f1"] <= 1.0
