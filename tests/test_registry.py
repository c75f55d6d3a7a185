"""Every registered xner.* name resolves, by entry point and in the shipped configs."""

from __future__ import annotations

import configparser
from importlib.metadata import entry_points
from pathlib import Path

import pytest
import spacy
from spacy.util import load_config, registry

from xner_spacy.types import Entity

REPO = Path(__file__).resolve().parents[1]


def _setup_cfg_entry_points() -> list[tuple[str, str, str]]:
    cfg = configparser.ConfigParser()
    cfg.read(REPO / "setup.cfg")
    found = []
    for group, body in cfg["options.entry_points"].items():
        if not group.startswith("spacy_"):
            continue
        for line in body.strip().splitlines():
            name, target = (x.strip() for x in line.split("=", 1))
            found.append((group, name, target))
    return found


ENTRY_POINTS = _setup_cfg_entry_points()


def test_every_registered_name_is_an_entry_point() -> None:
    import xner_spacy.registry  # noqa: F401

    declared = {name for _, name, _ in ENTRY_POINTS}
    registered = {
        name
        for reg in (registry.misc, registry.tokenizers, registry.architectures, registry.readers)
        for name in reg.get_all()
        if name.startswith("xner.")
    }
    factories = {
        name
        for name, func in registry.factories.get_all().items()
        if func.__module__.startswith("xner_spacy")
    }
    assert registered | factories == declared


@pytest.mark.parametrize("group,name,target", ENTRY_POINTS)
def test_entry_point_installed_and_resolves(group: str, name: str, target: str) -> None:
    installed = {ep.name: ep.value for ep in entry_points(group=group)}
    assert installed.get(name) == target, "reinstall the package: pip install -e ."
    if group == "spacy_factories":  # spaCy imports these when a Language is created
        assert name in spacy.blank("xx").factory_names
        return
    reg = getattr(registry, group.removeprefix("spacy_"))
    assert callable(reg.get(name))


def test_projection_config_resolves_every_part() -> None:
    cfg = load_config(REPO / "configs/projection.cfg", interpolate=True)
    for section in ("aligner", "projector"):
        part = registry.resolve({section: cfg[section]})[section]
        assert part is not None
    projector = registry.resolve({"p": cfg["projector"]})["p"]
    assert projector(["A", "b"], ["A", "c"], [Entity(0, 1, "PER")], [(0, 0)]) == [(0, 1, "PER")]


def test_candidate_matching_from_config_blocks() -> None:
    block = {
        "@misc": "xner.CandidateMatching.v1",
        "solver": "ilp",
        "candidates": {"ngram": {"@misc": "xner.NgramCandidates.v1", "max_len": 4}},
        "scores": {
            "dice": {"@misc": "xner.AlignmentDice.v1"},
            "string": {"@misc": "xner.StringSimilarity.v1"},
        },
        "weights": {"string": 0.5},
    }
    matcher = registry.resolve({"p": block})["p"]
    ents = matcher(["Ada", "went"], ["Ada", "lo"], [Entity(0, 1, "PER")], [(0, 0), (1, 1)])
    assert ents == [(0, 1, "PER")]
    block["weights"] = {"nope": 1.0}
    with pytest.raises(ValueError, match="unknown scores"):
        registry.resolve({"p": block})
