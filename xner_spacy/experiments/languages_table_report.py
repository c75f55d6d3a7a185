"""The languages table's figures: per-seed F1, mean ± sd, bootstrap intervals, comparisons.

:func:`column_entry` sums up one column of one language (direct transfer, a variant, the
distilled student) from its ``xner evaluate`` files, one per training seed. :func:`add_statistics`
adds, from the per-sentence counts those evaluations kept (``--counts``), the 95 % interval of
every row's seed-averaged F1, the average over languages and the paired comparisons
(:func:`~xner_spacy.evaluation.bootstrap.seed_mean_f1`, ``seed_averaged_difference`` and
``averaged_difference``); :func:`languages_table` writes both as Markdown. The i-th language
of the run is resampled with seed ``seed + i``, as ``averaged_difference`` resamples its i-th
test set, so a row, its comparisons and the average all rest on the same draws. Nothing here
runs a model.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..evaluation.bootstrap import (
    averaged_difference,
    is_finding,
    load_counts,
    percentile_interval,
    seed_averaged_difference,
    seed_mean_f1,
)
from ..evaluation.bootstrap import seed_summary as summarise

#: The source labeller as a teacher / table column; the distilled student's column.
DIRECT = "direct"
DISTIL = "distil"
#: What a column keeps of each seed's ``xner evaluate`` output.
KEEP = ("precision", "recall", "f1", "per_label", "words_per_s", "test", "model")
AVERAGE = "average"


def column_entry(
    seeds: Sequence[int | None],
    scores: Sequence[Path],
    counts: Sequence[Path],
    train_seconds: Sequence[float | None] | None = None,
) -> dict[str, Any]:
    """One column of one language: each seed's scores (``seeds`` ``[None]``: one model that
    was not trained here, direct transfer), ``f1_per_seed``, ``f1_mean``, ``f1_sd``, the mean
    precision and recall, and where each seed's per-sentence counts are."""
    per_seed = []
    for seed, path in zip(seeds, scores, strict=True):
        data = json.loads(Path(path).read_text(encoding="utf8"))
        per_seed.append({"seed": seed, **{k: data[k] for k in KEEP if k in data}})
    f1s = [float(sc["f1"]) for sc in per_seed]
    entry: dict[str, Any] = {
        "seeds": list(seeds),
        "f1_per_seed": f1s,
        **summarise(f1s),
        "precision_mean": float(np.mean([sc["precision"] for sc in per_seed])),
        "recall_mean": float(np.mean([sc["recall"] for sc in per_seed])),
        "per_seed": per_seed,
        "counts": [str(p) for p in counts],
    }
    if train_seconds is not None:
        entry["train_seconds"] = list(train_seconds)
    return entry


def comparison_pairs(
    variants: Sequence[str], teachers: Sequence[str], direct: bool
) -> list[tuple[str, str]]:
    """(A, B) of every comparison: each variant against direct transfer, each later variant
    against each earlier one (``--variant`` order), the student against direct transfer and
    its variant teachers."""
    pairs = [(v, DIRECT) for v in variants] if direct else []
    pairs += [(later, v) for i, v in enumerate(variants) for later in variants[i + 1 :]]
    if teachers:
        against = ([DIRECT] if direct else []) + [t for t in teachers if t != DIRECT]
        pairs += [(DISTIL, t) for t in against]
    return pairs


def table_columns(result: Mapping[str, Any]) -> list[str]:
    """The table's columns in order: direct transfer (if scored), the variants, the student."""
    settings = result["settings"]
    scored = {col for e in result["languages"].values() for col in e["scores"]}
    cols = [DIRECT, *settings["variants"], *([DISTIL] if settings.get("distil_teachers") else [])]
    return [c for c in cols if c in scored]


def _counts(lang: str, scores: Mapping[str, Any]) -> dict[str, list[np.ndarray]]:
    """Each column's per-seed counts of one language, all of the same labels."""
    out: dict[str, list[np.ndarray]] = {}
    labels = None
    for col, entry in scores.items():
        out[col] = []
        for path in entry["counts"]:
            found, counts = load_counts(path)
            if labels is not None and found != labels:
                raise ValueError(f"{lang}: {path} counts labels {found}, the others {labels}")
            labels = found
            out[col].append(counts)
    return out


