"""The trainable top of an encoder: transformer layers ``k+1..m`` over cached layer-``k`` states.

:class:`TopLayers` is a torch module holding copies of a BERT-style encoder's blocks ``k+1..m``
(``model.encoder.layer[k:m]``). It runs them on the sub-token states of layer ``k`` (which
the ``xner_encoder`` component computes once per sentence and caches) and pools the result
per token, so only the top of the stack runs, and learns, at each training step.
:func:`load_top_layers` cuts it from a pretrained encoder; :func:`top_layers_to_bytes` and
:func:`top_layers_from_bytes` store it with its configuration, so a saved pipeline rebuilds
it without the original model directory. :class:`TopLayersOptimizer` is its own AdamW with
linear warm-up and decay and global gradient-norm clipping: the top layers want a learning
rate about a hundred times smaller than the NER head's.

transformers is imported only inside the functions that build the blocks.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import importlib
import io
import sys
from collections.abc import Callable
from typing import Any

import torch
from thinc.shims.pytorch import PyTorchShim
from thinc.util import get_torch_default_device

from .subword_embedder import QUANTIZE_MODES, TopLayersError, check_trainable_layers, quantize_int8

#: The format tag of :func:`top_layers_to_bytes` (configuration + float32 state, weights_only).
_FORMAT = "xner.TopLayers/1"


class TopLayers(torch.nn.Module):
    """Transformer blocks ``first_layer+1..first_layer+len(blocks)``, then per-token pooling.

    ``forward(states, mask, token_index, n_tokens)``: ``states`` ``(B, L, H)`` are the cached
    layer-``first_layer`` sub-token states (special tokens included, right padding),
    ``mask`` ``(B, L)`` marks the real positions, ``token_index`` ``(B, L)`` the token of each
    position (``-1``: none). Returns ``(B, n_tokens, H)``: each token's first sub-token (or
    the mean, ``pooling = "mean"``) of the top layer's output; tokens without sub-tokens get
    zeros, as the frozen features give them.
    """

    def __init__(
        self,
        blocks: torch.nn.ModuleList,
        config: dict[str, Any],
        block_class: str,
        first_layer: int,
        pooling: str = "first",
    ) -> None:
        super().__init__()
        self.blocks = blocks
        self.config = config
        self.block_class = block_class
        self.first_layer = first_layer
        self.pooling = pooling

    @property
    def last_layer(self) -> int:
        return self.first_layer + len(self.blocks)

    @property
    def hidden_size(self) -> int:
        return int(self.config["hidden_size"])

    def forward(
        self, states: torch.Tensor, mask: torch.Tensor, token_index: torch.Tensor, n_tokens: int
    ) -> torch.Tensor:
        hidden = states
        additive = (1.0 - mask.to(hidden.dtype))[:, None, None, :]
        additive = additive * torch.finfo(hidden.dtype).min
        for block in self.blocks:
            hidden = block(hidden, attention_mask=additive)[0]
        tokens = torch.arange(n_tokens, device=token_index.device)
        member = (token_index[:, None, :] == tokens[None, :, None]).to(hidden.dtype)  # (B,T,L)
        if self.pooling == "mean":
            counts = member.sum(dim=2, keepdim=True).clamp(min=1.0)
            return torch.bmm(member, hidden) / counts
        first = member.argmax(dim=2)
        pooled = torch.gather(hidden, 1, first[:, :, None].expand(-1, -1, hidden.shape[2]))
        return pooled * (member.sum(dim=2, keepdim=True) > 0)


def _build_blocks(config: dict[str, Any], block_class: str, n_blocks: int) -> torch.nn.ModuleList:
    """``n_blocks`` new blocks of ``block_class`` for ``config`` (eager attention)."""
    from transformers import AutoConfig

    settings = {k: v for k, v in config.items() if k != "model_type"}
    hf_config = AutoConfig.for_model(config["model_type"], **settings)
    hf_config._attn_implementation = "eager"  # the same numerics in training and after loading
    module_name, _, class_name = block_class.rpartition(".")
    cls = getattr(importlib.import_module(module_name), class_name)
    return torch.nn.ModuleList(cls(hf_config) for _ in range(n_blocks))


def load_top_layers(
    model: str,
    layer: int,
    trainable_layers: int,
    dropout: float = 0.1,
    pooling: str = "first",
) -> TopLayers:
    """Blocks ``layer-trainable_layers+1..layer`` of the pretrained encoder ``model``, float32.

    ``model``: a hub name or a local directory; ``dropout`` sets the blocks' hidden and
    attention dropout (active only in training). A model without BERT-style blocks
    (``model.encoder.layer``), or a ``trainable_layers`` beyond ``layer`` or ``layer`` beyond
    its depth, is refused in one line.
    """
    from transformers import AutoModel

    from .hub_loading import load_hf

    hf_model = load_hf(AutoModel, model)
    n_layers = int(getattr(hf_model.config, "num_hidden_layers", -1))
    check_trainable_layers(layer, trainable_layers, n_layers, model)
    blocks = getattr(getattr(hf_model, "encoder", None), "layer", None)
    if not isinstance(blocks, torch.nn.ModuleList):
        raise TopLayersError(
            f"model '{model}' has no BERT-style blocks (model.encoder.layer): "
            "trainable_layers needs one; use trainable_layers = 0"
        )
    first = layer - trainable_layers
    config = hf_model.config.to_dict()
    for key in ("_name_or_path", "transformers_version", "torch_dtype", "architectures"):
        config.pop(key, None)
    config["hidden_dropout_prob"] = dropout
    config["attention_probs_dropout_prob"] = dropout
    block_class = f"{type(blocks[0]).__module__}.{type(blocks[0]).__qualname__}"
    fresh = _build_blocks(config, block_class, trainable_layers)
    for target, source in zip(fresh, blocks[first:layer], strict=True):
        target.load_state_dict({k: v.float() for k, v in source.state_dict().items()})
    return TopLayers(fresh, config, block_class, first, pooling)


def top_layers_to_bytes(module: TopLayers) -> bytes:
    """The blocks' configuration and float32 weights, for :func:`top_layers_from_bytes`."""
    header = {
        "format": _FORMAT,
        "config": module.config,
        "block_class": module.block_class,
        "first_layer": module.first_layer,
        "n_blocks": len(module.blocks),
        "pooling": module.pooling,
    }
    state = {k: v.detach().float().cpu() for k, v in module.state_dict().items()}
    buffer = io.BytesIO()
    torch.save({"header": header, "state": state}, buffer)
    return buffer.getvalue()


