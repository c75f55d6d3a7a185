"""Every registered xner.* name resolves, by entry point and in the shipped configs."""

from __future__ import annotations

import configparser
from importlib.metadata import entry_points
from pathlib import Path

import pytest
import spacy
from spacy.util import load_config, registry

from xner_spacy.types import Entity

REPO = Path(__file__).resolve().parents[1]


def _setup_cfg_entry_points() -> list[tuple[str, str, str]]:
    cfg = configparser.ConfigParser()
    cfg.read(REPO / "setup.cfg")
    found = []
    for group, body in cfg["options.entry_points"].items():
        if not group.startswith("spacy_"):
            continue
        for line in body.strip().splitlines():
            name, target = (x.strip() for x in line.split("=", 1))
            found.append((group, name, target))
    return found


ENTRY_POINTS = _setup_cfg_entry_points()


def test_every_registered_name_is_an_entry_point() -> None:
    import xner_spacy.registry  # noqa: F401

    declared = {name for _, name, _ in ENTRY_POINTS}
    registered = {
        name
        for reg in (
            registry.misc,
            registry.tokenizers,
            registry.architectures,
            registry.readers,
            registry.loggers,
        )
        for name in reg.get_all()
        if name.startswith("xner.")
    }
    factories = {
        name
        for name, func in registry.factories.get_all().items()
        if func.__module__.startswith("xner_spacy")
    }
    assert registered | factories == declared


@pytest.mark.parametrize("group,name,target", ENTRY_POINTS)
def test_entry_point_installed_and_resolves(group: str, name: str, target: str) -> None:
    installed = {ep.name: ep.value for ep in entry_points(group=group)}
    assert installed.get(name) == target, "reinstall the package: pip install -e ."
    if group == "spacy_factories":  # spaCy imports these when a Language is created
        assert name in spacy.blank("xx").factory_names
        return
    reg = getattr(registry, group.removeprefix("spacy_"))
    assert callable(reg.get(name))


def test_projection_config_resolves_every_part() -> None:
    cfg = load_config(REPO / "configs/projection.cfg", interpolate=True)
    for section in ("aligner", "projector"):
        part = registry.resolve({section: cfg[section]})[section]
        assert part is not None
    projector = registry.resolve({"p": cfg["projector"]})["p"]
    assert projector(["A", "b"], ["A", "c"], [Entity(0, 1, "PER")], [(0, 0)]) == [(0, 1, "PER")]


def test_candidate_matching_from_config_blocks() -> None:
    block = {
        "@misc": "xner.CandidateMatching.v1",
        "solver": "ilp",
        "candidates": {"ngram": {"@misc": "xner.NgramCandidates.v1", "max_len": 4}},
        "scores": {
            "dice": {"@misc": "xner.AlignmentDice.v1"},
            "string": {"@misc": "xner.StringSimilarity.v1"},
        },
        "weights": {"string": 0.5},
    }
    matcher = registry.resolve({"p": block})["p"]
    ents = matcher(["Ada", "went"], ["Ada", "lo"], [Entity(0, 1, "PER")], [(0, 0), (1, 1)])
    assert ents == [(0, 1, "PER")]
    block["weights"] = {"nope": 1.0}
    with pytest.raises(ValueError, match="unknown scores"):
        registry.resolve({"p": block})


# --- every parameter of every registered name, set to a non-default value ---------------------
# A parameter added to an implementation without a row here fails
# ``test_non_default_table_covers_every_parameter``; a signature that drifts from what configs
# may set (a type, a name) fails ``test_every_name_resolves_with_non_default_values``.

_HEURISTIC = {"@misc": "xner.HeuristicProjector.v1", "max_gap": 2}
_SCORER = {"@misc": "xner.NMTScorer.v1", "model": "tiny-m", "src_lang": "eng", "tgt_lang": "yor"}
_TEACHER = {"@misc": "xner.Teacher.v1", "model": "/no/such/teacher", "kind": "hf"}

_HASH_EMBED = {
    "@architectures": "spacy.HashEmbedCNN.v2",
    "pretrained_vectors": None,
    "width": 16,
    "depth": 1,
    "embed_size": 100,
    "window_size": 1,
    "maxout_pieces": 2,
    "subword_features": True,
}

