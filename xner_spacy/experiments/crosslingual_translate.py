"""The cross-lingual benchmark's projection-based translate-train data (see
:mod:`xner_spacy.experiments.crosslingual`): NTREX-128 pairs of the first source and the target,
labelled by the first seed's teacher, aligned (once and shared by every seed, or once per seed
with ``align_per_seed``: eflomal takes no seed), projected and converted to a DocBin.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from .crosslingual_data import BenchmarkSettings, test_files, variant_folder
from .job_running import cached_step


def translate_train_dir(settings: BenchmarkSettings, variant: str, target: str) -> Path:
    """The translate-train data of a target and variant shared by every seed."""
    return settings.corpus_dir / target / f"translate_train_{variant_folder(settings, variant)}"


def tt_silver_dir(settings: BenchmarkSettings, variant: str, target: str, seed: int) -> Path:
    """Where seed ``seed``'s translate-train student finds its silver data: the shared folder,
    or with ``align_per_seed`` a folder of the seed's own alignment."""
    shared = translate_train_dir(settings, variant, target)
    return shared / f"seed{seed}" if settings.align_per_seed else shared


def has_ntrex(settings: BenchmarkSettings, target: str) -> bool:
    """Whether NTREX-128 has both the first source of ``target`` and ``target``."""
    from ..language_codes import to_iso3

    if settings.ntrex_dir is None:
        return False
    langs = (settings.sources_for(target)[0], target)
    return all((settings.ntrex_dir / f"{to_iso3(lang)}.txt").is_file() for lang in langs)


class _PipelineLabeller:
    """Entities of any spaCy pipeline that sets ``doc.ents`` (here: a student teacher)."""

    def __init__(self, model: Path) -> None:
        self.model = model
        self._nlp: Any = None

    def label(self, sentences: Iterable[Sequence[str]]) -> Any:
        import spacy

        from ..labelling.spacy_labeller import predict_entities

        if self._nlp is None:
            self._nlp = spacy.load(self.model)
        return predict_entities(self._nlp, (list(s) for s in sentences))


def build_translate_train(
    settings: BenchmarkSettings, variant: str, target: str, seed: int, teacher: Path
) -> dict[str, Any]:
    """NTREX-128 first source → target: label, align, project, convert (resumable steps).

    Test sentences of the target (in-domain and shift files) are removed from the pairs. The
    pairs and their labels (by ``teacher``, the first seed's) are shared by every seed; the
    alignment and what follows it are too, unless ``align_per_seed`` (then ``seed`` draws its
    own, in :func:`tt_silver_dir`). Returns the steps' counts.
    """
    from spacy.util import load_config

    from ..registry import resolve_section
    from ..runner.batch_steps import align_records, convert_records, label_records, project_records
    from ..runner.multisource_steps import prepare_ntrex

    assert settings.ntrex_dir is not None
    source = settings.sources_for(target)[0]
    folder = translate_train_dir(settings, variant, target)
    folder.mkdir(parents=True, exist_ok=True)
    log: dict[str, Any] = {"source": source}
    pairs, labelled = folder / "pairs.jsonl", folder / "labelled.jsonl"
    exclude = list(test_files(settings, target).values())
    prepare = partial(
        prepare_ntrex, settings.ntrex_dir.parent, source, target, pairs, exclude=exclude
    )
    ran = cached_step(pairs, "prepare", prepare, log, {"exclude": exclude})
    label = partial(label_records, pairs, labelled, _PipelineLabeller(teacher))
    ran = cached_step(
        labelled, "label", label, log, {"teacher": teacher}, force=ran, models=[teacher]
    )
    silver = tt_silver_dir(settings, variant, target, seed)
    silver.mkdir(parents=True, exist_ok=True)
    aligned, projected = silver / "aligned.jsonl", silver / "projected.jsonl"
    cfg = load_config(settings.projection_config, interpolate=True)
    aligner, projector = resolve_section(cfg, "aligner"), resolve_section(cfg, "projector")
    align = partial(align_records, labelled, aligned, aligner)
    configs = [settings.projection_config]
    draw = {"draw": f"seed{seed}" if settings.align_per_seed else "shared"}
    ran = cached_step(aligned, "align", align, log, draw, force=ran, configs=configs)
    project = partial(project_records, aligned, projected, projector)
    ran = cached_step(projected, "project", project, log, force=ran, configs=configs)
    convert = partial(convert_records, projected, silver)
    cached_step(silver / "train.spacy", "convert", convert, log, force=ran)
    log["silver"] = str(silver)
    return log
