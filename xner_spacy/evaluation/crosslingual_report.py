"""Tables and a plot from ``xner crosslingual`` results (``xner crosslingual-report``).

Rows are methods (embedding variant × direct / hard / soft, k sources, teacher weighting);
columns are the targets and their average, in-domain and out of domain, and the drop between
them; a second table gives the average F1 per entity type. The published anchors (mBERT, on
the same benchmark, four types) sit beside our rows for reference; they were not run here.
The plot shows average F1 against the number of sources k for both domains.

With several training seeds a cell is the mean over seeds ± their sample sd (the average's sd
is that of the per-seed averages over targets), the plot draws the sd as error bars, a table
gives the 95 % bootstrap interval of each seed mean, and the result's claims
(:mod:`.crosslingual_claims`) follow. Results of one seed (older files with a single ``f1``)
read as before.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Mapping, Sequence
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


def per_seed_f1(scores: Mapping[str, Any]) -> list[float]:
    """A test file's F1 per training seed (one value for a result without seeds)."""
    if "f1_per_seed" in scores:
        return [float(f) for f in scores["f1_per_seed"]]
    return [float(scores["f1"])]


def _shift_f1s(row: dict[str, Any]) -> list[float] | None:
    """Per seed, the mean F1 over the row's out-of-domain files."""
    shifts = [per_seed_f1(s) for name, s in row["scores"].items() if name != IN_DOMAIN]
    return [sum(v) / len(v) for v in zip(*shifts, strict=True)] if shifts else None


def _mean_sd(values: Sequence[float] | None) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    mean = sum(values) / len(values)
    return mean, statistics.stdev(values) if len(values) > 1 else None


def _avg_per_seed(per_target: Sequence[Sequence[float] | None]) -> list[float] | None:
    """The average over targets of each seed; None unless every target has the same seeds."""
    if not per_target or any(v is None for v in per_target):
        return None
    if len({len(v) for v in per_target if v is not None}) != 1:
        return None
    return [sum(v) / len(v) for v in zip(*per_target, strict=True)]  # type: ignore[arg-type]


def _mean(values: Sequence[float | None]) -> float | None:
    found = [v for v in values if v is not None]
    return sum(found) / len(found) if found and len(found) == len(values) else None


def _targets(results: Sequence[dict[str, Any]]) -> list[str]:
    """The targets in the order the results list them."""
    found = [t for res in results for t in res.get("targets", [])]
    found += [r["target"] for res in results for r in res["rows"]]
    return list(dict.fromkeys(found))


