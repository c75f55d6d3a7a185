"""Intrinsic projection evaluation: joining test sentences to parallel text, cache, CLI, table."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest
import spacy
from typer.testing import CliRunner

from xner_spacy.cli.app import app
from xner_spacy.experiments.projection_eval import (
    aligner_corpus,
    europarl_records,
    evaluate_projection,
    load_eval_config,
    match_test_to_parallel,
    prepare_eval_records,
)
from xner_spacy.experiments.projection_table import Column, Method, markdown_table, parse_labeller
from xner_spacy.labelling.spacy_labeller import SpacyLabeller
from xner_spacy.projection.heuristic_projection import HeuristicProjector
from xner_spacy.types import Entity, PairRecord

REPO = Path(__file__).resolve().parents[2]

# (MasakhaNER-style tokenised target with tags, how it appears in MAFAND, English source)
TEST_SENTENCES = [
    # curly quotes and attached punctuation in MAFAND: only the loose key matches
    ('Ada/PER lo si "/O Lagos/LOC "/O lana .', "Ada lo si “Lagos” lana.", "Ada went to Lagos."),
    # tokenisation only: the strict key matches
    (
        "Bola/PER n sise fun Shell/ORG bayi .",
        "Bola n sise fun Shell bayi.",
        "Bola works for Shell.",
    ),
    # DATE is dropped from the gold entities
    (
        "Chidi/PER ri Abuja/LOC ni 2020/DATE .",
        "Chidi ri Abuja ni 2020.",
        "Chidi saw Abuja in 2020.",
    ),
    # absent from MAFAND
    ("Kano/LOC dara pupo .", None, None),
    # a piece of a longer MAFAND line (loose key >= 24 characters)
    (
        "Dangote/ORG kede ise tuntun ni Kano/LOC loni .",
        "Dangote kede ise tuntun ni Kano loni. Awon eniyan yo.",
        "Dangote announced new work in Kano today. People rejoiced.",
    ),
]
FILLER = [
    ("Ada saw Bola today.", "Ada ri Bola loni."),
    ("the people of Kano like Chidi.", "awon eniyan Kano feran Chidi."),
    ("Bola went to Abuja yesterday.", "Bola lo si Abuja lana."),
]
EUROPARL = [
    # (en tokens/tags, es tokens/tags)
    ("Mr/O Barroso/PER visited Spain/LOC .", "El/O señor/O Barroso/PER visitó/O España/LOC ."),
    ("the Euro/MISC and the Commission/ORG", "el/O Euro/MISC y/O la/O Comisión/ORG"),
    ("Europeans/MISC love Paris/LOC", "Los/O europeos/MISC aman/O París/LOC"),
]


def _conll(lines: Sequence[str], sep: str = " ") -> str:
    out = []
    for line in lines:
        for tok in line.split():
            word, _, label = tok.partition("/")
            out.append(f"{word}{sep}{'B-' + label if label and label != 'O' else 'O'}")
        out.append("")
    return "\n".join(out) + "\n"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory with the layout of ../shared/data: target 'zzz', source 'en'."""
    root = tmp_path_factory.mktemp("evaldata")
    test = root / "masakhaner2/zzz/test.txt"
    test.parent.mkdir(parents=True)
    test.write_text(_conll([t[0] for t in TEST_SENTENCES]), encoding="utf8")
    mafand = root / "mafand/en-zzz"
    mafand.mkdir(parents=True)
    pairs = [(en, zzz) for _, zzz, en in TEST_SENTENCES if zzz is not None]
    # the first two test pairs in train, the others in dev: the join ignores split names
    for split, part in (("train", pairs[:2] + FILLER), ("dev", pairs[2:] + FILLER[:1])):
        (mafand / f"{split}.en").write_text("\n".join(p[0] for p in part) + "\n", "utf8")
        (mafand / f"{split}.zzz").write_text("\n".join(p[1] for p in part) + "\n", "utf8")
    euro = root / "europarl_ner"
    euro.mkdir()
    (euro / "en.conll02").write_text(_conll([e for e, _ in EUROPARL], "\t"), encoding="utf8")
    (euro / "es.conll02").write_text(_conll([s for _, s in EUROPARL], "\t"), encoding="utf8")
    return root


