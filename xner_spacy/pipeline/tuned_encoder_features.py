"""``xner.TunedEncoderFeatures.v1``: a tok2vec that trains the encoder's top layers with the NER.

With ``trainable_layers = 0`` it *is* ``xner.EncoderFeatures.v1`` (the same model, so the same
outputs): frozen features of ``layer``. With ``trainable_layers = t > 0`` the ``xner_encoder``
component caches layer ``k = layer - t``'s sub-token states (``doc._.xner_states``) and this
layer runs blocks ``k+1..layer`` on them inside the NER's (or the student's) network, through a
thinc PyTorch shim, so the NER's loss (hard or soft) trains them; then, as v1, the pooled
token vectors (+ an optional hash embedding of the words) go through a Maxout projection.

The blocks have their own optimizer (:class:`~xner_spacy.encoders.top_layers.TopLayersOptimizer`:
AdamW, ``learn_rate`` with ``warmup_steps`` of linear warm-up and linear decay to 0 at
``decay_steps``, global ``grad_clip``, ``weight_decay``) and their own ``dropout``
(``hidden_dropout``): the shim applies it in ``finish_update`` instead of spaCy's optimizer,
whose learning rate suits the head. The blocks are cut from ``encoder`` (a hub name or a
local directory) at initialisation, and saved with the NER (float32, with their configuration),
so a saved pipeline rebuilds them without ``encoder``. torch and transformers are imported
inside the functions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import numpy as np
from spacy.tokens import Doc
from thinc.api import Model
from thinc.types import Floats2d, Floats3d

from .encoder_component import STATES_ATTR
from .encoder_features import (
    FeaturesMissingError,
    build_encoder_features,
    feature_projection,
    project_rows,
    with_embedded_words,
)

NAME = "xner_tuned_encoder_features"
TOP_NAME = "xner_top_layers"


def build_tuned_encoder_features(
    width: int = 256,
    embed: Model[list[Doc], list[Floats2d]] | None = None,
    maxout_pieces: int = 3,
    dropout: float | None = 0.1,
    encoder: str = "assets/encoder",
    layer: int = 8,
    trainable_layers: int = 0,
    pooling: str = "first",
    learn_rate: float = 5e-5,
    warmup_steps: int = 250,
    decay_steps: int = 0,
    grad_clip: float = 1.0,
    weight_decay: float = 0.01,
    hidden_dropout: float = 0.1,
    quantize: str = "none",
) -> Model[list[Doc], list[Floats2d]]:
    """Encoder layers ``layer-trainable_layers+1..layer`` trained, then v1's projection.

    ``quantize = "int8"`` (interpolate the component's) runs the trained layers int8 at
    inference, so the whole stack is int8 with the component's; training is then refused.

    ``trainable_layers = 0`` returns ``xner.EncoderFeatures.v1`` itself. ``encoder``,
    ``layer``, ``trainable_layers`` and ``pooling`` must match the ``xner_encoder``
    component's (interpolate them: ``${components.xner_encoder.layer}``); a mismatch of the
    cached layer is an error at the first batch.
    """
    if trainable_layers == 0:
        return build_encoder_features(width, embed, maxout_pieces, dropout)
    from ..encoders.subword_embedder import check_trainable_layers
    from ..encoders.top_layers import TopLayersOptimizer

    check_trainable_layers(layer, trainable_layers, -1, encoder)
    optimizer = TopLayersOptimizer(learn_rate, warmup_steps, decay_steps, grad_clip, weight_decay)
    top = build_top_layers(
        encoder, layer, trainable_layers, pooling, hidden_dropout, optimizer, quantize
    )
    return feature_projection(
        NAME, _forward, _init, width, embed, maxout_pieces, dropout, inner={"top": top}
    )


def build_top_layers(
    encoder: str,
    layer: int,
    trainable_layers: int,
    pooling: str,
    hidden_dropout: float,
    optimizer: Any,
    quantize: str = "none",
) -> Model[list[Doc], list[Floats2d]]:
    """The PyTorch-wrapped top blocks: Docs (with ``doc._.xner_states``) → token vectors."""
    from thinc.layers.pytorchwrapper import forward as pytorch_forward

    from ..encoders.top_layers import TopLayerShim

    shim = TopLayerShim(optimizer, quantize)
    return Model(
        TOP_NAME,
        pytorch_forward,
        init=_init_top,
        attrs={
            "convert_inputs": _convert_inputs,
            "convert_outputs": _convert_outputs,
            "encoder": encoder,
            "layer": layer,
            "trainable_layers": trainable_layers,
            "pooling": pooling,
            "hidden_dropout": hidden_dropout,
        },
        shims=[shim],
        dims={"nO": None},
    )


def _init_top(model: Model, X: Any = None, Y: Any = None) -> None:
    """Cut the blocks from the pretrained encoder (once; a loaded pipeline has them already)."""
    from ..encoders.top_layers import load_top_layers

    shim: Any = model.shims[0]  # a TopLayerShim (imported lazily)
    if shim.loaded:
        return
    shim.refuse_int8_training()  # initialisation is for training: refused before any work
    attrs = model.attrs
    module = load_top_layers(
        attrs["encoder"],
        attrs["layer"],
        attrs["trainable_layers"],
        attrs["hidden_dropout"],
        attrs["pooling"],
    )
    shim.set_module(module)
    model.set_dim("nO", module.hidden_size)


def _states(docs: list[Doc]) -> list[dict[str, Any]] | None:
    found = [doc._.get(STATES_ATTR) for doc in docs]
    return None if any(f is None for f in found) else found


def _convert_inputs(model: Model, docs: list[Doc], is_train: bool) -> tuple[Any, Callable]:
    """Pad the Docs' cached states into ``(B, L, H)`` torch tensors (no gradient to them)."""
    import torch
    from thinc.api import ArgsKwargs

    found = _states(docs)
    if found is None:
        raise FeaturesMissingError(_missing_message())
    shim: Any = model.shims[0]
    first = shim.first_layer
    for item in found:
        if int(item["layer"]) != first:
            raise ValueError(
                f"doc._.{STATES_ATTR} holds layer {item['layer']}, but the trained layers start "
                f"above layer {first}: give the xner_encoder component and this layer the same "
                "layer and trainable_layers"
            )
    length = max(1, max(len(item["token_index"]) for item in found))
    hidden = found[0]["states"].shape[1]
    states = np.zeros((len(docs), length, hidden), dtype=np.float32)
    mask = np.zeros((len(docs), length), dtype=np.float32)
    index = np.full((len(docs), length), -1, dtype=np.int64)
    for row, item in enumerate(found):
        n = len(item["token_index"])
        states[row, :n] = item["states"]
        mask[row, :n] = 1.0
        index[row, :n] = item["token_index"]
    device = shim.device
    n_tokens = max(len(doc) for doc in docs)
    args = (
        torch.from_numpy(states).to(device),
        torch.from_numpy(mask).to(device),
        torch.from_numpy(index).to(device),
        n_tokens,
    )
    return ArgsKwargs(args=args, kwargs={}), lambda d: []


def _convert_outputs(model: Model, inputs_outputs: Any, is_train: bool) -> tuple[Any, Callable]:
    """``(B, T, H)`` torch output → one ``(len(doc), H)`` array per Doc, and its backprop."""
    from thinc.api import ArgsKwargs, torch2xp, xp2torch

    docs, output = inputs_outputs
    ops = model.ops
    lengths = [len(doc) for doc in docs]
    padded = ops.asarray3f(cast(Floats3d, torch2xp(output.detach())))
    Y = [padded[row, :n] for row, n in enumerate(lengths)]

    def backprop(dY: list[Floats2d]) -> ArgsKwargs:
        d_padded = ops.alloc3f(*padded.shape)
        for row, (n, d) in enumerate(zip(lengths, dY, strict=True)):
            d_padded[row, :n] = d
        return ArgsKwargs(args=(output,), kwargs={"grad_tensors": xp2torch(d_padded)})

    return Y, backprop


def _missing_message() -> str:
    return (
        f"a Doc has no doc._.{STATES_ATTR}: put the xner_encoder component (with the same "
        "trainable_layers) before this one and, for training, in [training] "
        "annotating_components (and frozen_components)"
    )


def _init(
    model: Model[list[Doc], list[Floats2d]], X: list[Doc] | None = None, Y: object = None
) -> None:
    model.get_ref("top").initialize()
    if model.has_ref("embed"):
        model.get_ref("embed").initialize(X=X)
    if X and _states(X) is not None:
        _size(model, _inputs(model, X, is_train=False)[0])
    # else: the projection is sized on the first batch with states (as v1)


def _size(model: Model, inputs: Floats2d) -> None:
    model.set_dim("nF", model.get_ref("top").get_dim("nO"))
    model.get_ref("project").initialize(X=inputs)


def _inputs(
    model: Model, docs: list[Doc], is_train: bool
) -> tuple[Floats2d, Callable[[Floats2d], None]]:
    """The projection's input rows (top-layer vectors, then ``embed``'s) and their backprop."""
    ops = model.ops
    vectors, backprop_top = model.get_ref("top")(docs, is_train)
    lengths = ops.asarray1i([len(doc) for doc in docs])
    return with_embedded_words(
        model,
        docs,
        ops.flatten(vectors),
        lambda dX: backprop_top(ops.unflatten(dX, lengths)),
        is_train,
    )


def _forward(
    model: Model[list[Doc], list[Floats2d]], docs: list[Doc], is_train: bool
) -> tuple[list[Floats2d], Callable[[list[Floats2d]], list[Doc]]]:
    ops = model.ops
    if not docs:
        return [], lambda dY: []
    if _states(docs) is None:
        if is_train or model.has_dim("nF"):
            raise FeaturesMissingError(_missing_message())
        width = model.get_dim("nO")  # initialisation: no states yet, zeros of the right width
        return [ops.alloc2f(len(doc), width) for doc in docs], lambda dY: []
    X, backprop_inputs = _inputs(model, docs, is_train)
    return project_rows(model, docs, X, backprop_inputs, is_train, _size)