def add_statistics(result: dict[str, Any], n_resamples: int, seed: int) -> None:
    """Add to ``result`` every row's ``f1_ci``, the ``average`` row and the ``comparisons``.

    The i-th language's test sentences are resampled ``n_resamples`` times with seed
    ``seed + i``, every model of every column scored on the same draws; the average over
    languages averages, per resample, the languages' seed-averaged F1s (each language resampled
    on its own: the languages are fixed, their test sentences a sample).
    """
    settings = result["settings"]
    langs: dict[str, Any] = result["languages"]
    cols = table_columns(result)
    variants = [c for c in cols if c not in (DIRECT, DISTIL)]
    pairs = comparison_pairs(variants, settings.get("distil_teachers", []), DIRECT in cols)
    counts = {lang: _counts(lang, entry["scores"]) for lang, entry in langs.items()}
    resampled: dict[str, dict[str, np.ndarray]] = {}
    for i, (lang, entry) in enumerate(langs.items()):
        found = seed_mean_f1(list(counts[lang].values()), n_resamples, seed + i)[2]
        resampled[lang] = {col: found[:, j] for j, col in enumerate(counts[lang])}
        for col, scores in entry["scores"].items():
            scores["f1_ci"] = percentile_interval(resampled[lang][col])
    comparisons = []
    for a, b in pairs:
        where = [(i, lang) for i, lang in enumerate(langs) if {a, b} <= set(counts[lang])]
        if not where:
            continue
        comparison: dict[str, Any] = {"a": a, "b": b, "languages": {}}
        for i, lang in where:
            comparison["languages"][lang] = _comparison(seed_averaged_difference(
                counts[lang][a], counts[lang][b], n_resamples, seed + i
            ), a, b)  # fmt: skip
        if len(langs) > 1 and len(where) == len(langs):
            tests = [(counts[lang][a], counts[lang][b]) for lang in langs]
            comparison[AVERAGE] = _comparison(averaged_difference(tests, n_resamples, seed), a, b)
        comparisons.append(comparison)
    result["comparisons"] = comparisons
    if len(langs) > 1:
        result[AVERAGE] = {"languages": list(langs), "scores": _average(langs, cols, resampled)}
    else:
        result.pop(AVERAGE, None)


def _comparison(found: Mapping[str, Any], a: str, b: str) -> dict[str, Any]:
    trained = [None if name == DIRECT else found[f"seeds_{side}"]
               for name, side in ((a, "a"), (b, "b"))]  # fmt: skip
    return {
        "seeds_a": found["seeds_a"],
        "seeds_b": found["seeds_b"],
        "f1_a": found["f1_a"]["f1_mean"],
        "f1_b": found["f1_b"]["f1_mean"],
        "difference": found["difference"],
        "difference_ci": found["difference_ci"],
        "a_better_share": found["a_better_share"],
        "finding": is_finding(found["difference_ci"], *trained),
    }


def _average(
    langs: Mapping[str, Any], cols: Sequence[str], resampled: Mapping[str, Mapping[str, Any]]
) -> dict[str, Any]:
    """Per column scored in every language with the same seeds: the mean over languages of
    each seed's F1, then mean ± sd over the seeds, and the interval of the averaged F1."""
    out = {}
    for col in cols:
        entries = [e["scores"].get(col) for e in langs.values()]
        if any(e is None for e in entries) or len({json.dumps(e["seeds"]) for e in entries}) > 1:
            continue
        per_seed = [float(v) for v in np.mean([e["f1_per_seed"] for e in entries], axis=0)]
        interval = percentile_interval(np.mean([resampled[lang][col] for lang in langs], axis=0))
        out[col] = {
            "seeds": entries[0]["seeds"],
            "f1_per_seed": per_seed,
            **summarise(per_seed),
            "f1_ci": interval,
        }
    return out


