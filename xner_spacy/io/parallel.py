"""Line-aligned parallel text (MAFAND-MT pairs, NTREX-128 multi-parallel files)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from itertools import zip_longest
from pathlib import Path

from ..text import nfc
from .errors import DataFormatError, ReadStats, iter_decoded_lines, note_skip
from .mojibake import MojibakeCheck

SPLITS = ("train", "dev", "test")


@dataclass
class ParallelLine:
    """One sentence pair: line ``line`` (1-based) of both files; ``path`` is the source file."""

    src: str
    tgt: str
    path: str
    line: int


def clean_lines(path: Path, check: MojibakeCheck | None = None) -> Iterator[str]:
    """Stream a file's lines NFC-normalised and stripped, raising on invalid UTF-8.

    Mojibake is counted by ``check``; without one, it is logged when the file is read.
    """
    own = check is None
    check = check or MojibakeCheck(path)
    for line_no, text in iter_decoded_lines(path):
        yield nfc(check.text(text, line_no)).strip()
    if own:
        check.report()


def _count_lines(path: Path) -> int:
    """Number of lines in a file (a last line without newline counts)."""
    n = 0
    with open(path, "rb") as fh:
        for n, _ in enumerate(fh, start=1):  # noqa: B007
            pass
    return n


def _mismatch(paths: Mapping[str, Path], line_no: int, ended: list[str]) -> DataFormatError:
    """Error for files that stop pairing at ``line_no``, with each file's line count."""
    longer = next(k for k in paths if k not in ended)
    counts = " but ".join(f"{paths[k]} has {_count_lines(paths[k])} lines" for k in paths)
    return DataFormatError(paths[longer], line_no, f"{counts} (first unpaired line {line_no})")


def read_multiparallel(
    paths: Mapping[str, Path | str], *, stats: ReadStats | None = None, mojibake: str = "warn"
) -> Iterator[tuple[int, dict[str, str]]]:
    """Stream ``(line_no, {key: sentence})`` across line-aligned files, e.g. NTREX-128.

    Rows where any side is empty are skipped (counted as ``'empty line'`` and logged);
    files of different lengths raise ``DataFormatError`` at the first unpaired line.
    Lines that look like mojibake are counted and logged per file, repaired
    (``mojibake="fix"``) or refused (``"error"``); see :mod:`.mojibake`.
    """
    norm = {k: Path(p) for k, p in paths.items()}
    keys = list(norm)
    checks = [MojibakeCheck(norm[k], mojibake) for k in keys]
    streams = [clean_lines(norm[k], check) for k, check in zip(keys, checks, strict=True)]
    for line_no, row in enumerate(zip_longest(*streams), start=1):
        if any(v is None for v in row):
            ended = [k for k, v in zip(keys, row, strict=True) if v is None]
            raise _mismatch(norm, line_no, ended)
        if not all(row):
            note_skip(stats, "empty line", norm[keys[0]], line_no)
            continue
        if stats is not None:
            stats.sentences += 1
        yield line_no, dict(zip(keys, row, strict=True))
    for check in checks:
        check.report()
        if stats is not None:
            stats.mojibake += check.count


def read_parallel(
    src_path: Path | str,
    tgt_path: Path | str,
    *,
    stats: ReadStats | None = None,
    mojibake: str = "warn",
) -> Iterator[ParallelLine]:
    """Stream sentence pairs from two line-aligned files (NFC, stripped, empty pairs skipped)."""
    paths = {"src": Path(src_path), "tgt": Path(tgt_path)}
    if paths["src"] == paths["tgt"]:
        raise ValueError(f"source and target are the same file: {src_path}")
    for line_no, row in read_multiparallel(paths, stats=stats, mojibake=mojibake):
        yield ParallelLine(row["src"], row["tgt"], str(src_path), line_no)


def pair_dir(data_dir: Path, src: str, tgt: str) -> Path:
    """The MAFAND folder for a language pair (``src-tgt`` or ``tgt-src``), or an error."""
    root = data_dir / "mafand"
    for name in (f"{src}-{tgt}", f"{tgt}-{src}"):
        if (root / name).is_dir():
            return root / name
    available = sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
    raise FileNotFoundError(
        f"no MAFAND-MT pair {src}-{tgt} under {root} (available: {', '.join(available) or 'none'})"
    )


def mafand_splits(data_dir: Path | str, src: str, tgt: str) -> list[tuple[str, Path, Path]]:
    """List ``(split, src_file, tgt_file)`` for each MAFAND-MT split present for a pair."""
    folder = pair_dir(Path(data_dir), src, tgt)
    found = []
    for split in SPLITS:
        src_file, tgt_file = folder / f"{split}.{src}", folder / f"{split}.{tgt}"
        if src_file.is_file() != tgt_file.is_file():
            missing = tgt_file if src_file.is_file() else src_file
            raise FileNotFoundError(f"{missing} is missing but its pair file exists")
        if src_file.is_file():
            found.append((split, src_file, tgt_file))
    if not found:
        raise FileNotFoundError(f"no {'/'.join(SPLITS)}.{src}/.{tgt} files in {folder}")
    return found


def ntrex_pair(data_dir: Path | str, src: str, tgt: str) -> tuple[Path, Path] | None:
    """NTREX-128 files for a language pair (``ntrex128/<iso3>.txt``), if both exist.

    NTREX-128 is multi-parallel (the same 1,997 sentences in every language), so any two of
    its files form a parallel corpus: extra training text for an unsupervised aligner.
    """
    from ..language_codes import to_iso3

    root = Path(data_dir) / "ntrex128"
    src_file, tgt_file = root / f"{to_iso3(src)}.txt", root / f"{to_iso3(tgt)}.txt"
    if src_file == tgt_file or not (src_file.is_file() and tgt_file.is_file()):
        return None
    return src_file, tgt_file