def table_rows(results: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per (variant, method): F1 per target, in-domain and out of domain.

    ``in_domain``/``out_of_domain`` hold the mean over seeds per target and ``avg``;
    ``*_sd`` their sd over seeds (None with one seed), ``*_ci`` the bootstrap interval of a
    target's seed mean (out of domain: where the target has one file), ``seeds`` the count.
    """
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
                    "seeds": len(per_seed_f1(row["scores"][IN_DOMAIN])),
                    "per_label": {},
                    "weights": {},
                    "per_seed": {IN_DOMAIN: {}, "out_of_domain": {}},
                    "in_domain_ci": {},
                    "out_of_domain_ci": {},
                },
            )
            entry["per_seed"][IN_DOMAIN][target] = per_seed_f1(row["scores"][IN_DOMAIN])
            entry["per_label"][target] = row["scores"][IN_DOMAIN]["per_label"]
            if "f1_ci" in row["scores"][IN_DOMAIN]:
                entry["in_domain_ci"][target] = row["scores"][IN_DOMAIN]["f1_ci"]
            shift = _shift_f1s(row)
            if shift is not None:
                entry["per_seed"]["out_of_domain"][target] = shift
                files = [s for name, s in row["scores"].items() if name != IN_DOMAIN]
                if len(files) == 1 and "f1_ci" in files[0]:
                    entry["out_of_domain_ci"][target] = files[0]["f1_ci"]
            if row.get("weights") and row["k"] > 1:
                entry["weights"][target] = row["weights"]
    rows = list(table.values())
    for entry in rows:
        for domain, found in entry["per_seed"].items():
            wanted = targets if domain == IN_DOMAIN else [t for t in targets if t in found]
            per_target = {t: found[t] for t in wanted if t in found}
            summary = {t: _mean_sd(v) for t, v in per_target.items()}
            avg = _avg_per_seed([found.get(t) for t in wanted]) if wanted else None
            summary["avg"] = _mean_sd(avg)
            if avg is None and wanted:  # seeds differ between targets: the mean of the means
                summary["avg"] = (
                    _mean([summary[t][0] if t in summary else None for t in wanted]),
                    None,
                )
            entry[domain] = {t: m for t, (m, _) in summary.items()}
            entry[f"{domain}_sd"] = {t: sd for t, (_, sd) in summary.items()}
        shifted = [t for t in targets if t in entry["per_seed"]["out_of_domain"]]
        same = _mean([entry["in_domain"].get(t) for t in shifted]) if shifted else None
        ood = entry["out_of_domain"]["avg"]
        entry["drop"] = None if same is None or ood is None else same - ood
    return rows


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f}"


def _cell(row: Mapping[str, Any], domain: str, target: str) -> str:
    """``52.1 ± 0.4`` (mean ± sd over seeds), ``52.1`` with one seed, ``–`` when missing."""
    mean, sd = row[domain].get(target), row.get(f"{domain}_sd", {}).get(target)
    return _pct(mean) if mean is None or sd is None else f"{_pct(mean)} ± {100 * sd:.1f}"


def _interval(ci: Sequence[float] | None) -> str:
    return "–" if ci is None else f"[{_pct(ci[0])}, {_pct(ci[1])}]"


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
    seeds = sorted({r["seeds"] for r in rows})
    spread = (
        f"mean ± sd over {'/'.join(map(str, seeds))} training seeds; "
        if seeds and max(seeds) > 1
        else ""
    )
    out = [
        f"F1 × 100 ({types}); {spread}out = out-of-domain test "
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
        cells += [_cell(r, IN_DOMAIN, t) for t in [*targets, "avg"]]
        cells += [_cell(r, "out_of_domain", t) for t in [*shift_targets, "avg"]]
        cells += [_pct(r["drop"])]
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
    if any(r.get("in_domain_ci") for r in rows):
        head = ["variant", "method", *targets, *(f"{t} (out)" for t in shift_targets)]
        out += [
            "",
            "95 % bootstrap interval of each seed-mean F1 × 100 (test sentences resampled):",
        ]
        out += ["", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for r in rows:
            cells = [r["variant"], r["method"]]
            cells += [_interval(r.get("in_domain_ci", {}).get(t)) for t in targets]
            cells += [_interval(r.get("out_of_domain_ci", {}).get(t)) for t in shift_targets]
            out.append("| " + " | ".join(cells) + " |")
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
        if res.get("comparisons"):
            n = res.get("settings", {}).get("bootstrap", {}).get("n", 0)
            out += ["", "Claims:", "", claims_markdown(res["comparisons"], n)]
    for res in results:
        steps = ", ".join(f"{k} {v:.0f} s" for k, v in res.get("step_seconds", {}).items())
        per_seed = ", ".join(f"seed {k} {v:.0f} s" for k, v in res.get("seed_seconds", {}).items())
        per_seed = f"; {per_seed}" if per_seed else ""
        out += ["", f"Time per step: {steps}{per_seed}; wall {res.get('wall_seconds', 0):.0f} s."]
    return "\n".join(out)


def claims_markdown(entries: Sequence[Mapping[str, Any]], n_resamples: int) -> str:
    """A table of claims (:mod:`.crosslingual_claims`): A − B × 100 with its 95 % interval,
    the share of resamples A wins, the seeds of each, and whether it is a finding."""
    out = [
        f"Paired bootstrap ({n_resamples} resamples of the test sentences) of the difference "
        "of seed-averaged F1, A − B, × 100; **finding**: its 95 % interval excludes 0. "
        "out: the mean over the target's out-of-domain files; avg: the mean over the targets.",
        "",
        "| variant | claim | A | B | domain | target | F1 A | F1 B | A − B | 95 % interval "
        "| A wins | seeds | finding |",
        "|" + "---|" * 13,
    ]
    for e in entries:
        low, high = e["difference_ci"]
        cells = [e["variant"], e["claim"], e["a"], e["b"],
                 "in" if e["domain"] == IN_DOMAIN else "out", e["target"],
                 _pct(e["f1_a"]), _pct(e["f1_b"]), f"{100 * e['difference']:+.1f}",
                 f"[{100 * low:+.1f}, {100 * high:+.1f}]", f"{100 * e['a_better_share']:.0f} %",
                 f"{e['seeds_a']}/{e['seeds_b']}", "**yes**" if e["finding"] else "no"]  # fmt: skip
        out.append("| " + " | ".join(cells) + " |")
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
                chosen = one[:1] + [
                    r for r in soft if r["k"] > 1 and r["method"].endswith(weighting)
                ]
                pts = sorted(
                    (r["k"], r[domain]["avg"], r[f"{domain}_sd"]["avg"] or 0.0)
                    for r in chosen
                    if r[domain]["avg"] is not None
                )
                if pts:
                    ks, f1s, sds = zip(*pts, strict=True)
                    label = f"{variant}, soft, {weighting}"
                    ax.errorbar(
                        ks, [100 * f for f in f1s], yerr=[100 * s for s in sds],
                        marker="o", ms=3, capsize=2, label=label,
                    )  # fmt: skip
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
    note = "dotted: direct transfer (first source)"
    if any(r["seeds"] > 1 for r in rows):
        note += "; error bars: sd over training seeds"
    fig.text(0.99, 0.99, note, ha="right", va="top", fontsize=7)
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
