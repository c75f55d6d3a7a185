"""Honest model cards: the ``meta.json`` that ``spacy package`` turns into a package's README.

``spacy package`` writes the README of a pipeline package from its meta: the "Accuracy" table
lists the scalar values of ``performance`` (for a trained pipeline, the scores on its dev set:
here *silver*, projected labels), the "Sources" row lists ``sources`` (else "n/a") and
``notes`` is appended as Markdown. :func:`build_meta` fills those fields truthfully:

- ``performance`` holds the **gold** test scores from ``xner evaluate`` (overall and per
  label) and the test set's name; the silver dev score is kept under ``silver_dev`` (outside
  the Accuracy table) and labelled as silver in the notes. Without a gold metrics file it
  fails instead of shipping the silver number;
- ``sources`` lists the parallel corpus, the source labeller and its training data, the
  pretrained encoders and the gold test set, each with its licence;
- ``notes`` says how the model was made (projection method, aligner, source model), the
  per-label gold scores, the sources with their licences and the model's known limits.

:func:`package` then runs spaCy's packaging with that meta and builds the wheel quietly
through pip (PEP 517, no ``setup.py bdist_wheel`` deprecation warnings).
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .data_sources import ENCODERS, LIMITS, identify

logger = logging.getLogger("xner_spacy.packaging.model_card")


class PackagingError(ValueError):
    """A package cannot be described truthfully (missing or wrong gold metrics, bad input)."""


def _dataset_entry(spec: str, role: str) -> dict[str, str]:
    """A ``sources`` entry for a data path (a known dataset) or a named dataset."""
    found = identify(spec)
    if found is None:
        return {"name": str(spec), "url": "", "license": "unknown: check before use", "role": role}
    source, detail = found
    return source.entry(role, detail)


def _pipeline_meta(name_or_path: str) -> dict[str, Any] | None:
    """The meta of a spaCy pipeline given by path or installed package name, if readable."""
    import spacy.util

    path = Path(name_or_path)
    if not path.is_dir():
        if not spacy.util.is_package(name_or_path):
            return None
        path = spacy.util.get_package_path(name_or_path)
    meta_path = path / "meta.json"
    if not meta_path.is_file():
        return None
    return dict(spacy.util.load_meta(meta_path))


def _encoder_entries(spec: str, role: str) -> list[dict[str, str]]:
    """``sources`` entries for a pretrained encoder: a spaCy pipeline (and its sources) or a
    Hugging Face model."""
    meta = _pipeline_meta(spec)
    if meta is not None:
        full = f"{meta.get('lang', '')}_{meta.get('name', '')}"
        name = f"{full if full == spec else spec} {meta.get('version', '')}".strip()
        entries = [
            {
                "name": f"spaCy pipeline {name}",
                "url": meta.get("url", ""),
                "license": meta.get("license") or "unknown: check before use",
                "role": role,
            }
        ]
        for src in meta.get("sources") or []:
            src = src if isinstance(src, dict) else {"name": str(src)}
            entries.append(
                {
                    "name": str(src.get("name", "")),
                    "url": str(src.get("url", "")),
                    "license": str(src.get("license", "see the pipeline's licence")),
                    "role": f"training data of `{spec}`",
                }
            )
        return entries
    known = ENCODERS.get(spec)
    if known is not None:
        return [known.entry(role)]
    return [{"name": spec, "url": "", "license": "unknown: check before use", "role": role}]


def _model_encoders(config: Any) -> list[str]:
    """Pretrained encoders a pipeline config names: transformer models, the frozen encoder of
    ``xner_encoder`` components (its ``model``: hub name or the directory it was trained from;
    the pipeline holds a copy), static vectors."""
    found = []
    for comp in (config.get("components") or {}).values():
        model = comp.get("model") or {}
        if comp.get("factory") == "xner_encoder":
            name = model
        else:
            name = model.get("name") if isinstance(model, dict) else None
        if isinstance(name, str) and name:
            found.append(name)
    vectors = (config.get("initialize") or {}).get("vectors")
    if isinstance(vectors, str) and vectors:
        found.append(vectors)
    return list(dict.fromkeys(found))


#: Components whose code needs an optional extra of xner-spacy at load time.
_FACTORY_EXTRAS = {"xner_encoder": "transformers"}
#: The packages of that extra the component imports (the extra also has aligners' ones).
_EXTRA_PACKAGES = {"transformers": ("torch", "transformers", "sentencepiece")}


def runtime_requirements(config: Any) -> list[str]:
    """pip requirements a pipeline needs beyond spaCy and xner-spacy: for an
    ``xner_encoder`` component, torch and transformers, with the pins of xner-spacy's own
    ``transformers`` extra (read from the installed distribution's metadata, so they never
    drift from setup.cfg). spaCy's ``package`` adds the factories' packages but not these."""
    from importlib.metadata import PackageNotFoundError, requires

    from packaging.requirements import Requirement

    extras = {
        _FACTORY_EXTRAS[comp["factory"]]
        for comp in (config.get("components") or {}).values()
        if comp.get("factory") in _FACTORY_EXTRAS
    }
    if not extras:
        return []
    try:
        declared = [Requirement(r) for r in requires("xner-spacy") or []]
    except PackageNotFoundError as err:  # a source tree used without installing it
        raise PackagingError("xner-spacy is not installed: cannot read its extras") from err
    out = []
    for req in declared:
        for extra in sorted(extras):
            if (
                req.marker is not None
                and req.marker.evaluate({"extra": extra})
                and req.name in _EXTRA_PACKAGES[extra]
            ):
                out.append(f"{req.name}{req.specifier}")
    return sorted(set(out))


def _describe_part(section: Any) -> str:
    """``xner.EflomalAligner.v1 (symmetrization=grow-diag-final-and, ...)`` from a section."""
    name = next((v for k, v in section.items() if k.startswith("@")), "?")
    args = [f"{k}={v}" for k, v in section.items() if not k.startswith("@") and _scalar(v)]
    return f"`{name}`" + (f" ({', '.join(args)})" if args else "")


def _scalar(value: Any) -> bool:
    return isinstance(value, str | int | float | bool) and value is not None


def _load_metrics(path: Path) -> dict[str, Any]:
    """The gold metrics of ``xner evaluate``; anything else is an error."""
    if not path.is_file():
        raise PackagingError(
            f"no gold metrics at {path}: run `xner evaluate MODEL GOLD_TEST --output {path}` "
            "first (a package is not described by its silver dev score)"
        )
    try:
        metrics = json.loads(path.read_text(encoding="utf8"))
    except ValueError as err:
        raise PackagingError(f"{path}: not a JSON metrics file ({err})") from None
    needed = ("precision", "recall", "f1", "per_label", "test", "sentences")
    missing = [k for k in needed if not isinstance(metrics, dict) or k not in metrics]
    if missing:
        raise PackagingError(
            f"{path}: not the output of `xner evaluate` (missing {', '.join(missing)})"
        )
    if not metrics["sentences"]:
        raise PackagingError(f"{path}: the gold test set {metrics['test']} had no sentences")
    return metrics


def dataset_name(test: str) -> str:
    """A readable name for a gold test file: ``MasakhaNER 2.0 (yor/test)``."""
    found = identify(test)
    if found is None:
        return Path(test).name
    source, detail = found
    return f"{source.name} ({detail})" if detail else source.name


def build_meta(
    model_dir: str | Path,
    metrics_path: str | Path,
    *,
    base_meta: dict[str, Any] | None = None,
    parallel: Sequence[str] = (),
    labeller: str | None = None,
    labeller_data: Sequence[str] = (),
    labeller_base: Sequence[str] = (),
    projection_config: str | Path | None = None,
    test_name: str | None = None,
) -> dict[str, Any]:
    """The package meta of the pipeline in ``model_dir``, with its gold scores and sources.

    ``metrics_path`` is the JSON ``xner evaluate`` wrote for this pipeline on a gold test
    set (an error if missing); ``base_meta`` gives description, author, licence, url and
    requirements. ``parallel`` names the parallel corpora (data paths or names),
    ``labeller`` the source model. ``labeller_data`` (its gold training data) and
    ``labeller_base`` (the pipeline its encoder was initialised from) describe a labeller
    trained here (a directory); an installed labeller's own meta names its sources, and they
    are ignored (logged). Pretrained encoders of the pipeline itself (transformers, vectors)
    are read from its config. ``projection_config`` (its ``[aligner]``, ``[projector]`` and
    corpus-level sections) says how the silver data were projected.
    """
    from spacy.util import load_config

    model_dir = Path(model_dir)
    if not (model_dir / "config.cfg").is_file():
        raise PackagingError(f"{model_dir} is not a spaCy pipeline directory (no config.cfg)")
    metrics = _load_metrics(Path(metrics_path))
    model_meta = _pipeline_meta(str(model_dir)) or {}
    model_config = load_config(model_dir / "config.cfg", interpolate=True)
    meta: dict[str, Any] = dict(base_meta or {})
    needs = runtime_requirements(model_config)
    if needs:
        meta["requirements"] = sorted({*meta.get("requirements", []), *needs})

    test = str(metrics["test"])
    name = test_name or dataset_name(test)
    labels = list(metrics.get("labels") or metrics["per_label"])
    per_type = {
        label: {
            "p": scores["precision"],
            "r": scores["recall"],
            "f": scores["f1"],
        }
        for label, scores in metrics["per_label"].items()
    }
    silver = {
        key: value
        for key, value in (model_meta.get("performance") or {}).items()
        if key in ("ents_p", "ents_r", "ents_f", "ents_per_type")
    }
    meta["performance"] = {
        "ents_p": metrics["precision"],
        "ents_r": metrics["recall"],
        "ents_f": metrics["f1"],
        "ents_per_type": per_type,
        "gold_test": {
            "name": name,
            "file": test,
            "sentences": metrics["sentences"],
            "labels": labels,
            "scoring": "exact-span micro P/R/F1 (xner evaluate)",
        },
    }
    if silver:
        meta["performance"]["silver_dev"] = {
            **silver,
            "note": "scores on held-out projected (silver) sentences used to pick the "
            "checkpoint, not on gold labels",
        }

    sources: list[dict[str, str]] = []
    for spec in parallel:
        sources.append(_dataset_entry(spec, "parallel corpus: source side labelled, entities "
                                            "projected onto the target side"))  # fmt: skip
    labeller_local = labeller is None or Path(labeller).is_dir()
    if labeller is not None and not labeller_local:
        sources += _encoder_entries(labeller, "source-language NER model (the labeller)")
        if labeller_data or labeller_base:
            logger.info(
                "%s is an installed pipeline: its meta names its data; ignoring the labeller "
                "data and base given for a labeller trained here",
                labeller,
            )
        labeller_data, labeller_base = (), ()
    for spec in labeller_data:
        sources.append(_dataset_entry(spec, "gold training data of the source labeller"))
    for spec in labeller_base:
        sources += _encoder_entries(spec, "pipeline the source labeller's encoder starts from")
    for spec in _model_encoders(model_config):
        sources += _encoder_entries(spec, "pretrained encoder of this pipeline")
    sources.append(_dataset_entry(test, "gold test set (evaluation only, not used in training)"))
    meta["sources"] = sources
    labels_text = "/".join(metrics["per_label"])
    meta["description"] = (
        f"{meta.get('description', '').strip()} Gold test F1 ({labels_text}, exact span) on "
        f"{name}: {_pct(metrics['f1'])}."
    ).strip()

    method = _method_lines(projection_config, labeller, labeller_data, labeller_base)
    meta["notes"] = _notes(meta, name, metrics, silver, method, model_config)
    if metrics.get("provenance"):  # what `xner evaluate --provenance` recorded
        meta["xner_provenance"] = metrics["provenance"]
        meta["notes"] += _provenance_notes(metrics["provenance"])
    return meta


def _provenance_notes(provenance: dict[str, Any]) -> str:
    """The card's list of what this pipeline came from, each with its fingerprint."""
    out = ["", "### Provenance", "", "Fingerprints of what this pipeline was made from "
           "(`xner identify`; the package's meta.json has them in full):", ""]  # fmt: skip
    for name, value in provenance.items():
        out.append(f"- {name}: `{_short_fingerprint(value)}`")
    return "\n".join(out) + "\n"


