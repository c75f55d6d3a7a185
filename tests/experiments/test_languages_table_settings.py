"""The languages table's settings: seeds, per-variant overrides, and what is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from xner_spacy.experiments.languages_table_settings import (
    Labeller,
    LanguagesSettings,
    parse_seeds,
    parse_variant_overrides,
)

REPO = Path(__file__).resolve().parents[2]


def test_seeds_parse_as_distinct_integers() -> None:
    assert parse_seeds("0") == [0]
    assert parse_seeds("0, 1,2") == [0, 1, 2]
    for bad in ("", "a", "0,0", "-1", "1.5"):
        with pytest.raises(ValueError, match="seeds"):
            parse_seeds(bad)


def test_variant_overrides_parse_per_name_and_key() -> None:
    found = parse_variant_overrides(
        ["encoder_t2:paths.trainable_layers=2", "encoder_t2:training.optimizer.learn_rate=1e-4",
         "distil:paths.trainable_layers=2", "cnn:paths.base=a=b:c"]
    )  # fmt: skip
    assert found == {
        "encoder_t2": {"paths.trainable_layers": "2", "training.optimizer.learn_rate": "1e-4"},
        "distil": {"paths.trainable_layers": "2"},
        "cnn": {"paths.base": "a=b:c"},  # the value is everything after the first '='
    }
    for bad in ("encoder_t2", "encoder_t2:trainable_layers=2", ":paths.x=1", "e:paths.x=",
                "e:--paths.x=1", "e=paths.x:1"):  # fmt: skip
        with pytest.raises(ValueError, match="NAME:section.key=value"):
            parse_variant_overrides([bad])
    with pytest.raises(ValueError, match="twice"):
        parse_variant_overrides(["e:paths.x=1", "e:paths.x=2"])


def _settings(data: Path, tmp_path: Path, **kw: object) -> LanguagesSettings:
    base = dict(
        data_dir=data,
        languages=["zzz"],
        labellers=[Labeller("en", "m_en", "conll")],
        variants={"encoder": REPO / "configs/ner_encoder.cfg"},
        work_dir=tmp_path / "work",
        projection_config=REPO / "configs/projection.cfg",
    )
    base.update(kw)
    return LanguagesSettings(**base)  # type: ignore[arg-type]


def test_seeds_and_overrides_are_checked_before_anything_runs(
    toy_data_dir: Path, tmp_path: Path
) -> None:
    _settings(toy_data_dir, tmp_path, seeds=[0, 1, 2],
              variant_overrides={"encoder": {"paths.trainable_layers": "2"}}).check()  # fmt: skip
    t2 = {"encoder_t2": {"paths.trainable_layers": "2"}}
    with pytest.raises(ValueError, match="override of 'encoder_t2', which is none of: encoder"):
        _settings(toy_data_dir, tmp_path, variant_overrides=t2).check()
    with pytest.raises(ValueError, match="none of: encoder"):  # no student: no 'distil' column
        _settings(toy_data_dir, tmp_path, variant_overrides={"distil": {"paths.x": "1"}}).check()
    _settings(toy_data_dir, tmp_path, distil_teachers=["direct"],
              variant_overrides={"distil": {"paths.x": "1"}}).check()  # fmt: skip
    # the seeds come from --seeds alone: every seed would otherwise train the same model
    for extra in (["--training.seed", "7"], ["--system.seed=7"]):
        with pytest.raises(ValueError, match="set by --seeds"):
            _settings(toy_data_dir, tmp_path, extra_args=extra).check()
    with pytest.raises(ValueError, match="set by --seeds"):
        _settings(toy_data_dir, tmp_path,
                  variant_overrides={"encoder": {"system.seed": "3"}}).check()  # fmt: skip
    for seeds in ([], [1, 1], [-1]):
        with pytest.raises(ValueError, match="seeds must be"):
            _settings(toy_data_dir, tmp_path, seeds=seeds).check()
    with pytest.raises(ValueError, match="at least 1 resample"):
        _settings(toy_data_dir, tmp_path, bootstrap=0).check()
