"""Teachers: models that give per-token tag distributions on pre-tokenised sentences.

One interface (:class:`Teacher`), three kinds, chosen by ``xner.Teacher.v1``'s ``kind``:

* ``student`` — a spaCy pipeline with an ``xner_student_ner`` component: its softmax.
* ``spacy_ner`` — a spaCy pipeline with a stock (transition-based) ``ner`` or an
  ``entity_ruler``: its predicted entities as one-hot BILUO rows, optionally smoothed.
  Limitation: the parser exposes no per-token probabilities, so this teacher is as confident
  on its errors as on its hits;
  soft-target distillation then reduces to training on its silver labels.
* ``hf`` — a Hugging Face token classifier (a directory or hub name): the softmax of the
  first sub-token of each word, ``softmax(logits / T)``.

Every teacher maps its own labels to the student's tags (``label_map``; labels the student
lacks give their mass to ``O``) and applies its temperature ``T`` (``softmax(logits / T)``,
for probabilities ``p``: ``p^(1/T)`` renormalised). Models load on first use.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np

from ..labelling.label_maps import get_label_map
from .tag_sets import TagSet, convert_distribution, parse_tag, soften, softmax

KINDS = ("student", "spacy_ner", "hf")
#: Components whose ``doc.ents`` a ``spacy_ner`` teacher reads (a rule-based labeller too).
_NER_FACTORIES = ("ner", "beam_ner", "entity_ruler")
STUDENT_FACTORY = "xner_student_ner"

Sentences = Sequence[Sequence[str]]


@runtime_checkable
class Teacher(Protocol):
    """Gives, for each sentence, an (n_words × n_tags) distribution over ``tagset``'s tags."""

    @property
    def cache_key(self) -> str:
        """A string that changes whenever the teacher's outputs would."""
        ...

    @property
    def labels(self) -> tuple[str, ...]:
        """The entity labels it can predict, after its label map."""
        ...

    def distributions(self, sentences: Sentences, tagset: TagSet) -> list[np.ndarray]: ...


@dataclass
class _BaseTeacher:
    """Shared parts: label map, temperature, mapping onto the student's tags."""

    kind: ClassVar[str] = "base"
    model: Any
    label_map: str | Mapping[str, str | None] = "identity"
    temperature: float = 1.0
    batch_size: int = 64
    _map: dict[str, str | None] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.temperature <= 0:
            raise ValueError(f"temperature must be > 0, got {self.temperature}")
        self._map = get_label_map(self.label_map)

    @property
    def cache_key(self) -> str:
        if isinstance(self.model, str | Path):
            model = f"{self.model}@{_files_fingerprint(Path(self.model))}"
        else:
            model = _pipeline_key(self.model)
        return (
            f"{self.kind}|{model}|{sorted(self._map.items())}|T={self.temperature}|"
            f"{self._extra_key()}"
        )

    def _extra_key(self) -> str:
        return ""

    def own_tags(self) -> list[str]:
        """The teacher's own tag names (columns of :meth:`own_distributions`)."""
        raise NotImplementedError

    def own_distributions(self, sentences: Sentences) -> list[np.ndarray]:
        """Tempered distributions over :meth:`own_tags`, one array per sentence."""
        raise NotImplementedError

    @property
    def labels(self) -> tuple[str, ...]:
        found = []
        for tag in self.own_tags():
            label = parse_tag(tag)[1]
            if label is not None and self._map:
                label = self._map.get(label)
            if label is not None and label not in found:
                found.append(label)
        return tuple(found)

    def distributions(self, sentences: Sentences, tagset: TagSet) -> list[np.ndarray]:
        tags = self.own_tags()
        return [
            convert_distribution(p, tags, tagset, self._map)
            for p in self.own_distributions(sentences)
        ]


@dataclass
class _SpacyTeacher(_BaseTeacher):
    """A spaCy pipeline (loaded object, package name or path) run on ``Doc(words=...)``."""

    component: str | None = None
    _nlp: Any = field(default=None, init=False, repr=False)

    @property
    def nlp(self) -> Any:
        if self._nlp is None:
            if isinstance(self.model, str | Path):
                from ..labelling.spacy_labeller import load_pipeline

                self._nlp = load_pipeline(str(self.model))
            else:
                self._nlp = self.model
        return self._nlp

    def _extra_key(self) -> str:
        return f"component={self.component}"

    def _pipe_name(self) -> str:
        raise NotImplementedError

    def _run_upto(self, sentences: Sentences, include_self: bool) -> list[Any]:
        """Docs of the words after the pipes before (and optionally including) the component."""
        from spacy.tokens import Doc

        names = self.nlp.pipe_names
        stop = names.index(self._pipe_name()) + int(include_self)
        docs = [Doc(self.nlp.vocab, words=list(words)) for words in sentences]
        with self.nlp.select_pipes(enable=names[:stop]):
            return list(self.nlp.pipe(docs, batch_size=self.batch_size))