NON_DEFAULT: dict[str, dict[str, object]] = {
    "xner.NFCTokenizer.v1": {},
    "xner.SoftNERTagger.v1": {
        "tok2vec": _HASH_EMBED,
        "nO": 5,
    },
    "xner.EncoderFeatures.v1": {
        "width": 64,
        "embed": _HASH_EMBED,
        "maxout_pieces": 2,
        "dropout": 0.2,
    },
    "xner.TunedEncoderFeatures.v1": {
        "width": 64,
        "embed": _HASH_EMBED,
        "maxout_pieces": 2,
        "dropout": 0.2,
        "encoder": "/no/such/encoder",  # read only at initialisation
        "layer": 6,
        "trainable_layers": 2,
        "pooling": "mean",
        "learn_rate": 1e-4,
        "warmup_steps": 10,
        "decay_steps": 100,
        "grad_clip": 0.5,
        "weight_decay": 0.0,
        "hidden_dropout": 0.2,
        "quantize": "int8",
    },
    "xner.TeacherCorpus.v1": {
        "path": "text.txt",
        "teachers": {"a": _TEACHER},
        "weights": [1.0],
        "references": {"a": "ref.txt"},
        "similarity_temperature": 0.5,
        "langid_temperature": 0.5,
        "labels": ["PER", "LOC"],
        "scheme": "BIO",
        "cache_dir": "cache",
        "min_length": 2,
        "max_length": 50,
        "limit": 10,
        "hard": True,
    },
    "xner.SpacyLabeller.v1": {
        "model": "xx_model",
        "label_map": {"PERSON": "PER"},
        "batch_size": 7,
        "n_process": 2,
    },
    "xner.EnsembleLabeller.v1": {
        "labellers": {"a": {"@misc": "xner.SpacyLabeller.v1", "model": "xx_model"}},
        "span_weights": {"a": 2.0},
        "label_weights": {"a": 3.0},
        "threshold": 0.3,
    },
    "xner.HFTokenClassifier.v1": {
        "model": "tiny-m",
        "label_map": "ontonotes",
        "batch_size": 3,
        "device": "cpu",
        "max_length": 64,
        "on_overflow": "truncate",
    },
    "xner.EflomalAligner.v1": {
        "symmetrization": "intersection",
        "lowercase": False,
        "prefix_len": 4,
        "model": 2,
        "n_iterations": [1, 2, 3],
        "n_samplers": 2,
        "null_prior": 0.1,
    },
    "xner.FastAlignAligner.v1": {
        "symmetrization": "union",
        "lowercase": False,
        "prefix_len": 4,
        "iterations": 3,
        "favor_diagonal": False,
        "diagonal_tension": 2.0,
        "prob_align_null": 0.1,
    },
    "xner.SimAlignAligner.v1": {
        "model": "tiny-m",
        "layer": 6,
        "device": "cpu",
        "batch_size": 4,
        "max_length": 64,
        "on_overflow": "truncate",
        "method": "argmax",
        "token_type": "word",
        "distortion": 0.5,
    },
    "xner.SoftmaxAligner.v1": {
        "model": "tiny-m",
        "layer": 6,
        "device": "cpu",
        "batch_size": 4,
        "max_length": 64,
        "on_overflow": "truncate",
        "threshold": 0.01,
    },
    "xner.CombinedAligner.v1": {
        "first": {"@misc": "xner.FastAlignAligner.v1", "iterations": 2},
        "second": {"@misc": "xner.SimAlignAligner.v1", "model": "tiny-m"},
        "rule": "union",
    },
    "xner.BackTranslationRefiner.v1": {"rule": "intersect", "threshold": 0.5, "min_fuzzy_len": 3},
    "xner.HeuristicProjector.v1": {
        "variant": "paper",
        "max_gap": 2,
        "min_length_ratio": 0.5,
        "symmetric_ratio": True,
        "merge_only_inside": False,
        "merge_same_label": False,
    },
    "xner.CandidateMatching.v1": {
        "candidates": {"ngram": {"@misc": "xner.NgramCandidates.v1", "max_len": 3}},
        "scores": {"dice": {"@misc": "xner.AlignmentDice.v1"}},
        "weights": {"dice": 2.0},
        "solver": "ilp",
        "min_score": 0.1,
        "label_from": "ner",
    },
    "xner.NgramCandidates.v1": {
        "max_len": 4,
        "restrict_to_aligned_window": False,
        "sentence_punct": ["."],
    },
    "xner.NerCandidates.v1": {"key": "spans", "min_score": 0.2, "labels": ["PER"]},
    "xner.AlignmentDice.v1": {},
    "xner.NerSpanScore.v1": {"key": "spans", "same_label": True},
    "xner.StringSimilarity.v1": {"min_similarity": 0.3},
    "xner.TranslationProbability.v1": {"prob": _SCORER, "key": "probs"},
    "xner.NMTTranslationProbability.v1": {"scorer": _SCORER, "max_len": 5},
    "xner.LabelConsistency.v1": {
        "source": False,
        "target": False,
        "ner_weight": 0.25,
        "min_share": 0.3,
        "lowercase": False,
        "labels": ["PER"],
    },
    "xner.SupportedFallback.v1": {
        "projector": _HEURISTIC,
        "support": "none",
        "ner_support": False,
        "lowercase": False,
        "labels": ["LOC"],
        "name": "fb",
    },
    "xner.NamePropagation.v1": {
        "min_share": 0.3,
        "min_count": 3,
        "max_len": 4,
        "lowercase": False,
        "labels": ["ORG"],
        "name": "prop",
    },
    "xner.HFTranslator.v1": {
        "model": "tiny-m",
        "src_lang": "eng",
        "tgt_lang": "yor",
        "lang_codes": {"yor": "yor_Latn"},
        "family": "nllb",
        "batch_size": 2,
        "num_beams": 2,
        "max_length": 32,
        "max_input_length": 64,
        "device": "cpu",
        "cache": "cache.jsonl",
    },
    "xner.NMTScorer.v1": {
        "model": "tiny-m",
        "src_lang": "eng",
        "tgt_lang": "hau",
        "lang_codes": {"hau": "hau_Latn"},
        "family": "nllb",
        "bidirectional": False,
        "batch_size": 2,
        "max_length": 16,
        "device": "cpu",
        "max_cache": 10,
    },
    "xner.EncoderLogger.v1": {"progress_bar": True},
    "xner.Teacher.v1": {
        "model": "/no/such/teacher",
        "kind": "hf",
        "label_map": "conll",
        "temperature": 2.0,
        "smoothing": 0.1,
        "component": "ner",
        "batch_size": 8,
        "device": "cpu",
    },
}