def _short_fingerprint(value: Any) -> str:
    import hashlib

    text = json.dumps(value, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf8")).hexdigest()[:16]


def _method_lines(
    projection_config: str | Path | None,
    labeller: str | None,
    labeller_data: Sequence[str],
    labeller_base: Sequence[str],
) -> list[str]:
    """The steps that made the silver training data, as Markdown list items."""
    lines = []
    if labeller is not None:
        how = f"`{labeller}`"
        if Path(labeller).is_dir():
            data = ", ".join(dataset_name(d) for d in labeller_data) or "gold data (not named)"
            how += f", a spaCy NER pipeline trained here on {data}"
            if labeller_base:
                bases = ", ".join(f"`{b}`" for b in labeller_base)
                how += f", its encoder initialised from {bases}"
        else:
            how += ", an installed spaCy pipeline"
        lines.append(f"Source labeller: {how}; it labelled the source side of the parallel text.")
    if projection_config is not None:
        from spacy.util import load_config

        cfg = load_config(Path(projection_config), interpolate=False)
        if "aligner" in cfg:
            lines.append(
                f"Word aligner: {_describe_part(cfg['aligner'])}, trained on the parallel "
                "corpus itself."
            )
        if "projector" in cfg:
            lines.append(
                f"Projection: {_describe_part(cfg['projector'])} maps each source entity to "
                "the target words aligned to it."
            )
        for section in ("consistency", "fallback", "propagation"):
            if section in cfg:
                lines.append(f"Corpus-level pass `[{section}]`: {_describe_part(cfg[section])}.")
    lines.append(
        "Target pipeline: trained with `spacy train` on the projected (silver) sentences, "
        "sentences where a source entity projected nowhere left out."
    )
    return lines


def _pct(x: float) -> str:
    return f"{100 * x:.1f}"


def _notes(
    meta: dict[str, Any],
    test_name: str,
    metrics: dict[str, Any],
    silver: dict[str, Any],
    method: list[str],
    model_config: Any,
) -> str:
    """The Markdown spaCy appends to the generated README: evaluation, method, sources, limits."""
    out = ["### Evaluation", ""]
    out.append(
        f"The Accuracy table above gives exact-span precision, recall and F1 on the **gold** "
        f"{test_name} ({metrics['sentences']} sentences; labels "
        f"{', '.join(metrics['per_label'])}; other gold types ignored). Per label:"
    )
    out += ["", "| Label | P | R | F1 |", "|---|---|---|---|"]
    for label, s in metrics["per_label"].items():
        out.append(f"| {label} | {_pct(s['precision'])} | {_pct(s['recall'])} | {_pct(s['f1'])} |")
    if "ents_f" in silver:
        out += [
            "",
            f"Silver dev F1: {_pct(silver['ents_f'])} (agreement with *projected* labels on "
            "held-out parallel sentences, used to pick the checkpoint; not a gold score).",
        ]
    out += ["", "### How it was made", "", "Annotation projection (translate-train) with "
            "[xner-spacy](https://github.com/xner-spacy/xner-spacy):", ""]  # fmt: skip
    out += [f"{i}. {line}" for i, line in enumerate(method, start=1)]
    out += ["", "### Sources and licences", "", "| Role | Source | Licence |", "|---|---|---|"]
    for src in meta["sources"]:
        name = f"[{src['name']}]({src['url']})" if src.get("url") else src["name"]
        out.append(f"| {src['role']} | {name} | {src['license']} |")
    if meta.get("license"):
        out += ["", f"Package licence: {meta['license']}."]
    out += ["", "### Known limits", ""]
    out += [f"- {line}" for line in LIMITS]
    return "\n".join(out) + "\n"


def write_meta(meta: dict[str, Any], path: str | Path) -> None:
    from ..io.atomic import atomic_write

    with atomic_write(path) as fh:
        fh.write(json.dumps(meta, indent=2, ensure_ascii=False) + "\n")


def package(
    model_dir: str | Path,
    output_dir: str | Path,
    meta: dict[str, Any],
    *,
    name: str | None = None,
    version: str | None = None,
) -> Path:
    """``spacy package`` with ``meta``, then a quiet PEP 517 wheel build; returns the wheel.

    spaCy's own ``--build wheel`` runs ``python -m build`` and, where the ``build`` package
    is missing, falls back to ``setup.py bdist_wheel``, which prints setuptools deprecation
    warnings on every run and needs network access for an isolated build environment. So
    spaCy writes the package directory only (``create_wheel=False``) and
    ``pip wheel --no-build-isolation --no-deps`` builds it, offline and quietly. The package
    folder is made afresh: spaCy's ``--force`` keeps the README.md of an earlier run there,
    so a rebuilt package would show old scores.
    """
    from spacy.cli.package import package as spacy_package

    model_dir, output_dir = Path(model_dir), Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    if name is not None and not name.isidentifier():
        raise PackagingError(f"package name {name!r} is not a Python identifier")
    main = _package_meta_path(model_dir, output_dir, name, version, meta).parent
    if main.exists():  # spaCy would keep a README.md left there by an earlier run
        shutil.rmtree(main)
    with tempfile.TemporaryDirectory() as tmp:
        meta_path = Path(tmp) / "meta.json"
        write_meta(meta, meta_path)
        try:
            spacy_package(
                model_dir, output_dir, meta_path=meta_path, name=name, version=version,
                create_sdist=False, create_wheel=False, require_parent=True, force=True,
                silent=True,
            )  # fmt: skip
        except SystemExit as err:  # spaCy's Printer exits on invalid input
            raise PackagingError(
                f"spacy package failed on {model_dir}; run `python -m spacy package` with the "
                "same arguments to see why"
            ) from err
    dist = main / "dist"
    cmd = [
        sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
        "--no-index", "--wheel-dir", str(dist), str(main),
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise PackagingError(f"building the wheel of {main} failed:\n{proc.stderr[-3000:]}")
    wheels = sorted(dist.glob(f"{re.sub('_+', '_', main.name)}-*.whl"))
    if not wheels:
        raise PackagingError(f"no wheel in {dist} after building {main}")
    return wheels[-1]


def _package_meta_path(
    model_dir: Path, output_dir: Path, name: str | None, version: str | None, meta: dict[str, Any]
) -> Path:
    """The meta.json spaCy wrote into the package directory it made."""
    model_meta = _pipeline_meta(str(model_dir)) or {}
    lang = meta.get("lang") or model_meta.get("lang", "xx")
    pkg_name = name or meta.get("name") or model_meta.get("name", "pipeline")
    if not pkg_name.startswith(f"{lang}_"):
        pkg_name = f"{lang}_{pkg_name}"
    pkg_version = version or meta.get("version") or model_meta.get("version", "0.0.0")
    return output_dir / f"{pkg_name}-{pkg_version}" / "meta.json"
