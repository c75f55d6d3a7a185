"""What the progress bar costs: ``xner project`` on generated records with the bar on and off.

    python benchmarks/progress_cost.py                    # 20,000 records, 3 rounds
    python benchmarks/progress_cost.py --records 50000 --repeat 5 --output cost.json

Both runs are fresh processes, interleaved round by round (bar on: ``XNER_PROGRESS=1``, the
frames written to a pipe; off: ``XNER_QUIET=1``), and must write the same bytes. Prints JSON
(also written with ``--output``) and a Markdown table; the figure that matters is the
difference of the medians against their spread.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def write_records(path: Path, n: int) -> None:
    with path.open("w", encoding="utf8") as fh:
        for k in range(n):
            rec = {
                "id": f"r{k}", "src_lang": "en", "tgt_lang": "yo",
                "src_words": ["Bola", "Tinubu", "went", "to", "Lagos", str(k)],
                "tgt_words": ["Bola", "Tinubu", "lọ", "sí", "Èkó", str(k)],
                "src_ents": [[0, 2, "PER"], [4, 5, "LOC"]],
                "alignment": [[0, 0], [1, 1], [2, 2], [3, 3], [4, 4], [5, 5]],
            }  # fmt: skip
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")


def run(records: Path, output: Path, bar: bool) -> float:
    env = {**os.environ, "XNER_PROGRESS": "1" if bar else "0", "XNER_QUIET": "" if bar else "1"}
    command = [sys.executable, "-m", "xner_spacy.cli", "project", str(records), str(output),
               "--config", str(REPO / "configs" / "projection_fast.cfg")]  # fmt: skip
    started = time.perf_counter()
    subprocess.run(command, cwd=REPO, env=env, capture_output=True, check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()
    times: dict[str, list[float]] = {"bar on": [], "bar off": []}
    with tempfile.TemporaryDirectory(prefix="xner-progress-") as tmp:
        records = Path(tmp, "records.jsonl")
        write_records(records, args.records)
        for _ in range(args.repeat):
            times["bar on"].append(run(records, Path(tmp, "on.jsonl"), True))
            times["bar off"].append(run(records, Path(tmp, "off.jsonl"), False))
        same = Path(tmp, "on.jsonl").read_bytes() == Path(tmp, "off.jsonl").read_bytes()
    rows = {
        name: {
            "median_s": round(statistics.median(v), 3),
            "min_s": round(min(v), 3),
            "max_s": round(max(v), 3),
        }  # fmt: skip
        for name, v in times.items()
    }
    result = {"records": args.records, "repeat": args.repeat, "same_bytes": same, "runs": rows}
    text = json.dumps(result, indent=2)
    print(text)
    if args.output:
        args.output.write_text(text + "\n", encoding="utf8")
    print(f"\n`xner project`, {args.records:,} records\n")
    print("| | median s | min s | max s |\n|---|---:|---:|---:|")
    for name, row in rows.items():
        print(f"| {name} | {row['median_s']:.2f} | {row['min_s']:.2f} | {row['max_s']:.2f} |")


if __name__ == "__main__":
    main()
