"""The translate-train steps as streaming functions over JSONL pair records.

Each step reads records, fills in its field and writes records atomically; the CLI and
``project.yml`` call these, and they call the pure core (labellers, aligners, projectors).
Every function returns a small dict of counts, which the CLI prints and can save as JSON.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Iterator, Sequence
from functools import partial
from itertools import islice
from pathlib import Path
from typing import Any

from ..io.conll import read_conll
from ..io.errors import ReadStats, skips_logged_already
from ..io.parallel import mafand_splits, read_parallel
from ..io.records import read_numbered_records, write_records
from ..projection.corpus_passes import CorpusPass
from ..text import loose_key, tokenize
from ..types import Aligner, Labeller, PairRecord, Projector, RecordError
from .shards import (
    Counts,
    Part,
    PipelinePart,
    RecordStream,
    RunOptions,
    as_part,
    map_records,
    run_sharded,
)

logger = logging.getLogger("xner_spacy")

#: Test sets that must never reach training data, relative to a data directory.
TEST_SET_PATTERNS = ("masakhaner2/{lang}/test.txt", "wikiann/{lang}/test.txt")
#: Shortest normalised test sentence that is also searched for *inside* longer lines.
MIN_CONTAINED_KEY = 24


def held_out_files(data_dir: str | Path, lang: str) -> list[Path]:
    """The gold test files for ``lang`` present under a data directory."""
    found = [Path(data_dir) / p.format(lang=lang) for p in TEST_SET_PATTERNS]
    return [p for p in found if p.is_file()]


class HeldOutFilter:
    """Recognises sentences of held-out test sets by a normalised-text key.

    A line is excluded when its :func:`loose_key` equals a test sentence's key, or contains a
    test sentence's key of at least ``MIN_CONTAINED_KEY`` characters (some MasakhaNER
    sentences are pieces of a longer MAFAND line). Containment uses a small prefix index:
    each test key is found by looking up every 16-character window of the line, which is
    linear in the line's length and needs no extra dependency.
    """

    _WINDOW = 16

    def __init__(self, sentences: Iterable[str]) -> None:
        self.keys: set[str] = set()
        self._by_prefix: dict[str, list[str]] = {}
        for text in sentences:
            key = loose_key(text)
            if not key:
                continue
            self.keys.add(key)
            if len(key) >= MIN_CONTAINED_KEY:
                self._by_prefix.setdefault(key[: self._WINDOW], []).append(key)

    @classmethod
    def from_conll(cls, paths: Iterable[str | Path]) -> HeldOutFilter:
        texts = (" ".join(s.words) for p in paths for s in read_conll(p, skip_malformed=True))
        return cls(texts)

    def __contains__(self, text: object) -> bool:
        if not isinstance(text, str):
            return False
        key = loose_key(text)
        if key in self.keys:
            return True
        w = self._WINDOW
        for i in range(len(key) - MIN_CONTAINED_KEY + 1):
            for cand in self._by_prefix.get(key[i : i + w], ()):
                if key.startswith(cand, i):
                    return True
        return False


def prepare_parallel(
    data_dir: str | Path,
    src_lang: str,
    tgt_lang: str,
    output: str | Path,
    *,
    exclude: Sequence[str | Path] = (),
    tgt_tokenizer: str = "xx",
    limit: int = 0,
    mojibake: str = "warn",
) -> dict[str, Any]:
    """MAFAND-MT pairs (every split) → tokenised records, minus any test-set sentence.

    Test sentences of the target language under ``data_dir`` (MasakhaNER 2.0, WikiANN) and
    any extra CoNLL files in ``exclude`` are removed by normalised text; the counts of
    removed pairs are returned so the removal is reported, never silent. Lines that look like
    mojibake are counted and logged, repaired (``mojibake="fix"``) or refused (``"error"``).
    """
    parts = [
        (src_file, tgt_file, f"{src_lang}-{tgt_lang}/{split}", {"split": split})
        for split, src_file, tgt_file in mafand_splits(data_dir, src_lang, tgt_lang)
    ]
    return write_pair_records(
        data_dir, src_lang, tgt_lang, output, parts,
        exclude=exclude, tgt_tokenizer=tgt_tokenizer, limit=limit, mojibake=mojibake,
    )  # fmt: skip


ParallelPart = tuple[Path, Path, str, dict[str, Any]]


def write_pair_records(
    data_dir: str | Path,
    src_lang: str,
    tgt_lang: str,
    output: str | Path,
    parts: Iterable[ParallelPart],
    *,
    exclude: Sequence[str | Path] = (),
    tgt_tokenizer: str = "xx",
    limit: int = 0,
    mojibake: str = "warn",
) -> dict[str, Any]:
    """Line-aligned parallel files → tokenised pair records, minus any test-set sentence.

    ``parts`` are ``(src_file, tgt_file, id_prefix, meta)``: record ids are
    ``<id_prefix>:<line>`` and each record's meta is ``meta`` plus its line. The held-out
    filter and the removal counts are those of :func:`prepare_parallel`.
    """
    excluded_files = [*held_out_files(data_dir, tgt_lang), *map(Path, exclude)]
    held_out = HeldOutFilter.from_conll(excluded_files)
    stats = ReadStats()
    counts: dict[str, Any] = {
        "pairs_read": 0,
        "removed_test_overlap": 0,
        "written": 0,
        "excluded_files": [str(p) for p in excluded_files],
        "test_sentences_indexed": len(held_out.keys),
    }

    def records() -> Iterator[PairRecord]:
        for src_file, tgt_file, id_prefix, meta in parts:
            for pair in read_parallel(src_file, tgt_file, stats=stats, mojibake=mojibake):
                counts["pairs_read"] += 1
                if pair.tgt in held_out or pair.src in held_out:
                    counts["removed_test_overlap"] += 1
                    continue
                counts["written"] += 1
                yield PairRecord(
                    id=f"{id_prefix}:{pair.line}",
                    src_lang=src_lang,
                    tgt_lang=tgt_lang,
                    src_words=tokenize(pair.src, src_lang),
                    tgt_words=tokenize(pair.tgt, tgt_tokenizer),
                    meta={**meta, "line": pair.line},
                )

    stream: Iterable[PairRecord] = records()
    if limit:
        stream = islice(stream, limit)
    write_records(output, stream)
    counts["skipped_lines"] = dict(stats.skipped)
    counts["mojibake_lines"] = stats.mojibake
    return counts


def _batched(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    it = iter(items)
    while batch := list(islice(it, size)):
        yield batch


def label_shard(
    labeller: Labeller, records: RecordStream, counts: Counts, *, batch_size: int = 1000
) -> Iterator[PairRecord]:
    """Fill ``src_ents`` of one shard's records, labelling in batches."""
    for batch in _batched(records, batch_size):
        for rec, ents in zip(batch, labeller.label(r.src_words for r in batch), strict=True):
            rec.src_ents = ents
            counts["records"] += 1
            counts["entities"] += len(ents)
            for e in ents:
                counts["labels"][e.label] = counts["labels"].get(e.label, 0) + 1
            yield rec