@dataclass
class StudentTeacher(_SpacyTeacher):
    """A pipeline with a student NER component: the component's softmax, tempered."""

    kind: ClassVar[str] = "student"

    def _pipe_name(self) -> str:
        if self.component is not None:
            return self.component
        for name in self.nlp.pipe_names:
            if self.nlp.get_pipe_meta(name).factory == STUDENT_FACTORY:
                return name
        raise ValueError(f"pipeline {self.model!r} has no {STUDENT_FACTORY} component")

    def own_tags(self) -> list[str]:
        return list(self.nlp.get_pipe(self._pipe_name()).tagset.tags)

    def own_distributions(self, sentences: Sentences) -> list[np.ndarray]:
        pipe = self.nlp.get_pipe(self._pipe_name())
        docs = self._run_upto(sentences, include_self=False)
        out: list[np.ndarray] = []
        for start in range(0, len(docs), self.batch_size):
            out.extend(pipe.predict(docs[start : start + self.batch_size]))
        return [soften(p, self.temperature) for p in out]


@dataclass
class SpacyNerTeacher(_SpacyTeacher):
    """A pipeline with a stock ``ner``: its entities as (smoothed) one-hot BILUO rows.

    ``smoothing`` ε gives each row ``(1 - ε)`` on the predicted tag and ``ε`` spread evenly
    over all tags, so the student is not pushed to certainty by a teacher with no
    confidence scores.
    """

    smoothing: float = 0.0
    kind: ClassVar[str] = "spacy_ner"

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0.0 <= self.smoothing < 1.0:
            raise ValueError(f"smoothing must be in [0, 1), got {self.smoothing}")

    def _extra_key(self) -> str:
        return f"{super()._extra_key()}|smoothing={self.smoothing}"

    def _pipe_name(self) -> str:
        if self.component is not None:
            return self.component
        for name in self.nlp.pipe_names:
            if self.nlp.get_pipe_meta(name).factory in _NER_FACTORIES:
                return name
        raise ValueError(
            f"pipeline {self.model!r} has no entity component ({', '.join(_NER_FACTORIES)})"
        )

    def _tagset(self) -> TagSet:
        return TagSet(tuple(self.nlp.get_pipe(self._pipe_name()).labels), "BILUO")

    def own_tags(self) -> list[str]:
        return list(self._tagset().tags)

    def own_distributions(self, sentences: Sentences) -> list[np.ndarray]:
        from spacy.training.iob_utils import doc_to_biluo_tags

        tagset = self._tagset()
        index = {t: k for k, t in enumerate(tagset.tags)}
        out = []
        for doc in self._run_upto(sentences, include_self=True):
            ids = [index.get(t, 0) for t in doc_to_biluo_tags(doc, missing="O")]
            rows = np.zeros((len(doc), len(tagset)), dtype=np.float64)
            rows[np.arange(len(doc)), ids] = 1.0
            rows = (1.0 - self.smoothing) * rows + self.smoothing / len(tagset)
            out.append(soften(rows, self.temperature))
        return out


@dataclass
class HFTeacher(_BaseTeacher):
    """A Hugging Face token classifier: ``softmax(logits / T)`` of each word's first sub-token.

    Sub-tokenisation, loading and devices are those of the HF labeller
    (:mod:`xner_spacy.encoders.subwords`, :mod:`xner_spacy.encoders.hub_loading`): words
    without a sub-token, or cut off past the model's length limit, get all their mass on ``O``.
    Bare labels (IO scheme, ``PER``) read as ``I-PER``. torch and transformers load lazily.
    """

    device: str = "auto"
    kind: ClassVar[str] = "hf"
    _loaded: Any = field(default=None, init=False, repr=False)

    def _load(self) -> tuple[Any, Any, int | None]:
        if self._loaded is None:
            from transformers import AutoModelForTokenClassification, AutoTokenizer

            from ..encoders.hub_loading import load_hf, prepare_model

            tokenizer = load_hf(AutoTokenizer, self.model, use_fast=True)
            net = load_hf(AutoModelForTokenClassification, self.model)
            net, _, limit = prepare_model(net, tokenizer, self.device)
            self._loaded = (tokenizer, net, limit)
        return self._loaded

    def own_tags(self) -> list[str]:
        from ..labelling.hf_labeller import normalise_tag

        config = self._load()[1].config
        return [normalise_tag(config.id2label[i]) for i in range(config.num_labels)]

    def own_distributions(self, sentences: Sentences) -> list[np.ndarray]:
        import torch

        from ..encoders.subwords import encode_words

        tokenizer, net, limit = self._load()
        outside = np.zeros(len(self.own_tags()), dtype=np.float32)
        if "O" in self.own_tags():
            outside[self.own_tags().index("O")] = 1.0
        else:
            outside[:] = 1.0 / len(outside)
        out = []
        for start in range(0, len(sentences), self.batch_size):
            batch = [list(words) for words in sentences[start : start + self.batch_size]]
            pieces = encode_words(tokenizer, batch, limit, on_overflow="truncate")
            with torch.inference_mode():
                logits = net(**pieces.to(net.device).model_inputs()).logits.float().cpu().numpy()
            for row in range(len(batch)):
                firsts = pieces.first_subwords(row)
                probs = np.tile(outside, (len(firsts), 1))
                found = [k for k, pos in enumerate(firsts) if pos is not None]
                positions = [firsts[k] for k in found]
                probs[found] = softmax(logits[row, positions] / self.temperature)
                out.append(probs)
        return out


