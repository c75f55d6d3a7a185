"""Start-up time: ``import spacy`` beside model-free ``xner`` steps on a one-line input.

    python benchmarks/startup.py                  # 5 rounds, median seconds
    python benchmarks/startup.py --repeat 9 --output startup.json

Every command runs in a fresh Python process, and the rounds interleave the commands
(``import spacy``, then each step, then again), so a busy machine slows all of them alike and
the figures can be compared side by side. A step needs no model, so the time it takes beyond
``import spacy`` is this package's own start-up: its imports, option and config checks and
the work on one line (target: at most 1 s). Also timed: ``xner --help`` and a usage error,
which must come before spaCy is imported. Prints JSON (also written with ``--output``) and a
Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RECORD = {
    "id": "r0", "src_lang": "en", "tgt_lang": "yo", "src_words": ["Bola", "went", "home"],
    "tgt_words": ["Bola", "lọ", "ilé"], "src_ents": [[0, 1, "PER"]],
    "alignment": [[0, 0], [1, 1], [2, 2]], "tgt_ents": [[0, 1, "PER"]],
}  # fmt: skip
XNER = [sys.executable, "-m", "xner_spacy.cli"]


def commands(tmp: Path) -> dict[str, list[str]]:
    """The timed commands, by name, on one-line inputs written to ``tmp``."""
    gold = tmp / "gold.txt"
    gold.write_text("Bola B-PER\nlọ O\n\n", encoding="utf8")
    records = tmp / "records.jsonl"
    records.write_text(json.dumps(RECORD, ensure_ascii=False) + "\n", encoding="utf8")
    fast = str(REPO / "configs" / "projection_fast.cfg")
    return {
        "import spacy": [sys.executable, "-c", "import spacy"],
        "xner convert-gold": [*XNER, "convert-gold", str(gold), str(tmp / "gold.spacy")],
        "xner project": [*XNER, "project", str(records), str(tmp / "p.jsonl"), "--config", fast],
        "xner convert": [
            *XNER,
            "convert",
            str(records),
            str(tmp / "corpus"),
            "--dev-fraction",
            "0",
        ],  # fmt: skip
        "xner vote": [*XNER, "vote", str(records), str(records), "--output", str(tmp / "v.jsonl")],
        "xner --help": [*XNER, "--help"],
        "xner usage error": [*XNER, "convert", str(records), str(tmp / "c"), "--doubtful", "x"],
    }


def run_once(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=REPO, capture_output=True, check=False)
    return time.perf_counter() - started


def measure(repeat: int) -> dict[str, list[float]]:
    """Seconds of each command in each round; rounds interleave the commands."""
    with tempfile.TemporaryDirectory(prefix="xner-startup-") as tmp:
        cmds = commands(Path(tmp))
        for command in cmds.values():  # warm the file cache; not timed
            run_once(command)
        times: dict[str, list[float]] = {name: [] for name in cmds}
        for _ in range(repeat):
            for name, command in cmds.items():
                times[name].append(run_once(command))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="Rounds (median reported)")
    parser.add_argument("--output", type=Path, help="Also write the JSON here")
    args = parser.parse_args()
    env_path = os.environ.get("PYTHONPATH", "")
    times = measure(args.repeat)
    base = statistics.median(times["import spacy"])
    rows = {
        name: {
            "median_s": round(statistics.median(values), 3),
            "min_s": round(min(values), 3),
            "beyond_import_spacy_s": round(statistics.median(values) - base, 3),
        }
        for name, values in times.items()
    }
    result = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "repeat": args.repeat,
        "pythonpath": env_path,
        "commands": rows,
    }
    text = json.dumps(result, indent=2)
    print(text)
    if args.output:
        args.output.write_text(text + "\n", encoding="utf8")
    print("\n| command | median s | min s | beyond `import spacy` s |\n|---|---:|---:|---:|")
    for name, row in rows.items():
        print(f"| {name} | {row['median_s']:.2f} | {row['min_s']:.2f} | "
              f"{row['beyond_import_spacy_s']:+.2f} |")  # fmt: skip


if __name__ == "__main__":
    main()