def label_records(
    input_path: str | Path,
    output: str | Path,
    labeller: Labeller | Part,
    *,
    batch_size: int = 1000,
    options: RunOptions | None = None,
) -> dict[str, Any]:
    """Fill ``src_ents`` with the labeller's entities, shard by shard (see :mod:`.shards`)."""
    fn = partial(label_shard, batch_size=batch_size)
    zero = {"records": 0, "entities": 0, "labels": {}}
    return map_records("label", input_path, output, fn, labeller, options=options, zero=zero)


def _word_lists(
    paths: Iterable[str | Path], *, skip_invalid: bool = False, stats: ReadStats | None = None
) -> tuple[list[list[str]], list[list[str]]]:
    """Source and target word lists of every record in ``paths``, in one pass each."""
    src: list[list[str]] = []
    tgt: list[list[str]] = []
    for path in paths:
        for _, r in read_numbered_records(path, skip_invalid=skip_invalid, stats=stats):
            src.append(r.src_words)
            tgt.append(r.tgt_words)
    return src, tgt


def align_shard(aligner: Aligner, records: RecordStream, counts: Counts) -> Iterator[PairRecord]:
    """Align one shard's pairs on their own: for aligners with ``per_pair = True``."""
    batch: list[tuple[str, PairRecord]] = []
    for rec in records:
        batch.append((records.where, rec))
    links = aligner.align([r.src_words for _, r in batch], [r.tgt_words for _, r in batch])
    counts["records"] += len(batch)
    counts["links"] += sum(map(len, links))
    for (where, rec), pairs in zip(batch, links, strict=True):
        rec.set_alignment(pairs, where)
        yield rec


def align_records(
    input_path: str | Path,
    output: str | Path,
    aligner: Aligner | Part,
    *,
    extra: Sequence[str | Path] = (),
    options: RunOptions | None = None,
) -> dict[str, Any]:
    """Fill ``alignment`` for every record.

    Statistical aligners learn from the whole corpus they align, so sharding them would
    change their output: they run once over all word lists (records are streamed again on
    output) into one atomic write, not resumable and not sharded; ``extra`` record files add
    training text without being aligned or written. Aligners that align each pair on its
    own (a ``per_pair = True`` attribute, e.g. neural ones) run shard by shard like the
    other steps, resumable and in parallel; ``extra`` means nothing to them.
    """
    options = options or RunOptions()
    part = as_part(aligner)
    if getattr(part.build(), "per_pair", False):
        if extra:
            logger.warning("align: a per-pair aligner does not train; ignoring --extra files")
        zero = {"records": 0, "links": 0}
        counts = map_records(
            "align", input_path, output, align_shard, part, options=options, zero=zero
        )
        return {**counts, "extra_pairs": 0}
    return _align_corpus(input_path, output, part.build(), extra, options.skip_invalid)