def teacher_block(
    model: str | Path, *, kind: str = "student", label_map: str = "identity"
) -> dict[str, Any]:
    """The ``xner.Teacher.v1`` config block of a pipeline as a teacher (by default a trained
    student pipeline, whose labels are the student's already)."""
    return {
        "@misc": "xner.Teacher.v1",
        "model": str(model),
        "kind": kind,
        "label_map": label_map,
        "temperature": 1.0,
        "smoothing": 0.0,
        "component": None,
        "batch_size": 256,
        "device": "auto",
    }


def detect_kind(model: Any) -> str:
    """``student``, ``spacy_ner`` or ``hf``, from a loaded pipeline or the files of a model."""
    if not isinstance(model, str | Path):
        factories = [model.get_pipe_meta(n).factory for n in model.pipe_names]
        return "student" if STUDENT_FACTORY in factories else "spacy_ner"
    path = Path(model)
    if not path.exists():
        from spacy.util import get_package_path, is_package

        if not is_package(str(model)):
            return "hf"  # a hub name: transformers resolves it (or says why not)
        path = get_package_path(str(model))
    configs = [path / "config.cfg", *sorted(path.glob("*/config.cfg"))]
    config = next((c for c in configs if c.is_file()), None)
    if config is None:
        if (path / "config.json").is_file():
            return "hf"
        raise ValueError(f"{model}: neither a spaCy pipeline nor a Hugging Face model")
    text = config.read_text(encoding="utf8")
    return "student" if f'factory = "{STUDENT_FACTORY}"' in text else "spacy_ner"


def load_teacher(
    model: Any,
    *,
    kind: str = "auto",
    label_map: str | Mapping[str, str | None] = "identity",
    temperature: float = 1.0,
    smoothing: float = 0.0,
    component: str | None = None,
    batch_size: int = 64,
    device: str = "auto",
) -> Teacher:
    """Build a teacher of ``kind`` ("auto" detects it) over ``model`` (path, name or pipeline)."""
    kind = detect_kind(model) if kind == "auto" else kind
    common: dict[str, Any] = {
        "model": model,
        "label_map": label_map,
        "temperature": temperature,
        "batch_size": batch_size,
    }
    if kind == "student":
        return StudentTeacher(**common, component=component)
    if kind == "spacy_ner":
        return SpacyNerTeacher(**common, component=component, smoothing=smoothing)
    if kind == "hf":
        return HFTeacher(**common, device=device)
    raise ValueError(f"unknown teacher kind {kind!r}; use 'auto' or one of {KINDS}")


def _pipeline_key(nlp: Any) -> str:
    """A cache key for an in-memory pipeline: its path if loaded from disk, else its meta."""
    if getattr(nlp, "path", None) is not None:
        return str(nlp.path)
    meta = nlp.meta
    return f"<{meta.get('lang')}_{meta.get('name')}-{meta.get('version')}:{id(nlp)}>"


def _files_fingerprint(path: Path) -> str:
    """Names, sizes and modification times of the files under a local model directory.

    Retraining a teacher in place changes it, so cached outputs of the old one are not reused.
    Empty for names that are not local paths (packages, hub names).
    """
    if not path.exists():
        return ""
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    stats = [(str(f.relative_to(path)), f.stat().st_size, f.stat().st_mtime_ns) for f in files]
    return hashlib.sha1(repr(stats).encode("utf8")).hexdigest()[:12]
