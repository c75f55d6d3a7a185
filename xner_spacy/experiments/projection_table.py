"""A grid of projection methods × evaluation columns, as a Markdown table of F1 × 100.

A *method* is a config file whose sections replace those of a base config (usually just a
``[projector]``: ``configs/projection/*.cfg``); a *column* is one evaluation of
:mod:`~xner_spacy.experiments.projection_eval`: ``lug:en`` (MasakhaNER 2.0 lug test, projected
from the English side of MAFAND-MT) or ``europarl:en-es`` (Europarl-NER, gold English
entities). Columns run one after the other and every method is scored on the same labelled,
aligned records, which are prepared once per column (and per labeller/aligner setting) and
cached on disk, so only projection is paid per cell.
"""

from __future__ import annotations

import dataclasses
import shlex
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..labelling.label_maps import BUILTIN_LABEL_MAPS
from .projection_eval import load_eval_config, run_projection_eval

DEFAULT_METHOD_DIR = Path("configs/projection")
AVERAGE = "avg MasakhaNER"
#: The registered candidate extractor that reads target NER proposals (``--ner-model``).
NER_CANDIDATES = "xner.NerCandidates.v1"


@dataclasses.dataclass(frozen=True)
class Column:
    """One evaluation: a dataset and a language pair; ``name`` heads the table column."""

    name: str
    dataset: str
    src: str
    tgt: str

    @classmethod
    def parse(cls, spec: str) -> Column:
        """``TGT:SRC`` (MasakhaNER, ``lug:en``) or ``europarl:SRC-TGT`` (``europarl:en-es``)."""
        head, sep, tail = spec.partition(":")
        if not sep or not head or not tail:
            raise ValueError(f"column {spec!r}: expected TGT:SRC (lug:en) or europarl:SRC-TGT")
        if head == "europarl":
            src, dash, tgt = tail.partition("-")
            if not dash or not src or not tgt:
                raise ValueError(f"column {spec!r}: expected europarl:SRC-TGT, e.g. europarl:en-es")
            return cls(f"europarl {src}-{tgt}", "europarl", src, tgt)
        return cls(head, "masakhaner", tail, head)

    @property
    def spec(self) -> str:
        if self.dataset == "europarl":
            return f"europarl:{self.src}-{self.tgt}"
        return f"{self.tgt}:{self.src}"


@dataclasses.dataclass(frozen=True)
class Method:
    """A named method config (its sections replace the base config's)."""

    name: str
    config: Path

    @classmethod
    def parse(cls, spec: str) -> Method:
        """``NAME=CFG`` or just ``CFG`` (named after the file's stem)."""
        name, sep, path = spec.partition("=")
        if not sep:
            name, path = Path(spec).stem, spec
        if not name or not path:
            raise ValueError(f"method {spec!r}: expected NAME=CONFIG or CONFIG")
        return cls(name, Path(path))


def default_methods(folder: str | Path = DEFAULT_METHOD_DIR) -> list[Method]:
    """Every ``*.cfg`` in ``folder``, sorted by name."""
    found = [Method(p.stem, p) for p in sorted(Path(folder).glob("*.cfg"))]
    if not found:
        raise FileNotFoundError(f"no method configs (*.cfg) in {folder}; pass --method NAME=CFG")
    return found


def parse_labeller(spec: str) -> tuple[str, dict[str, str]]:
    """``LANG=MODEL`` or ``LANG=MODEL:LABEL_MAP`` → ``(lang, {"labeller.model": ...})``.

    The suffix is taken as a label map only when it names a built-in map (``ontonotes``,
    ``conll``, ...), so model paths keep any colon they have.
    """
    lang, sep, model = spec.partition("=")
    if not sep or not lang or not model:
        raise ValueError(f"labeller {spec!r}: expected LANG=MODEL or LANG=MODEL:LABEL_MAP")
    overrides = {"labeller.model": model}
    base, colon, label_map = model.rpartition(":")
    if colon and base and label_map in BUILTIN_LABEL_MAPS:
        overrides = {"labeller.model": base, "labeller.label_map": label_map}
    return lang, overrides


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f}"