def _align_corpus(
    input_path: str | Path,
    output: str | Path,
    aligner: Aligner,
    extra: Sequence[str | Path],
    skip_invalid: bool,
) -> dict[str, Any]:
    """Align the whole corpus at once (statistical aligners) and write it atomically."""
    stats = ReadStats()
    src, tgt = _word_lists([input_path], skip_invalid=skip_invalid, stats=stats)
    extra_src, extra_tgt = _word_lists(extra, skip_invalid=skip_invalid, stats=stats)
    links = aligner.align(src, tgt, extra_src=extra_src, extra_tgt=extra_tgt)
    counts: dict[str, Any] = {
        "records": len(src),
        "extra_pairs": len(extra_src),
        "links": sum(map(len, links)),
    }
    if skip_invalid:
        counts["skipped_lines"] = dict(stats.skipped)

    def records() -> Iterator[PairRecord]:
        numbered = read_numbered_records(input_path, skip_invalid=skip_invalid)
        for (line, rec), pairs in zip(numbered, links, strict=True):
            rec.set_alignment(pairs, f"{input_path}:{line}")
            yield rec

    with skips_logged_already():  # the word lists' pass logged them
        write_records(output, records())
    return counts


def project_shard(
    projector: Projector, records: RecordStream, counts: Counts
) -> Iterator[PairRecord]:
    """Fill ``tgt_ents`` of one shard's records."""
    for rec in records:
        if rec.src_ents is None or rec.alignment is None:
            raise RecordError(
                f"{records.where}: record {rec.id!r} lacks src_ents or alignment; "
                "run `xner label` and `xner align` first"
            )
        rec.tgt_ents = projector(
            rec.src_words, rec.tgt_words, rec.src_ents, rec.alignment, extras=rec.meta
        )
        counts["records"] += 1
        counts["src_entities"] += len(rec.src_ents)
        counts["tgt_entities"] += len(rec.tgt_ents)
        counts["doubtful"] += len(rec.tgt_ents) < len(rec.src_ents)
        yield rec


def project_records(
    input_path: str | Path,
    output: str | Path,
    projector: Projector | Part,
    *,
    options: RunOptions | None = None,
) -> dict[str, Any]:
    """Fill ``tgt_ents`` by projecting ``src_ents`` through ``alignment``, shard by shard."""
    zero = {"records": 0, "src_entities": 0, "tgt_entities": 0, "doubtful": 0}
    fn = project_shard
    return map_records("project", input_path, output, fn, projector, options=options, zero=zero)


def corpus_pass(
    input_path: str | Path, output: str | Path, part: CorpusPass, *, skip_invalid: bool = False
) -> dict[str, Any]:
    """Run one corpus-level pass (:mod:`xner_spacy.projection.corpus_passes`) over a records file.

    The pass reads the file for its statistics (as often as it needs), then every record is
    changed and written to ``output`` (atomically). With ``skip_invalid`` malformed lines are
    first dropped (each logged once, counted in ``skipped_lines``) into a clean copy that the
    pass then reads.
    """
    if skip_invalid:
        stats = ReadStats()
        clean = Path(output).with_name(Path(output).name + ".valid.jsonl")
        lines = read_numbered_records(input_path, skip_invalid=True, stats=stats)
        write_records(clean, (rec for _, rec in lines))
        try:
            summary = corpus_pass(clean, output, part)
        finally:
            clean.unlink(missing_ok=True)
        summary["skipped_lines"] = dict(stats.skipped)
        return summary

    def corpus() -> Iterator[PairRecord]:
        return (rec for _, rec in read_numbered_records(input_path))

    stats_ = part.count(corpus)
    counts = {"records": 0, "changed": 0, "tgt_entities": 0}

    def records() -> Iterator[PairRecord]:
        for rec in corpus():
            counts["changed"] += part.apply(rec, stats_)
            counts["records"] += 1
            counts["tgt_entities"] += len(rec.tgt_ents or ())
            yield rec

    write_records(output, records())
    return {**counts, "pass": part.name}


def propose_shard(
    nlp: Any, records: RecordStream, counts: Counts, *, batch_size: int = 256
) -> Iterator[PairRecord]:
    """Store the pipeline's spans on one shard's target words in ``meta["ner_spans"]``."""
    for batch in _batched(records, batch_size):
        for rec, ents in zip(batch, predict_spans(nlp, [r.tgt_words for r in batch]), strict=True):
            rec.meta["ner_spans"] = ents
            counts["records"] += 1
            counts["spans"] += len(ents)
            yield rec


