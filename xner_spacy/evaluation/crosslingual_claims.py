"""Paired claims between rows of ``xner crosslingual`` results, from their saved counts.

A claim compares two rows A and B on the same test sentences: the difference of their
seed-averaged F1 (each row's mean over its training seeds), the 95 % percentile interval of
that difference over resampled test sentences (every model of both rows scored on the same
draw: :func:`~xner_spacy.evaluation.bootstrap.seed_mean_f1`), the share of resamples where A
is higher, and the number of seeds of each. It is a ``finding`` only when the interval
excludes 0. The interval covers the test-set sampling of the seed-averaged difference; the
spread between seeds is in the rows (``f1_sd``), not folded in.

Per target, in-domain is its test split; out of domain is the mean over its out-of-domain
files (as the report's table averages them). The average over targets (``target: "avg"``) is
the mean of the per-target differences, so it matches the table's ``avg`` column: each test
file of each target is resampled independently (its own draws, seeded by the bootstrap seed
plus the target's and file's position), and the per-target values of the same resample
index are averaged. This treats the targets' test sets as independent samples, which they are.

:func:`benchmark_claims` makes the claims one result supports (soft k=1 against direct,
the largest k against k=1, soft against hard); :func:`compare_runs` pairs the rows of two
results (e.g. trained top layers against frozen) that have the same name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .bootstrap import is_finding, load_counts, percentile_interval, seed_mean_f1
from .crosslingual_report import IN_DOMAIN, method_label

DOMAINS = ("in_domain", "out_of_domain")


def _files(row: Mapping[str, Any], domain: str) -> list[str]:
    names = sorted(row.get("counts", {}))
    return [n for n in names if (n == IN_DOMAIN) == (domain == IN_DOMAIN)]


def _counts(row: Mapping[str, Any], name: str) -> list[np.ndarray]:
    paths = row["counts"][name]
    missing = [p for p in paths if not Path(p).is_file()]
    if missing:
        raise FileNotFoundError(f"no per-sentence counts {missing[0]}: rerun xner crosslingual")
    return [load_counts(p)[1] for p in paths]


def _target_values(
    a: Mapping[str, Any], b: Mapping[str, Any], domain: str, n: int, seed: int
) -> tuple[np.ndarray, np.ndarray] | None:
    """(point (2,), resampled (n, 2)) seed means of A and B on one target's files of
    ``domain``, averaged over the files; None when either row has no file there."""
    names = [f for f in _files(a, domain) if f in _files(b, domain)]
    if not names:
        return None
    points, draws = [], []
    for j, name in enumerate(names):
        _, point, resampled = seed_mean_f1([_counts(a, name), _counts(b, name)], n, seed + j)
        points.append(point)
        draws.append(resampled)
    return np.mean(points, axis=0), np.mean(draws, axis=0)


def _summary(point: np.ndarray, draws: np.ndarray) -> dict[str, Any]:
    diff = draws[:, 0] - draws[:, 1]
    ci = percentile_interval(diff)
    return {
        "f1_a": round(float(point[0]), 4),
        "f1_b": round(float(point[1]), 4),
        "difference": round(float(point[0] - point[1]), 4),
        "difference_ci": [round(x, 4) for x in ci],
        "a_better_share": round(float(np.mean(diff > 0)), 4),
    }


def claim_entries(
    pairs: Mapping[str, tuple[Mapping[str, Any], Mapping[str, Any]]],
    targets: Sequence[str],
    n_resamples: int,
    seed: int,
    **about: Any,
) -> list[dict[str, Any]]:
    """A − B per target and on the average over targets, in-domain and out of domain.

    ``pairs`` maps each target to its (row A, row B); ``targets`` fixes the targets' order
    (and their resample seeds); ``about`` goes into every entry (variant, claim, a, b).
    """
    entries = []
    for domain in DOMAINS:
        found: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for i, target in enumerate(targets):
            if target in pairs:
                a, b = pairs[target]
                values = _target_values(a, b, domain, n_resamples, seed + 1000 * i)
                if values is not None:
                    found[target] = values
        for target, (point, draws) in found.items():
            a, b = pairs[target]
            entries.append(_entry(about, domain, target, [target], a, b, point, draws))
        if len(found) > 1:
            point = np.mean([v[0] for v in found.values()], axis=0)
            draws = np.mean([v[1] for v in found.values()], axis=0)
            a, b = next(iter(pairs.values()))
            entries.append(_entry(about, domain, "avg", list(found), a, b, point, draws))
    return entries


def _entry(
    about: Mapping[str, Any],
    domain: str,
    target: str,
    targets: list[str],
    a: Mapping[str, Any],
    b: Mapping[str, Any],
    point: np.ndarray,
    draws: np.ndarray,
) -> dict[str, Any]:
    seeds = {"seeds_a": len(a.get("seeds", [0])), "seeds_b": len(b.get("seeds", [0]))}
    entry = {**about, "domain": domain, "target": target, "targets": targets}
    found = _summary(point, draws)
    finding = is_finding(found["difference_ci"], seeds["seeds_a"], seeds["seeds_b"])
    return entry | found | seeds | {"finding": finding}


def _first_source_rows(result: Mapping[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """(variant, method label) → {target: row}; direct transfer only from the first source,
    labelled ``direct``."""
    table: dict[tuple[str, str], dict[str, Any]] = {}
    for row in result["rows"]:
        label = method_label(row)
        if row["method"] == "direct":
            if row["sources"][0] != result["sources"][row["target"]][0]:
                continue
            label = "direct"
        table.setdefault((row["variant"], label), {})[row["target"]] = row
    return table


def benchmark_claims(result: Mapping[str, Any], n_resamples: int, seed: int) -> list[dict]:
    """The claims of one result, per variant that has both rows: soft k=1 against direct
    transfer (the first source's teacher), soft k=K uniform against soft k=1 (K: the largest k,
    fixed before any result, not the best-scoring one) and soft k=1 against hard k=1."""
    table = _first_source_rows(result)
    entries: list[dict[str, Any]] = []
    for variant in dict.fromkeys(v for v, _ in table):
        uniform = [
            label
            for v, label in table
            if v == variant and label.startswith("soft k=") and label.endswith(" uniform")
        ]
        ks = [next(iter(table[variant, label].values()))["k"] for label in uniform]
        claims = [("soft k=1 vs direct", "soft k=1", "direct")]
        if ks:
            claims.append((f"k={max(ks)} vs k=1", f"soft k={max(ks)} uniform", "soft k=1"))
        claims.append(("soft vs hard", "soft k=1", "hard k=1"))
        for name, a, b in claims:
            rows_a, rows_b = table.get((variant, a), {}), table.get((variant, b), {})
            pairs = {t: (rows_a[t], rows_b[t]) for t in rows_a if t in rows_b}
            if pairs:
                about = {"variant": variant, "claim": name, "a": a, "b": b}
                entries += claim_entries(pairs, result["targets"], n_resamples, seed, **about)
    return entries


def compare_runs(
    result_a: Mapping[str, Any], result_b: Mapping[str, Any], n_resamples: int, seed: int
) -> list[dict[str, Any]]:
    """Every row of ``result_a`` against the row of ``result_b`` with the same variant,
    method, k, weighting and sources (e.g. trained top layers against frozen features)."""

    def key(row: Mapping[str, Any]) -> tuple[Any, ...]:
        return row["variant"], method_label(dict(row)), tuple(row["sources"])

    for name, found in (("A", result_a), ("B", result_b)):
        if any("counts" not in r for r in found["rows"]):
            raise ValueError(f"result {name} has rows without per-sentence counts: rerun it")
    by_key_b = {(*key(r), r["target"]): r for r in result_b["rows"]}
    groups: dict[tuple[Any, ...], dict[str, tuple[Mapping[str, Any], Mapping[str, Any]]]] = {}
    for row in result_a["rows"]:
        other = by_key_b.get((*key(row), row["target"]))
        if other is not None:
            groups.setdefault(key(row), {})[row["target"]] = (row, other)
    if not groups:
        raise ValueError("the two results have no row in common (variant, method, sources)")
    targets = list(dict.fromkeys([*result_a.get("targets", []), *result_b.get("targets", [])]))
    entries = []
    for (variant, label, sources), pairs in groups.items():
        about = {"variant": variant, "claim": label, "a": "A", "b": "B", "sources": list(sources)}
        entries += claim_entries(pairs, targets, n_resamples, seed, **about)
    return entries
