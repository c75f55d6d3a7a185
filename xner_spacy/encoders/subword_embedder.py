"""A pretrained encoder that returns one layer's sub-token vectors (:class:`SubwordEmbedder`).

One home for loading an encoder (a hub name or a local ``save_pretrained`` directory), keeping
its layers up to the one read, storing its weights in float16, and int8 dynamic quantization;
the neural aligners, the source labellers and the ``xner_encoder`` component all use it. How
words map to sub-tokens is :mod:`xner_spacy.encoders.subwords`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .hub_loading import load_hf, prepare_model
from .subwords import WordPieces, encode_words

Sentences = Sequence[Sequence[str]]

WEIGHTS_DTYPES = ("float32", "float16")
#: How the forward pass runs: as loaded, or with int8 dynamic quantization of every
#: ``torch.nn.Linear`` (CPU only; weights int8, activations quantized per batch).
QUANTIZE_MODES = ("none", "int8")


@dataclass
class SubwordEmbedder:
    """A pretrained encoder, loaded on first use, that returns one layer's sub-token vectors.

    ``layer`` indexes the hidden states: 0 is the embedding layer, ``n`` the output of
    transformer layer ``n``; a model with fewer layers is an error. Layers above ``layer`` are
    removed from BERT-style encoders after loading, since their output is never used.
    ``weights_dtype = "float16"`` rounds the weights to float16 values on load (computing in
    float32 still), so the encoder gives exactly the vectors it gives after :meth:`save`
    writes it in float16 and it is loaded again. ``quantize = "int8"`` runs the forward pass
    on a dynamically quantized copy (torch's ``quantize_dynamic`` on the linear layers, weights
    per output channel; CPU only): about twice as fast, with different vectors (a NER trained
    on float features loses F1 on them; docs/encoder.md, "int8").
    :meth:`save` still writes the unquantized weights.
    """

    model: str
    layer: int = 8
    device: str | int = "auto"
    max_length: int | None = None
    on_overflow: str = "error"
    weights_dtype: str = "float32"
    quantize: str = "none"
    _tokenizer: Any = field(default=None, init=False, repr=False)
    _model: Any = field(default=None, init=False, repr=False)
    _runner: Any = field(default=None, init=False, repr=False)
    _device: Any = field(default=None, init=False, repr=False)
    _limit: int | None = field(default=None, init=False, repr=False)

    def load(self) -> None:
        """Load tokenizer and model (once); check ``layer`` against the model's depth."""
        if self._model is not None:
            return
        if self.weights_dtype not in WEIGHTS_DTYPES:
            raise ValueError(
                f"weights_dtype must be one of {WEIGHTS_DTYPES}, got {self.weights_dtype!r}"
            )
        if self.quantize not in QUANTIZE_MODES:
            raise ValueError(f"quantize must be one of {QUANTIZE_MODES}, got {self.quantize!r}")
        from transformers import AutoModel, AutoTokenizer

        tokenizer = load_hf(AutoTokenizer, self.model, use_fast=True)
        model = load_hf(AutoModel, self.model)
        n_layers = int(getattr(model.config, "num_hidden_layers", -1))
        if n_layers >= 0 and not 0 <= self.layer <= n_layers:
            raise ValueError(
                f"layer {self.layer} is out of range: model '{self.model}' has {n_layers} "
                f"layers (use 0..{n_layers}; 0 is the embedding layer)"
            )
        _drop_layers_above(model, self.layer)
        model = model.float()
        if self.weights_dtype == "float16":
            import torch

            with torch.no_grad():
                for param in model.parameters():
                    param.copy_(param.half().float())
        model, device, limit = prepare_model(model, tokenizer, self.device, self.max_length)
        runner = model
        if self.quantize == "int8":
            runner = _quantize_int8(model, device, self.model)
        self._model, self._runner, self._device, self._limit = model, runner, device, limit
        self._tokenizer = tokenizer

    @property
    def hidden_size(self) -> int:
        """Width of the vectors :meth:`embed` returns (loads the model)."""
        self.load()
        return int(self._model.config.hidden_size)

    def save(self, path: str | Path) -> None:
        """Write the loaded encoder (layers above ``layer`` removed) and its tokenizer to ``path``.

        A ``save_pretrained`` directory, in ``weights_dtype``, that ``model`` can name later.
        """
        import torch

        self.load()
        dtype = torch.float16 if self.weights_dtype == "float16" else torch.float32
        state = {k: v.to(dtype).cpu() for k, v in self._model.state_dict().items()}
        self._model.save_pretrained(str(path), state_dict=state, safe_serialization=True)
        self._tokenizer.save_pretrained(str(path))
        _readable(Path(path))

    def embed(self, sentences: Sentences) -> tuple[Any, WordPieces]:
        """Hidden states ``(batch, length, hidden)`` of ``layer`` and the batch's sub-tokens."""
        import torch

        self.load()
        pieces = encode_words(self._tokenizer, sentences, self._limit, self.on_overflow)
        pieces = pieces.to(self._device)
        with torch.inference_mode():
            out = self._runner(**pieces.model_inputs(), output_hidden_states=True)
        hidden = out.hidden_states
        if self.layer >= len(hidden):
            raise ValueError(
                f"layer {self.layer} is out of range: model '{self.model}' returned "
                f"{len(hidden)} hidden states"
            )
        return hidden[self.layer], pieces


def _quantize_int8(model: Any, device: Any, name: str) -> Any:
    """An int8 dynamically quantized copy of ``model``'s linear layers (the original is kept).

    torch's dynamic quantization has CPU kernels only, so another device is an error. It is
    ``torch.ao.quantization.quantize_dynamic``, which torch marks deprecated in favour of
    torchao but still ships (and runs without ``torch.compile``) in the pinned 2.13; its
    deprecation warnings are silenced here, once per load.
    """
    import warnings

    import torch

    if torch.device(device).type != "cpu":
        raise ValueError(
            f"quantize = 'int8' runs on CPU only, but model '{name}' is on {device}; "
            "use device = 'cpu', or quantize = 'none' on a GPU"
        )
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        warnings.filterwarnings("ignore", message=".*quantize_per_tensor.*")
        from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

        # weights per output channel: nearer the float vectors than one scale per tensor (a
        # one-off check on multilingual-e5-small); `benchmarks/encoder.py --quantize none,int8`
        # prints how near
        spec = {torch.nn.Linear: per_channel_dynamic_qconfig}
        return quantize_dynamic(model, spec, dtype=torch.qint8, inplace=False)


def _readable(folder: Path) -> None:
    """Give files the permissions of the umask (safetensors writes its weights owner-only)."""
    import os

    umask = os.umask(0)
    os.umask(umask)
    for item in folder.iterdir():
        if item.is_file():
            item.chmod(0o666 & ~umask)


def _drop_layers_above(model: Any, layer: int) -> None:
    """Keep only the first ``layer`` transformer blocks of a BERT-style ``model.encoder.layer``.

    The config's ``num_hidden_layers`` follows, so a saved copy loads with only those blocks.
    """
    import torch

    blocks = getattr(getattr(model, "encoder", None), "layer", None)
    if isinstance(blocks, torch.nn.ModuleList) and len(blocks) > layer:
        model.encoder.layer = blocks[:layer]
        if hasattr(model.config, "num_hidden_layers"):
            model.config.num_hidden_layers = layer
