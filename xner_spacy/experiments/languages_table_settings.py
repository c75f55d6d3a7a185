"""What ``xner languages-table`` runs: the languages, labellers, variants, seeds, overrides.

:class:`LanguagesSettings` holds the options of :func:`.languages_table.run_languages` and checks
them before anything runs; the ``parse_*`` functions read the command line's items.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .distillation import SourceSpec as Labeller
from .languages_table_report import DIRECT, DISTIL

#: Gold test split of a target language, relative to the data directory.
TEST_PATTERN = "masakhaner2/{lang}/test.txt"
#: Parallel text of a source–target pair, relative to the data directory.
PARALLEL_PATTERN = "mafand/{src}-{lang}"
#: Settings that ``seeds`` sets: refused in the options passed to ``spacy train``.
SEED_KEYS = frozenset({"system.seed", "training.seed"})


@dataclass
class LanguagesSettings:
    """What :func:`run_languages` runs; see ``xner languages-table --help``."""

    data_dir: Path
    languages: list[str]
    labellers: list[Labeller]
    variants: dict[str, Path]
    work_dir: Path
    projection_config: Path = Path("configs/projection.cfg")
    encoder: str | None = None
    steps: int = 2000
    eval_frequency: int = 250
    gpu_id: int = -1
    doubtful: str = "drop"
    direct: bool = True
    extra_args: list[str] = field(default_factory=list)
    #: Teachers of the distilled student: ``direct`` (the source labeller) and/or variant names.
    distil_teachers: list[str] = field(default_factory=list)
    distil_config: Path = Path("configs/student_encoder.cfg")
    #: ``xner target-text --source`` values: where the unlabelled target text comes from.
    text_sources: list[str] = field(default_factory=lambda: ["masakhaner-train"])
    #: Rerun every step; or keep every existing output even where its fingerprint differs.
    force: bool = False
    reuse_stale: bool = False
    #: Training seeds (``--system.seed``): every variant and the student are trained per seed.
    seeds: list[int] = field(default_factory=lambda: [0])
    #: Settings of one trained column only: ``{name: {"section.key": value}}``, given to its
    #: ``spacy train`` after ``extra_args`` (which every ``spacy train`` gets).
    variant_overrides: dict[str, dict[str, str]] = field(default_factory=dict)
    #: Resamples of each language's test sentences for the intervals and comparisons; their seed.
    bootstrap: int = 1000
    bootstrap_seed: int = 0

    def check(self) -> None:
        if not self.languages:
            raise ValueError("no target language given")
        if not self.labellers:
            raise ValueError("no source labeller given (--labeller LANG=MODEL[:MAP])")
        if not self.variants:
            raise ValueError("no target config given (--variant NAME=CONFIG)")
        for name, config in self.variants.items():
            if name in (DIRECT, DISTIL):
                raise ValueError(f"variant name {name!r} is reserved (a table column)")
            if not Path(config).is_file():
                raise ValueError(f"variant {name!r}: config {config} does not exist")
        if not Path(self.projection_config).is_file():
            raise ValueError(f"projection config {self.projection_config} does not exist")
        for teacher in self.distil_teachers:
            if teacher != DIRECT and teacher not in self.variants:
                known = ", ".join([DIRECT, *self.variants])
                raise ValueError(f"distillation teacher {teacher!r} is none of: {known}")
        if self.distil_teachers and not Path(self.distil_config).is_file():
            raise ValueError(f"distillation config {self.distil_config} does not exist")
        if self.steps < 1 or self.eval_frequency < 1:
            raise ValueError("steps and eval_frequency must be >= 1")
        self._check_seeds_and_overrides()
        for lang in self.languages:
            test = self.data_dir / TEST_PATTERN.format(lang=lang)
            if not test.is_file():
                raise ValueError(f"{lang}: no gold test split at {test}")
            self.source_of(lang)

    def _check_seeds_and_overrides(self) -> None:
        if not self.seeds or len(set(self.seeds)) < len(self.seeds) or min(self.seeds) < 0:
            raise ValueError(f"seeds must be distinct integers >= 0, got {self.seeds}")
        if self.bootstrap < 1:
            raise ValueError(f"the bootstrap needs at least 1 resample, got {self.bootstrap}")
        trained = [*self.variants, *([DISTIL] if self.distil_teachers else [])]
        for name, overrides in self.variant_overrides.items():
            if name not in trained:
                raise ValueError(f"override of {name!r}, which is none of: {', '.join(trained)}")
            if SEED_KEYS & set(overrides):
                raise ValueError(f"override of {name!r}: the seeds are set by --seeds")
        given = {arg[2:].partition("=")[0] for arg in self.extra_args if arg.startswith("--")}
        if SEED_KEYS & given:
            found = ", ".join(f"--{k}" for k in sorted(SEED_KEYS & given))
            raise ValueError(f"{found}: the training seeds are set by --seeds")

    def source_of(self, lang: str) -> Labeller:
        """The first labeller whose language has parallel text with ``lang``."""
        for labeller in self.labellers:
            if (self.data_dir / PARALLEL_PATTERN.format(src=labeller.lang, lang=lang)).is_dir():
                return labeller
        tried = ", ".join(
            str(self.data_dir / PARALLEL_PATTERN.format(src=lab.lang, lang=lang))
            for lab in self.labellers
        )
        raise ValueError(f"{lang}: no parallel text with a labelled source language ({tried})")


def parse_variants(values: Sequence[str]) -> dict[str, Path]:
    """``NAME=CONFIG`` items into an ordered mapping (names unique)."""
    out: dict[str, Path] = {}
    for value in values:
        name, sep, config = value.partition("=")
        if not sep or not name.strip() or not config.strip():
            raise ValueError(f"expected NAME=CONFIG, got {value!r}")
        if name.strip() in out:
            raise ValueError(f"variant {name.strip()!r} given twice")
        out[name.strip()] = Path(config.strip())
    return out


def parse_seeds(value: str) -> list[int]:
    """``0,1,2`` into ``[0, 1, 2]`` (distinct integers >= 0)."""
    try:
        seeds = [int(x) for x in value.split(",") if x.strip()]
    except ValueError:
        raise ValueError(f"expected comma-separated integer seeds, got {value!r}") from None
    if not seeds or len(set(seeds)) < len(seeds) or min(seeds) < 0:
        raise ValueError(f"expected distinct integer seeds >= 0, got {value!r}")
    return seeds


def parse_variant_overrides(values: Sequence[str]) -> dict[str, dict[str, str]]:
    """``NAME:section.key=value`` items into ``{name: {"section.key": value}}``: settings
    given to one variant's ``spacy train`` only (``value`` as on spaCy's command line)."""
    out: dict[str, dict[str, str]] = {}
    for item in values:
        name, _, setting = item.partition(":")
        key, sep, value = setting.partition("=")
        name, key = name.strip(), key.strip()
        if not name or not sep or "." not in key or key.startswith(("-", ".")) or not value:
            raise ValueError(f"expected NAME:section.key=value, got {item!r}")
        if key in out.get(name, {}):
            raise ValueError(f"{name}:{key} given twice")
        out.setdefault(name, {})[key] = value
    return out
