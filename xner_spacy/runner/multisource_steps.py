"""Multi-source silver data: NTREX-128 pair records per source language, and voting.

NTREX-128 holds the same 1,997 news sentences in many languages, so one target sentence has
several human source sentences (en, fr, de, es, nl …). :func:`prepare_ntrex` turns one
source–target pair into records whose ids (``ntrex:<line>``) are the same for every source;
after labelling, aligning and projecting each pair separately, :func:`vote_records` joins the
projections of one target sentence by id and keeps the spans a weighted majority projected
(:func:`xner_spacy.projection.multisource_vote.vote`): the multi-source projection baseline.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..io.docbin import is_doubtful
from ..io.parallel import ntrex_pair
from ..io.records import read_numbered_records, read_records, write_records
from ..projection.multisource_vote import vote
from ..types import PairRecord, RecordError
from .batch_steps import write_pair_records

NTREX_PREFIX = "ntrex"


def ntrex_id(line: int) -> str:
    """The record id of NTREX-128 line ``line``: the same for every source language."""
    return f"{NTREX_PREFIX}:{line}"


def prepare_ntrex(
    data_dir: str | Path,
    src_lang: str,
    tgt_lang: str,
    output: str | Path,
    *,
    exclude: Sequence[str | Path] = (),
    tgt_tokenizer: str = "xx",
    limit: int = 0,
) -> dict[str, Any]:
    """NTREX-128 ``src``–``tgt`` lines → tokenised pair records, minus test-set sentences.

    As :func:`xner_spacy.runner.batch_steps.prepare_parallel` does for MAFAND-MT: target-language
    test sentences (MasakhaNER 2.0, WikiANN) and the CoNLL files in ``exclude`` are removed by
    normalised text, and the removal is counted.
    """
    files = ntrex_pair(data_dir, src_lang, tgt_lang)
    if files is None:
        raise FileNotFoundError(
            f"NTREX-128 lacks {src_lang} or {tgt_lang} under {Path(data_dir) / 'ntrex128'}"
        )
    (src_file, tgt_file) = files
    part = (src_file, tgt_file, NTREX_PREFIX, {"corpus": "ntrex128"})
    return write_pair_records(
        data_dir, src_lang, tgt_lang, output, [part],
        exclude=exclude, tgt_tokenizer=tgt_tokenizer, limit=limit,
    )  # fmt: skip


def _projections(path: Path) -> dict[str, PairRecord]:
    """A projected record file keyed by id (records of one corpus: small)."""
    found: dict[str, PairRecord] = {}
    for line, rec in read_numbered_records(path):
        if rec.tgt_ents is None:
            raise RecordError(f"{path}:{line}: record {rec.id!r} has no tgt_ents; project first")
        found[rec.id] = rec
    return found


def vote_records(
    inputs: Sequence[str | Path],
    output: str | Path,
    *,
    weights: Sequence[float] | None = None,
    threshold: float = 0.5,
    min_votes: int = 1,
) -> dict[str, Any]:
    """Weighted span voting over several projections of the same target sentences.

    The first input defines the sentences and their order (it is streamed); the others are
    joined by record id and must have the same target words. A source without a sentence
    abstains. The output record keeps the first input's source words but no source
    entities (several sources voted); ``meta`` names the voters and marks the record
    ``doubtful`` when a weighted majority (> half) of its voters found it doubtful (a
    source entity that projected nowhere), so ``xner convert --doubtful`` treats a
    one-source vote exactly as that source's projection.
    """
    if not inputs:
        raise ValueError("vote needs at least one projected record file")
    weights = [1.0] * len(inputs) if weights is None else [float(w) for w in weights]
    if len(weights) != len(inputs):
        raise ValueError(f"{len(weights)} weights for {len(inputs)} inputs")
    paths = [Path(p) for p in inputs]
    others = [_projections(p) for p in paths[1:]]
    counts: dict[str, Any] = {"records": 0, "entities": 0, "doubtful": 0, "abstained": 0}
    counts["inputs"] = [str(p) for p in paths]
    counts["weights"] = weights

    def voted() -> Iterator[PairRecord]:
        for first in read_records(paths[0]):
            if first.tgt_ents is None:
                raise RecordError(f"{paths[0]}: record {first.id!r} has no tgt_ents")
            voters = [(first, weights[0])]
            for path, table, w in zip(paths[1:], others, weights[1:], strict=True):
                rec = table.get(first.id)
                if rec is None:
                    counts["abstained"] += 1
                    continue
                if rec.tgt_words != first.tgt_words:
                    raise RecordError(
                        f"{path}: record {first.id!r} has other target words than {paths[0]}"
                    )
                voters.append((rec, w))
            ents = vote(
                [(r.tgt_ents or [], w) for r, w in voters],
                threshold=threshold,
                min_votes=min_votes,
            )
            total = sum(w for _, w in voters)
            doubtful_share = sum(w for r, w in voters if is_doubtful(r)) / total if total else 0.0
            doubtful = doubtful_share > 0.5
            counts["records"] += 1
            counts["entities"] += len(ents)
            counts["doubtful"] += doubtful
            yield PairRecord(
                id=first.id,
                src_lang="+".join(r.src_lang for r, _ in voters),
                tgt_lang=first.tgt_lang,
                src_words=first.src_words,
                tgt_words=first.tgt_words,
                tgt_ents=ents,
                meta={
                    **{k: v for k, v in first.meta.items() if k in ("corpus", "line", "split")},
                    "sources": [r.src_lang for r, _ in voters],
                    "doubtful": doubtful,
                },
            )

    write_records(output, voted())
    return counts


def _target_spans(path: Path) -> dict[str, set[tuple[int, int, str]]]:
    return {rec.id: {(e[0], e[1], e[2]) for e in rec.tgt_ents or []} for rec in read_records(path)}


def projection_agreement(paths: Mapping[str, str | Path]) -> dict[str, float]:
    """Label-free quality estimate of each source: mean span F1 against the other sources.

    For every pair of sources, the exact-span F1 between their projections onto the same
    target sentences (joined by id); a source's score is its mean over the other sources.
    A source whose labeller or alignment is poor agrees less with the rest, so ordering
    sources by it needs no target-language gold labels.
    """
    spans = {name: _target_spans(Path(p)) for name, p in paths.items()}
    if len(spans) < 2:
        return {name: 1.0 for name in spans}

    def f1(a: str, b: str) -> float:
        both = spans[a].keys() & spans[b].keys()
        tp = sum(len(spans[a][i] & spans[b][i]) for i in both)
        total = sum(len(spans[a][i]) + len(spans[b][i]) for i in both)
        return 2 * tp / total if total else 0.0

    return {a: round(sum(f1(a, b) for b in spans if b != a) / (len(spans) - 1), 4) for a in spans}
