"""xner.TunedEncoderFeatures.v1 and xner_encoder's states mode: the top layers trained."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import spacy
import torch
from spacy.language import Language
from spacy.util import fix_random_seed, registry

from xner_spacy.distill.student_ner import set_soft_targets
from xner_spacy.encoders.subword_embedder import TopLayersError
from xner_spacy.pipeline.encoder_component import STATES_ATTR, FrozenEncoder

pytest.importorskip("transformers")

SENTENCES = ["Ada went to Lagos yesterday .", "Bola est allé à Zürich hier ."]


def _tok2vec(encoder: Path, trainable_layers: int, **extra: Any) -> dict[str, Any]:
    return {
        "@architectures": "xner.TunedEncoderFeatures.v1",
        "width": 16,
        "maxout_pieces": 2,
        "encoder": str(encoder),
        "layer": 2,
        "trainable_layers": trainable_layers,
        "learn_rate": 1e-3,
        "warmup_steps": 2,
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
        **extra,
    }


def tuned_nlp(
    encoder: Path, trainable_layers: int, component: str = "xner_student_ner"
) -> Language:
    nlp = spacy.blank("xx")
    nlp.add_pipe(
        "xner_encoder",
        config={"model": str(encoder), "layer": 2, "trainable_layers": trainable_layers},
    )
    tok2vec = _tok2vec(encoder, trainable_layers)
    if component == "ner":
        model = {
            "@architectures": "spacy.TransitionBasedParser.v2",
            "state_type": "ner",
            "extra_state_tokens": False,
            "hidden_width": 16,
            "maxout_pieces": 2,
            "use_upper": True,
            "nO": None,
            "tok2vec": tok2vec,
        }
    else:
        model = {"@architectures": "spacy.Tagger.v2", "nO": None, "normalize": True,
                 "tok2vec": tok2vec}  # fmt: skip
    nlp.add_pipe(component, config={"model": model})
    return nlp


def _top_weights(nlp: Language, name: str) -> dict[str, np.ndarray]:
    top = next(n for n in nlp.get_pipe(name).model.walk() if n.name == "xner_top_layers")
    return {k: v.detach().clone().numpy() for k, v in top.shims[0].module.state_dict().items()}


def _examples(nlp: Language) -> list[Any]:
    from test_encoder_component import _examples as examples

    return examples(nlp)


def _train(nlp: Language, examples: list[Any], steps: int) -> list[float]:
    optimizer = nlp.initialize(lambda: examples)
    losses = []
    for _ in range(steps):
        step: dict[str, float] = {}
        nlp.update(examples, sgd=optimizer, losses=step,
                   exclude=["xner_encoder"], annotates=["xner_encoder"])  # fmt: skip
        losses.append(sum(step.values()))
    return losses


# --- settings ---------------------------------------------------------------------------------


def test_trainable_layers_0_is_the_frozen_v1_layer(tiny_xlmr_dir: Path) -> None:
    """trainable_layers 0: the v1 model itself, so the same outputs from the same seed."""
    nlp = spacy.blank("xx")
    pipe = nlp.add_pipe("xner_encoder", config={"model": str(tiny_xlmr_dir), "layer": 2})
    assert isinstance(pipe, FrozenEncoder) and pipe.mode == "features"
    docs = list(nlp.pipe(SENTENCES))
    assert docs[0]._.xner_features.shape == (len(docs[0]), 32)
    assert docs[0]._.get(STATES_ATTR) is None
    tuned_only = ("encoder", "layer", "trainable_layers", "learn_rate", "warmup_steps")
    v1 = {k: v for k, v in _tok2vec(tiny_xlmr_dir, 0).items() if k not in tuned_only}
    outputs = []
    for block in (_tok2vec(tiny_xlmr_dir, 0), {**v1, "@architectures": "xner.EncoderFeatures.v1"}):
        fix_random_seed(0)
        model = registry.resolve({"m": block})["m"]
        assert model.name == "xner_encoder_features"
        model.initialize(X=docs)
        outputs.append(model.predict(docs))
    for a, b in zip(*outputs, strict=True):
        np.testing.assert_array_equal(a, b)


def test_states_mode_caches_layer_k_under_its_own_fingerprint(
    tiny_xlmr_dir: Path, tmp_path: Path
) -> None:
    """A changed k (or the frozen features) never reads another's disk cache."""
    files = set()
    for t in (0, 1, 2):
        nlp = spacy.blank("xx")
        config = {"model": str(tiny_xlmr_dir), "layer": 2, "trainable_layers": t,
                  "cache_dir": str(tmp_path)}  # fmt: skip
        pipe = nlp.add_pipe("xner_encoder", config=config)
        doc = nlp(SENTENCES[0])
        files |= {p.name for p in tmp_path.glob("features-*.sqlite")}
        if t:
            states = doc._.get(STATES_ATTR)
            assert states["layer"] == 2 - t and doc._.get("xner_features") is None
            n = len(states["token_index"])
            assert states["states"].shape == (n, 32) and n > len(doc)  # <s>, </s> included
            assert set(states["token_index"][[0, -1]]) == {-1}
            assert set(states["token_index"][1:-1]) == set(range(len(doc)))
        assert pipe.n_encoded == 1
        # a second instance with the same k reads the disk cache and gets the same values
        again = spacy.blank("xx")
        other = again.add_pipe("xner_encoder", config=config)
        doc2 = again(SENTENCES[0])
        assert other.n_from_disk == 1 and other.n_encoded == 0
        if t:
            np.testing.assert_array_equal(doc2._.get(STATES_ATTR)["states"], states["states"])
    assert len(files) == 3


