"""Training speed and peak memory with the encoder's top layers frozen or trained.

    python benchmarks/encoder_training.py                               # assets/encoder, layer 8
    python benchmarks/encoder_training.py --trainable-layers 0,2,4 --sentences 500 --steps 50
    python benchmarks/encoder_training.py --model xlm-roberta-base --layer 12 --output t.json
    # memory over a long run, batched by words as spacy train does, with and without the trim
    python benchmarks/encoder_training.py --trainable-layers 2 --sentences 3000 --steps 600 \
        --batch-words 1000 [--malloc-trim-every 0]

For each ``trainable_layers`` value, a fresh process builds ``--config`` (default
``configs/ner_encoder.cfg``) with ``components.xner_encoder.layer = --layer`` and that
``trainable_layers``, initialises it on the first ``--sentences`` of ``--data`` (gold CoNLL),
fills the encoder's cache (timed: the frozen layers, once per sentence), then times ``--steps``
training updates of ``--batch`` sentences, or of ``--batch-words`` words as spaCy batches
(sentences/s; 0 trains the NER on frozen features, t > 0 also runs and trains layers
``layer-t+1..layer``), and inference over every sentence with the cache warm (words/s). The
process's resident memory after training and its peak (``ru_maxrss``) are reported for each;
``--malloc-trim-every N`` trims the C heap after every N-th update (0: never;
``xner_spacy.encoders.top_layers.release_freed_memory``). Prints JSON (also ``--output``) and
a Markdown table; the load average is recorded, since on a shared machine the figures move with it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if __package__ in (None, ""):  # run as a script: import the package, not sibling files
    sys.path[0] = str(REPO)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--model", default=str(REPO / "assets" / "encoder"), help="hub name or dir")
    p.add_argument(
        "--data",
        default=str(REPO.parent / "shared" / "data" / "source_ner" / "en" / "dev.txt"),
        help="gold CoNLL file (PER/ORG/LOC; MISC ignored)",
    )
    p.add_argument("--sentences", type=int, default=256, help="sentences taken from --data")
    p.add_argument("--layer", type=int, default=8, help="the top layer used")
    p.add_argument("--trainable-layers", default="0,2", help="comma-separated values to compare")
    p.add_argument("--steps", type=int, default=20, help="training updates timed")
    p.add_argument("--batch", type=int, default=32, help="sentences per update")
    p.add_argument(
        "--batch-words",
        type=int,
        default=0,
        help="batch by words instead, as spacy train does (shuffled, this many words; 0: --batch)",
    )
    p.add_argument(
        "--malloc-trim-every",
        type=int,
        default=None,
        help="trim the C heap after every N-th update of the trained layers (0: never; "
        "default: the shim's own interval)",
    )
    p.add_argument("--threads", type=int, default=2, help="torch / BLAS threads")
    p.add_argument("--config", default=str(REPO / "configs" / "ner_encoder.cfg"))
    p.add_argument("--output", default=None, help="write the JSON report here")
    p.add_argument("--one", type=int, default=None, help=argparse.SUPPRESS)  # child process
    return p.parse_args(argv)


def measure(args: argparse.Namespace, trainable: int) -> dict[str, Any]:
    """One configuration, in this process: cache fill, training and inference speed, memory."""
    import random

    import torch
    from spacy.tokens import Doc
    from spacy.training.batchers import minibatch_by_words

    from benchmarks.encoder import initialised_pipeline, load_sentences
    from benchmarks.worker import proc_status_mb
    from xner_spacy.encoders.top_layers import TopLayerShim

    torch.set_num_threads(args.threads)
    if args.malloc_trim_every is not None:
        TopLayerShim.trim_every = args.malloc_trim_every
    data = load_sentences(args.data, args.sentences)
    overrides = {
        "paths.encoder": args.model,
        "components.xner_encoder.layer": args.layer,
        "components.xner_encoder.trainable_layers": trainable,
    }
    nlp, examples, optimizer = initialised_pipeline(args.config, overrides, data)
    encoder: Any = nlp.get_pipe("xner_encoder")
    t0 = time.perf_counter()
    list(encoder.pipe(eg.predicted for eg in examples))
    fill_s = time.perf_counter() - t0
    rng = random.Random(0)

    def batches() -> Any:
        while True:
            if not args.batch_words:
                yield rng.sample(examples, min(args.batch, len(examples)))
                continue
            order = rng.sample(examples, len(examples))
            yield from minibatch_by_words(order, size=args.batch_words, tolerance=0.2)

    n_seen = 0
    t0 = time.perf_counter()
    for _, sample in zip(range(args.steps), batches(), strict=False):
        nlp.update(sample, sgd=optimizer, exclude=["xner_encoder"], annotates=["xner_encoder"])
        n_seen += len(sample)
    train_s = time.perf_counter() - t0
    rss_after_training = proc_status_mb("VmRSS")
    docs = [Doc(nlp.vocab, words=w) for w, _ in data]
    t0 = time.perf_counter()
    list(nlp.pipe(docs, batch_size=64))
    infer_s = time.perf_counter() - t0
    n_words = sum(len(w) for w, _ in data)
    return {
        "trainable_layers": trainable,
        "cached_layer": args.layer - trainable,
        "sentences": len(data),
        "cache_fill_sentences_per_s": round(len(data) / fill_s, 1),
        "train_steps": args.steps,
        "train_sentences_per_s": round(n_seen / train_s, 1),
        "infer_words_per_s": round(n_words / infer_s, 1),
        "rss_after_training_mb": None
        if rss_after_training is None
        else round(rss_after_training, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def markdown(report: dict[str, Any]) -> str:
    lines = [
        "| trainable_layers | cached layer | cache fill sent/s | train sent/s | "
        "infer words/s | RSS after training MB | peak RSS MB |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in report["runs"]:
        lines.append(
            f"| {r['trainable_layers']} | {r['cached_layer']} | {r['cache_fill_sentences_per_s']} "
            f"| {r['train_sentences_per_s']} | {r['infer_words_per_s']} "
            f"| {r['rss_after_training_mb']} | {r['peak_rss_mb']} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    if args.one is not None:
        figures = measure(args, args.one)
        print(json.dumps(figures))
        return figures
    import torch

    report: dict[str, Any] = {
        "settings": {**vars(args), "python": platform.python_version(), "torch": torch.__version__},
        "load_average_before": list(os.getloadavg()),
        "runs": [],
    }
    own = list(argv if argv is not None else sys.argv[1:])  # the child only prints
    for value in (int(x) for x in args.trainable_layers.split(",")):
        print(f"trainable_layers {value}: {args.steps} updates", file=sys.stderr, flush=True)
        cmd = [sys.executable, str(Path(__file__).resolve()), *own, "--one", str(value)]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode:
            raise SystemExit(proc.stderr[-3000:])
        report["runs"].append(json.loads(proc.stdout.strip().splitlines()[-1]))
    report["load_average_after"] = list(os.getloadavg())
    text = json.dumps(report, indent=2)
    print(text)
    if args.output:
        Path(args.output).write_text(text + "\n", encoding="utf8")
    print(markdown(report), file=sys.stderr)
    return report


if __name__ == "__main__":
    main()