def top_layers_from_bytes(data: bytes, device: Any = None) -> TopLayers:
    """Rebuild a :class:`TopLayers` written by :func:`top_layers_to_bytes` (no model directory)."""
    archive = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    header = archive["header"]
    if header.get("format") != _FORMAT:
        raise TopLayersError(f"not a saved xner top-layer stack (format {header.get('format')!r})")
    blocks = _build_blocks(header["config"], header["block_class"], header["n_blocks"])
    module = TopLayers(
        blocks, header["config"], header["block_class"], header["first_layer"], header["pooling"]
    )
    module.load_state_dict(archive["state"])
    return module if device is None else module.to(device)


class TopLayersOptimizer:
    """AdamW for the top layers: linear warm-up, then linear decay, global gradient clipping.

    The learning rate rises from 0 to ``learn_rate`` over ``warmup_steps`` updates, then falls
    linearly to 0 at ``decay_steps`` (0: no decay, it stays at ``learn_rate``). ``grad_clip``
    > 0 clips the global gradient norm of the blocks before each step.
    """

    def __init__(
        self,
        learn_rate: float,
        warmup_steps: int,
        decay_steps: int,
        grad_clip: float,
        weight_decay: float,
    ) -> None:
        if learn_rate <= 0:
            raise TopLayersError(f"the top layers' learn_rate must be > 0, got {learn_rate}")
        if warmup_steps < 0 or decay_steps < 0:
            raise TopLayersError("warmup_steps and decay_steps must be >= 0")
        self.learn_rate = learn_rate
        self.warmup_steps = warmup_steps
        self.decay_steps = decay_steps
        self.grad_clip = grad_clip
        self.weight_decay = weight_decay
        self.step_count = 0
        self._torch: Any = None
        self._params: list[torch.nn.Parameter] = []

    def rate(self, step: int) -> float:
        """The learning rate of update number ``step`` (from 0)."""
        scale = 1.0
        if self.warmup_steps and step < self.warmup_steps:
            scale = (step + 1) / self.warmup_steps
        elif self.decay_steps:
            span = max(1, self.decay_steps - self.warmup_steps)
            scale = max(0.0, (self.decay_steps - step) / span)
        return self.learn_rate * scale

    def step(self, module: torch.nn.Module) -> bool:
        """Apply and zero the gradients of ``module``'s parameters; False if there were none."""
        params = [p for p in module.parameters() if p.requires_grad]
        if not any(p.grad is not None for p in params):
            return False
        if self._torch is None or [id(p) for p in params] != [id(p) for p in self._params]:
            self._params = params
            self._torch = torch.optim.AdamW(
                params, lr=self.learn_rate, weight_decay=self.weight_decay
            )
        if self.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(params, self.grad_clip)
        for group in self._torch.param_groups:
            group["lr"] = self.rate(self.step_count)
        self._torch.step()
        self._torch.zero_grad(set_to_none=True)
        self.step_count += 1
        return True


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or None where the C library has none (musl, macOS, Windows)."""
    if not sys.platform.startswith("linux"):
        return None
    with contextlib.suppress(OSError, AttributeError):
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    return None


def release_freed_memory() -> bool:
    """Hand the C heap's free pages back to the system (glibc ``malloc_trim``); False elsewhere.

    Written by hand because nothing in torch or thinc does it: training the top layers on CPU
    allocates activations whose shapes change with every batch (spaCy batches by words, with
    a growing size), and glibc keeps the freed blocks in its heaps, fragmented, instead of
    returning them. The English labeller's ``spacy train`` grew from 2 GB to 10-11 GB resident
    over 3,000 steps; trimmed after each update it peaked at 3.6 GB (docs/encoder.md,
    "Memory when the top layers train").
    """
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True


class _Unloaded(torch.nn.Module):
    """Stands in for the blocks until they are cut from the encoder or loaded from bytes."""


def _serialize(module: torch.nn.Module) -> bytes:
    return top_layers_to_bytes(module) if isinstance(module, TopLayers) else b""


def _deserialize(module: torch.nn.Module, data: bytes, device: Any) -> torch.nn.Module:
    return top_layers_from_bytes(data, device) if data else _Unloaded()


class TopLayerShim(PyTorchShim):
    """thinc's PyTorch shim for :class:`TopLayers`, updated by its own :class:`TopLayersOptimizer`.

    ``finish_update`` ignores the optimizer spaCy passes (the head's) and steps the blocks with
    theirs; serialisation stores the blocks with their configuration, so loading needs no
    encoder directory. ``quantize = "int8"`` predicts with an int8 dynamically quantized copy
    of the blocks (CPU; made on first use) and refuses to train.
    """

    #: Trim the C heap after every ``trim_every``-th CPU update (:func:`release_freed_memory`;
    #: 0: never). Each trim makes the next update fault its pages in again: trimmed after
    #: every update, training ran 20 % slower (docs/encoder.md, "Memory"). The benchmark
    #: ``benchmarks/encoder_training.py --malloc-trim-every N`` measures other intervals.
    trim_every = 10

    def __init__(self, optimizer: TopLayersOptimizer, quantize: str = "none") -> None:
        if quantize not in QUANTIZE_MODES:
            raise TopLayersError(f"quantize must be one of {QUANTIZE_MODES}, got {quantize!r}")
        super().__init__(_Unloaded(), serialize_model=_serialize, deserialize_model=_deserialize)
        self.top_optimizer = optimizer
        self.quantize = quantize
        self._int8: Any = None

    @property
    def loaded(self) -> bool:
        return isinstance(self._model, TopLayers)

    @property
    def module(self) -> TopLayers:
        if not isinstance(self._model, TopLayers):
            raise TopLayersError("the trainable top layers are not initialised or loaded yet")
        return self._model

    @property
    def first_layer(self) -> int:
        return self.module.first_layer

    def set_module(self, module: TopLayers) -> None:
        self._model = module.to(get_torch_default_device())
        self._int8 = None

    def refuse_int8_training(self) -> None:
        if self.quantize != "none":
            raise TopLayersError(
                f"quantize = {self.quantize!r} with trained top layers is refused in training: "
                "train with quantize = 'none', then load the pipeline with int8"
            )

    def begin_update(self, inputs: Any) -> Any:
        self.refuse_int8_training()
        return super().begin_update(inputs)

    def predict(self, inputs: Any) -> Any:
        if self.quantize == "none":
            return super().predict(inputs)
        if self._int8 is None:
            self._int8 = quantize_int8(self.module.eval(), self.device, "the trained top layers")
        with torch.no_grad():
            return self._int8(*inputs.args, **inputs.kwargs)

    def from_bytes(self, bytes_data: bytes) -> TopLayerShim:
        super().from_bytes(bytes_data)
        self._int8 = None
        return self

    def finish_update(self, optimizer: Any) -> None:
        if self.loaded and self.top_optimizer.step(self._model):
            self._int8 = None
            every = self.trim_every
            if every and self.top_optimizer.step_count % every == 0 and self.device.type == "cpu":
                release_freed_memory()
