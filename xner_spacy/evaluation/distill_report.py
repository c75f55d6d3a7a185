"""Tables and a plot of the distillation experiment: F1 against the number of sources ``k``.

Reads the result files of ``xner distill-experiment`` (one per target language and vector
setting) and writes a combined JSON table, a Markdown table and a PNG with one panel per
target and domain (MasakhaNER 2.0 test: in-domain news; WikiANN test: domain shift).
Every figure comes from the result files; nothing is typed in.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

DOMAINS = ("masakhaner", "wikiann")
DOMAIN_TITLES = {"masakhaner": "MasakhaNER 2.0 test (news)", "wikiann": "WikiANN test (shift)"}
METHODS = ("voted", "distill-uniform", "distill-similarity")
METHOD_TITLES = {
    "teacher": "single source",
    "voted": "hard labels, voted projections",
    "distill-uniform": "distilled, uniform weights",
    "distill-similarity": "distilled, similarity weights",
}


def load_results(paths: Iterable[str | Path]) -> list[dict[str, Any]]:
    """The result files, in the order given."""
    return [json.loads(Path(p).read_text(encoding="utf8")) for p in paths]


def _f1(row: dict[str, Any], domain: str) -> float | None:
    scores = row.get(domain)
    return None if scores is None else float(scores["f1"])


def _order(result: dict[str, Any]) -> str:
    """How the sources were ordered (result files without the setting: by ``source_agreement``)."""
    default = "agreement" if "source_agreement" in result else "given"
    return str(result.get("settings", {}).get("order", default))


def _setting(result: dict[str, Any]) -> str:
    """``no vectors`` / ``floret vectors``, with ``agreement order`` when sources were sorted."""
    name = "floret vectors" if result.get("vectors") else "no vectors"
    return name if _order(result) == "given" else f"{name}, {_order(result)} order"


def _style(result: dict[str, Any]) -> str:
    if result.get("vectors"):
        return "--"
    return "-" if _order(result) == "given" else ":"


def table_rows(results: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One flat row per trained model: target, vectors, method, k, sources, F1 per domain."""
    rows = []
    for result in results:
        for row in result["rows"]:
            rows.append(
                {
                    "target": result["target"],
                    "vectors": _setting(result),
                    "method": row["method"],
                    "k": row["k"],
                    "sources": row["sources"],
                    "weights": row.get("weights"),
                    **{f"{d}_f1": _f1(row, d) for d in DOMAINS},
                    **{
                        f"{d}_{m}": row[d][m] if row.get(d) else None
                        for d in DOMAINS
                        for m in ("precision", "recall")
                    },
                    "model": row["model"],
                    "same_as": row.get("same_as"),
                }
            )
    return rows


def best_single(result: dict[str, Any], domain: str) -> tuple[str, float] | None:
    """The single-source teacher with the highest F1 on ``domain`` (an oracle choice)."""
    scored: list[tuple[str, float]] = []
    for row in result["rows"]:
        f1 = _f1(row, domain)
        if row["method"] == "teacher" and f1 is not None:
            scored.append((row["sources"][0], f1))
    return max(scored, key=lambda x: x[1]) if scored else None


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f}"


def markdown(results: Sequence[dict[str, Any]]) -> str:
    """Per target and vector setting: F1 × 100 for each k and method, and the single sources."""
    out = []
    for result in results:
        target, setting = result["target"], _setting(result)
        has_wiki = result["eval_sets"].get("wikiann") is not None
        out.append(f"**{target}, {setting}** (sources in order: {', '.join(result['sources'])})\n")
        head = "| k | sources | " + " | ".join(
            f"{METHOD_TITLES[m]} ({d})" for m in METHODS for d in ("news", "wiki")
        )
        out.append(head + " |")
        out.append("|---" * (2 + 2 * len(METHODS)) + "|")
        for k in range(1, len(result["sources"]) + 1):
            cells = [str(k), "+".join(result["sources"][:k])]
            for method in METHODS:
                row = next(
                    (r for r in result["rows"] if r["method"] == method and r["k"] == k), None
                )
                if method == "distill-similarity" and k == 1:
                    row = next(
                        (
                            r
                            for r in result["rows"]
                            if r["method"] == "distill-uniform" and r["k"] == 1
                        ),
                        None,
                    )  # one teacher: every weighting is the same model
                for domain in DOMAINS:
                    cells.append(_pct(_f1(row, domain)) if row else "–")
            out.append("| " + " | ".join(cells) + " |")
        singles = [r for r in result["rows"] if r["method"] == "teacher"]
        out.append("")
        out.append(
            "Single-source teachers (news / wiki): "
            + ", ".join(
                f"{r['sources'][0]} {_pct(_f1(r, 'masakhaner'))} / {_pct(_f1(r, 'wikiann'))}"
                for r in singles
            )
        )
        sims = [r for r in result["rows"] if r["method"] == "distill-similarity"]
        if sims:
            last = max(sims, key=lambda r: r["k"])
            out.append(f"Similarity weights at k={last['k']}: {last.get('weights')}")
        if not has_wiki:
            out.append(f"WikiANN has no test set for {target}: no domain-shift column.")
        out.append(f"Wall time: {result.get('wall_seconds')} s.\n")
    return "\n".join(out)