@pytest.fixture(scope="module")
def ruler_model(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A tiny English pipeline whose 'ner' is an entity ruler with OntoNotes labels."""
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler", name="ner")
    ruler.add_patterns(
        [{"label": "PERSON", "pattern": n} for n in ("Ada", "Bola", "Chidi")]
        + [{"label": "GPE", "pattern": n} for n in ("Lagos", "Abuja", "Kano")]
        + [{"label": "ORG", "pattern": n} for n in ("Shell", "Dangote")]
        + [{"label": "NORP", "pattern": "People"}]
    )
    path = tmp_path_factory.mktemp("ruler") / "pipeline"
    nlp.to_disk(path)
    return str(path)


class SameWordAligner:
    """Links words spelt alike (case-insensitive); records what it was asked to align."""

    def __init__(self) -> None:
        self._calls: list[tuple[int, int]] = []  # private: not part of the cache key

    @property
    def calls(self) -> list[tuple[int, int]]:
        return self._calls

    def align(self, src, tgt, extra_src=None, extra_tgt=None):  # type: ignore[no-untyped-def]
        self._calls.append((len(src), len(extra_src or [])))
        return [
            [(i, j) for i, a in enumerate(s) for j, b in enumerate(t) if a.lower() == b.lower()]
            for s, t in zip(src, tgt, strict=True)
        ]


def test_match_counts_keys_pieces_and_gold(data_dir: Path) -> None:
    records, stats = match_test_to_parallel(data_dir, "en", "zzz")
    assert stats.to_dict() == {
        "total": 5,
        "matched": 3,
        "matched_strict": 2,
        "matched_loose": 1,
        "piece_of_longer_line": 1,
        "not_found": 1,
        "duplicate_targets": 0,
        "unmatched": 2,
    }
    first = records[0]
    assert first.tgt_words == ["Ada", "lo", "si", '"', "Lagos", '"', "lana", "."]
    assert first.src_words == ["Ada", "went", "to", "Lagos", "."]
    assert first.meta["gold"] == [[0, 1, "PER"], [4, 5, "LOC"]]
    assert first.meta["match"] == "loose" and first.meta["parallel"] == "train:1"
    assert first.tgt_ents is None and first.src_ents is None
    assert records[2].meta["gold"] == [[0, 1, "PER"], [2, 3, "LOC"]]  # DATE dropped
    assert records[2].meta["parallel"] == "dev:1"
    # the aligner corpus skips the evaluation lines themselves, keeps everything else
    src, tgt = aligner_corpus(data_dir, "en", "zzz", skip=[r.meta["parallel"] for r in records])
    assert len(src) == len(tgt) == 2 + len(FILLER) + 2 + 1 - 3
    assert ["Ada", "saw", "Bola", "today", "."] in src


def test_masakhaner_protocol_labels_aligns_scores_and_caches(
    data_dir: Path, ruler_model: str, tmp_path: Path
) -> None:
    aligner = SameWordAligner()
    labeller = SpacyLabeller(ruler_model, label_map="ontonotes")
    kwargs = {"aligner": aligner, "labeller": labeller, "cache_dir": tmp_path}
    records, info = prepare_eval_records(data_dir, "en", "zzz", **kwargs)  # type: ignore[arg-type]
    assert info["cache"] == "miss" and info["matched"] == 3 and info["total"] == 5
    assert aligner.calls == [(3, 5)]  # 3 evaluation pairs; the 5 other MAFAND pairs as extra
    assert records[0].src_ents == [Entity(0, 1, "PER"), Entity(3, 4, "LOC")]
    metrics = evaluate_projection(records, HeuristicProjector())
    assert metrics["f1"] == 1.0 and metrics["src_entities"] == 6
    assert set(metrics) >= {"precision", "recall", "f1", "per_label", "unlabelled_f1"}
    assert metrics["per_label"]["ORG"]["support"] == 1
    assert records[1].tgt_ents == [Entity(0, 1, "PER"), Entity(4, 5, "ORG")]

    again, info2 = prepare_eval_records(data_dir, "en", "zzz", **kwargs)  # type: ignore[arg-type]
    assert info2["cache"] == "hit" and info2["matched"] == 3
    assert aligner.calls == [(3, 5)]  # not called again
    assert [r.alignment for r in again] == [r.alignment for r in records]
    other = SameWordAligner()
    other.prefix_len = 4  # type: ignore[attr-defined]  (other settings → other cache entry)
    _, info3 = prepare_eval_records(
        data_dir, "en", "zzz", aligner=other, labeller=labeller, cache_dir=tmp_path
    )
    assert info3["cache"] == "miss" and other.calls


def test_europarl_uses_gold_source_and_scores_misc(data_dir: Path) -> None:
    records, stats = europarl_records(data_dir, "en", "es")
    assert stats.matched == stats.total == 3
    assert records[1].src_ents == [Entity(1, 2, "MISC"), Entity(4, 5, "ORG")]
    assert records[1].meta["gold"] == [[1, 2, "MISC"], [4, 5, "ORG"]]
    records, info = prepare_eval_records(
        data_dir, "en", "es", aligner=SameWordAligner(), dataset="europarl"
    )
    assert info["cache"] == "off"
    metrics = evaluate_projection(records, HeuristicProjector(), ("PER", "ORG", "LOC", "MISC"))
    # Euro, Barroso are spelt alike (found); Spain/España, Commission/Comisión, Europeans/europeos
    # are not; Paris/París neither.
    assert metrics["per_label"]["MISC"] == {
        "precision": 1.0,
        "recall": 0.5,
        "f1": 2 / 3,
        "support": 2,
    }
    assert metrics["per_label"]["PER"]["f1"] == 1.0
    assert metrics["src_entities"] == 6 and metrics["gold_entities"] == 6


def _write_config(tmp_path: Path, model: str) -> Path:
    cfg = tmp_path / "eval.cfg"
    cfg.write_text(
        f"""
[labeller]
@misc = "xner.SpacyLabeller.v1"
model = "{model}"
label_map = "conll"

[aligner]
@misc = "xner.FastAlignAligner.v1"

[projector]
@misc = "xner.HeuristicProjector.v1"
variant = "gf2022"
""",
        encoding="utf8",
    )
    return cfg


def test_cli_eval_projection_and_errors(data_dir: Path, ruler_model: str, tmp_path: Path) -> None:
    cfg = _write_config(tmp_path, ruler_model)
    out = tmp_path / "metrics.json"
    args = ["eval-projection", "--data-dir", str(data_dir), "--src", "en", "--tgt", "zzz"]
    result = CliRunner().invoke(
        app,
        [*args, "--config", str(cfg), "--output", str(out), "--labeller.label_map", "ontonotes"],
    )
    assert result.exit_code == 0, result.output
    metrics = json.loads(out.read_text())
    assert set(metrics) >= {"precision", "recall", "f1", "matched", "total", "per_label", "seconds"}
    assert (metrics["matched"], metrics["total"], metrics["src_entities"]) == (3, 5, 6)
    assert list(metrics["per_label"]) == ["PER", "ORG", "LOC"] and 0 <= metrics["f1"] <= 1

    missing = CliRunner().invoke(app, [*args[:-1], "nope", "--config", str(cfg)])
    assert missing.exit_code == 1 and "MasakhaNER 2.0 test not found" in missing.output
    bad = CliRunner().invoke(app, [*args, "--config", str(cfg), "--extra-parallel", "x"])
    assert bad.exit_code != 0 and "SRC_FILE:TGT_FILE" in bad.output


def test_projection_table_rows_columns_and_average(
    data_dir: Path, ruler_model: str, tmp_path: Path
) -> None:
    cfg = _write_config(tmp_path, "not_installed_model")  # replaced by --labeller en=...
    methods = [
        f"gf2022={REPO / 'configs/projection/heuristic_gf2022.cfg'}",
        f"ngram={REPO / 'configs/projection/ngram_greedy.cfg'}",
        f"ner={REPO / 'configs/projection/ner_candidates_corpus.cfg'}",
    ]
    args = ["projection-table", "--data-dir", str(data_dir), "--base-config", str(cfg)]
    args += [x for m in methods for x in ("--method", m)]
    args += ["--column", "zzz:en", "--column", "europarl:en-es"]
    args += ["--labeller", f"en={ruler_model}:ontonotes", "--cache-dir", str(tmp_path / "cache")]
    args += ["--json", str(tmp_path / "t.json"), "--output", str(tmp_path / "t.md")]
    args += ["--ner-model", f"zzz={ruler_model}"]  # none for es: its NER-candidate cell is skipped
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    lines = (tmp_path / "t.md").read_text().splitlines()
    assert lines[0] == "| method | zzz | europarl en-es | avg MasakhaNER |"
    assert lines[2].startswith("| gf2022 | ") and lines[3].startswith("| ngram | ")
    assert lines[4].startswith("| ner | ") and " | – | " in lines[4]
    assert lines[5] == "| *matched / total* | 3 / 5 | 3 / 3 |  |"
    assert lines[7].startswith("– : not scored")
    data = json.loads((tmp_path / "t.json").read_text())
    assert set(data["cells"]) == {"gf2022", "ngram", "ner"}
    assert data["skipped_no_ner_model"] == {"ner": ["europarl en-es"]}
    assert data["cells"]["ner"]["zzz"]["corpus_passes"].keys() >= {"fallback", "propagation"}
    cell = data["cells"]["ngram"]["zzz"]
    assert cell["cache"] == "hit"  # labelled and aligned once per column
    assert data["cells"]["gf2022"]["zzz"]["cache"] == "miss"
    assert "MISC" in data["cells"]["ngram"]["europarl en-es"]["per_label"]
    assert data["average_masakhaner_f1"]["ngram"] == cell["f1"]
    assert "xner eval-projection" in cell["command"] and "--labeller.model" in cell["command"]
    assert data["command"].startswith("xner projection-table")
    assert "Regenerate with" in result.output


def test_specs_and_config_merge(tmp_path: Path) -> None:
    assert Column.parse("lug:en") == Column("lug", "masakhaner", "en", "lug")
    assert Column.parse("europarl:en-es") == Column("europarl en-es", "europarl", "en", "es")
    with pytest.raises(ValueError, match="TGT:SRC"):
        Column.parse("lug")
    assert Method.parse("a=x/b.cfg") == Method("a", Path("x/b.cfg"))
    assert Method.parse("x/b.cfg").name == "b"
    assert parse_labeller("fr=fr_core_news_sm:conll") == (
        "fr",
        {"labeller.model": "fr_core_news_sm", "labeller.label_map": "conll"},
    )
    assert parse_labeller("en=./a:b") == ("en", {"labeller.model": "./a:b"})
    # a method's [projector] replaces the base's whole section (no leftover keys)
    cfg = load_eval_config(
        REPO / "configs/projection.cfg", REPO / "configs/projection/ngram_ilp.cfg"
    )
    assert "variant" not in cfg["projector"] and cfg["projector"]["solver"] == "ilp"
    assert cfg["aligner"]["@misc"] == "xner.EflomalAligner.v1"
    table = markdown_table({"m": {}}, [Method("m", Path("m.cfg"))], [Column.parse("lug:en")])
    assert "| m | – | – |" in table


@pytest.mark.parametrize("method", sorted((REPO / "configs/projection").glob("*.cfg")), ids=str)
def test_shipped_method_configs_resolve(method: Path) -> None:
    from xner_spacy.registry import resolve_section

    cfg = load_eval_config(REPO / "configs/projection.cfg", method)
    projector = resolve_section(cfg, "projector")
    # every method projects the aligned name; NER-candidate methods need the proposed span
    extras = {"ner_spans": [[0, 1, "PER", 1.0]]}
    ents = projector(
        ["Ada", "came"], ["Ada", "wa"], [Entity(0, 1, "PER")], [(0, 0), (1, 1)], extras=extras
    )
    assert ents == [Entity(0, 1, "PER")]
    # the corpus-level sections resolve too, and their passes run on a toy corpus
    from xner_spacy.projection.corpus_passes import SECTIONS, passes_from, run_passes

    parts = {name: resolve_section(cfg, name) for name in SECTIONS if name in cfg}
    before, after = passes_from(**parts, labels=("PER", "ORG", "LOC"))
    records = [
        PairRecord(str(i), "en", "zzz", ["Ada", "came"], ["Ada", "wa"], [Entity(0, 1, "PER")])
        for i in range(2)
    ]
    for r in records:
        r.alignment = [(0, 0), (1, 1)]
        r.meta = dict(extras)
    run_passes(records, before)
    for r in records:
        r.tgt_ents = projector(r.src_words, r.tgt_words, r.src_ents, r.alignment, extras=r.meta)
    changed = run_passes(records, after)
    assert [r.tgt_ents for r in records] == [[Entity(0, 1, "PER")]] * 2
    assert set(changed) == {p.name for p in after} and not any(changed.values())


def test_corpus_method_configs_hold_their_sections() -> None:
    from xner_spacy.projection.corpus_passes import NamePropagation, SupportedFallback
    from xner_spacy.projection.label_consistency import LabelConsistency
    from xner_spacy.registry import resolve_section

    base = REPO / "configs/projection.cfg"
    cfg = load_eval_config(base, REPO / "configs/projection/ner_candidates_corpus.cfg")
    fallback = resolve_section(cfg, "fallback")
    assert isinstance(fallback, SupportedFallback)
    assert (fallback.support, fallback.ner_support, fallback.labels) == ("corpus", True, None)
    assert fallback.projector == HeuristicProjector(variant="gf2022", max_gap=1)
    assert isinstance(resolve_section(cfg, "consistency"), LabelConsistency)
    assert resolve_section(cfg, "propagation") == NamePropagation(0.3, 2, 6)
    cfg = load_eval_config(base, REPO / "configs/projection/heuristic_paper_corpus.cfg")
    assert "fallback" not in cfg
    assert resolve_section(cfg, "consistency") == LabelConsistency(ner_weight=0.0)
    assert resolve_section(cfg, "propagation") == NamePropagation(0.3, 2, 6)
    assert resolve_section(cfg, "projector") == HeuristicProjector(variant="paper")


def test_consistency_votes_over_the_evaluation_corpus() -> None:
    from xner_spacy.projection.label_consistency import LabelConsistency

    def record(i: int, label: str) -> PairRecord:
        return PairRecord(
            id=str(i),
            src_lang="en",
            tgt_lang="zzz",
            src_words=["Otunnu", "spoke"],
            tgt_words=["Otunnu", "yogedde"],
            src_ents=[Entity(0, 1, label), Entity(1, 2, "MISC")],
            alignment=[(0, 0), (1, 1)],
            meta={"gold": [[0, 1, "PER"]]},
        )

    labels = ["PER", "ORG", "LOC", "ORG"]
    plain = evaluate_projection([record(i, x) for i, x in enumerate(labels)], HeuristicProjector())
    assert plain["per_label"]["PER"]["recall"] == 0.25
    records = [record(i, x) for i, x in enumerate(labels)]
    voted = evaluate_projection(records, HeuristicProjector(), consistency=LabelConsistency())
    # ORG has 2 of 4 source votes, PER 1: the vote relabels every occurrence ORG; MISC untouched
    assert voted["f1"] == 0.0
    assert all(r.src_ents[1].label == "MISC" for r in records)
    records = [record(i, x) for i, x in enumerate(["PER", "PER", "LOC", "ORG"])]
    voted = evaluate_projection(records, HeuristicProjector(), consistency=LabelConsistency())
    assert voted["f1"] == 1.0


def test_propagation_raises_recall_over_the_evaluation_corpus() -> None:
    from xner_spacy.projection.corpus_passes import NamePropagation

    def corpus() -> list[PairRecord]:
        def record(i: int, src: str, tgt: str, src_ents: list[Entity]) -> PairRecord:
            return PairRecord(
                id=str(i),
                src_lang="en",
                tgt_lang="zzz",
                src_words=src.split(),
                tgt_words=tgt.split(),
                src_ents=src_ents,
                alignment=[(0, 0), (1, 1)],
                meta={"gold": [[0, 1, "PER"]]},
            )

        return [
            record(0, "Otunnu spoke", "Otunnu yogedde", [Entity(0, 1, "PER")]),
            record(1, "Otunnu went", "Otunnu agenze", [Entity(0, 1, "PER")]),
            # the source labeller missed the name here
            record(2, "Otunnu stayed", "Otunnu yasigadde", []),
        ]

    plain = evaluate_projection(corpus(), HeuristicProjector())
    assert (plain["precision"], plain["recall"]) == (1.0, 2 / 3)
    assert plain["corpus_passes"] == {}
    records = corpus()
    propagated = evaluate_projection(records, HeuristicProjector(), propagation=NamePropagation())
    assert (propagated["precision"], propagated["recall"], propagated["f1"]) == (1.0, 1.0, 1.0)
    assert propagated["corpus_passes"] == {"propagation": 1}
    assert records[2].tgt_ents == [Entity(0, 1, "PER")]
    # only the scored labels propagate (the scored labels fill the part's unset labels)
    records = corpus()
    scored = evaluate_projection(
        records, HeuristicProjector(), ("ORG",), propagation=NamePropagation()
    )
    assert scored["corpus_passes"] == {"propagation": 0} and records[2].tgt_ents == []


def test_cli_eval_projection_reads_the_corpus_sections(
    data_dir: Path, ruler_model: str, tmp_path: Path
) -> None:
    cfg = _write_config(tmp_path, ruler_model)
    args = ["eval-projection", "--data-dir", str(data_dir), "--src", "en", "--tgt", "zzz"]
    args += ["--config", str(cfg), "--labeller.label_map", "ontonotes"]
    args += ["--cache-dir", str(tmp_path / "cache")]
    shipped = REPO / "configs/projection/heuristic_paper_corpus.cfg"
    result = CliRunner().invoke(
        app, [*args, "--method", str(shipped), "--output", str(tmp_path / "a.json")]
    )
    assert result.exit_code == 0, result.output
    metrics = json.loads((tmp_path / "a.json").read_text())
    assert list(metrics["corpus_passes"]) == ["source_vote", "target_vote", "propagation"]
    assert all(isinstance(n, int) and n >= 0 for n in metrics["corpus_passes"].values())
    assert metrics["method"] == str(shipped)
    # a method with [fallback] (and its projector) and no [consistency]
    method = tmp_path / "fallback.cfg"
    method.write_text(
        '[projector]\n@misc = "xner.HeuristicProjector.v1"\nvariant = "paper"\n\n'
        '[fallback]\n@misc = "xner.SupportedFallback.v1"\nsupport = "none"\n\n'
        '[fallback.projector]\n@misc = "xner.HeuristicProjector.v1"\n\n'
        '[propagation]\n@misc = "xner.NamePropagation.v1"\nmin_count = 1\n',
        encoding="utf8",
    )
    result = CliRunner().invoke(
        app, [*args, "--method", str(method), "--output", str(tmp_path / "b.json")]
    )
    assert result.exit_code == 0, result.output
    metrics = json.loads((tmp_path / "b.json").read_text())
    assert list(metrics["corpus_passes"]) == ["fallback", "propagation"]
    assert metrics["cache"] == "hit"  # the same labelled, aligned records as the first run


@pytest.mark.parametrize(
    "method,needs",
    [
        ("ner_candidates", True),
        ("ner_candidates_corpus", True),
        ("fused_ner_greedy", False),  # pools n-grams with NER proposals: projects without one
        ("heuristic_paper_corpus", False),
        ("ngram_ilp", False),
    ],
)
def test_needs_ner_model(method: str, needs: bool) -> None:
    from xner_spacy.experiments.projection_table import needs_ner_model

    cfg = load_eval_config(
        REPO / "configs/projection.cfg", REPO / f"configs/projection/{method}.cfg"
    )
    assert needs_ner_model(cfg) is needs
