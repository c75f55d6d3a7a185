"""``xner.EncoderLogger.v1``: spaCy's console logger, plus the frozen encoder's own time.

During ``spacy train`` the frozen ``xner_encoder`` runs once per distinct sentence and its
cache serves every later request; spaCy's console table shows neither, so on a CPU the
largest cost of a run is invisible. This logger prints spaCy's table unchanged (it wraps
``spacy.ConsoleLogger.v1``) and, when training ends, one line per component that counts its
encoder work (``n_encoded``, ``encode_seconds``, ...): sentences encoded, seconds in the
encoder, sentences and sub-tokens per second, and the requests served from the caches.
Written here because spaCy's loggers have no hook for a component's own counters.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import IO, Any

from spacy.language import Language
from spacy.util import registry

#: What a spaCy logger's setup returns: ``log_step(info)`` and ``finalize()``.
LogFunctions = tuple[Callable[[dict[str, Any] | None], None], Callable[[], None]]
LoggerSetup = Callable[..., LogFunctions]


def encoder_summary(nlp: Language) -> list[str]:
    """One line per pipe that counts its encoder work (the ``xner_encoder`` component)."""
    lines = []
    for name, component in nlp.pipeline:
        pipe: Any = component  # duck-typed: any component that counts its encoder work
        seconds = getattr(pipe, "encode_seconds", None)
        if seconds is None:
            continue
        n, sub_tokens = pipe.n_encoded, pipe.n_sub_tokens
        rate = (
            f"{n / seconds:,.1f} sentences/s, {sub_tokens / seconds:,.0f} sub-tokens/s"
            if seconds > 0
            else "no time measured"
        )
        line = (
            f"{name}: {n:,} sentences ({sub_tokens:,} sub-tokens) encoded in {seconds:.1f} s "
            f"({rate}); {pipe.n_cached:,} requests served from the memory cache, "
            f"{pipe.n_from_disk:,} from the disk cache"
        )
        cut = getattr(pipe, "n_truncated_sentences", 0)
        if cut:  # longer than the encoder's limit: counted, never silently lost
            line += (
                f"; {cut:,} sentences truncated at the encoder's limit "
                f"({pipe.n_truncated_words:,} words past it got zeros)"
            )
        lines.append(line)
    return lines


def encoder_logger(progress_bar: bool = False) -> LoggerSetup:
    """spaCy's ``ConsoleLogger.v1`` (same ``progress_bar``), then :func:`encoder_summary`."""
    # registry.get, not registry.loggers.get: it finds the name spacy-legacy now holds
    console = registry.get("loggers", "spacy.ConsoleLogger.v1")(progress_bar=progress_bar)

    def setup(nlp: Language, stdout: IO = sys.stdout, stderr: IO = sys.stderr) -> LogFunctions:
        log_step, finalize = console(nlp, stdout, stderr)

        def finish() -> None:
            finalize()
            for line in encoder_summary(nlp):
                stdout.write(f"ℹ {line}\n")
            stdout.flush()

        return log_step, finish

    return setup
