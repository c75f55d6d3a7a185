"""Throughput of the frozen-encoder path: feature extraction, then the NER on cached features.

    python benchmarks/encoder.py                                   # assets/encoder, CoNLL en dev
    python benchmarks/encoder.py --layers 6,12 --batch-sizes 8,32 --sentences 1000
    python benchmarks/encoder.py --model xlm-roberta-base --output enc.json --markdown enc.md
    python benchmarks/encoder.py --layers 8 --batch-sizes 32 --quantize none,int8 --train-steps 0

For each layer × batch size × quantization (``none``; ``int8``: dynamically quantized linear
layers, CPU), ``xner_encoder`` (cache off) encodes the same sentences: sentences/s and
sub-tokens/s of the forward pass (model loading timed apart, one batch of warm-up untimed); a
quantized run also reports how close its word vectors are to the unquantized run's (mean and
minimum cosine, relative error). Then, at the first layer, the NER of
``configs/ner_encoder.cfg`` is initialised on those sentences' gold entities and timed on
cached features: a pass that serves every sentence from the cache, ``--train-steps`` training
updates (sentences/s) and inference over all sentences with the features cached (NER only).
``--threads`` torch/BLAS threads. Prints the figures as JSON (also written with ``--output``)
and as a Markdown table.
The machine's load average is recorded: on a shared machine the figures move with it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if __package__ in (None, ""):  # run as a script: import the package, not sibling files
    sys.path[0] = str(REPO)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument(
        "--model", default=str(REPO / "assets" / "encoder"), help="encoder: hub name or dir"
    )
    p.add_argument(
        "--data",
        default=str(REPO.parent / "shared" / "data" / "source_ner" / "en" / "dev.txt"),
        help="gold CoNLL file whose sentences are encoded (PER/ORG/LOC; MISC ignored)",
    )
    p.add_argument("--sentences", type=int, default=1000, help="sentences taken from --data")
    p.add_argument("--layers", default="6,12", help="comma-separated hidden-state indices")
    p.add_argument("--batch-sizes", default="8,32", help="comma-separated encoder batch sizes")
    p.add_argument("--quantize", default="none", help="comma-separated: none, int8 (CPU)")
    p.add_argument("--train-steps", type=int, default=100, help="NER updates timed")
    p.add_argument("--train-batch", type=int, default=32, help="sentences per NER update")
    p.add_argument("--threads", type=int, default=2, help="torch / BLAS threads")
    p.add_argument("--config", default=str(REPO / "configs" / "ner_encoder.cfg"))
    p.add_argument("--output", default=None, help="write the JSON report here")
    p.add_argument("--markdown", default=None, help="write the Markdown table here")
    return p.parse_args(argv)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def load_sentences(path: str, n: int) -> list[tuple[list[str], list[Any]]]:
    """The first ``n`` sentences of a gold CoNLL file: words and PER/ORG/LOC entities."""
    from itertools import islice

    from xner_spacy.io.conll import read_conll

    sents = read_conll(path, labels=["PER", "ORG", "LOC"], label_map={"MISC": None})
    return [(s.words, s.ents) for s in islice(sents, n)]


def encoder_figures(
    model: str,
    sentences: list[list[str]],
    layer: int,
    batch_size: int,
    quantize: str = "none",
    reference: list[Any] | None = None,
) -> tuple[dict[str, Any], list[Any]]:
    """Load time and forward-pass throughput of ``xner_encoder`` at one layer and batch size.

    Also returns the word features; with ``reference`` (the unquantized features of the same
    sentences) the figures include how close these are to them (cosine per word, relative
    error of all features).
    """
    import numpy as np
    import spacy

    from xner_spacy.pipeline.encoder_component import FrozenEncoder

    nlp = spacy.blank("xx")
    cfg = {"model": model, "layer": layer, "batch_size": batch_size, "cache_size": 0,
           "quantize": quantize}  # fmt: skip
    pipe = nlp.add_pipe("xner_encoder", config=cfg)
    assert isinstance(pipe, FrozenEncoder)
    t0 = time.perf_counter()
    pipe.initialize()
    load_s = time.perf_counter() - t0
    pipe.encode(sentences[:batch_size])  # warm-up (first-call allocations), not timed
    pipe.n_sub_tokens = 0
    t0 = time.perf_counter()
    features = pipe.encode(sentences)
    seconds = time.perf_counter() - t0
    n_sub = pipe.n_sub_tokens
    figures: dict[str, Any] = {
        "layer": layer,
        "batch_size": batch_size,
        "quantize": quantize,
        "sentences": len(sentences),
        "sub_tokens": n_sub,
        "load_s": round(load_s, 2),
        "seconds": round(seconds, 2),
        "sentences_per_s": round(len(sentences) / seconds, 1),
        "sub_tokens_per_s": round(n_sub / seconds, 1),
    }
    if reference is not None:
        a, b = np.concatenate(reference), np.concatenate(features)
        norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
        keep = norms > 0  # words without sub-tokens have zero vectors in both
        cosine = (a * b).sum(axis=1)[keep] / norms[keep]
        figures["vs_unquantized"] = {
            "mean_cosine": round(float(cosine.mean()), 4),
            "min_cosine": round(float(cosine.min()), 4),
            "relative_error": round(float(np.linalg.norm(a - b) / np.linalg.norm(a)), 4),
        }
    return figures, features


def initialised_pipeline(
    config: str, overrides: dict[str, Any], data: list[tuple[list[str], list[Any]]]
) -> tuple[Any, list[Any], Any]:
    """The pipeline of ``config`` (with ``overrides``), initialised on ``data`` as Examples:
    ``(nlp, examples, optimizer)``."""
    from spacy.tokens import Doc, Span
    from spacy.training import Example
    from spacy.util import load_config, load_model_from_config

    cfg = load_config(config, overrides=overrides, interpolate=False)
    nlp = load_model_from_config(cfg, auto_fill=True, validate=True)
    examples = []
    for words, ents in data:
        ref = Doc(nlp.vocab, words=words)
        ref.set_ents([Span(ref, e.start, e.end, label=e.label) for e in ents])
        examples.append(Example(Doc(nlp.vocab, words=words), ref))
    return nlp, examples, nlp.initialize(lambda: examples)


def ner_figures(
    config: str,
    model: str,
    layer: int,
    data: list[tuple[list[str], list[Any]]],
    steps: int,
    batch: int,
) -> dict[str, Any]:
    """The NER of ``config`` on cached features: cache pass, training and inference speed."""
    import random

    from spacy.tokens import Doc

    from xner_spacy.pipeline.encoder_component import FrozenEncoder

    overrides = {"paths.encoder": model, "components.xner_encoder.layer": layer}
    nlp, examples, optimizer = initialised_pipeline(config, overrides, data)
    encoder = nlp.get_pipe("xner_encoder")
    assert isinstance(encoder, FrozenEncoder)
    t0 = time.perf_counter()
    list(encoder.pipe(eg.predicted for eg in examples))  # fills the cache
    fill_s = time.perf_counter() - t0
    n_encoded = encoder.n_encoded
    t0 = time.perf_counter()
    list(encoder.pipe(Doc(nlp.vocab, words=w) for w, _ in data))
    cached_s = time.perf_counter() - t0
    assert encoder.n_encoded == n_encoded, "the cache pass ran the encoder"
    rng = random.Random(0)
    n_seen = 0
    t0 = time.perf_counter()
    for _ in range(steps):
        sample = rng.sample(examples, min(batch, len(examples)))
        nlp.update(sample, sgd=optimizer, exclude=["xner_encoder"], annotates=["xner_encoder"])
        n_seen += len(sample)
    train_s = time.perf_counter() - t0
    docs = [Doc(nlp.vocab, words=w) for w, _ in data]
    t0 = time.perf_counter()
    list(nlp.pipe(docs, batch_size=256))
    infer_s = time.perf_counter() - t0
    return {
        "layer": layer,
        "sentences": len(data),
        "encode_to_fill_cache_s": round(fill_s, 2),
        "cached_features_sentences_per_s": round(len(data) / cached_s, 1),
        "train_steps": steps,
        "train_sentences_per_s": round(n_seen / train_s, 1),
        "infer_sentences_per_s": round(len(data) / infer_s, 1),
    }


def markdown(report: dict[str, Any]) -> str:
    lines = [
        "| layer | batch | quantize | sentences/s | sub-tokens/s | load s | cosine to float |",
        "|---:|---:|---|---:|---:|---:|---|",
    ]
    for r in report["encoder"]:
        vs = r.get("vs_unquantized")
        close = f"{vs['mean_cosine']} (min {vs['min_cosine']})" if vs else "–"
        lines.append(
            f"| {r['layer']} | {r['batch_size']} | {r['quantize']} | {r['sentences_per_s']} | "
            f"{r['sub_tokens_per_s']} | {r['load_s']} | {close} |"
        )
    ner = report.get("ner")
    if ner:
        lines += [
            "",
            "| NER on cached features (layer) | cache pass sent/s | train sent/s | infer sent/s |",
            "|---:|---:|---:|---:|",
            f"| {ner['layer']} | {ner['cached_features_sentences_per_s']} | "
            f"{ner['train_sentences_per_s']} | {ner['infer_sentences_per_s']} |",
        ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    import torch

    torch.set_num_threads(args.threads)
    data = load_sentences(args.data, args.sentences)
    if not data:
        raise SystemExit(f"no sentences in {args.data}")
    words = [w for w, _ in data]
    layers = [int(x) for x in args.layers.split(",")]
    sizes = [int(x) for x in args.batch_sizes.split(",")]
    modes = [x.strip() for x in args.quantize.split(",") if x.strip()]
    report: dict[str, Any] = {
        "settings": {**vars(args), "python": platform.python_version(), "torch": torch.__version__},
        "load_average_before": list(os.getloadavg()),
        "encoder": [],
    }
    for layer in layers:
        for size in sizes:
            reference = None
            for mode in modes:
                log(f"encoding {len(words)} sentences at layer {layer}, batch {size}, {mode}")
                figures, feats = encoder_figures(
                    args.model, words, layer, size, mode, reference if mode != "none" else None
                )
                report["encoder"].append(figures)
                if mode == "none":
                    reference = feats
    if args.train_steps > 0:
        log(f"NER on cached features (layer {layers[0]}), {args.train_steps} updates")
        report["ner"] = ner_figures(
            args.config, args.model, layers[0], data, args.train_steps, args.train_batch
        )
    report["load_average_after"] = list(os.getloadavg())
    text = json.dumps(report, indent=2)
    print(text)
    if args.output:
        Path(args.output).write_text(text + "\n", encoding="utf8")
    table = markdown(report)
    log(table)
    if args.markdown:
        Path(args.markdown).write_text(table, encoding="utf8")
    return report


if __name__ == "__main__":
    main()
