"""Token tag sets for the student (BILUO or BIO), their grammar, and distributions over them.

A :class:`TagSet` names the columns of every per-token distribution in ``xner_spacy.distill``:
``O`` first, then ``B-X, I-X, L-X, U-X`` (or ``B-X, I-X``) for each entity label in order.
:func:`convert_distribution` maps a teacher's distribution over *its own* tags onto a student
tag set: labels are renamed by a label map, and mass on labels the student does not have
moves to ``O``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

Scheme = Literal["BILUO", "BIO"]
SCHEMES: tuple[str, ...] = ("BILUO", "BIO")
_PREFIXES: dict[str, tuple[str, ...]] = {"BILUO": ("B", "I", "L", "U"), "BIO": ("B", "I")}
# BIOES/IOBES spell L as E and U as S.
_PREFIX_ALIASES = {"E": "L", "S": "U"}


def parse_tag(tag: str) -> tuple[str, str | None]:
    """``"B-PER"`` → ``("B", "PER")``; ``"O"`` (or ``""``, ``"-"``) → ``("O", None)``."""
    if tag in ("O", "", "-"):
        return "O", None
    prefix, sep, label = tag.partition("-")
    if not sep or not label:
        raise ValueError(f"tag {tag!r} is neither 'O' nor PREFIX-LABEL")
    return _PREFIX_ALIASES.get(prefix, prefix), label


@dataclass(frozen=True)
class TagSet:
    """The tags over entity ``labels`` in a ``scheme``, with their valid transitions."""

    labels: tuple[str, ...]
    scheme: str = "BILUO"
    tags: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        if self.scheme not in SCHEMES:
            raise ValueError(f"unknown tag scheme {self.scheme!r}; use one of {SCHEMES}")
        if len(set(self.labels)) != len(self.labels):
            raise ValueError(f"duplicate entity labels in {self.labels}")
        object.__setattr__(self, "labels", tuple(self.labels))
        tags = ["O"] + [f"{p}-{lab}" for lab in self.labels for p in _PREFIXES[self.scheme]]
        object.__setattr__(self, "tags", tuple(tags))

    def __len__(self) -> int:
        return len(self.tags)

    def index(self, tag: str) -> int:
        return self.tags.index(tag)

    def _parts(self) -> tuple[np.ndarray, np.ndarray]:
        parsed = [parse_tag(t) for t in self.tags]
        prefixes = np.array([p for p, _ in parsed])
        labels = np.array([lab or "" for _, lab in parsed])
        return prefixes, labels

    def transitions(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Boolean ``allowed[prev, cur]``, ``start[cur]`` and ``end[prev]`` of the grammar."""
        prefix, label = self._parts()
        same_label = label[:, None] == label[None, :]
        if self.scheme == "BILUO":
            inside = np.isin(prefix, ["B", "I"])  # an entity is open after this tag
            continues = np.isin(prefix, ["I", "L"])  # this tag needs an open entity
            allowed = np.where(
                inside[:, None], continues[None, :] & same_label, ~continues[None, :]
            )
            return allowed, ~continues, ~inside
        continues = prefix == "I"
        allowed = ~continues[None, :] | (np.isin(prefix, ["B", "I"])[:, None] & same_label)
        return allowed, ~continues, np.ones(len(self.tags), dtype=bool)

    def is_valid(self, tag_ids: Sequence[int] | np.ndarray) -> bool:
        """True when the tag sequence obeys the scheme's grammar (the empty one does)."""
        ids = np.asarray(tag_ids, dtype=int)
        if ids.size == 0:
            return True
        allowed, start, end = self.transitions()
        return bool(start[ids[0]] and end[ids[-1]] and allowed[ids[:-1], ids[1:]].all())

    def spans(self, tag_ids: Sequence[int] | np.ndarray) -> list[tuple[int, int, str]]:
        """Entities ``(start, end, label)`` of a valid tag sequence (end exclusive)."""
        out: list[tuple[int, int, str]] = []
        start, open_label = 0, None
        ids = np.asarray(tag_ids, dtype=int).tolist()
        for i, k in enumerate(ids):
            prefix, label = parse_tag(self.tags[k])
            if prefix in ("O", "B", "U") and open_label is not None:  # BIO closes implicitly
                out.append((start, i, open_label))
                open_label = None
            if prefix in ("B", "U"):
                start, open_label = i, label
            if prefix in ("L", "U") and open_label is not None:
                out.append((start, i + 1, open_label))
                open_label = None
        if open_label is not None:
            out.append((start, len(ids), open_label))
        return out

    def from_biluo(self, biluo: Iterable[str | None]) -> list[int | None]:
        """Ids of spaCy BILUO tag strings in this scheme; unknown labels → ``O``, None kept."""
        out: list[int | None] = []
        for tag in biluo:
            if tag is None or tag == "-":
                out.append(None)
                continue
            prefix, label = parse_tag(tag)
            if prefix != "O" and self.scheme == "BIO":
                prefix = {"L": "I", "U": "B"}.get(prefix, prefix)
            name = "O" if prefix == "O" else f"{prefix}-{label}"
            out.append(self.tags.index(name) if name in self.tags else 0)
        return out