def propose_spans(
    input_path: str | Path,
    output: str | Path,
    model: str,
    *,
    batch_size: int = 256,
    options: RunOptions | None = None,
) -> dict[str, Any]:
    """Run a target-language NER pipeline on ``tgt_words``; store its spans in ``meta``.

    ``meta["ner_spans"]`` holds ``[start, end, label, score]`` lists: the candidates and
    scores that ``xner.NerCandidates.v1`` and ``xner.NerSpanScore.v1`` read. spaCy's
    transition-based NER gives no span probabilities, so each proposed span scores 1.0.
    The pipeline is loaded once per worker process, where the shards run.
    """
    fn = partial(propose_shard, batch_size=batch_size)
    part, zero = PipelinePart(model), {"records": 0, "spans": 0}
    return map_records("propose", input_path, output, fn, part, options=options, zero=zero)


def predict_spans(nlp: Any, sentences: Sequence[Sequence[str]]) -> list[list[list[Any]]]:
    """``[start, end, label, 1.0]`` for each entity the pipeline finds in each word list."""
    from ..labelling.spacy_labeller import predict_entities

    return [
        [[e.start, e.end, e.label, 1.0] for e in ents]
        for ents in predict_entities(nlp, (list(s) for s in sentences))
    ]


def dev_split(record_id: str, dev_fraction: float, seed: int = 0) -> bool:
    """Deterministic train/dev assignment by a hash of the record id (stable across runs)."""
    digest = hashlib.sha1(f"{seed}:{record_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < dev_fraction


def _docbin_of(path: Path, located: list[tuple[str, PairRecord]], doubtful: str) -> Counts:
    """``records_to_docbin`` over ``(file:line, record)`` pairs; errors name the line."""
    from ..io.docbin import records_to_docbin

    where = ""

    def records() -> Iterator[PairRecord]:
        nonlocal where
        for line, rec in located:
            where = line
            yield rec

    try:
        return records_to_docbin(path, records(), doubtful=doubtful)  # type: ignore[arg-type]
    except ValueError as err:
        raise RecordError(f"{where}: {err}") from None


def convert_shard(
    _part: None,
    records: RecordStream,
    paths: list[Path],
    *,
    dev_fraction: float,
    doubtful: str,
    seed: int,
    labels: Sequence[str] | None = None,
) -> Counts:
    """One shard's records → its train and dev DocBins (``paths``), split by id hash."""
    located = [(records.where, r) for r in records]
    for where, rec in located if labels is not None else ():
        rec.check_labels(labels, where)
    parts = {}
    for name, path, want in (("train", paths[0], False), ("dev", paths[1], True)):
        chosen = [(w, r) for w, r in located if dev_split(r.id, dev_fraction, seed) == want]
        parts[name] = _docbin_of(path, chosen, doubtful)
    return parts


def convert_records(
    input_path: str | Path,
    output_dir: str | Path,
    *,
    dev_fraction: float = 0.1,
    doubtful: str = "drop",
    seed: int = 0,
    labels: Sequence[str] | None = None,
    options: RunOptions | None = None,
) -> dict[str, Any]:
    """Projected records → ``train.spacy`` and ``dev.spacy`` (silver dev held out by id hash).

    Shards are converted separately and their DocBins merged, which gives the same bytes
    as converting in one pass. ``labels``: the entity types allowed in ``tgt_ents`` (another
    is a :class:`RecordError` naming file:line); None accepts any.
    """
    from ..io.docbin import _DOUBTFUL_MODES, DOCBIN_COUNTS, merge_docbins

    if doubtful not in _DOUBTFUL_MODES:
        raise ValueError(f"doubtful must be one of {_DOUBTFUL_MODES}, got {doubtful!r}")
    options = options or RunOptions()
    output_dir = Path(output_dir)
    params = {"dev_fraction": dev_fraction, "doubtful": doubtful, "seed": seed}
    params.update({"labels": sorted(labels)} if labels is not None else {})
    work = partial(convert_shard, dev_fraction=dev_fraction, doubtful=doubtful, seed=seed,
                   labels=labels)  # fmt: skip
    run = run_sharded(
        "convert",
        input_path,
        output_dir,
        work,
        None,
        suffixes=(".train.spacy", ".dev.spacy"),
        params=params,
        options=options,
        zero={"train": DOCBIN_COUNTS, "dev": DOCBIN_COUNTS},
    )
    merge_docbins(run.files[0], output_dir / "train.spacy")
    merge_docbins(run.files[1], output_dir / "dev.spacy")
    run.finish(options.keep_shards)
    return {**run.counts, "doubtful": doubtful}
