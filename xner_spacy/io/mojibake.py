"""Mojibake: UTF-8 text decoded with the wrong codec ("CoruÃ±a" for "Coruña"), found by ftfy.

Every text reader (CoNLL, parallel text, JSONL records) passes its text through a
:class:`MojibakeCheck`, which by default logs one warning per file with the count and the
first few ``file:line`` examples; ``mode="fix"`` repairs the text with ftfy and
``mode="error"`` raises :class:`~xner_spacy.io.errors.DataFormatError` at the first such line.

Detection is ftfy's own: :func:`ftfy.badness.is_bad` finds the character sequences that
mojibake leaves, and :func:`ftfy.fix_encoding` must then be able to undo them. On top of that a
repair counts only if it is plausible, so that legitimate text is never flagged:

- a lone ``Â``/``Ã`` before a space is left alone (ftfy reads it as a lost no-break space, but
  ``Â`` is a word in Ghomálá' and a token of its own in tokenised text);
- every character a repair introduces must be common in text (Latin letters including the
  African and IPA ones, punctuation, currency signs) or a letter of the line's own main
  non-Latin script (Cyrillic mojibake repairs to Cyrillic): old OCR noise in the French corpus
  decodes as Mac Roman into Greek, Coptic, Arabic or rare Latin signs, which is not a repair.

Over the shared data (MasakhaNER 2.0, MAFAND-MT, CoNLL, GermEval, Europarl, WikiANN,
NTREX-128) this flags only real damage: double-encoded quotes and dashes in MAFAND-MT English
and C1 control characters (Windows-1252 bytes read as Latin-1) in GermEval and MAFAND-MT.
"""

from __future__ import annotations

import difflib
import logging
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from .errors import DataFormatError

logger = logging.getLogger("xner_spacy.io")

MODES = ("warn", "fix", "error")
MAX_EXAMPLES = 3

# Code points a repair may introduce in any text: ASCII and Latin-1, Latin Extended-A, the
# first part of Latin Extended-B (ǎ ǹ ƒ Ɛ Ɔ ɖ ...), Romanian ș ț, IPA letters (ɛ ɔ ŋ ʋ),
# modifier letters, combining marks, Latin Extended Additional (ẹ ọ ṣ), general punctuation,
# currency signs and letter-like symbols (™).
_COMMON = (
    (0x0000, 0x01FF),
    (0x0218, 0x021B),
    (0x0250, 0x036F),
    (0x1E00, 0x1EFF),
    (0x2000, 0x206F),
    (0x20A0, 0x20CF),
    (0x2100, 0x214F),
)
_LONE_LEAD = re.compile(r"^[ÂÃ] *$")


def _common(ch: str) -> bool:
    cp = ord(ch)
    return any(lo <= cp <= hi for lo, hi in _COMMON)


def _script(ch: str) -> str:
    """A letter's script, as the first word of its Unicode name (LATIN, CYRILLIC, ...)."""
    return unicodedata.name(ch, "UNKNOWN").split(" ", 1)[0]


def _plausible(before: str, after: str) -> bool:
    """Whether ``after`` (ftfy's repair of ``before``) undoes mojibake rather than noise."""
    letters = Counter(_script(ch) for ch in after if ch.isalpha())
    main = letters.most_common(1)[0][0] if letters else None
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    evidence = False
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            continue
        if _LONE_LEAD.match(before[i1:i2]):
            continue
        for ch in after[j1:j2]:
            if not (_common(ch) or (ch.isalpha() and main != "LATIN" and _script(ch) == main)):
                return False
        evidence = True
    return evidence


@lru_cache(maxsize=4096)
def repair(text: str) -> str | None:
    """The repaired text if ``text`` holds mojibake (or C1 control characters), else ``None``."""
    if text.isascii():
        return None
    from ftfy import fix_encoding
    from ftfy.badness import is_bad

    if not is_bad(text):
        return None
    fixed = fix_encoding(text)
    if fixed == text or not _plausible(text, fixed):
        return None
    return fixed


@dataclass
class MojibakeCheck:
    """Checks the texts a reader reads from one file; counts, repairs or refuses mojibake.

    ``mode``: ``"warn"`` (count, log one warning at :meth:`report`), ``"fix"`` (also return
    ftfy's repair) or ``"error"`` (raise ``DataFormatError`` naming ``file:line``).
    """

    path: str | Path
    mode: str = "warn"
    count: int = 0
    examples: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mojibake mode must be one of {', '.join(MODES)}, got {self.mode!r}")

    def text(self, text: str, line: int) -> str:
        """``text`` as the reader should use it (repaired with ``mode="fix"``)."""
        fixed = repair(text)
        if fixed is None:
            return text
        self._found(text, fixed, line)
        return fixed if self.mode == "fix" else text

    def words(self, words: list[str], line: int) -> list[str]:
        """Tokenised text, checked word by word and counted once per line.

        A repair that would put whitespace into a word (and so change the tokenisation)
        is not applied.
        """
        fixed = [repair(w) if w else None for w in words]
        if all(f is None for f in fixed):
            return words
        repaired = [
            w if f is None or not f or _has_space(f) else f
            for w, f in zip(words, fixed, strict=True)
        ]
        self._found(" ".join(words), " ".join(repaired), line)
        return repaired if self.mode == "fix" else words

    def _found(self, text: str, fixed: str, line: int) -> None:
        self.count += 1
        if self.mode == "error":
            raise DataFormatError(
                self.path,
                line,
                f"mojibake (UTF-8 decoded with the wrong codec): {_excerpt(text, fixed)}; "
                "repair it with --mojibake fix",
            )
        if len(self.examples) < MAX_EXAMPLES:
            self.examples.append(f"{self.path}:{line}: {_excerpt(text, fixed)}")

    def report(self) -> None:
        """Log one warning with the count and the first examples, if any line was mojibake."""
        if not self.count:
            return
        done = "repaired" if self.mode == "fix" else "kept as they are; repair with --mojibake fix"
        logger.warning(
            "%s: %d line(s) look like mojibake (UTF-8 decoded with the wrong codec), %s; first: %s",
            self.path,
            self.count,
            done,
            "; ".join(self.examples),
        )


def _has_space(text: str) -> bool:
    return any(ch.isspace() for ch in text)


def _excerpt(text: str, fixed: str, width: int = 24) -> str:
    """The first changed stretch of ``text`` and its repair, e.g. ``'CoruÃ±a' → 'Coruña'``."""
    matcher = difflib.SequenceMatcher(None, text, fixed, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op != "equal":
            lo, hi = max(0, i1 - width // 2), min(len(text), i2 + width // 2)
            lo_f, hi_f = max(0, j1 - width // 2), min(len(fixed), j2 + width // 2)
            return f"{text[lo:hi]!r} → {fixed[lo_f:hi_f]!r}"
    return repr(text[:width])
