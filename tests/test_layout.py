"""The package layout: imports run only downwards (import-linter layers), small modules."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "xner_spacy"
MAX_MODULE_LINES = 500


def test_imports_run_only_from_a_higher_layer_to_a_lower_one() -> None:
    """The layers in ``.importlinter`` (drawn in docs/design.md) hold for every module."""
    cli = pytest.importorskip("importlinter.cli")
    cwd = os.getcwd()
    os.chdir(REPO)  # grimp finds the package from the working directory's sys.path entry
    try:
        code = cli.lint_imports(config_filename=str(REPO / ".importlinter"), no_cache=True)
    finally:
        os.chdir(cwd)
    assert code == 0, "import-linter found an import from a lower layer up (run `lint-imports`)"


def test_every_layer_of_the_contract_is_a_package_or_module_that_exists() -> None:
    layers = (REPO / ".importlinter").read_text(encoding="utf8").split("layers =", 1)[1]
    names = [n.strip() for line in layers.splitlines() for n in line.split("|") if n.strip()]
    assert len(names) >= 10
    for name in names:
        path = REPO / name.replace(".", "/")
        assert path.is_dir() or path.with_suffix(".py").is_file(), name
    # every top-level module or package of xner_spacy sits in a layer (registry included)
    top = {p.stem for p in PACKAGE.iterdir() if p.suffix == ".py" and p.stem != "__init__"}
    top |= {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    assert top == {n.split(".")[1] for n in names}


def test_no_module_is_over_500_lines() -> None:
    long = {
        str(p.relative_to(REPO)): n
        for p in PACKAGE.rglob("*.py")
        if (n := len(p.read_text(encoding="utf8").splitlines())) > MAX_MODULE_LINES
    }
    assert not long, long


def test_module_names_are_unique_across_the_package() -> None:
    """A module's name says what it is without its folder (``__init__``/``__main__`` aside)."""
    seen: dict[str, list[str]] = {}
    for p in PACKAGE.rglob("*.py"):
        if p.stem not in ("__init__", "__main__"):
            seen.setdefault(p.stem, []).append(str(p.relative_to(REPO)))
    assert not {k: v for k, v in seen.items() if len(v) > 1}
