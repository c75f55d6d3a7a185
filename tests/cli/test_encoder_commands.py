"""The project's `encoder` var end to end at the CLI: get-encoder, then align on that encoder."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from xner_spacy.cli import app
from xner_spacy.io.records import read_records, write_records
from xner_spacy.types import PairRecord

REPO = Path(__file__).resolve().parents[2]
runner = CliRunner()


def _converter(tmp_path: Path, source: Path) -> Path:
    """A stand-in for the offline converter: copies a saved encoder to --out."""
    script = tmp_path / "convert.py"
    script.write_text(
        "import shutil, sys\n"
        f"shutil.copytree({str(source)!r}, sys.argv[sys.argv.index('--out') + 1])\n"
    )
    return script


def test_get_encoder_converts_once_then_finds_it(tmp_path: Path, tiny_xlmr_dir: Path) -> None:
    target = tmp_path / "assets" / "encoder"
    converter = _converter(tmp_path, tiny_xlmr_dir)
    first = runner.invoke(app, ["get-encoder", str(target), "--converter", str(converter)])
    assert first.exit_code == 0, first.output
    assert json.loads(first.output)["action"] == "converted"
    assert (target / "config.json").is_file() and not target.with_name("encoder.partial").exists()
    again = runner.invoke(app, ["get-encoder", str(target), "--converter", str(converter)])
    assert json.loads(again.output)["action"] == "present"


def test_get_encoder_fails_clearly_without_a_converter(tmp_path: Path) -> None:
    result = runner.invoke(app, ["get-encoder", str(tmp_path / "enc")])
    assert result.exit_code == 1
    assert "not a complete encoder directory" in result.output
    assert "--vars.encoder" in result.output


def test_get_encoder_leaves_nothing_when_the_converter_fails(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import sys; sys.exit('no weights here')\n")
    target = tmp_path / "enc"
    result = runner.invoke(app, ["get-encoder", str(target), "--converter", str(bad)])
    assert result.exit_code == 1 and "no weights here" in result.output
    assert not target.exists() and not target.with_name("enc.partial").exists()


def test_get_encoder_never_replaces_an_incomplete_directory(tmp_path: Path) -> None:
    target = tmp_path / "enc"
    target.mkdir()
    (target / "config.json").write_text("{}")
    converter = tmp_path / "never.py"
    converter.write_text("raise SystemExit('must not run')\n")
    result = runner.invoke(app, ["get-encoder", str(target), "--converter", str(converter)])
    assert result.exit_code == 1 and "not a complete encoder directory" in result.output
    assert [p.name for p in target.iterdir()] == ["config.json"]


def test_align_uses_the_encoder_var(tmp_path: Path, tiny_xlmr_dir: Path) -> None:
    """`xner align --paths.encoder DIR` reaches the neural aligner (project.yml's align step)."""
    records = tmp_path / "in.jsonl"
    write_records(
        records,
        [
            PairRecord(str(k), "en", "yor", ["Ada", "went", "to", "Lagos"], ["Ada", "lo", "Eko"])
            for k in range(3)
        ],
    )
    out = tmp_path / "out.jsonl"
    args = ["align", str(records), str(out), "--config", str(REPO / "configs/align/simalign.cfg")]
    encoder = ["--paths.encoder", str(tiny_xlmr_dir), "--aligner.layer", "2"]
    result = runner.invoke(app, [*args, *encoder])
    assert result.exit_code == 0, result.output
    aligned = list(read_records(out))
    assert len(aligned) == 3 and all(r.alignment for r in aligned)
    # the default path is only a default: a missing directory is a one-line error
    missing = runner.invoke(app, [*args, "--paths.encoder", str(tmp_path / "none")])
    assert missing.exit_code != 0


def test_get_encoder_does_nothing_unless_a_config_reads_it(tmp_path: Path) -> None:
    repo = Path(__file__).resolve().parents[2] / "configs"
    from xner_spacy.cli.encoder_commands import config_reads

    assert config_reads(repo / "source_encoder.cfg")  # the main job's --vars.arch encoder
    assert config_reads(repo / "align" / "simalign.cfg")
    for name in ("source_cnn.cfg", "ner_cnn.cfg", "projection.cfg"):
        assert not config_reads(repo / name), name
    target = tmp_path / "enc"
    cnn = [
        "--when-used-by",
        str(repo / "ner_cnn.cfg"),
        "--when-used-by",
        str(repo / "projection.cfg"),
    ]
    result = runner.invoke(app, ["get-encoder", str(target), *cnn])  # no converter needed
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["action"] == "not needed" and not target.exists()
    result = runner.invoke(app, ["get-encoder", str(target), "--when-used-by",
                                 str(repo / "ner_encoder.cfg")])  # fmt: skip
    assert result.exit_code != 0 and "no converter" in result.output
    result = runner.invoke(app, ["get-encoder", str(target), "--when-used-by", "nope.cfg"])
    assert result.exit_code != 0 and "no such config" in result.output
