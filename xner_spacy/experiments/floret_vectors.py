"""Multilingual subword static vectors built in-project (floret), for teachers and students.

No pretrained multilingual embeddings can be fetched offline, so the project trains floret
vectors (fastText with hashed subwords, the format ``spacy init vectors --mode floret`` reads)
on the text it has: for each target language the MAFAND-MT target sides, NTREX-128 and the
MasakhaNER 2.0 *train* sentences without labels (test sentences of MasakhaNER and WikiANN
removed); for each source language NTREX-128 and the source NER *train* split. One model over
all languages: the languages share subword buckets, and each target language gets embeddings
learnt from far more raw text than its silver training data.

    xner vector-text --data-dir D --target yor --target swa --source en ... corpus/vectors/text.txt
    xner train-vectors corpus/vectors/text.txt corpus/vectors/vectors.floret
    python -m spacy init vectors xx corpus/vectors/vectors.floret training/vectors --mode floret
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from ..io.atomic import atomic_path, atomic_write
from ..io.conll import read_conll
from ..language_codes import to_iso3
from ..text import tokenize
from .unlabelled_text import target_sentences


def _source_lines(data_dir: Path, lang: str, counts: dict[str, Any]) -> Iterator[str]:
    """NTREX-128 and the source NER train split of a source language."""
    from ..io.parallel import clean_lines

    ntrex = data_dir / "ntrex128" / f"{to_iso3(lang)}.txt"
    n = 0
    if ntrex.is_file():
        for n, line in enumerate(clean_lines(ntrex), start=1):  # noqa: B007
            yield line
    counts[f"{lang}:ntrex"] = n
    train = data_dir / "source_ner" / lang / "train.txt"
    n = 0
    if train.is_file():
        for n, sent in enumerate(read_conll(train, skip_malformed=True), start=1):  # noqa: B007
            yield " ".join(sent.words)
    counts[f"{lang}:source_ner"] = n


def write_vector_text(
    data_dir: str | Path,
    output: str | Path,
    *,
    targets: Sequence[str],
    sources: Sequence[str] = (),
) -> dict[str, Any]:
    """Tokenised text (one sentence per line, words split by spaces) to train vectors on.

    Words come from the ``xx`` tokenizer the target pipelines use, so the vectors' keys are
    the tokens the models see.
    """
    data_dir = Path(data_dir)
    counts: dict[str, Any] = {"targets": list(targets), "sources": list(sources)}
    n_lines = n_words = 0
    with atomic_write(output) as fh:
        for lang in targets:
            found: dict[str, Any] = {}
            text = target_sentences(
                data_dir, lang, sources=("mafand", "masakhaner-train", "ntrex"), counts=found
            )
            for line in text:
                words = tokenize(line, "xx")
                fh.write(" ".join(words) + "\n")
                n_lines += 1
                n_words += len(words)
            counts[lang] = found
        for lang in sources:
            found = {}
            for line in _source_lines(data_dir, lang, found):
                words = tokenize(line, "xx")
                fh.write(" ".join(words) + "\n")
                n_lines += 1
                n_words += len(words)
            counts[lang] = found
    counts.update(lines=n_lines, words=n_words)
    return counts


def train_floret(
    text: str | Path,
    output: str | Path,
    *,
    dim: int = 100,
    minn: int = 3,
    maxn: int = 5,
    bucket: int = 50_000,
    hash_count: int = 2,
    epoch: int = 5,
    min_count: int = 2,
    threads: int = 1,
) -> dict[str, Any]:
    """Train floret CBOW vectors on ``text`` and save them in floret's text format.

    ``bucket`` rows of ``dim`` floats are all spaCy keeps (each word sums ``hash_count`` rows
    per subword), so the vectors stay a few MB. Needs ``pip install floret``.
    """
    try:
        import floret
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError("train-vectors needs floret: pip install floret") from err

    model = floret.train_unsupervised(
        str(text),
        model="cbow",
        mode="floret",
        dim=dim,
        minn=minn,
        maxn=maxn,
        bucket=bucket,
        hashCount=hash_count,
        epoch=epoch,
        minCount=min_count,
        thread=threads,
        verbose=0,
    )
    with atomic_path(output) as tmp:
        model.save_floret_vectors(str(tmp))
    return {
        "text": str(text),
        "output": str(output),
        "words_in_vocab": len(model.words),
        "dim": dim,
        "bucket": bucket,
        "minn": minn,
        "maxn": maxn,
        "hash_count": hash_count,
        "epoch": epoch,
    }
