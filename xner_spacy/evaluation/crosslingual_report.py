"""Tables and a plot from ``xner crosslingual`` results (``xner crosslingual-report``).

Rows are methods (embedding variant × direct / hard / soft, k sources, teacher weighting);
columns are the targets and their average, in-domain and out of domain, and the drop between
them; a second table gives the average F1 per entity type. The published anchors (mBERT, on
the same benchmark, four types) sit beside our rows for reference; they were not run here.
The plot shows average F1 against the number of sources k for both domains.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

#: Published F1 on the CoNLL benchmark (four types, English source), for the docs and table.
ANCHORS = {
    "Wu & Dredze 2019, mBERT direct transfer": {"es": 74.50, "nl": 79.50, "de": 71.10},
    "Wu et al. 2020, mBERT teacher–student (single source)": {
        "es": 76.94,
        "nl": 80.89,
        "de": 73.22,
    },
}
IN_DOMAIN = "in_domain"


def load_results(paths: Sequence[str | Path]) -> list[dict[str, Any]]:
    results = [json.loads(Path(p).read_text(encoding="utf8")) for p in paths]
    for path, result in zip(paths, results, strict=True):
        if "rows" not in result:
            raise ValueError(f"{path}: not an xner crosslingual result (no 'rows')")
    return results


def method_label(row: dict[str, Any]) -> str:
    """``direct (en)``, ``hard k=1``, ``soft k=1``, ``soft k=3 langid`` …"""
    if row["method"] == "direct":
        return f"direct ({row['sources'][0]})"
    label = f"{row['method']} k={row['k']}"
    if row["k"] > 1 and row.get("weighting"):
        label += f" {row['weighting']}"
    return label


def _is_first_source_direct(row: dict[str, Any], result: dict[str, Any]) -> bool:
    return row["method"] != "direct" or row["sources"][0] == result["sources"][row["target"]][0]


def _shift_f1(row: dict[str, Any]) -> float | None:
    shifts = [s["f1"] for name, s in row["scores"].items() if name != IN_DOMAIN]
    return sum(shifts) / len(shifts) if shifts else None


def _mean(values: Sequence[float | None]) -> float | None:
    found = [v for v in values if v is not None]
    return sum(found) / len(found) if found and len(found) == len(values) else None


def _targets(results: Sequence[dict[str, Any]]) -> list[str]:
    """The targets in the order the results list them."""
    found = [t for res in results for t in res.get("targets", [])]
    found += [r["target"] for res in results for r in res["rows"]]
    return list(dict.fromkeys(found))


def table_rows(results: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per (variant, method): F1 per target, in-domain and out of domain."""
    table: dict[tuple[str, str], dict[str, Any]] = {}
    targets = _targets(results)
    for result in results:
        for row in result["rows"]:
            if not _is_first_source_direct(row, result):
                continue
            target = row["target"]
            key = (row["variant"], method_label(row))
            entry = table.setdefault(
                key,
                {
                    "variant": row["variant"],
                    "method": key[1],
                    "k": row["k"],
                    "in_domain": {},
                    "out_of_domain": {},
                    "per_label": {},
                    "weights": {},
                },
            )
            entry["in_domain"][target] = row["scores"][IN_DOMAIN]["f1"]
            entry["per_label"][target] = row["scores"][IN_DOMAIN]["per_label"]
            shift = _shift_f1(row)
            if shift is not None:
                entry["out_of_domain"][target] = shift
            if row.get("weights") and row["k"] > 1:
                entry["weights"][target] = row["weights"]
    rows = list(table.values())
    for entry in rows:
        entry["in_domain"]["avg"] = _mean([entry["in_domain"].get(t) for t in targets])
        shifted = [t for t in targets if t in entry["out_of_domain"]]
        entry["out_of_domain"]["avg"] = _mean([entry["out_of_domain"][t] for t in shifted])
        same = _mean([entry["in_domain"][t] for t in shifted])
        ood = entry["out_of_domain"]["avg"]
        entry["drop"] = None if same is None or ood is None else same - ood
    return rows


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f}"


