"""`xner translate` on a tiny random NLLB model, and `xner refine` from the command line."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from xner_spacy.cli import app
from xner_spacy.io.records import read_records, write_records
from xner_spacy.types import PairRecord

runner = CliRunner()
REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "configs/translate.cfg"


def _overrides(model: Path, cache: Path) -> list[str]:
    return [
        "--translator.model", str(model), "--translator.cache", str(cache),
        "--translator.num_beams", "1", "--translator.max_length", "6",
        "--translator.device", "cpu",
    ]  # fmt: skip


def test_translate_train_and_resume_from_cache(tiny_nllb_dir: Path, tmp_path: Path) -> None:
    sents = tmp_path / "sents.en.txt"
    sents.write_text("Ada went to Lagos.\nBola works for Shell.\n\nChidi is here.\n", "utf8")
    out, cache, stats = tmp_path / "pairs.jsonl", tmp_path / "mt.jsonl", tmp_path / "s.json"
    args = ["translate", str(sents), str(out), "--src", "en", "--tgt", "yo", "--config",
            str(CONFIG), "--back-translate", "--stats", str(stats)]  # fmt: skip
    result = runner.invoke(app, args + _overrides(tiny_nllb_dir, cache))
    assert result.exit_code == 0, result.output
    recs = list(read_records(out))
    assert [r.src_words[0] for r in recs] == ["Ada", "Bola", "Chidi"]
    assert all(isinstance(r.meta["back_translation"], list) for r in recs)
    summary = json.loads(stats.read_text())
    assert summary["step"] == "translate" and summary["records"] == 3
    # 3 translations, then one back-translation per distinct non-empty translation
    distinct = {r.meta["tgt_text"] for r in recs if r.meta["tgt_text"].strip()}
    assert summary["translator"]["translated"] == 3 + len(distinct)
    # rerun: everything comes from the cache, output identical
    again = runner.invoke(app, args + _overrides(tiny_nllb_dir, cache))
    assert again.exit_code == 0, again.output
    assert json.loads(stats.read_text())["translator"]["translated"] == 0
    assert [r.to_dict() for r in read_records(out)] == [r.to_dict() for r in recs]


def test_translate_test_mode(tiny_nllb_dir: Path, tmp_path: Path) -> None:
    sents = tmp_path / "sents.yo.txt"
    sents.write_text("Ada lo si Lagos lana .\n", "utf8")
    out = tmp_path / "tt.jsonl"
    args = ["translate", str(sents), str(out), "--src", "en", "--tgt", "yo", "--mode", "test",
            "--config", str(CONFIG)]  # fmt: skip
    result = runner.invoke(app, args + _overrides(tiny_nllb_dir, tmp_path / "c.jsonl"))
    assert result.exit_code == 0, result.output
    (rec,) = read_records(out)
    assert rec.tgt_words == ["Ada", "lo", "si", "Lagos", "lana", "."]
    assert rec.meta["translated"] == "src"


def test_language_without_code_is_a_one_line_error(tiny_nllb_dir: Path, tmp_path: Path) -> None:
    sents = tmp_path / "s.txt"
    sents.write_text("How you dey\n", "utf8")
    out = tmp_path / "o.jsonl"
    args = ["translate", str(sents), str(out), "--src", "pcm", "--tgt", "en", "--mode", "train",
            "--config", str(CONFIG)]  # fmt: skip
    result = runner.invoke(app, args + _overrides(tiny_nllb_dir, tmp_path / "c.jsonl"))
    assert result.exit_code == 1
    assert "lang_codes" in result.output and "Traceback" not in result.output
    assert not out.exists()


def test_refine_command(tmp_path: Path) -> None:
    rec = PairRecord(
        "a", "en", "yo", ["Ada", "visited", "Lagos"], ["Ada", "si", "Eko"],
        alignment=[(0, 0), (2, 1)],
        meta={"back_translation": ["Ada", "to", "Lagos"], "bt_alignment": [[0, 0], [2, 2]]},
    )  # fmt: skip
    path, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_records(path, [rec])
    args = ["refine", str(path), str(out), "--config", str(CONFIG), "--refiner.rule", "replace"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    (got,) = read_records(out)
    assert got.alignment == [(0, 0), (2, 2)]
