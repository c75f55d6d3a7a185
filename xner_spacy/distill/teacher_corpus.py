"""The teacher corpus (``xner.TeacherCorpus.v1``): unlabelled target text → soft-target Examples.

``spacy train`` reads training data through a registered reader; this one reads target
sentences (a text file with one sentence per line, tokenised by the pipeline's tokenizer,
or a DocBin whose tokens are kept), asks each teacher for per-token distributions over the
student's tags, combines them with normalised weights and yields ``Example``s whose reference
``Doc`` carries the combined distribution (``user_data["xner_soft_targets"]``, see
:mod:`.student`) and, for inspection and label discovery, the entities Viterbi-decoded from it.
With ``hard = true`` the distribution is replaced by the one-hot tags of that Viterbi path:
the pseudo-label (hard-label) student that soft-target distillation is compared with.
Teacher outputs are computed once per process and, with ``cache_dir``, stored as ``.npz``
files keyed by the input path and content, the teacher and the tag set.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from spacy.language import Language
from spacy.tokens import Doc, DocBin, Span
from spacy.training import Example

from ..io.atomic import atomic_write
from .student_ner import StudentEntityRecognizer, set_soft_targets
from .tag_sets import TagSet
from .teacher_weights import WeightSpec, teacher_weights
from .teachers import Teacher
from .viterbi import constrained_viterbi

logger = logging.getLogger(__name__)

Sentence = tuple[list[str], list[bool]]


def teacher_corpus_block(
    path: str | Path,
    teachers: Mapping[str, Mapping[str, Any]],
    *,
    weights: WeightSpec = "uniform",
    cache_dir: str | Path | None = None,
    labels: Sequence[str] | None = None,
    hard: bool = False,
    similarity_temperature: float = 0.1,
    langid_temperature: float = 1.0,
) -> dict[str, Any]:
    """The ``[corpora.train]`` config block that reads ``path`` through this reader with
    ``teachers`` (``xner.Teacher.v1`` blocks, e.g. from :func:`.teachers.teacher_block`)."""
    return {
        "@readers": "xner.TeacherCorpus.v1",
        "path": str(path),
        "teachers": dict(teachers),
        "weights": weights,
        "references": None,
        "similarity_temperature": similarity_temperature,
        "langid_temperature": langid_temperature,
        "labels": None if labels is None else list(labels),
        "scheme": None,
        "cache_dir": None if cache_dir is None else str(cache_dir),
        "min_length": 1,
        "max_length": 0,
        "limit": 0,
        "hard": hard,
    }


class TeacherCorpus:
    """Callable reader: ``corpus(nlp)`` yields soft-target ``Example``s for distillation.

    ``labels``/``scheme`` fix the student's tag set; by default they are the student
    component's (once initialised), else the union of the teachers' labels and BILUO.
    """

    def __init__(
        self,
        path: str | Path | None,
        *,
        teachers: Mapping[str, Teacher],
        weights: WeightSpec = "uniform",
        references: Mapping[str, str | Path] | None = None,
        similarity_temperature: float = 0.1,
        langid_temperature: float = 1.0,
        labels: Sequence[str] | None = None,
        scheme: str | None = None,
        cache_dir: str | Path | None = None,
        min_length: int = 1,
        max_length: int = 0,
        limit: int = 0,
        hard: bool = False,
    ) -> None:
        if path is None:
            raise ValueError("xner.TeacherCorpus.v1 needs a path (set paths.train)")
        if not teachers:
            raise ValueError("TeacherCorpus needs at least one teacher")
        self.path = Path(path)
        self.teachers = dict(teachers)
        self.weight_spec = weights
        self.references = dict(references or {})
        self.similarity_temperature = similarity_temperature
        self.langid_temperature = langid_temperature
        self.labels = None if labels is None else tuple(labels)
        self.scheme = scheme
        self.cache_dir = None if cache_dir is None else Path(cache_dir)
        self.min_length = min_length
        self.max_length = max_length
        self.limit = limit
        self.hard = hard
        self.weights: dict[str, float] | None = None
        self._sentences: list[Sentence] | None = None
        self._targets: dict[TagSet, list[np.ndarray]] = {}

    def __call__(self, nlp: Language) -> Iterator[Example]:
        sentences = self.sentences(nlp)
        tagset = self.tagset(nlp)
        targets = self.targets(sentences, tagset)
        allowed, start, end = tagset.transitions()
        for (words, spaces), probs in zip(sentences, targets, strict=True):
            reference = Doc(nlp.vocab, words=words, spaces=spaces)
            ids = constrained_viterbi(np.log(np.clip(probs, 1e-8, None)), allowed, start, end)
            if self.hard:
                probs = np.eye(len(tagset), dtype=np.float32)[np.asarray(ids, dtype=np.int64)]
            set_soft_targets(reference, tagset.tags, probs)
            ents = [Span(reference, s, e, label=lab) for s, e, lab in tagset.spans(ids)]
            reference.set_ents(ents, default="outside")
            yield Example(Doc(nlp.vocab, words=words, spaces=spaces), reference)

    def sentences(self, nlp: Language) -> list[Sentence]:
        """The target sentences as (words, spaces), filtered by length and limit (read once)."""
        if self._sentences is None:
            found: list[Sentence] = []
            for doc in self._read_docs(nlp):
                if len(doc) < self.min_length or (self.max_length and len(doc) > self.max_length):
                    continue
                found.append(([t.text for t in doc], [bool(t.whitespace_) for t in doc]))
                if self.limit and len(found) >= self.limit:
                    break
            self._sentences = found
        return self._sentences

    def _read_docs(self, nlp: Language) -> Iterator[Doc]:
        if self.path.is_dir() or self.path.suffix == ".spacy":
            files = sorted(self.path.glob("**/*.spacy")) if self.path.is_dir() else [self.path]
            for file in files:
                yield from DocBin().from_disk(file).get_docs(nlp.vocab)
            return
        with self.path.open(encoding="utf8") as fh:
            for line in fh:
                if line.strip():
                    yield nlp.make_doc(line.strip())

    def tagset(self, nlp: Language) -> TagSet:
        """The student's tag set: configured, the student component's, or the teachers' union."""
        student = next((p for _, p in nlp.pipeline if isinstance(p, StudentEntityRecognizer)), None)
        scheme = self.scheme or (student.cfg["scheme"] if student is not None else "BILUO")
        if self.labels is not None:
            return TagSet(self.labels, scheme)
        if student is not None and student.labels:
            return TagSet(student.labels, scheme)
        labels = sorted({lab for t in self.teachers.values() for lab in t.labels})
        return TagSet(tuple(labels), scheme)

    def targets(self, sentences: list[Sentence], tagset: TagSet) -> list[np.ndarray]:
        """The weighted mixture of the teachers' distributions, one array per sentence."""
        if tagset not in self._targets:
            names = list(self.teachers)
            words = [w for w, _ in sentences]
            target_text = (" ".join(w) for w in words)
            weights = teacher_weights(
                names,
                self.weight_spec,
                target=target_text,
                references=self.references,
                temperature=self.similarity_temperature,
                langid_temperature=self.langid_temperature,
            )
            self.weights = dict(zip(names, weights.tolist(), strict=True))
            logger.info("teacher weights: %s", self.weights)
            mixed = [np.zeros((len(w), len(tagset)), dtype=np.float32) for w in words]
            for name, weight in self.weights.items():
                if weight == 0:
                    continue
                outputs = self.teacher_outputs(name, words, tagset)
                for acc, probs in zip(mixed, outputs, strict=True):
                    acc += np.float32(weight) * probs
            self._targets = {tagset: mixed}
        return self._targets[tagset]

    def teacher_outputs(
        self, name: str, words: list[list[str]], tagset: TagSet
    ) -> list[np.ndarray]:
        """One teacher's distributions, from the ``.npz`` cache when it has them."""
        teacher = self.teachers[name]
        cache = self._cache_file(name, teacher, words, tagset)
        if cache is not None and cache.is_file():
            with np.load(cache) as data:
                offsets = np.cumsum(data["lengths"])[:-1]
                return list(np.split(data["probs"], offsets))
        probs = teacher.distributions(words, tagset)
        for w, p in zip(words, probs, strict=True):
            if p.shape != (len(w), len(tagset)):
                raise ValueError(f"teacher {name!r} gave {p.shape} for {len(w)} words")
        if cache is not None:
            lengths = np.array([len(w) for w in words], dtype=np.int64)
            flat = np.concatenate(probs) if probs else np.zeros((0, len(tagset)), np.float32)
            with atomic_write(cache, "wb") as fh:
                np.savez_compressed(fh, probs=flat.astype(np.float32), lengths=lengths)
        return probs

    def _cache_file(
        self, name: str, teacher: Teacher, words: list[list[str]], tagset: TagSet
    ) -> Path | None:
        if self.cache_dir is None:
            return None
        text = hashlib.sha1("\n".join(" ".join(w) for w in words).encode("utf8")).hexdigest()
        key = json.dumps(
            [str(self.path.resolve()), text, teacher.cache_key, list(tagset.tags)]
        ).encode("utf8")
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
        return self.cache_dir / f"{safe}-{hashlib.sha1(key).hexdigest()[:16]}.npz"