def test_whitespace_tokens_have_no_sub_tokens_and_get_zeros(tiny_xlmr_dir: Path) -> None:
    nlp = tuned_nlp(tiny_xlmr_dir, 1)
    _train(nlp, _examples(nlp), 1)
    doc = nlp.make_doc("Ada  went to Lagos")  # two spaces: a whitespace token at 1
    assert doc[1].is_space
    nlp.get_pipe("xner_encoder")(doc)
    index = doc._.get(STATES_ATTR)["token_index"]
    assert 1 not in set(index) and {0, 2, 3, 4} <= set(index)
    top = next(
        n for n in nlp.get_pipe("xner_student_ner").model.walk() if n.name == "xner_top_layers"
    )
    (vectors,) = top.predict([doc])
    assert vectors.shape == (5, 32) and not vectors[1].any() and vectors[0].any()


def test_refusals_are_one_line(tiny_xlmr_dir: Path) -> None:
    nlp = spacy.blank("xx")
    int8 = registry.resolve({"m": _tok2vec(tiny_xlmr_dir, 1, quantize="int8")})["m"]
    with pytest.raises(TopLayersError, match="'int8' with trained top layers is refused") as err:
        int8.initialize()  # initialising is training
    assert "\n" not in str(err.value)
    with pytest.raises(TopLayersError, match="trainable_layers 3 is beyond"):
        nlp.add_pipe("xner_encoder", config={"model": str(tiny_xlmr_dir), "layer": 2,
                                             "trainable_layers": 3})  # fmt: skip
    with pytest.raises(TopLayersError, match="beyond") as err:
        registry.resolve({"m": _tok2vec(tiny_xlmr_dir, 3)})
    assert "\n" not in str(err.value)
    # layer 3 of a 2-layer model: refused when the top layers are cut from it
    model = registry.resolve({"m": {**_tok2vec(tiny_xlmr_dir, 2), "layer": 3}})["m"]
    with pytest.raises(TopLayersError, match="which has 2 layers") as err:
        model.initialize()
    assert "\n" not in str(err.value)


def test_int8_runs_the_whole_stack_at_inference_only(tiny_xlmr_dir: Path, tmp_path: Path) -> None:
    """A trained pipeline loads with int8 on both parts; training with int8 is refused."""
    nlp = tuned_nlp(tiny_xlmr_dir, 1)
    _train(nlp, _examples(nlp), 10)
    nlp.to_disk(tmp_path / "saved")
    name = "components.xner_student_ner.model.tok2vec.quantize"
    overrides = {"components.xner_encoder.quantize": "int8", name: "int8"}
    loaded = spacy.load(tmp_path / "saved", config=overrides)
    top = next(n for n in loaded.get_pipe("xner_student_ner").model.walk()
               if n.name == "xner_top_layers")  # fmt: skip
    assert top.shims[0].quantize == "int8"
    assert loaded.get_pipe("xner_encoder").embedder.quantize == "int8"
    texts = ["Bola went to Abuja yesterday .", *SENTENCES]
    floats = nlp.get_pipe("xner_student_ner").predict(list(nlp.pipe(texts)))
    ints = loaded.get_pipe("xner_student_ner").predict(list(loaded.pipe(texts)))
    assert top.shims[0]._int8 is not None
    for a, b in zip(floats, ints, strict=True):
        assert a.shape == b.shape and np.abs(a - b).max() < 0.2
    with pytest.raises(TopLayersError, match="refused in training"):
        loaded.update(_examples(loaded)[:2], exclude=["xner_encoder"], annotates=["xner_encoder"])