def _f1(scores: Mapping[str, Any] | None, bold: bool = False) -> str:
    """F1 ×100, mean ± sd over the seeds (just the F1 of a single model)."""
    if not scores:
        return "–"
    text = f"{100 * scores['f1_mean']:.1f}"
    if len(scores["seeds"]) > 1:
        text += f" ± {100 * scores['f1_sd']:.1f}"
    return f"**{text}**" if bold else text


def _seconds(scores: Mapping[str, Any] | None) -> str:
    found = [s for s in (scores or {}).get("train_seconds", []) if s is not None]
    return f"{np.mean(found):.0f}" if found else "–"


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def languages_table(result: Mapping[str, Any]) -> str:
    """Markdown: one row per language (F1 ×100 of each column, mean ± sd over the seeds) and
    the average, then the paired comparisons with their intervals."""
    langs = result["languages"]
    cols = table_columns(result)
    trained = [c for c in cols if c != DIRECT]
    head = ["language", "source", "silver train", *[f"{c} F1" for c in cols]]
    head += [f"{v} train s" for v in trained]
    lines = [_row(head), "|" + "---|" * 3 + "---:|" * (len(head) - 3)]
    for lang, e in langs.items():
        row = [lang, e["source"], f"{e['silver']['train']['docs']:,}"]
        row += [_f1(e["scores"].get(c)) for c in cols]
        row += [_seconds(e["scores"].get(v)) for v in trained]
        lines.append(_row(row))
    average = result.get(AVERAGE, {}).get("scores", {})
    if len(langs) > 1:
        row = [AVERAGE, "", "", *[_f1(average.get(c), bold=True) for c in cols]]
        lines.append(_row(row + [""] * len(trained)))
    seeds = ", ".join(str(s) for s in result["settings"]["seeds"])
    lines += [
        "",
        f"F1 ×100 on each language's gold test split: mean ± sd over training seeds {seeds}"
        + (" (direct transfer: the source labeller itself, one model)" if DIRECT in cols else "")
        + "; 95 % bootstrap intervals of the seed-averaged F1 in the JSON (`f1_ci`). "
        "Train s: seconds per seed.",
    ]
    return "\n".join(lines) + "\n" + comparisons_table(result)


def _difference(found: Mapping[str, Any] | None) -> str:
    if not found:
        return "–"
    low, high = (100 * v for v in found["difference_ci"])
    text = f"{100 * found['difference']:+.1f} [{low:+.1f}, {high:+.1f}]"
    return f"**{text}**" if found["finding"] else text


def comparisons_table(result: Mapping[str, Any]) -> str:
    """Markdown: A − B per language and on the average, with intervals ('' if none)."""
    comparisons = result.get("comparisons", [])
    if not comparisons:
        return ""
    langs = list(result["languages"])
    where = [*langs, *([AVERAGE] if AVERAGE in result else [])]
    last = where[-1]
    head = ["A − B", "seeds A / B", *where, f"A better ({last})"]
    lines = [_row(head), "|---|---|" + "---:|" * (len(head) - 2)]
    for c in comparisons:
        found = {lang: c["languages"].get(lang) for lang in langs}
        found[AVERAGE] = c.get(AVERAGE)
        some = next(f for f in found.values() if f)
        row = [f"{c['a']} − {c['b']}", f"{some['seeds_a']} / {some['seeds_b']}"]
        row += [_difference(found[w]) for w in where]
        share = found[last]
        row.append(f"{100 * share['a_better_share']:.0f} %" if share else "–")
        lines.append(_row(row))
    n = result["settings"]["bootstrap"]["n"]
    intro = (
        f"Paired differences A − B of the seed-averaged F1 (×100) with 95 % bootstrap intervals "
        f"({n} resamples of each language's test sentences, every model on the same draws; "
        "the average resamples each language independently and averages the languages' F1 "
        "per resample). **Bold**: the interval excludes 0. A better: the share of resamples "
        "where A is higher."
    )
    return "\n" + intro + "\n\n" + "\n".join(lines) + "\n"
