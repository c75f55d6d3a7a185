"""What decided a step's output, kept beside it, so a resumed run reuses it only while that holds.

A step's fingerprint has four parts: its command line, the content of the config files it
reads, the identity of each model it reads (:func:`model_identity`) and the state of its input
files (size and modification time, or a hash for small files). The drivers that resume
(the languages table, the cross-lingual benchmark, the distillation experiment) compare the
stored parts with the current ones: equal, the output is reused; different, the step reruns and
the log names what changed (:func:`changes`). ``xner identify`` writes the identity of the
models a project step reads into a file that ``project.yml`` lists as a dependency, so weasel
reruns the step when a model behind a var changes.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .shard_fingerprints import canonical_json, file_sha256, files_digest

logger = logging.getLogger("xner_spacy")

#: Files up to this size are identified by their content hash; larger ones by size and mtime.
HASH_LIMIT = 32 << 20
#: Files of a model folder that say what it is (hashed); the rest by size and mtime.
MODEL_CARD_FILES = ("meta.json", "config.cfg", "config.json")
RECORD_SUFFIX = ".fingerprint.json"


def path_identity(path: str | Path) -> Any:
    """A file's content hash (size and mtime when large), a folder's files, or ``None``."""
    path = Path(path)
    if path.is_file():
        size = path.stat().st_size
        if size <= HASH_LIMIT:
            return {"sha256": file_sha256(path)}
        return {"size": size, "mtime_ns": path.stat().st_mtime_ns}
    if path.is_dir():
        return {"files": _relative(files_digest(str(path)), path)}
    return None


def model_identity(spec: str | Path) -> dict[str, Any]:
    """What identifies a model named by a path or a name.

    A folder (a spaCy pipeline, a Hugging Face directory): the hashes of its ``meta.json``,
    ``config.cfg`` or ``config.json`` and the size and mtime of every other file. An installed
    package: its name and version. Anything else (a hub name): the name itself.
    """
    text = str(spec)
    path = Path(text)
    if path.is_dir():
        cards = {n: file_sha256(path / n) for n in MODEL_CARD_FILES if (path / n).is_file()}
        return {"path": text, "cards": cards, "files": _relative(files_digest(text), path)}
    if path.is_file():
        return {"path": text, "sha256": file_sha256(path)}
    from importlib.metadata import PackageNotFoundError, version

    try:
        return {"package": text, "version": version(text)}
    except (PackageNotFoundError, ValueError):
        return {"name": text}


def step_parts(
    command: Sequence[str],
    *,
    configs: Sequence[str | Path] = (),
    models: Sequence[str | Path] = (),
    inputs: Sequence[str | Path] = (),
) -> dict[str, Any]:
    """The fingerprint parts of one step (see the module docstring)."""
    return {
        "command": [str(c) for c in command],
        "configs": {str(p): path_identity(p) for p in configs},
        "models": {str(m): model_identity(m) for m in models},
        "inputs": {str(p): path_identity(p) for p in inputs},
    }


def digest(parts: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_json(parts).encode("utf8")).hexdigest()[:16]


def record_path(output: str | Path) -> Path:
    """Where the fingerprint of ``output`` (a file or a folder) is kept: beside it."""
    output = Path(output)
    return output.with_name(output.name + RECORD_SUFFIX)


def stored_parts(output: str | Path) -> dict[str, Any] | None:
    path = record_path(output)
    if not path.is_file():
        return None
    try:
        return dict(json.loads(path.read_text(encoding="utf8"))["parts"])
    except (ValueError, KeyError, TypeError):
        return None


def store(output: str | Path, parts: Mapping[str, Any]) -> None:
    """Keep ``parts`` beside ``output`` (atomically), once the step has written it."""
    from ..io.atomic import atomic_write

    record = {"fingerprint": digest(parts), "parts": dict(parts)}
    with atomic_write(record_path(output)) as fh:
        fh.write(json.dumps(record, indent=1, ensure_ascii=False, default=str) + "\n")


def changes(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> list[str]:
    """What differs between two sets of parts, in words (empty: nothing)."""
    if old is None:
        return ["no fingerprint stored with the output"]
    found = []
    old_cmd, new_cmd = list(old.get("command", [])), list(new.get("command", []))
    if old_cmd != new_cmd:
        diff = [f"{a!r} → {b!r}" for a, b in zip(old_cmd, new_cmd, strict=False) if a != b]
        if len(old_cmd) != len(new_cmd):
            diff.append(f"{len(old_cmd)} → {len(new_cmd)} arguments")
        found.append("command: " + "; ".join(diff[:4]))
    for part in ("configs", "models", "inputs"):
        before, after = dict(old.get(part, {})), dict(new.get(part, {}))
        for key in sorted(set(before) | set(after)):
            if before.get(key) != after.get(key):
                found.append(f"{part[:-1]} {key} changed")
    return found


def decide(
    name: str, output: Path, parts: Mapping[str, Any], *, force: bool, reuse_stale: bool
) -> bool:
    """Whether a step must run: its output is missing, its fingerprint differs, or ``force``.

    With ``reuse_stale`` an existing output is kept whatever its fingerprint, with a warning
    naming what changed.
    """
    if not output.exists():
        return True
    if force:
        logger.info("%s: rerun (--force)", name)
        return True
    changed = changes(stored_parts(output), parts)
    if not changed:
        logger.info("%s: %s is up to date, skipped", name, output)
        return False
    if reuse_stale:
        logger.warning("%s: %s kept (--reuse-stale) though %s", name, output, "; ".join(changed))
        return False
    logger.info("%s: rerun, %s", name, "; ".join(changed))
    return True


def _relative(digest_rows: list[list[Any]], root: Path) -> list[list[Any]]:
    """files_digest rows with paths relative to ``root`` (a moved folder keeps its identity)."""
    out = []
    for path, size, mtime in digest_rows:
        try:
            rel = str(Path(path).relative_to(root))
        except ValueError:
            rel = path
        out.append([rel, size, mtime])
    return out


def provenance_entry(path: str | Path) -> Any:
    """What a report records of a file it came from: an identity file's content (JSON from
    ``xner identify``), a model folder's identity, or another file's hash."""
    path = Path(path)
    if path.is_file() and path.suffix == ".json":
        try:
            return json.loads(path.read_text(encoding="utf8"))
        except ValueError:
            pass
    if path.is_dir():
        return model_identity(path)
    return path_identity(path)