def test_long_sentences_are_truncated_and_counted(tiny_xlmr_dir: Path) -> None:
    nlp = tuned_nlp(tiny_xlmr_dir, 1)
    nlp.get_pipe("xner_encoder").embedder.max_length = 8
    examples = _examples(nlp)
    _train(nlp, examples, 1)
    pipe = nlp.get_pipe("xner_encoder")
    long = " ".join(["Ada went to Lagos"] * 5)
    doc = nlp(long)
    assert pipe.n_truncated_sentences >= 1 and pipe.n_truncated_words > 0
    assert len(doc) == 20  # every token is still there (past the limit: zeros in, tag O out)
    assert max(doc._.get(STATES_ATTR)["token_index"]) < 8


# --- training through the top layers ----------------------------------------------------------


@pytest.mark.parametrize("component", ["xner_student_ner", "ner"])
def test_the_ners_loss_trains_the_top_layers_only(tiny_xlmr_dir: Path, component: str) -> None:
    nlp = tuned_nlp(tiny_xlmr_dir, 1, component)
    examples = _examples(nlp)
    nlp.initialize(lambda: examples)
    before = _top_weights(nlp, component)
    frozen = {
        k: v.clone() for k, v in nlp.get_pipe("xner_encoder").embedder._model.state_dict().items()
    }
    losses = _train(nlp, examples, 8)
    after = _top_weights(nlp, component)
    assert before.keys() == after.keys()
    changed = [k for k in before if not np.array_equal(before[k], after[k])]
    assert len(changed) > 0.9 * len(before)
    for k, v in nlp.get_pipe("xner_encoder").embedder._model.state_dict().items():
        torch.testing.assert_close(v, frozen[k], rtol=0, atol=0)
    assert all(np.isfinite(losses))


def test_the_soft_loss_reaches_the_top_layers(tiny_xlmr_dir: Path) -> None:
    """Teacher distributions (soft targets) alone train the blocks of xner_student_ner."""
    nlp = tuned_nlp(tiny_xlmr_dir, 2)
    examples = _examples(nlp)
    nlp.initialize(lambda: examples)
    tags = nlp.get_pipe("xner_student_ner").tagset.tags
    rng = np.random.default_rng(0)
    for eg in examples:
        probs = rng.dirichlet(np.ones(len(tags)), size=len(eg.reference)).astype(np.float32)
        eg.reference.set_ents([])
        set_soft_targets(eg.reference, tags, probs)
    before = _top_weights(nlp, "xner_student_ner")
    optimizer = nlp.resume_training()
    for _ in range(3):
        nlp.update(examples, sgd=optimizer, exclude=["xner_encoder"], annotates=["xner_encoder"])
    after = _top_weights(nlp, "xner_student_ner")
    assert all(not np.array_equal(before[k], after[k]) for k in before if "LayerNorm" not in k)


# --- saving and loading -----------------------------------------------------------------------


