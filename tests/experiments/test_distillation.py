"""The distillation experiment's plan: which models, on which data, with which configs."""

from __future__ import annotations

from pathlib import Path

import pytest
from spacy.util import load_config

from xner_spacy.experiments.distillation import (
    ExperimentSettings,
    SourceSpec,
    _job_config,
    eval_sets,
    plan_jobs,
    similarity_weights_for,
)

REPO = Path(__file__).resolve().parents[2]


def _settings(tmp_path: Path, **kwargs: object) -> ExperimentSettings:
    data = tmp_path / "data"
    for name, text in {"eng": "the news of the day\n", "fra": "les nouvelles du jour\n",
                       "deu": "die Nachrichten des Tages\n"}.items():  # fmt: skip
        (data / "ntrex128").mkdir(parents=True, exist_ok=True)
        (data / "ntrex128" / f"{name}.txt").write_text(text, "utf8")
    (data / "masakhaner2" / "yor").mkdir(parents=True)
    (data / "masakhaner2" / "yor" / "test.txt").write_text("Ade B-PER\n\n", "utf8")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "unlabelled.txt").write_text("the day of the news\nthe news\n", "utf8")
    sources = [SourceSpec.parse(s) for s in ("en=m/en:conll", "fr=fr_core_news_md", "de=m/de")]
    return ExperimentSettings(
        data_dir=data,
        target="yor",
        sources=sources,
        corpus_dir=corpus,
        training_dir=tmp_path / "training",
        student_config=REPO / "configs" / "student.cfg",
        distill_config=REPO / "configs" / "distill.cfg",
        **kwargs,  # type: ignore[arg-type]
    )


def test_source_spec_parse() -> None:
    assert SourceSpec.parse("fr=fr_core_news_md") == SourceSpec("fr", "fr_core_news_md", "conll")
    assert SourceSpec.parse("en=a/b:ontonotes").label_map == "ontonotes"
    with pytest.raises(ValueError, match="LANG=MODEL"):
        SourceSpec.parse("fr")


def test_plan_has_teachers_voted_and_distilled_students(tmp_path: Path) -> None:
    first, second = plan_jobs(_settings(tmp_path))
    assert [j.name for j in first] == [
        "teacher_en", "teacher_fr", "teacher_de", "voted_k2", "voted_k3"
    ]  # fmt: skip
    assert [j.name for j in second] == [
        "distill_uniform_k1",
        "distill_uniform_k2",
        "distill_similarity_k2",
        "distill_uniform_k3",
        "distill_similarity_k3",
    ]
    k3 = second[-1]
    assert k3.sources == ["en", "fr", "de"]
    assert list(k3.config["corpora.train.teachers"]) == ["en", "fr", "de"]
    assert k3.config["paths.dev"].endswith("voted/k3/dev.spacy")
    assert k3.weights is not None and sum(k3.weights.values()) == pytest.approx(1.0, abs=1e-3)
    assert second[0].config["paths.dev"].endswith("silver/en/dev.spacy")


def test_configs_written_resolve_with_vectors_option(tmp_path: Path) -> None:
    settings = _settings(tmp_path, vectors=tmp_path / "vectors", weightings=("uniform",))
    first, second = plan_jobs(settings)
    for job in (first[0], second[-1]):
        path = tmp_path / job.name / "config.cfg"
        path.parent.mkdir(parents=True)
        _job_config(settings, job).to_disk(path)
        cfg = load_config(path, interpolate=True)
        assert cfg["components"]["tok2vec"]["model"]["embed"]["include_static_vectors"] is True
        assert cfg["initialize"]["vectors"] == str(tmp_path / "vectors")
    cfg = load_config(tmp_path / second[-1].name / "config.cfg", interpolate=True)
    teachers = cfg["corpora"]["train"]["teachers"]
    assert teachers["de"]["model"].endswith("teacher_de/model-best")
    assert cfg["corpora"]["train"]["labels"] == ["LOC", "ORG", "PER"]


def test_similarity_weights_favour_the_closer_reference(tmp_path: Path) -> None:
    weights = similarity_weights_for(_settings(tmp_path), ["en", "fr", "de"])
    assert max(weights, key=weights.__getitem__) == "en"


def test_eval_sets_say_when_wikiann_is_missing(tmp_path: Path) -> None:
    found = eval_sets(_settings(tmp_path).data_dir, "yor")
    assert found["masakhaner"] is not None and found["wikiann"] is None


def test_bad_settings(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="weightings"):
        _settings(tmp_path / "a", weightings=("best",))


def test_data_steps_resume_unless_params_change_or_an_earlier_step_ran(tmp_path: Path) -> None:
    from xner_spacy.experiments.job_running import cached_step

    calls: list[str] = []

    def make(name: str, path: Path):  # a step writing its output file
        def run() -> dict:
            calls.append(name)
            path.write_text(name, "utf8")
            return {"n": len(calls)}

        return run

    out, log = tmp_path / "a.txt", {}
    assert cached_step(out, "a", make("a", out), log, {"limit": 1}) is True
    assert cached_step(out, "a", make("a", out), log, {"limit": 1}) is False  # resumed
    assert log["a"]["params"] == {"limit": 1}
    assert cached_step(out, "a", make("a", out), log, {"limit": 2}) is True  # params changed
    assert cached_step(out, "a", make("a", out), log, {"limit": 2}, force=True) is True
    assert calls == ["a", "a", "a"]


def test_agreement_order_sorts_sources(tmp_path: Path) -> None:
    from xner_spacy.experiments.distillation import order_sources_by_agreement
    from xner_spacy.io.records import write_records
    from xner_spacy.types import Entity, PairRecord

    settings = _settings(tmp_path, order="agreement")
    spans = {"en": [Entity(0, 1, "PER")], "fr": [], "de": [Entity(0, 1, "PER")]}
    for lang, ents in spans.items():
        folder = settings.corpus_dir / "silver" / lang
        folder.mkdir(parents=True)
        rec = PairRecord("ntrex:1", lang, "yor", ["x"], ["Ade"], tgt_ents=ents)
        write_records(folder / "projected.jsonl", [rec])
    result: dict = {}
    order_sources_by_agreement(settings, result)
    assert result["sources"] == ["en", "de", "fr"]
    assert [s.lang for s in settings.sources] == ["en", "de", "fr"]
    with pytest.raises(ValueError, match="source order"):
        _settings(tmp_path / "b", order="best")
