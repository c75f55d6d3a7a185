"""configs/distill.cfg trains with stock `spacy train`; the student packages and loads."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import spacy
from distill_toys import hard_examples, write_lines
from spacy.cli.train import train
from spacy.tokens import DocBin

REPO = Path(__file__).resolve().parents[2]
PACKAGE = "xner_distill_pkgtest"  # unique: never installed into the venv itself


def _run(cmd: list[str], **kwargs: object) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True, **kwargs)  # type: ignore[call-overload]
    assert proc.returncode == 0, f"{cmd} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return str(proc.stdout)


@pytest.fixture(scope="module")
def distilled(
    tmp_path_factory: pytest.TempPathFactory, student_teacher_dir: Path, ner_teacher_dir: Path
) -> Path:
    """`spacy train configs/distill.cfg` for a few steps on tiny data; returns model-last."""
    root = tmp_path_factory.mktemp("distill")
    nlp = spacy.blank("xx")
    DocBin(docs=[eg.reference for eg in hard_examples(nlp, 5, seed=9)]).to_disk(root / "dev.spacy")
    overrides = {
        "paths.train": str(write_lines(root / "target.txt", 30)),
        "paths.dev": str(root / "dev.spacy"),
        "paths.teacher": str(student_teacher_dir),
        "paths.teacher_cache": str(root / "cache"),
        "corpora.train.teachers.source.temperature": 2.0,
        "components.tok2vec.model.encode.width": 32,
        "components.tok2vec.model.encode.depth": 1,
        "components.tok2vec.model.embed.rows": [500, 100, 100, 50],
        "training.max_steps": 12,
        "training.eval_frequency": 6,
    }
    train(REPO / "configs" / "distill.cfg", root / "out", overrides=overrides)
    assert list((root / "cache").glob("source-*.npz"))
    return root / "out" / "model-last"


@pytest.mark.slow
def test_distill_config_trains(distilled: Path) -> None:
    nlp = spacy.load(distilled)
    assert nlp.pipe_names == ["tok2vec", "xner_student_ner"]
    ner = nlp.get_pipe("xner_student_ner")
    assert ner.labels == ("LOC", "PER")  # the teacher's labels
    assert type(nlp.tokenizer).__name__ == "NFCTokenizer"
    doc = nlp("Ada lo si Port Harcourt lana .")
    assert all(e.label_ in ner.labels for e in doc.ents)


@pytest.mark.slow
def test_distilled_student_packages_installs_and_loads(distilled: Path, tmp_path: Path) -> None:
    packages = tmp_path / "packages"
    packages.mkdir()
    _run(
        [sys.executable, "-m", "spacy", "package", str(distilled), str(packages),
         "--name", PACKAGE, "--version", "0.0.1", "--build", "wheel", "--force"]
    )  # fmt: skip
    wheels = list(packages.glob(f"xx_{PACKAGE}-0.0.1/dist/*.whl"))
    assert len(wheels) == 1
    site = tmp_path / "site"  # installed beside, not into, the venv
    _run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index",
         "--target", str(site), str(wheels[0])]
    )  # fmt: skip
    code = (
        f"import spacy; nlp = spacy.load('xx_{PACKAGE}'); print(nlp.meta['requirements']); "
        "print(nlp.pipe_names); print([e.label_ for e in nlp('Ada lo si Lagos lana .').ents])"
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    requirements, pipes, _ = _run([sys.executable, "-c", code], env=env).strip().splitlines()
    assert "xner-spacy" in requirements
    assert "xner_student_ner" in pipes