def markdown_table(
    cells: Mapping[str, Mapping[str, Mapping[str, Any]]],
    methods: Sequence[Method],
    columns: Sequence[Column],
) -> str:
    """Rows = methods, columns = evaluations, F1 × 100, then the MasakhaNER average."""
    masakhaner = [c for c in columns if c.dataset == "masakhaner"]
    head = ["method", *(c.name for c in columns)] + ([AVERAGE] if masakhaner else [])
    lines = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]
    for m in methods:
        row = cells.get(m.name, {})
        values = [_pct(row[c.name]["f1"]) if c.name in row else "–" for c in columns]
        if masakhaner:
            values.append(_pct(average_f1(row, masakhaner)))
        lines.append(f"| {m.name} | " + " | ".join(values) + " |")
    matched = [_matched(cells, methods, c) for c in columns] + ([""] if masakhaner else [])
    lines.append("| *matched / total* | " + " | ".join(matched) + " |")
    if any(c.name not in cells.get(m.name, {}) for m in methods for c in columns):
        lines.append("")
        lines.append("– : not scored (a NER-candidate method with no target NER model there).")
    return "\n".join(lines)


def _matched(cells: Mapping[str, Mapping[str, Any]], methods: Sequence[Method], c: Column) -> str:
    for m in methods:
        cell = cells.get(m.name, {}).get(c.name)
        if cell is not None:
            return f"{cell['matched']} / {cell['total']}"
    return "–"


def average_f1(row: Mapping[str, Mapping[str, Any]], columns: Sequence[Column]) -> float | None:
    """Unweighted mean F1 over ``columns`` (None unless every one was scored)."""
    if not columns or any(c.name not in row for c in columns):
        return None
    return sum(row[c.name]["f1"] for c in columns) / len(columns)


def _overrides_args(overrides: Mapping[str, Any]) -> list[str]:
    return [x for k, v in overrides.items() for x in (f"--{k}", str(v))]


def cell_command(
    data_dir: Path,
    base_config: Path,
    method: Method,
    column: Column,
    overrides: Mapping[str, Any],
    cache_dir: Path | None,
    extra_parallel: Sequence[tuple[Path, Path]],
    ner_model: str | None = None,
    ntrex: bool = True,
) -> str:
    """The ``xner eval-projection`` command that reproduces one cell."""
    args = ["xner", "eval-projection", "--data-dir", str(data_dir)]
    args += ["--src", column.src, "--tgt", column.tgt, "--dataset", column.dataset]
    args += ["--config", str(base_config), "--method", str(method.config)]
    if cache_dir is not None:
        args += ["--cache-dir", str(cache_dir)]
    args += [x for s, t in extra_parallel for x in ("--extra-parallel", f"{s}:{t}")]
    if ner_model is not None:
        args += ["--ner-model", ner_model]
    if not ntrex:
        args.append("--no-ntrex")
    return shlex.join(args + _overrides_args(overrides))


def table_command(
    data_dir: Path,
    base_config: Path,
    methods: Sequence[Method],
    columns: Sequence[Column],
    labellers: Sequence[str],
    overrides: Mapping[str, Any],
    cache_dir: Path | None,
    extra_parallel: Sequence[tuple[Path, Path]],
    ner_models: Sequence[str] = (),
    ntrex: bool = True,
) -> str:
    """The ``xner projection-table`` command that regenerates the whole table."""
    args = ["xner", "projection-table", "--data-dir", str(data_dir)]
    args += ["--base-config", str(base_config)]
    args += [x for m in methods for x in ("--method", f"{m.name}={m.config}")]
    args += [x for c in columns for x in ("--column", c.spec)]
    args += [x for spec in labellers for x in ("--labeller", spec)]
    if cache_dir is not None:
        args += ["--cache-dir", str(cache_dir)]
    args += [x for s, t in extra_parallel for x in ("--extra-parallel", f"{s}:{t}")]
    args += [x for spec in ner_models for x in ("--ner-model", spec)]
    if not ntrex:
        args.append("--no-ntrex")
    return shlex.join(args + _overrides_args(overrides))


def needs_ner_model(cfg: Any) -> bool:
    """Whether a method's candidates all come from target NER proposals.

    Such a method projects nothing without ``--ner-model`` for the column, so the table shows
    no figure there rather than a meaningless 0 (a method that pools n-grams with NER
    proposals still projects, and is scored).
    """
    if not isinstance(cfg, Mapping):
        return False
    found = cfg.get("candidates")
    if isinstance(found, Mapping) and found:
        extractors = list(found.values())
        if all(isinstance(e, Mapping) and e.get("@misc") == NER_CANDIDATES for e in extractors):
            return True
    return any(needs_ner_model(v) for v in cfg.values())


