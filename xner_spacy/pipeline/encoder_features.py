"""``xner.EncoderFeatures.v1``: a tok2vec over the frozen encoder's cached features.

It reads ``doc._.xner_features`` (set by the ``xner_encoder`` component, see
:mod:`xner_spacy.pipeline.encoder_component`), optionally appends a small trainable embedding of the
tokens' own strings (``embed``: any tok2vec such as ``spacy.HashEmbedCNN.v2``, useful for
words the encoder's sub-tokens split badly and for word shape), and maps each token through a
trainable Maxout layer to ``width``. No gradient goes into the encoder.

The encoder's hidden size (``nF``) is known only when features arrive: spaCy initialises the
NER on Docs that no component has annotated, so at initialisation this layer returns zeros of
``width`` (as spacy-transformers' listener does) and its projection is sized and initialised
on the first batch that carries features. Once sized, a Doc without features is an error:
the ``xner_encoder`` component must run first (in training, as an annotating component).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

import numpy as np
from spacy.tokens import Doc
from thinc.api import Maxout, Model
from thinc.types import Floats2d

from .encoder_component import FEATURES_ATTR

NAME = "xner_encoder_features"


class FeaturesMissingError(ValueError):
    """A Doc reached the feature layer without ``doc._.xner_features``."""


def build_encoder_features(
    width: int = 256,
    embed: Model[list[Doc], list[Floats2d]] | None = None,
    maxout_pieces: int = 3,
    dropout: float | None = 0.1,
) -> Model[list[Doc], list[Floats2d]]:
    """Encoder features (+ ``embed``'s vectors) → Maxout(``width``, ``maxout_pieces``) per token.

    The projection is layer-normalised; ``dropout`` (``None``: none) is the rate spaCy's
    ``[training] dropout`` overrides during training.
    """
    return feature_projection(NAME, _forward, _init, width, embed, maxout_pieces, dropout)


def feature_projection(
    name: str,
    forward: Callable,
    init: Callable,
    width: int,
    embed: Model[list[Doc], list[Floats2d]] | None,
    maxout_pieces: int,
    dropout: float | None,
    inner: dict[str, Model] | None = None,
) -> Model[list[Doc], list[Floats2d]]:
    """The Model of a feature tok2vec: ``inner`` layers, the Maxout ``project``, ``embed``.

    Shared by this layer and ``xner.TunedEncoderFeatures.v1``, whose ``inner`` is the trained
    top layers; both size ``nF`` on the first batch with features (:func:`project_rows`).
    """
    project = Maxout(nO=width, nP=maxout_pieces, dropout=dropout, normalize=True)
    refs: dict[str, Model | None] = {**(inner or {}), "project": project}
    if embed is not None:
        refs["embed"] = embed
    layers = [layer for layer in refs.values() if layer is not None]
    return Model(name, forward, init=init, layers=layers, refs=refs, dims={"nO": width, "nF": None})


def _features(docs: list[Doc]) -> list[np.ndarray] | None:
    """Each Doc's feature array, or None if any Doc has none."""
    found = [doc._.get(FEATURES_ATTR) for doc in docs]
    if any(f is None for f in found):
        return None
    for doc, array in zip(docs, found, strict=True):
        if array.ndim != 2 or array.shape[0] != len(doc):
            raise ValueError(
                f"doc._.{FEATURES_ATTR} has shape {array.shape} for a Doc of {len(doc)} tokens"
            )
    return found


def _init(
    model: Model[list[Doc], list[Floats2d]], X: list[Doc] | None = None, Y: object = None
) -> None:
    if model.has_ref("embed"):
        model.get_ref("embed").initialize(X=X)
    feats = _features(X) if X else None
    if X and feats is not None:
        _size(model, _inputs(model, X, feats, is_train=False)[0])
    # else: sized on the first batch with features (see the module docstring)


def _size(model: Model, inputs: Floats2d) -> None:
    """Set ``nF`` and initialise the projection from the first real inputs."""
    model.set_dim("nF", _n_features(model, inputs))
    model.get_ref("project").initialize(X=inputs)


def _n_features(model: Model, inputs: Floats2d) -> int:
    """Columns of ``inputs`` that are encoder features (the rest are ``embed``'s)."""
    if not model.has_ref("embed"):
        return int(inputs.shape[1])
    return int(inputs.shape[1] - model.get_ref("embed").get_dim("nO"))


def _inputs(
    model: Model, docs: list[Doc], feats: list[np.ndarray], is_train: bool
) -> tuple[Floats2d, Callable[[Floats2d], None]]:
    """The projection's input rows (features, then ``embed``'s vectors) and their backprop."""
    X = model.ops.asarray2f(cast(Floats2d, np.concatenate(feats, axis=0)))
    return with_embedded_words(model, docs, X, lambda dX: None, is_train)


def with_embedded_words(
    model: Model,
    docs: list[Doc],
    X: Floats2d,
    backprop_X: Callable[[Floats2d], None],
    is_train: bool,
) -> tuple[Floats2d, Callable[[Floats2d], None]]:
    """``X``'s rows with ``embed``'s vectors beside them (if any), and a backprop that splits
    the gradient between ``backprop_X`` and ``embed``."""
    if not model.has_ref("embed"):
        return X, backprop_X
    ops = model.ops
    vectors, backprop_embed = model.get_ref("embed")(docs, is_train)
    n_feat = X.shape[1]
    lengths = ops.asarray1i([len(doc) for doc in docs])

    def backprop(dX: Floats2d) -> None:
        backprop_X(ops.asarray2f(dX[:, :n_feat]))
        backprop_embed(ops.unflatten(ops.asarray2f(dX[:, n_feat:]), lengths))

    return ops.xp.hstack([X, ops.flatten(vectors)]), backprop


def _forward(
    model: Model[list[Doc], list[Floats2d]], docs: list[Doc], is_train: bool
) -> tuple[list[Floats2d], Callable[[list[Floats2d]], list[Doc]]]:
    ops = model.ops
    if not docs:
        return [], lambda dY: []
    feats = _features(docs)
    if feats is None:
        if is_train or model.has_dim("nF"):
            raise FeaturesMissingError(
                f"a Doc has no doc._.{FEATURES_ATTR}: put the xner_encoder component before "
                "this one in the pipeline and, for training, in [training] "
                "annotating_components (and frozen_components)"
            )
        width = model.get_dim("nO")  # initialisation: no features yet, zeros of the right width
        return [ops.alloc2f(len(doc), width) for doc in docs], lambda dY: []
    X, backprop_inputs = _inputs(model, docs, feats, is_train)
    if model.has_dim("nF") and _n_features(model, X) != model.get_dim("nF"):
        raise ValueError(
            f"the features are {_n_features(model, X)} wide, but this layer was trained on "
            f"{model.get_dim('nF')}: the encoder changed"
        )
    return project_rows(model, docs, X, backprop_inputs, is_train, _size)


def project_rows(
    model: Model,
    docs: list[Doc],
    X: Floats2d,
    backprop_inputs: Callable[[Floats2d], None],
    is_train: bool,
    size: Callable[[Model, Floats2d], None],
) -> tuple[list[Floats2d], Callable[[list[Floats2d]], list[Doc]]]:
    """Run the projection on the input rows (sizing it with ``size`` on the first batch)."""
    ops = model.ops
    if not model.has_dim("nF"):
        size(model, X)
    Y, backprop_project = model.get_ref("project")(X, is_train)
    lengths = ops.asarray1i([len(doc) for doc in docs])

    def backprop(dY: list[Floats2d]) -> list[Doc]:
        backprop_inputs(backprop_project(ops.flatten(dY)))
        return []

    return ops.unflatten(Y, lengths), backprop
