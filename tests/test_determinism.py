"""Same inputs and seed → the same silver data, byte for byte, and the same trained model.

FastAlign (systran-align) is deterministic (its training runs on one OpenMP thread); eflomal
samples with a seed from /dev/urandom and has no seed option (see
``xner_spacy.alignment.statistical_aligners``), so it is not used here.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import spacy
from spacy.cli.train import train
from spacy.tokens import Doc, DocBin

REPO = Path(__file__).resolve().parents[1]

SILVER = textwrap.dedent(
    """
    import hashlib, json, sys
    from pathlib import Path
    from xner_spacy.runner.shards import ConfigPart, RunOptions
    from xner_spacy.runner.batch_steps import (
        align_records, convert_records, label_records, prepare_parallel, project_records
    )

    def main():
        data, out, model = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[5]
        opts = RunOptions(shard_size=int(sys.argv[3]), n_process=int(sys.argv[4]))
        cfg = {
            "labeller": {"@misc": "xner.SpacyLabeller.v1", "model": model, "label_map": "identity"},
            "aligner": {"@misc": "xner.FastAlignAligner.v1"},
            "projector": {"@misc": "xner.HeuristicProjector.v1"},
        }
        part = lambda name: ConfigPart.from_config(cfg, name)
        prepare_parallel(data, "en", "zzz", out / "pairs.jsonl")
        label_records(out / "pairs.jsonl", out / "lab.jsonl", part("labeller"), options=opts)
        align_records(out / "lab.jsonl", out / "ali.jsonl", part("aligner"), options=opts)
        project_records(out / "ali.jsonl", out / "proj.jsonl", part("projector"), options=opts)
        convert_records(out / "proj.jsonl", out / "corpus", seed=3, dev_fraction=0.2, options=opts)
        files = sorted(p for p in out.rglob("*") if p.is_file())
        sha = {str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}
        print(json.dumps(sha))

    if __name__ == "__main__":  # worker processes are spawned: they import this file
        main()
    """
)


@pytest.fixture(scope="module")
def ruler_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler", name="ner")
    ruler.add_patterns([{"label": "PER", "pattern": n} for n in ("Ada", "Bola", "Chidi")])
    ruler.add_patterns([{"label": "LOC", "pattern": n} for n in ("Lagos", "Abuja", "Kano")])
    path = tmp_path_factory.mktemp("ruler") / "model"
    nlp.to_disk(path)
    return path


def _silver(script: Path, data: Path, out: Path, model: Path, *args: str) -> dict[str, str]:
    """Run the whole silver-data chain in a fresh interpreter (its own hash seed)."""
    env = {**os.environ, "PYTHONHASHSEED": str(len(args) + len(str(out)))}
    cmd = [sys.executable, str(script), str(data), str(out), *args, str(model)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.splitlines()[-1])


def test_silver_data_is_byte_identical_across_runs_and_shardings(
    toy_data_dir: Path, ruler_model: Path, tmp_path: Path
) -> None:
    script = tmp_path / "silver.py"
    script.write_text(SILVER, encoding="utf8")
    first = _silver(script, toy_data_dir, tmp_path / "a", ruler_model, "10000", "1")
    again = _silver(script, toy_data_dir, tmp_path / "b", ruler_model, "10000", "1")
    sharded = _silver(script, toy_data_dir, tmp_path / "c", ruler_model, "37", "1")
    assert set(first) >= {"proj.jsonl", "corpus/train.spacy", "corpus/dev.spacy"}
    assert first == again == sharded


def test_fast_align_gives_the_same_bytes_on_every_run_with_many_openmp_threads(
    tmp_path: Path,
) -> None:
    # systran-align adds its EM counts with OpenMP atomics: on several threads the sums, and on
    # a corpus this size a few links, changed from run to run (2 of 11 runs on en-yor).
    rng = random.Random(0)
    weights = [1 / (k + 1) for k in range(3000)]  # Zipf-like vocabulary
    lines = []
    for k in range(2000):
        src = rng.choices(range(3000), weights, k=rng.randint(5, 25))
        tgt = [w if rng.random() < 0.7 else rng.choices(range(3000), weights)[0] for w in src]
        if rng.random() < 0.2:
            rng.shuffle(tgt)
        words = {"src_words": [f"s{w}" for w in src], "tgt_words": [f"t{w}" for w in tgt]}
        lines.append(json.dumps({"id": f"p{k}", **words}) + "\n")
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("".join(lines), encoding="utf8")
    config = tmp_path / "fast.cfg"
    config.write_text('[aligner]\n@misc = "xner.FastAlignAligner.v1"\n', encoding="utf8")
    env = {**os.environ, "OMP_NUM_THREADS": "4"}  # more threads than this machine may have
    digests = set()
    for run in range(3):
        out = tmp_path / f"aligned{run}.jsonl"
        code = "from xner_spacy.cli import main; main()"
        cmd = [sys.executable, "-c", code, "align", str(pairs), str(out), "--config", str(config)]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=REPO, timeout=300)
        assert proc.returncode == 0, proc.stderr
        digests.add(hashlib.sha256(out.read_bytes()).hexdigest())
    assert len(digests) == 1


def _docbin(path: Path, n: int, offset: int) -> Path:
    vocab = spacy.blank("xx").vocab
    names = [("Ada", "PER"), ("Lagos", "LOC"), ("Bola", "PER"), ("Kano", "LOC"), ("Chidi", "PER")]
    db = DocBin()
    for k in range(n):
        (a, la), (b, lb) = names[(k + offset) % 5], names[(k + offset + 2) % 5]
        doc = Doc(vocab, words=[a, "went", "to", b, str(k), "."])
        doc.set_ents([doc[0:1].char_span(0, len(a), la), doc[3:4].char_span(0, len(b), lb)])
        db.add(doc)
    db.to_disk(path)
    return path


def _trained(out: Path) -> tuple[dict[str, object], str]:
    meta = json.loads((out / "model-last" / "meta.json").read_text())
    weights = hashlib.sha256((out / "model-last" / "ner" / "model").read_bytes()).hexdigest()
    return meta["performance"], weights


@pytest.mark.slow
def test_training_with_the_same_seed_gives_the_same_scores(tmp_path: Path) -> None:
    train_path = _docbin(tmp_path / "train.spacy", 30, 0)
    dev_path = _docbin(tmp_path / "dev.spacy", 10, 1)
    overrides = {
        "paths.train": str(train_path),
        "paths.dev": str(dev_path),
        "training.max_steps": 12,
        "training.eval_frequency": 6,
    }
    config = REPO / "configs" / "ner_cnn.cfg"
    train(config, tmp_path / "a", overrides={**overrides, "system.seed": 7})
    cmd = [sys.executable, "-m", "spacy", "train", str(config), "--output", str(tmp_path / "b")]
    for key, value in {**overrides, "system.seed": 7}.items():
        cmd += [f"--{key}", str(value)]
    env = {**os.environ, "PYTHONHASHSEED": "123"}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=REPO, timeout=300)
    assert proc.returncode == 0, proc.stderr
    train(config, tmp_path / "c", overrides={**overrides, "system.seed": 8})

    scores, weights = _trained(tmp_path / "a")
    assert (scores, weights) == _trained(tmp_path / "b")  # another process, same seed
    assert _trained(tmp_path / "c")[1] != weights  # the seed matters
    assert {"ents_f", "ner_loss", "tok2vec_loss"} <= set(scores)