def parse_ner_model(spec: str) -> tuple[str, str]:
    """``TGT=MODEL`` → (target language, pipeline name or path)."""
    lang, sep, model = spec.partition("=")
    if not sep or not lang or not model:
        raise ValueError(f"--ner-model expects TGT=MODEL, got {spec!r}")
    return lang, model


def projection_table(
    data_dir: str | Path,
    base_config: str | Path,
    methods: Sequence[Method],
    columns: Sequence[Column],
    *,
    labellers: Sequence[str] = (),
    overrides: Mapping[str, Any] | None = None,
    cache_dir: str | Path | None = None,
    extra_parallel: Sequence[tuple[str | Path, str | Path]] = (),
    ner_models: Sequence[str] = (),
    ntrex: bool = True,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Score every method on every column; returns cells, Markdown and commands.

    ``labellers`` (``LANG=MODEL[:LABEL_MAP]``) set ``[labeller] model`` per source language;
    ``overrides`` (dotted, ``{"aligner.prefix_len": 0}``) apply to every cell. Without
    ``cache_dir`` the prepared records live in a temporary directory for this run only.
    """
    data_dir, base_config = Path(data_dir), Path(base_config)
    overrides = dict(overrides or {})
    extra = [(Path(s), Path(t)) for s, t in extra_parallel]
    per_lang = dict(parse_labeller(spec) for spec in labellers)
    ner_by_tgt = dict(parse_ner_model(spec) for spec in ner_models)
    for m in methods:
        if not m.config.is_file():
            raise FileNotFoundError(f"method {m.name!r}: config not found: {m.config}")
    cells: dict[str, dict[str, dict[str, Any]]] = {m.name: {} for m in methods}
    skipped: dict[str, list[str]] = {}
    with tempfile.TemporaryDirectory(prefix="xner-eval-cache-") as tmp:
        cache = Path(cache_dir) if cache_dir is not None else Path(tmp)
        for column in columns:
            col_overrides = dict(overrides)
            if column.dataset == "masakhaner":
                col_overrides.update(per_lang.get(column.src, {}))
            for m in methods:
                cfg = load_eval_config(base_config, m.config, col_overrides)
                if column.tgt not in ner_by_tgt and needs_ner_model(cfg):
                    skipped.setdefault(m.name, []).append(column.name)
                    if progress is not None:
                        progress(f"{m.name} × {column.name}: skipped (no --ner-model)")
                    continue
                cell = run_projection_eval(
                    data_dir,
                    column.src,
                    column.tgt,
                    cfg,
                    dataset=column.dataset,
                    extra_parallel=extra,
                    cache_dir=cache,
                    ner_model=ner_by_tgt.get(column.tgt),
                    ntrex=ntrex,
                )
                cell["command"] = cell_command(
                    data_dir,
                    base_config,
                    m,
                    column,
                    col_overrides,
                    Path(cache_dir) if cache_dir is not None else None,
                    extra,
                    ner_by_tgt.get(column.tgt),
                    ntrex,
                )
                cells[m.name][column.name] = cell
                if progress is not None:
                    progress(
                        f"{m.name} × {column.name}: F1 {100 * cell['f1']:.1f} "
                        f"({cell['matched']}/{cell['total']} matched, {cell['seconds']} s, "
                        f"cache {cell['cache']})"
                    )
    masakhaner = [c for c in columns if c.dataset == "masakhaner"]
    return {
        "command": table_command(
            data_dir,
            base_config,
            methods,
            columns,
            labellers,
            overrides,
            Path(cache_dir) if cache_dir is not None else None,
            extra,
            ner_models,
            ntrex,
        ),
        "methods": {m.name: str(m.config) for m in methods},
        "columns": [dataclasses.asdict(c) for c in columns],
        "cells": cells,
        "skipped_no_ner_model": skipped,
        "average_masakhaner_f1": {m.name: average_f1(cells[m.name], masakhaner) for m in methods},
        "markdown": markdown_table(cells, methods, columns),
    }