def markdown(results: Sequence[dict[str, Any]], rows: list[dict[str, Any]] | None = None) -> str:
    """The Markdown report; ``rows``: :func:`table_rows` of ``results`` when already built."""
    rows = table_rows(results) if rows is None else rows
    targets = _targets(results)
    shift_targets = list(
        dict.fromkeys(t for res in results for t, files in res.get("shift", {}).items() if files)
    )
    head = ["variant", "method", *targets, "avg"]
    head += [f"{t} (out)" for t in shift_targets] + ["avg out", "drop"]
    types = ", ".join(results[0].get("labels", [])) or "all types"
    out = [
        f"F1 × 100 ({types}); out = out-of-domain test "
        + ", ".join(
            f"{t}: {', '.join(res['shift'][t])}" for res in results[:1] for t in shift_targets
        )
        + "; drop = in-domain minus out-of-domain average over the targets that have both.",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    for r in rows:
        cells = [r["variant"], r["method"]]
        cells += [_pct(r["in_domain"].get(t)) for t in targets] + [_pct(r["in_domain"]["avg"])]
        cells += [_pct(r["out_of_domain"].get(t)) for t in shift_targets]
        cells += [_pct(r["out_of_domain"]["avg"]), _pct(r["drop"])]
        out.append("| " + " | ".join(cells) + " |")
    for name, figures in ANCHORS.items():
        if not set(figures) & set(targets):
            continue  # published figures of other targets
        cells = ["mBERT (published)", name]
        cells += [f"{figures[t]:.1f}" if t in figures else "–" for t in targets]
        have = [figures[t] for t in targets if t in figures]
        cells.append(f"{sum(have) / len(have):.1f}" if len(have) == len(targets) else "–")
        cells += ["–"] * (len(shift_targets) + 2)
        out.append("| " + " | ".join(cells) + " |")
    labels = sorted({lab for r in rows for per in r["per_label"].values() for lab in per})
    out += ["", "In-domain F1 × 100 per type, averaged over the targets:", ""]
    out += ["| variant | method | " + " | ".join(labels) + " |", "|" + "---|" * (2 + len(labels))]
    for r in rows:
        per = [_mean([r["per_label"][t].get(lab) for t in targets]) for lab in labels]
        out.append(f"| {r['variant']} | {r['method']} | " + " | ".join(_pct(x) for x in per) + " |")
    weighted = [r for r in rows if r["weights"] and not r["method"].endswith("uniform")]
    if weighted:
        out += ["", "Teacher weights estimated from target text:", ""]
        for r in weighted:
            parts = [
                f"{t}: " + ", ".join(f"{s} {w:.2f}" for s, w in ws.items())
                for t, ws in r["weights"].items()
            ]
            out.append(f"- {r['variant']} {r['method']}: " + "; ".join(parts))
    for res in results:
        steps = ", ".join(f"{k} {v:.0f} s" for k, v in res.get("step_seconds", {}).items())
        out += ["", f"Time per step: {steps}; wall {res.get('wall_seconds', 0):.0f} s."]
    return "\n".join(out)


def plot(
    results: Sequence[dict[str, Any]],
    path: str | Path,
    rows: list[dict[str, Any]] | None = None,
) -> None:
    """Average F1 against k, one panel per domain, one line per variant and weighting."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = table_rows(results) if rows is None else rows
    types = "/".join(results[0].get("labels", [])) or "all types"
    fig, axes = plt.subplots(1, 2, figsize=(10.5, 3.8), squeeze=False)
    for ax, domain, title in zip(
        axes[0], ("in_domain", "out_of_domain"), ("in-domain (test)", "out of domain"), strict=True
    ):
        for variant in dict.fromkeys(r["variant"] for r in rows):
            soft = [
                r for r in rows if r["variant"] == variant and r["method"].startswith("soft k=")
            ]
            one = [r for r in soft if r["k"] == 1]
            weightings = sorted({r["method"].split()[-1] for r in soft if r["k"] > 1})
            for weighting in weightings or ["uniform"]:
                pts = [(1, one[0][domain]["avg"])] if one else []
                pts += [
                    (r["k"], r[domain]["avg"])
                    for r in soft
                    if r["k"] > 1 and r["method"].endswith(weighting)
                ]
                pts = sorted((k, f) for k, f in pts if f is not None)
                if pts:
                    ks, f1s = zip(*pts, strict=True)
                    label = f"{variant}, soft, {weighting}"
                    ax.plot(ks, [100 * f for f in f1s], marker="o", ms=3, label=label)
            direct = [
                r for r in rows if r["variant"] == variant and r["method"].startswith("direct")
            ]
            if direct and direct[0][domain]["avg"] is not None:
                ax.axhline(100 * direct[0][domain]["avg"], ls=":", lw=0.8, color="grey")
        ax.set_title(f"{title}: average F1 over targets", fontsize=10)
        ax.set_xlabel("k (number of source languages)")
        ax.set_ylabel(f"F1 × 100 ({types})")
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.grid(alpha=0.3)
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=3, fontsize=8, frameon=False)
    fig.text(0.99, 0.99, "dotted: direct transfer (first source)", ha="right", va="top", fontsize=7)
    fig.tight_layout(rect=(0, 0.06 + 0.03 * ((len(labels) + 2) // 3), 1, 0.97))
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def report(
    paths: Sequence[str | Path],
    *,
    json_path: str | Path | None = None,
    markdown_path: str | Path | None = None,
    plot_path: str | Path | None = None,
) -> dict[str, Any]:
    """Load result files, write the requested outputs, return the table."""
    from .metrics_tables import write_table

    results = load_results(paths)
    rows = table_rows(results)
    text = markdown(results, rows)
    table = {
        "inputs": [str(p) for p in paths],
        "rows": rows,
        "anchors": ANCHORS,
        "step_seconds": [r.get("step_seconds") for r in results],
        "commands": [r.get("command") for r in results],
        "markdown": text,
    }
    write_table(table, json_path, markdown_path)
    if plot_path is not None:
        plot(results, plot_path, rows)
    return table
