"""``xner package-meta`` and ``xner package``: model cards that show the gold test score.

``spacy package`` alone copies a trained pipeline's meta into the package, so its README shows
the *silver* dev score as "Accuracy" and "n/a" as sources. These commands write the meta
from the gold metrics of ``xner evaluate`` and the data the model was made from (see
:mod:`xner_spacy.packaging.model_card`), and fail if the gold metrics are missing.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import typer

from .app import app
from .common import STATS_OPT, emit_summary, fail, setup_logging

logger = logging.getLogger("xner_spacy")

_METRICS = typer.Option(
    ..., help="Gold metrics JSON of this pipeline from `xner evaluate` (required: no silver score)"
)
_BASE_META = typer.Option(
    None, exists=True, dir_okay=False, help="Meta to start from: description, author, licence"
)
_PARALLEL = typer.Option(
    [], help="Parallel corpus the silver data came from (data path or name; repeatable)"
)
_LABELLER = typer.Option(None, help="Source labeller: a pipeline directory or an installed name")
_LABELLER_DATA = typer.Option(
    [],
    help="Gold data a labeller trained here (a directory --labeller) learned from, e.g. "
    "<data>/source_ner/en/train.txt (repeatable); ignored for an installed labeller, whose "
    "own meta names its data",
)
_LABELLER_BASE = typer.Option(
    [],
    help="Pipeline the encoder of a labeller trained here started from, e.g. en_core_web_sm "
    "(repeatable; ignored for an installed labeller). The pipeline's own transformer and "
    "vectors are read from its config",
)
_LABELLER_CONFIG = typer.Option(
    None,
    exists=True,
    dir_okay=False,
    help="Training config of a labeller trained here: --labeller-base is named only when this "
    "config reads ${paths.base} (e.g. the main job's configs/source_<arch>.cfg)",
)
_PROJECTION_CONFIG = typer.Option(
    None,
    exists=True,
    dir_okay=False,
    help="Config whose [aligner], [projector] (and corpus-level) sections made the silver data",
)
_TEST_NAME = typer.Option(None, help="Name of the gold test set (default: from its path)")


def _meta(
    model: Path,
    metrics: Path,
    base_meta: Path | None,
    parallel: list[str],
    labeller: str | None,
    labeller_data: list[str],
    labeller_base: list[str],
    labeller_config: Path | None,
    projection_config: Path | None,
    test_name: str | None,
) -> dict[str, Any]:
    from ..packaging.model_card import build_meta
    from .encoder_commands import config_reads

    if labeller_base and labeller_config and not config_reads(labeller_config, "paths.base"):
        logger.info("%s does not read ${paths.base}: not naming %s", labeller_config, labeller_base)
        labeller_base = []

    base = json.loads(base_meta.read_text(encoding="utf8")) if base_meta else None
    return build_meta(
        model,
        metrics,
        base_meta=base,
        parallel=parallel,
        labeller=labeller,
        labeller_data=labeller_data,
        labeller_base=labeller_base,
        projection_config=projection_config,
        test_name=test_name,
    )


@app.command("package-meta")
def package_meta_cmd(
    model: Path = typer.Argument(..., exists=True, file_okay=False, help="Trained pipeline"),
    output: Path = typer.Argument(..., help="meta.json to write (for spacy package --meta-path)"),
    metrics: Path = _METRICS,
    meta: Path | None = _BASE_META,
    parallel: list[str] = _PARALLEL,
    labeller: str | None = _LABELLER,
    labeller_data: list[str] = _LABELLER_DATA,
    labeller_base: list[str] = _LABELLER_BASE,
    labeller_config: Path | None = _LABELLER_CONFIG,
    projection_config: Path | None = _PROJECTION_CONFIG,
    test_name: str | None = _TEST_NAME,
) -> None:
    """Package meta with the gold test scores, the sources and their licences, and the method.

    Pass it to `spacy package --meta-path`: the README spaCy writes then shows the gold F1 as
    Accuracy (the silver dev score only as such), the sources and the known limits.
    """
    from ..packaging.model_card import PackagingError, write_meta

    try:
        data = _meta(model, metrics, meta, parallel, labeller, labeller_data, labeller_base,
                     labeller_config, projection_config, test_name)  # fmt: skip
    except (PackagingError, OSError) as err:
        raise fail(err) from err
    write_meta(data, output)
    typer.echo(f"gold F1 {100 * data['performance']['ents_f']:.1f} → {output}")


@app.command("package")
def package_cmd(
    model: Path = typer.Argument(..., exists=True, file_okay=False, help="Trained pipeline"),
    output_dir: Path = typer.Argument(..., help="Parent folder of the package (e.g. packages)"),
    name: str = typer.Option(..., help="Package name, e.g. xner_yor (installs as xx_xner_yor)"),
    version: str = typer.Option(..., help="Package version"),
    metrics: Path = _METRICS,
    meta: Path | None = _BASE_META,
    parallel: list[str] = _PARALLEL,
    labeller: str | None = _LABELLER,
    labeller_data: list[str] = _LABELLER_DATA,
    labeller_base: list[str] = _LABELLER_BASE,
    labeller_config: Path | None = _LABELLER_CONFIG,
    projection_config: Path | None = _PROJECTION_CONFIG,
    test_name: str | None = _TEST_NAME,
    stats: Path | None = STATS_OPT,
) -> None:
    """`spacy package` with the meta of `xner package-meta`, built into a wheel quietly.

    spaCy writes the package folder; pip builds the wheel (PEP 517, offline, no setuptools
    deprecation warnings) into <output-dir>/<lang>_<name>-<version>/dist.
    """
    import time

    from ..packaging.model_card import PackagingError, package

    setup_logging()
    t0 = time.perf_counter()
    try:
        data = _meta(model, metrics, meta, parallel, labeller, labeller_data, labeller_base,
                     labeller_config, projection_config, test_name)  # fmt: skip
        wheel = package(model, output_dir, data, name=name, version=version)
    except (PackagingError, OSError) as err:
        raise fail(err) from err
    summary = {
        "wheel": str(wheel),
        "gold_test": data["performance"]["gold_test"]["name"],
        "gold_f1": data["performance"]["ents_f"],
        "silver_dev_f1": data["performance"].get("silver_dev", {}).get("ents_f"),
        "sources": [s["name"] for s in data["sources"]],
    }
    emit_summary("package", summary, stats, t0)
