"""Markdown result tables from the metrics JSON files that ``xner evaluate`` writes."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any


def write_table(
    table: dict[str, Any], json_path: str | Path | None, markdown_path: str | Path | None
) -> None:
    """Write a report's table as JSON and its ``markdown`` text, each only where asked."""
    from ..io.atomic import atomic_write

    if json_path is not None:
        with atomic_write(json_path) as fh:
            fh.write(json.dumps(table, indent=2, ensure_ascii=False) + "\n")
    if markdown_path is not None:
        with atomic_write(markdown_path) as fh:
            fh.write(table["markdown"] + "\n")


def _pct(x: float) -> str:
    return f"{100 * x:.1f}"


def metrics_table(paths: Iterable[Path]) -> str:
    """One row per metrics file: model, test set, P/R/F1 and per-label F1, all ×100."""
    rows = [json.loads(Path(p).read_text(encoding="utf8")) for p in paths]
    labels = sorted({lab for r in rows for lab in r.get("per_label", {})})
    head = ["metrics", "test", "P", "R", "F1", *(f"{lab} F1" for lab in labels)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for path, r in zip(paths, rows, strict=True):
        cells = [
            Path(path).stem,
            r.get("test", ""),
            _pct(r["precision"]),
            _pct(r["recall"]),
            _pct(r["f1"]),
            *(_pct(r["per_label"][lab]["f1"]) if lab in r["per_label"] else "–" for lab in labels),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def timings_table(log: Path) -> str:
    """Wall time of each step's latest run in a ``xner timed`` log, and their total."""
    latest: dict[str, float] = {}
    for line in Path(log).read_text(encoding="utf8").splitlines():
        if line.strip():
            entry = json.loads(line)
            latest.pop(entry["step"], None)  # keep first-run order, latest value
            latest[entry["step"]] = float(entry["seconds"])
    lines = ["| step | seconds |", "|---|---|"]
    lines += [f"| {step} | {sec:.1f} |" for step, sec in latest.items()]
    lines.append(f"| **total** | {sum(latest.values()):.1f} |")
    return "\n".join(lines)