def soften(probs: np.ndarray, temperature: float) -> np.ndarray:
    """``softmax(log p / T)`` row-wise: softmax(logits / T) when ``p`` is softmax(logits)."""
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    p = np.asarray(probs, dtype=np.float64)
    if temperature == 1.0:
        return (p / p.sum(axis=-1, keepdims=True)).astype(np.float32)
    logits = np.log(np.clip(p, 1e-12, None)) / temperature
    return softmax(logits)


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax in float64, returned as float32."""
    z = np.asarray(logits, dtype=np.float64)
    z = np.exp(z - z.max(axis=-1, keepdims=True))
    return (z / z.sum(axis=-1, keepdims=True)).astype(np.float32)


def convert_distribution(
    probs: np.ndarray,
    src_tags: Sequence[str],
    dst: TagSet,
    label_map: Mapping[str, str | None] | None = None,
) -> np.ndarray:
    """Map per-token distributions over ``src_tags`` onto the columns of ``dst``.

    Labels are renamed by ``label_map`` (empty or None: unchanged; a label mapped to None
    or absent from ``dst.labels`` gives its mass to ``O``). Source tags may be BILUO,
    BIOES or BIO. BILUO → BIO is exact (U→B, L→I). BIO → BILUO needs the next token: with
    ``c = P(I-X at t+1)``, ``B-X`` splits into ``B-X·c`` and ``U-X·(1-c)``, ``I-X`` into
    ``I-X·c`` and ``L-X·(1-c)`` (tokens taken as independent). Rows keep their sums.
    """
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] != len(src_tags):
        raise ValueError(f"distribution shape {p.shape} does not match {len(src_tags)} tags")
    n, n_labels = p.shape[0], len(dst.labels)
    col = {lab: j for j, lab in enumerate(dst.labels)}
    parts = {prefix: np.zeros((n, n_labels)) for prefix in ("B", "I", "L", "U")}
    outside = np.zeros(n)
    for k, tag in enumerate(src_tags):
        prefix, label = parse_tag(tag)
        if label is not None and label_map:
            label = label_map.get(label)
        if prefix == "O" or label not in col:
            outside += p[:, k]
        elif prefix in parts:
            parts[prefix][:, col[label]] += p[:, k]
        else:
            raise ValueError(f"unknown tag prefix in {tag!r}")
    src_is_biluo = any(parse_tag(t)[0] in ("L", "U") for t in src_tags)
    if dst.scheme == "BIO":
        columns = {"B": parts["B"] + parts["U"], "I": parts["I"] + parts["L"]}
    elif src_is_biluo:
        columns = parts
    else:
        nxt = np.vstack([parts["I"][1:], np.zeros((1, n_labels))]) if n else parts["I"]
        columns = {
            "B": parts["B"] * nxt,
            "I": parts["I"] * nxt,
            "L": parts["I"] * (1 - nxt),
            "U": parts["B"] * (1 - nxt),
        }
    out = np.zeros((n, len(dst)))
    out[:, 0] = outside
    for j, tag in enumerate(dst.tags[1:], start=1):
        prefix, label = parse_tag(tag)
        out[:, j] = columns[prefix][:, col[label]]  # type: ignore[index]
    return out.astype(np.float32)
