"""Start-up (issue 26): ``--help`` and usage errors come before spaCy is imported; model-free
steps build no spaCy ``Language`` (whose constructor imports every installed package's
factories: spacy-transformers, transformers, torch); this package's entry points import no
heavy library. The times themselves are in ``benchmarks/startup.py``, not asserted here."""

from __future__ import annotations

import configparser
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import spacy

from xner_spacy.text import blank_parts, tokenize

REPO = Path(__file__).resolve().parents[2]
HEAVY = ("torch", "transformers", "spacy_transformers", "scipy", "sklearn", "simalign")

# Runs xner's main() and reports, at exit, whether spaCy was imported and how many
# Language objects were built.
PROBE = """
import atexit, sys
calls = []
def report():
    print("PROBE", json.dumps({"spacy": "spacy" in sys.modules, "languages": len(calls)}),
          file=sys.stderr)
import json
atexit.register(report)
if "--count-languages" in sys.argv:
    sys.argv.remove("--count-languages")
    import spacy.language
    original = spacy.language.Language.__init__
    def counted(self, *args, **kwargs):
        calls.append(1)
        original(self, *args, **kwargs)
    spacy.language.Language.__init__ = counted
from xner_spacy.cli import main
main()
"""


def probe(*args: str | Path) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *map(str, args)],
        capture_output=True, text=True, cwd=REPO, env=dict(os.environ),
    )  # fmt: skip
    line = next(x for x in proc.stderr.splitlines() if x.startswith("PROBE "))
    return {"returncode": proc.returncode, **json.loads(line.removeprefix("PROBE "))}


def test_help_and_usage_errors_come_before_spacy_is_imported(tmp_path: Path) -> None:
    records = tmp_path / "in.jsonl"
    records.write_text("{}\n")
    (tmp_path / "afile").write_text("x")
    for args in (
        ["--help"],
        ["project", "--help"],
        ["convert", records, tmp_path / "out", "--doubtful", "bogus"],
        ["project", records, tmp_path / "afile" / "out.jsonl"],
        ["evaluate", tmp_path / "no-model", records],
    ):
        result = probe(*args)
        assert result["spacy"] is False, args
        assert result["returncode"] in (0, 2), args


def test_model_free_steps_build_no_spacy_language(tmp_path: Path) -> None:
    gold = tmp_path / "gold.txt"
    gold.write_text("Bola B-PER\nlọ O\n\n", encoding="utf8")
    result = probe("--count-languages", "convert-gold", gold, tmp_path / "gold.spacy")
    assert result == {"returncode": 0, "spacy": True, "languages": 0}
    records = tmp_path / "in.jsonl"
    rec = {"id": "a", "src_words": ["Bola"], "tgt_words": ["Bola"], "src_ents": [[0, 1, "PER"]],
           "alignment": [[0, 0]], "tgt_ents": [[0, 1, "PER"]]}  # fmt: skip
    records.write_text(json.dumps(rec) + "\n")
    fast = "configs/projection_fast.cfg"
    for args in (
        ["project", records, tmp_path / "p.jsonl", "--config", fast],
        ["convert", records, tmp_path / "corpus"],
    ):
        assert probe("--count-languages", *args)["languages"] == 0, args


@pytest.mark.parametrize("lang", ["xx", "en", "fr", "yo", "not-a-code"])
def test_blank_parts_tokenize_as_spacy_blank(lang: str) -> None:
    try:
        nlp = spacy.blank(lang)
    except Exception:
        nlp = spacy.blank("xx")
    text = "Ọ̀gbẹ́ni Bola's book, e.g. U.S.A. — http://x.org/a?b=1 can't (l'homme d'État) 3.5km!"
    assert tokenize(text, lang) == [t.text for t in nlp.tokenizer(text) if not t.is_space]
    assert blank_parts(lang)[0].lang == nlp.vocab.lang


def test_entry_points_import_no_heavy_library_beyond_spacy() -> None:
    cfg = configparser.ConfigParser()
    cfg.read(REPO / "setup.cfg")
    modules = sorted(
        {
            line.split("=", 1)[1].strip().split(":")[0]
            for group, body in cfg["options.entry_points"].items()
            if group.startswith("spacy_")
            for line in body.strip().splitlines()
        }
    )
    code = (
        "import importlib, json, sys, spacy\n"
        "before = set(sys.modules)\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in set(sys.modules) - before})))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    added = json.loads(proc.stdout)
    assert "xner_spacy" in added
    assert not set(added) & set(HEAVY), added