def test_saved_pipeline_predicts_the_same_without_the_encoder_dir(
    tiny_xlmr_dir: Path, tmp_path: Path
) -> None:
    encoder = tmp_path / "encoder"
    shutil.copytree(tiny_xlmr_dir, encoder)
    nlp = tuned_nlp(encoder, 1)
    _train(nlp, _examples(nlp), 20)
    texts = ["Bola went to Abuja yesterday .", "we saw Lagos and Ada", *SENTENCES]
    docs = list(nlp.pipe(texts))
    probs = nlp.get_pipe("xner_student_ner").predict(docs)
    nlp.to_disk(tmp_path / "saved")
    saved = tmp_path / "saved" / "xner_encoder" / "model" / "config.json"
    assert '"num_hidden_layers": 1' in saved.read_text()  # only the frozen layer 1 is kept
    encoder.rename(tmp_path / "moved")
    loaded = spacy.load(tmp_path / "saved")
    again = list(loaded.pipe(texts))
    assert [[(e.start, e.end, e.label_) for e in d.ents] for d in docs] == [
        [(e.start, e.end, e.label_) for e in d.ents] for d in again
    ]
    for a, b in zip(probs, loaded.get_pipe("xner_student_ner").predict(again), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    assert (
        _top_weights(loaded, "xner_student_ner").keys()
        == _top_weights(nlp, "xner_student_ner").keys()
    )


# --- the configs with stock `spacy train` -----------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    ("config", "trainable"), [("ner_encoder.cfg", 2), ("student_encoder.cfg", 1)]
)
def test_configs_train_the_top_layers(
    tiny_xlmr_dir: Path, tmp_path: Path, config: str, trainable: int
) -> None:
    """trainable_layers = layer = depth (2) is the GPU path's setting: every layer trained."""
    from spacy.cli.train import train as spacy_train
    from test_encoder_component import _docbin
    from toy_data import synthetic_pairs

    from xner_spacy.encoders.top_layers import load_top_layers

    repo = Path(__file__).resolve().parents[2]
    pairs = synthetic_pairs(16, seed=7)
    train = _docbin(tmp_path / "train.spacy", [(p[0], p[2]) for p in pairs[:12]])
    dev = _docbin(tmp_path / "dev.spacy", [(p[0], p[2]) for p in pairs[12:]])
    name = "ner" if config == "ner_encoder.cfg" else "xner_student_ner"
    tok2vec = f"components.{name}.model.tok2vec"
    overrides = {"paths.train": str(train), "paths.dev": str(dev),
                 "paths.encoder": str(tiny_xlmr_dir), "components.xner_encoder.layer": 2,
                 "components.xner_encoder.trainable_layers": trainable,
                 f"{tok2vec}.warmup_steps": 2, f"{tok2vec}.learn_rate": 1e-3,
                 "training.max_steps": 8, "training.eval_frequency": 4}  # fmt: skip
    spacy_train(repo / "configs" / config, tmp_path / "out", overrides=overrides)
    nlp = spacy.load(tmp_path / "out" / "model-last")
    doc = nlp(pairs[0][0])
    assert doc._.get(STATES_ATTR)["layer"] == 2 - trainable
    assert all(0 <= e.start < e.end <= len(doc) for e in doc.ents)
    fresh = load_top_layers(str(tiny_xlmr_dir), 2, trainable).state_dict()
    trained = _top_weights(nlp, name)
    assert any(not np.array_equal(fresh[k].numpy(), trained[k]) for k in fresh)
    assert nlp.config["components"]["xner_encoder"]["trainable_layers"] == trainable
    # one override makes the whole stack int8: the tok2vec reads the component's setting
    int8 = spacy.load(tmp_path / "out" / "model-last",
                      config={"components.xner_encoder.quantize": "int8"})  # fmt: skip
    top = next(n for n in int8.get_pipe(name).model.walk() if n.name == "xner_top_layers")
    assert top.shims[0].quantize == "int8"
    doc = int8(pairs[0][0])
    assert doc._.get(STATES_ATTR) is not None and top.shims[0]._int8 is not None


@pytest.mark.slow
def test_package_with_trained_layers_installs_and_loads_without_the_encoder(
    tiny_xlmr_dir: Path, tmp_path: Path
) -> None:
    """spacy package → pip install → load and predict, the encoder directory moved away."""
    import json
    import os
    import subprocess
    import sys

    encoder = tmp_path / "encoder"
    shutil.copytree(tiny_xlmr_dir, encoder)
    nlp = tuned_nlp(encoder, 1, "ner")
    _train(nlp, _examples(nlp), 10)
    nlp.to_disk(tmp_path / "model")
    texts = ["Bola went to Abuja yesterday .", *SENTENCES]
    expected = [[[e.start, e.end, e.label_] for e in d.ents] for d in nlp.pipe(texts)]
    repo = Path(__file__).resolve().parents[2]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}

    def run(cmd: list[str], **extra: str) -> str:
        proc = subprocess.run(cmd, capture_output=True, text=True, env={**env, **extra})
        assert proc.returncode == 0, proc.stderr[-3000:]
        return proc.stdout

    packages = tmp_path / "packages"
    packages.mkdir()
    name = ["--name", "xner_tuned_test", "--version", "0.0.1", "--build", "wheel", "--force"]
    run([sys.executable, "-m", "spacy", "package", str(tmp_path / "model"), str(packages), *name])
    (wheel,) = packages.glob("*/dist/*.whl")
    site = tmp_path / "site"
    run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--target",
         str(site), str(wheel)])  # fmt: skip
    encoder.rename(tmp_path / "moved")
    code = (
        "import json, spacy\n"
        "nlp = spacy.load('xx_xner_tuned_test')\n"
        f"docs = list(nlp.pipe({texts!r}))\n"
        "print(json.dumps([[[e.start, e.end, e.label_] for e in d.ents] for d in docs]))\n"
    )
    out = run([sys.executable, "-c", code], PYTHONPATH=f"{site}{os.pathsep}{repo}")
    assert json.loads(out) == expected
