"""Record-level steps that use a translator: ``translate_corpus`` and ``refine_records``.

``translate_corpus`` turns sentences into pair records by machine translation (translate-train
or translate-test) or adds back-translations to existing records; ``refine_records`` uses those
back-translations to refine the word alignments (``xner.BackTranslationRefiner.v1``). Both
stream records and write them atomically, like the steps in
:mod:`xner_spacy.runner.batch_steps`; the translator's cache makes an
interrupted ``translate`` resume without translating twice.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any

from ..io.errors import ReadStats, iter_decoded_lines
from ..io.mojibake import MojibakeCheck
from ..io.records import read_records, write_records
from ..text import nfc, tokenize
from ..types import Aligner, PairRecord, Translator, checked_alignment

logger = logging.getLogger("xner_spacy")


def _batched(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    it = iter(items)
    while batch := list(islice(it, size)):
        yield batch


def _word_lists(path: str | Path) -> tuple[list[list[str]], list[list[str]]]:
    src: list[list[str]] = []
    tgt: list[list[str]] = []
    for r in read_records(path):
        src.append(r.src_words)
        tgt.append(r.tgt_words)
    return src, tgt


#: ``translate_corpus`` modes: which side is translated, and into which meta field.
TRANSLATE_MODES = ("train", "test", "back")
#: ``meta`` keys of back-translation: its words, its text, and its alignment to the target.
BACK_TRANSLATION = "back_translation"
BT_ALIGNMENT = "bt_alignment"


def _read_translation_items(
    input_path: str | Path, input_format: str, stats: ReadStats
) -> Iterator[tuple[str, str | PairRecord, int]]:
    """``(id, text or record, line)`` from a sentence-per-line file or JSONL records."""
    path = Path(input_path)
    if input_format == "auto":
        input_format = "records" if path.suffix in (".jsonl", ".json") else "text"
    if input_format == "records":
        for rec in read_records(path):
            yield rec.id, rec, 0
    elif input_format == "text":
        check = MojibakeCheck(path)  # counted and logged, as by every text reader
        for line_no, text in iter_decoded_lines(path):
            text = nfc(check.text(text, line_no)).strip()
            if not text:
                stats.skipped["empty line"] += 1
                continue
            yield f"{path.stem}:{line_no}", text, line_no
        check.report()
        stats.mojibake += check.count
    else:
        raise ValueError(f"input_format must be auto, text or records, got {input_format!r}")


def translate_corpus(
    input_path: str | Path,
    output: str | Path,
    translator: Translator,
    *,
    src_lang: str,
    tgt_lang: str,
    mode: str = "train",
    back_translate: bool = False,
    input_format: str = "auto",
    tgt_tokenizer: str = "xx",
    chunk_size: int = 1024,
    limit: int = 0,
) -> dict[str, Any]:
    """Machine-translate sentences into tokenised pair records (written atomically).

    ``mode``: ``train`` (translate-train) — the input is source-language text, its
    translation becomes the target side; ``test`` (translate-test) — the input is
    target-language text, kept as the target side, and its translation into the source
    language becomes the source side to label; ``back`` — records keep both sides and gain
    ``meta["back_translation"]``, the target translated back into the source language (for
    ``xner refine``); ``back_translate`` adds the same in ``train`` mode. Input: one sentence
    per line, or JSONL records (``.jsonl``), whose raw text is ``meta["src_text"]`` /
    ``meta["tgt_text"]`` when present, else the words joined by spaces. Fields computed on a
    side that changes (alignment, entities of that side) are reset. Translation goes through
    ``translator``'s cache, so a rerun after an interruption only translates what is new.
    """
    if mode not in TRANSLATE_MODES:
        raise ValueError(f"mode must be one of {TRANSLATE_MODES}, got {mode!r}")
    if back_translate and mode != "train":
        raise ValueError("back_translate applies to mode 'train' (use mode 'back' on records)")
    stats = ReadStats()
    counts: dict[str, Any] = {"mode": mode, "records": 0, "empty_translations": 0}
    if back_translate or mode == "back":
        counts["back_translations"] = 0

    def make_record(ident: str, item: str | PairRecord, line: int) -> tuple[PairRecord, str]:
        """The record to fill, and the text to translate."""
        if isinstance(item, PairRecord):
            rec = item
            rec.src_lang, rec.tgt_lang = rec.src_lang or src_lang, rec.tgt_lang or tgt_lang
            if mode == "train":
                text = rec.meta.get("src_text") or " ".join(rec.src_words)
            else:
                text = rec.meta.get("tgt_text") or " ".join(rec.tgt_words)
            return rec, text
        if mode == "back":
            raise ValueError(f"{input_path}: mode 'back' needs JSONL records with both sides")
        words = tokenize(item, src_lang if mode == "train" else tgt_tokenizer)
        rec = PairRecord(
            id=ident,
            src_lang=src_lang,
            tgt_lang=tgt_lang,
            src_words=words if mode == "train" else [],
            tgt_words=words if mode == "test" else [],
            meta={"line": line, "src_text" if mode == "train" else "tgt_text": item},
        )
        return rec, item

    def fill(rec: PairRecord, translation: str) -> None:
        if not translation.strip():
            counts["empty_translations"] += 1
        if mode == "train":
            rec.tgt_words = tokenize(translation, tgt_tokenizer)
            rec.meta["tgt_text"] = translation
            rec.meta["translated"] = "tgt"  # which side is machine-translated
            rec.alignment = rec.tgt_ents = None
            for key in (BACK_TRANSLATION, BACK_TRANSLATION + "_text", BT_ALIGNMENT):
                rec.meta.pop(key, None)  # they belonged to the old target
        elif mode == "test":
            rec.src_words = tokenize(translation, src_lang)
            rec.meta["src_text"] = translation
            rec.meta["translated"] = "src"
            rec.alignment = rec.src_ents = None
        else:
            rec.meta[BACK_TRANSLATION] = tokenize(translation, src_lang)
            rec.meta[BACK_TRANSLATION + "_text"] = translation
            rec.meta.pop(BT_ALIGNMENT, None)
            counts["back_translations"] += 1

    def records() -> Iterator[PairRecord]:
        stream = _read_translation_items(input_path, input_format, stats)
        if limit:
            stream = islice(stream, limit)
        for chunk in _batched(stream, chunk_size):
            pairs = [make_record(*item) for item in chunk]
            texts = [text for _, text in pairs]
            if mode == "train":
                out = translator.translate(texts, src_lang=src_lang, tgt_lang=tgt_lang)
            else:
                out = translator.translate(texts, src_lang=tgt_lang, tgt_lang=src_lang)
            for (rec, _), translation in zip(pairs, out, strict=True):
                fill(rec, translation)
            if back_translate:
                back = translator.translate(out, src_lang=tgt_lang, tgt_lang=src_lang)
                for (rec, _), text in zip(pairs, back, strict=True):
                    rec.meta[BACK_TRANSLATION] = tokenize(text, src_lang)
                    rec.meta[BACK_TRANSLATION + "_text"] = text
                    counts["back_translations"] += 1
            counts["records"] += len(pairs)
            logger.info("translated %d sentences", counts["records"])
            yield from (rec for rec, _ in pairs)

    write_records(output, records())
    counts["skipped_lines"] = dict(stats.skipped)
    cache_stats = getattr(translator, "stats", None)
    if cache_stats is not None:
        counts["translator"] = dict(vars(cache_stats))
    return counts


def refine_records(
    input_path: str | Path, output: str | Path, refiner: Any, aligner: Aligner | None = None
) -> dict[str, Any]:
    """Refine each aligned record's alignment through its back-translation.

    Records with ``meta["back_translation"]`` (from ``xner translate --mode back`` or
    ``--back-translate``) get ``refiner(src_words, bt_words, alignment, bt_alignment)``
    (``xner.BackTranslationRefiner.v1``). The back-translation–target alignment is read
    from ``meta["bt_alignment"]`` or, where missing, computed by ``aligner`` on all such
    (back-translation, target) pairs at once, with every record's (source, target) pair as
    extra training text; it is stored in ``meta`` so reruns need no aligner. Records
    without a back-translation pass through unchanged (and are counted).
    """
    bt_src: list[list[str]] = []
    bt_tgt: list[list[str]] = []
    src_all, tgt_all = _word_lists(input_path)
    for rec in read_records(input_path):
        bt = rec.meta.get(BACK_TRANSLATION)
        if bt and rec.meta.get(BT_ALIGNMENT) is None:
            bt_src.append(list(bt))
            bt_tgt.append(rec.tgt_words)
    if bt_src and aligner is None:
        raise ValueError(
            f"{input_path}: {len(bt_src)} records have a back-translation but no "
            f"meta['{BT_ALIGNMENT}']; give an [aligner] to compute it"
        )
    links: Iterator[list[tuple[int, int]]] = iter(
        aligner.align(bt_src, bt_tgt, extra_src=src_all, extra_tgt=tgt_all)
        if bt_src and aligner is not None
        else []
    )
    del src_all, tgt_all
    counts = {
        "records": 0,
        "refined": 0,
        "without_back_translation": 0,
        "bt_aligned_here": len(bt_src),
        "links_before": 0,
        "links_after": 0,
    }

    def records() -> Iterator[PairRecord]:
        for rec in read_records(input_path):
            counts["records"] += 1
            bt = rec.meta.get(BACK_TRANSLATION)
            if not bt:
                counts["without_back_translation"] += 1
                yield rec
                continue
            if rec.alignment is None:
                raise ValueError(
                    f"{input_path}: record {rec.id!r} has no alignment; run `xner align` first"
                )
            where = f"{input_path}: record {rec.id!r}: meta['{BT_ALIGNMENT}']"
            stored = rec.meta.get(BT_ALIGNMENT)
            if stored is None:
                bt_links = checked_alignment(next(links), len(bt), len(rec.tgt_words), where)
                rec.meta[BT_ALIGNMENT] = [list(p) for p in bt_links]
            else:
                bt_links = checked_alignment(stored, len(bt), len(rec.tgt_words), where)
            counts["links_before"] += len(rec.alignment)
            rec.set_alignment(
                refiner(rec.src_words, bt, rec.alignment, bt_links), f"{input_path}: refined"
            )
            counts["links_after"] += len(rec.alignment)
            counts["refined"] += 1
            yield rec

    write_records(output, records())
    return counts
