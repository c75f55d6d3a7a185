"""Loading Hugging Face models and choosing a torch device, with errors a user can act on.

Every neural back end (aligners, labellers, translators) loads its weights through
:func:`load_hf`, so a config's ``model = "..."`` means the same everywhere: a local directory
written by ``save_pretrained`` or a hub name. The cache is tried first, so a cached model never
touches the network; an uncached hub name fails at once with a one-line :class:`ModelNotFoundError`
when offline mode is on (``HF_HUB_OFFLINE=1`` or ``TRANSFORMERS_OFFLINE=1``). With offline mode
off, ``transformers`` tries to download it, which can take a minute to give up without network.
torch and transformers are imported only inside the functions.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

_TRUE = {"1", "true", "yes", "on"}


class ModelNotFoundError(OSError):
    """A model name that is neither a local directory nor available from the hub/cache."""


def is_offline() -> bool:
    """True when ``HF_HUB_OFFLINE`` or ``TRANSFORMERS_OFFLINE`` is set (read at call time)."""
    return any(
        os.environ.get(var, "").strip().lower() in _TRUE
        for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    )


def _looks_like_path(name: str) -> bool:
    """Hub ids are ``name`` or ``org/name``; anything else with a separator is meant as a path."""
    return name.startswith((".", "/", "~")) or name.count("/") > 1 or "\\" in name


def load_hf(cls: Any, name_or_path: str | Path, **kwargs: Any) -> Any:
    """``cls.from_pretrained(name_or_path, **kwargs)`` that fails fast and clearly.

    ``cls`` is any class with ``from_pretrained`` (``AutoTokenizer``, ``AutoModel``,
    ``AutoModelForTokenClassification``, ...); ``kwargs`` go to it unchanged. A local directory
    is loaded directly. A hub name is looked up in the local cache first; only when it is
    missing there and offline mode is off is it downloaded. Raises :class:`ModelNotFoundError`
    (an ``OSError``) with a one-line message on a missing directory, an uncached name in offline
    mode, or a failed download.
    """
    name = str(name_or_path)
    what = getattr(cls, "__name__", "model")
    path = Path(name).expanduser()
    if path.is_dir():
        try:
            return cls.from_pretrained(str(path), **kwargs)
        except (OSError, ValueError) as err:
            reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise ModelNotFoundError(
                f"Cannot load {what} from directory '{name}': {reason}"
            ) from None
    if _looks_like_path(name) or path.exists():
        raise ModelNotFoundError(
            f"Cannot load {what} '{name}': not a directory (a model path must be a folder "
            "written by save_pretrained)."
        )
    if kwargs.get("local_files_only"):
        return _from_cache(cls, name, what, kwargs)
    try:
        return _from_cache(cls, name, what, {**kwargs, "local_files_only": True})
    except ModelNotFoundError:
        if is_offline():
            raise
    try:
        return cls.from_pretrained(name, **kwargs)
    except (OSError, ValueError) as err:
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ModelNotFoundError(
            f"Cannot load {what} '{name}' from the Hugging Face hub ({reason}). "
            f"Download it where there is network (`huggingface-cli download {name}`) or set "
            'the config\'s model option to a local directory, e.g. model = "/models/my-model".'
        ) from None


def _from_cache(cls: Any, name: str, what: str, kwargs: dict[str, Any]) -> Any:
    try:
        return cls.from_pretrained(name, **kwargs)
    except (OSError, ValueError):
        raise ModelNotFoundError(
            f"Cannot load {what} '{name}': not a local directory and not in the Hugging Face "
            f"cache{' (offline mode is on)' if is_offline() else ''}. Download it once with "
            f"`huggingface-cli download {name}`, or set the config's model option to a local "
            'directory written by save_pretrained, e.g. model = "/models/xlm-roberta-base".'
        ) from None


def pick_device(device: str | int | None = "auto") -> Any:
    """A ``torch.device`` from ``"auto"`` (CUDA if available, else CPU), ``"cpu"``,
    ``"cuda"``/``"cuda:N"``, ``"mps"``, or spaCy's GPU id convention (``-1`` CPU, ``N`` GPU N).
    """
    import torch

    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if isinstance(device, int) or (isinstance(device, str) and device.lstrip("-").isdigit()):
        gpu = int(device)
        device = "cpu" if gpu < 0 else f"cuda:{gpu}"
    try:
        dev = torch.device(device)
    except RuntimeError as err:
        raise ValueError(
            f"Unknown device {device!r}: use 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'"
        ) from err
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} requested but CUDA is not available; use 'cpu'")
    return dev


def prepare_model(
    model: Any, tokenizer: Any, device: str | int | None, max_length: int | None = None
) -> tuple[Any, Any, int | None]:
    """A loaded model ready for inference: ``(model on the device in eval mode, device, limit)``.

    ``limit`` is the most sub-tokens a sequence may have: the model's own limit (see
    :func:`~xner_spacy.encoders.subwords.max_sequence_length`) capped by ``max_length``
    (``None``: no cap; ``None`` overall when neither bounds it). ``device`` goes through
    :func:`pick_device`.
    """
    from .subwords import max_sequence_length

    limit = max_sequence_length(tokenizer, model.config)
    if max_length is not None:
        limit = max_length if limit is None else min(limit, max_length)
    dev = pick_device(device)
    return model.to(dev).eval(), dev, limit