_REGISTERED = [(g, n) for g, n, _ in ENTRY_POINTS if g != "spacy_factories"]
# Attributes that hold something derived, not the parameter as set.
_DERIVED = {
    ("xner.TeacherCorpus.v1", "weights"),  # computed from weight_spec on first use
    ("xner.HFTranslator.v1", "cache"),  # the cache object over that path
}


def _registered_function(group: str, name: str):  # type: ignore[no-untyped-def]
    return getattr(registry, group.removeprefix("spacy_")).get(name)


def test_non_default_table_covers_every_parameter() -> None:
    import inspect

    assert set(NON_DEFAULT) == {name for _, name in _REGISTERED}
    for group, name in _REGISTERED:
        params = inspect.signature(_registered_function(group, name)).parameters
        assert set(NON_DEFAULT[name]) == set(params), name
        for p, value in NON_DEFAULT[name].items():
            default = params[p].default
            if default is not inspect.Parameter.empty:
                assert value != default, f"{name}: {p} = {value!r} is the default"


@pytest.mark.parametrize("group,name", _REGISTERED)
def test_every_name_resolves_with_non_default_values(group: str, name: str) -> None:
    key = {"spacy_misc": "@misc", "spacy_architectures": "@architectures"}.get(
        group, "@" + group.removeprefix("spacy_")
    )
    block = {key: name, **NON_DEFAULT[name]}
    obj = registry.resolve({"x": block})["x"]
    assert obj is not None
    # Plain values the implementation keeps as attributes of the same name are kept as set.
    for p, value in NON_DEFAULT[name].items():
        if isinstance(value, dict) or not hasattr(obj, p) or (name, p) in _DERIVED:
            continue
        got = getattr(obj, p)
        if isinstance(got, tuple):
            got = list(got)
        if isinstance(got, Path):
            got = str(got)
        if isinstance(value, (str, bool, int, float, list)) and not callable(got):
            assert got == value, f"{name}: {p} is {got!r}, set {value!r}"


def test_student_network_is_spacys_tagger() -> None:
    """The student's default network is ``spacy.Tagger.v2``, and the v1 name an alias of it."""
    nlp = spacy.blank("xx")
    pipe = nlp.add_pipe("xner_student_ner")
    assert nlp.get_pipe_config("xner_student_ner")["model"]["@architectures"] == "spacy.Tagger.v2"
    assert pipe.model.has_ref("output_layer")
    block = {"@architectures": "xner.SoftNERTagger.v1", **NON_DEFAULT["xner.SoftNERTagger.v1"]}
    model = registry.resolve({"m": block})["m"]
    assert model.get_ref("output_layer").attrs["softmax_normalize"] is True