def plot(results: Sequence[dict[str, Any]], path: str | Path) -> None:
    """F1 against k: one row of panels per target, one column per domain; vectors dashed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    targets = list(dict.fromkeys(r["target"] for r in results))
    fig, axes = plt.subplots(
        len(targets), len(DOMAINS), figsize=(5.2 * len(DOMAINS), 3.4 * len(targets)), squeeze=False
    )
    colours = {
        "voted": "tab:blue",
        "distill-uniform": "tab:orange",
        "distill-similarity": "tab:green",
    }
    for i, target in enumerate(targets):
        for j, domain in enumerate(DOMAINS):
            ax = axes[i][j]
            ax.set_title(f"{target}: {DOMAIN_TITLES[domain]}", fontsize=10)
            drawn = False
            for result in (r for r in results if r["target"] == target):
                style = _style(result)
                suffix = "" if _setting(result) == "no vectors" else f" ({_setting(result)})"
                for method in METHODS:
                    pts = sorted(
                        (r["k"], _f1(r, domain))
                        for r in result["rows"]
                        if r["method"] == method and _f1(r, domain) is not None
                    )
                    if method == "distill-similarity":  # k = 1 is the uniform student
                        one = [
                            (1, _f1(r, domain))
                            for r in result["rows"]
                            if r["method"] == "distill-uniform"
                            and r["k"] == 1
                            and _f1(r, domain) is not None
                        ]
                        pts = one + pts if pts else pts
                    if pts:
                        ks, f1s = zip(*pts, strict=True)
                        ax.plot(
                            ks,
                            [100 * f for f in f1s],
                            style,
                            marker="o",
                            ms=3,
                            color=colours[method],
                            label=METHOD_TITLES[method] + suffix,
                        )
                        drawn = True
                best = best_single(result, domain)
                if best is not None and _order(result) == "given":  # the same teachers
                    ax.axhline(
                        100 * best[1],
                        ls=style,
                        color="grey",
                        lw=0.8,
                        label=f"best single source ({best[0]}){suffix}",
                    )
            if not drawn:
                ax.text(
                    0.5,
                    0.5,
                    f"no {domain} test set for {target}",
                    ha="center",
                    va="center",
                    transform=ax.transAxes,
                )
            ax.set_xlabel("k (number of source languages)")
            ax.set_ylabel("F1 × 100 (PER/ORG/LOC)")
            ax.xaxis.get_major_locator().set_params(integer=True)
            ax.grid(alpha=0.3)
    handles, labels = [], []
    for ax in axes.flat:
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    fig.legend(handles, labels, loc="lower center", ncol=2, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.04 + 0.025 * ((len(labels) + 1) // 2), 1, 1))
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
    """Load result files, write the requested outputs, return the combined table."""
    from .metrics_tables import write_table

    results = load_results(paths)
    text = markdown(results)
    table: dict[str, Any] = {
        "inputs": [str(p) for p in paths],
        "rows": table_rows(results),
        "best_single_source": {
            f"{r['target']}|{_setting(r)}": {d: best_single(r, d) for d in DOMAINS} for r in results
        },
        "notes": [n for r in results for n in r.get("notes", [])],
        "wall_seconds": {f"{r['target']}|{_setting(r)}": r.get("wall_seconds") for r in results},
        "markdown": text,
    }
    write_table(table, json_path, markdown_path)
    if plot_path is not None:
        plot(results, plot_path)
    return table
