"""The student NER (factory ``xner_student_ner``): a token tagger that learns soft targets.

Each token gets a softmax over BILUO (or BIO) tags; prediction decodes the log-probabilities
with constrained Viterbi, so ``doc.ents`` always comes from a valid tag sequence. Training
targets come from the reference ``Doc`` of each ``Example``:

* soft targets, when ``reference.user_data["xner_soft_targets"]`` holds
  ``{"tags": [...], "probs": array(n_tokens, n_tags)}`` (see :func:`set_soft_targets`; the
  teacher corpus reader writes them). Columns are mapped by tag name onto the student's
  tags, mass on unknown labels moving to ``O``;
* otherwise hard labels from ``reference.ents`` (one-hot); tokens whose annotation is missing
  (``ent_iob == 0``) or that do not align one-to-one are masked out of the loss.
"""

# No `from __future__ import annotations` here: spaCy validates the signature of
# `initialize` with pydantic at runtime, which needs evaluated annotations.
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from itertools import islice
from typing import Any, cast

import numpy as np
from spacy.language import Language
from spacy.pipeline import TrainablePipe
from spacy.pipeline.ner import ner_score
from spacy.tokens import Doc, Span
from spacy.training import Example, validate_examples, validate_get_examples
from spacy.vocab import Vocab
from thinc.api import Config, Model, Optimizer, set_dropout_rate
from thinc.types import Floats2d

from .tag_sets import TagSet, convert_distribution, parse_tag
from .viterbi import constrained_viterbi

SOFT_TARGETS_KEY = "xner_soft_targets"
_EPS = 1e-8


def set_soft_targets(doc: Doc, tags: Sequence[str], probs: np.ndarray) -> None:
    """Attach per-token distributions over ``tags`` to ``doc`` (kept by ``Doc.copy``/DocBin)."""
    probs = np.asarray(probs, dtype=np.float32)
    if probs.shape != (len(doc), len(tags)):
        raise ValueError(f"soft targets {probs.shape} do not fit {len(doc)} tokens × {len(tags)}")
    doc.user_data[SOFT_TARGETS_KEY] = {"tags": list(tags), "probs": probs}


def get_soft_targets(doc: Doc) -> tuple[list[str], np.ndarray] | None:
    """The ``(tags, probs)`` attached by :func:`set_soft_targets`, or None."""
    found = doc.user_data.get(SOFT_TARGETS_KEY)
    if found is None:
        return None
    return list(found["tags"]), np.asarray(found["probs"], dtype=np.float32)


class StudentEntityRecognizer(TrainablePipe):
    """Token-classification NER trained on teacher distributions or silver entities."""

    def __init__(
        self,
        vocab: Vocab,
        model: Model[list[Doc], list[Floats2d]],
        name: str = "xner_student_ner",
        *,
        scheme: str = "BILUO",
        scorer: Callable[..., dict[str, Any]] | None = ner_score,
    ) -> None:
        self.vocab = vocab
        self.model = model
        self.name = name
        self.scorer = scorer
        TagSet((), scheme)  # validates the scheme name
        self.cfg: dict[str, Any] = {"labels": [], "scheme": scheme}

    @property
    def labels(self) -> tuple[str, ...]:
        """The entity labels (PER, ORG, ...), not the tags."""
        return tuple(self.cfg["labels"])

    @property
    def label_data(self) -> list[str]:
        return list(self.cfg["labels"])

    @property
    def tagset(self) -> TagSet:
        """The tags the softmax predicts: ``O`` and the scheme's prefixes for every label."""
        return TagSet(self.labels, self.cfg["scheme"])

    def add_label(self, label: str) -> int:
        """Add an entity label before ``initialize``; returns 0 if it was already there."""
        if not isinstance(label, str):
            raise ValueError(f"labels must be strings, got {label!r}")
        if label in self.labels:
            return 0
        output = self.model.get_ref("output_layer")
        if output.has_dim("nO"):
            raise ValueError(f"{self.name}: labels are fixed once the model is initialised")
        self.cfg["labels"].append(label)
        self.vocab.strings.add(label)
        return 1

    def predict(self, docs: Iterable[Doc]) -> list[np.ndarray]:
        """Per-token tag probabilities for each doc (numpy, n_tokens × n_tags)."""
        docs = list(docs)
        if not any(len(doc) for doc in docs):
            return [np.zeros((len(doc), len(self.tagset)), dtype=np.float32) for doc in docs]
        scores = self.model.predict(docs)
        return [self.model.ops.to_numpy(s) for s in scores]

    def decode(self, probs: np.ndarray) -> np.ndarray:
        """The most probable tag sequence that obeys the scheme (constrained Viterbi)."""
        allowed, start, end = _grammar(self.tagset)
        return constrained_viterbi(np.log(np.clip(probs, _EPS, None)), allowed, start, end)

    def set_annotations(self, docs: Iterable[Doc], scores: Sequence[np.ndarray]) -> None:
        """Replace ``doc.ents`` with the decoded entities (other tokens become ``O``)."""
        tagset = self.tagset
        for doc, probs in zip(docs, scores, strict=True):
            spans = [Span(doc, s, e, label=lab) for s, e, lab in tagset.spans(self.decode(probs))]
            doc.set_ents(spans, default="outside")

    def update(
        self,
        examples: Iterable[Example],
        *,
        drop: float = 0.0,
        sgd: Optimizer | None = None,
        losses: dict[str, float] | None = None,
    ) -> dict[str, float]:
        """One gradient step on a batch of examples (soft or hard targets)."""
        losses = {} if losses is None else losses
        losses.setdefault(self.name, 0.0)
        examples = list(examples)
        validate_examples(examples, "StudentEntityRecognizer.update")
        if not any(len(eg.predicted) for eg in examples):
            return losses
        set_dropout_rate(self.model, drop)
        scores, backprop = self.model.begin_update([eg.predicted for eg in examples])
        loss, d_scores = self.get_loss(examples, scores)
        backprop(d_scores)
        if sgd is not None:
            self.finish_update(sgd)
        losses[self.name] += loss
        return losses

    def get_loss(
        self, examples: Iterable[Example], scores: Sequence[Floats2d]
    ) -> tuple[float, list[Floats2d]]:
        """Masked cross-entropy to the targets: gradient ``p - target`` w.r.t. the logits.

        The reported loss is KL(target || p), cross-entropy minus the targets' entropy, so it
        tends to 0 on soft targets too (for one-hot targets the two are equal).
        """
        ops = self.model.ops
        tagset = self.tagset
        loss = 0.0
        grads = []
        for eg, probs in zip(examples, scores, strict=True):
            target, mask = self.targets(eg, tagset)
            target_x = ops.asarray2f(_floats2d(target))
            mask_x = ops.asarray2f(_floats2d(mask[:, None]))
            grads.append((probs - target_x) * mask_x)
            log_ratio = ops.xp.log(ops.xp.clip(target_x, _EPS, None)) - ops.xp.log(
                ops.xp.clip(probs, _EPS, None)
            )
            loss += float((target_x * log_ratio * mask_x).sum())
        if not np.isfinite(loss):
            raise ValueError(f"{self.name}: the loss is not finite")
        return loss, grads

    def targets(self, eg: Example, tagset: TagSet | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Target distributions (n × n_tags) and a 0/1 mask for the tokens of ``eg.predicted``."""
        tagset = tagset or self.tagset
        soft = get_soft_targets(eg.reference)
        if soft is not None:
            tags, probs = soft
            if tuple(tags) != tagset.tags:
                probs = convert_distribution(probs, tags, tagset)
            return _align_rows(eg, probs)
        ids = tagset.from_biluo(eg.get_aligned_ner())
        target = np.zeros((len(ids), len(tagset)), dtype=np.float32)
        mask = np.array([i is not None for i in ids], dtype=np.float32)
        for row, k in enumerate(ids):
            if k is not None:
                target[row, k] = 1.0
        return target, mask

    def initialize(
        self,
        get_examples: Callable[[], Iterable[Example]],
        *,
        nlp: Language | None = None,
        labels: Sequence[str] | None = None,
    ) -> None:
        """Set the labels (from ``labels`` or the examples) and initialise the model."""
        validate_get_examples(get_examples, "StudentEntityRecognizer.initialize")
        found = labels if labels is not None else sorted(_example_labels(get_examples()))
        for label in found:
            self.add_label(label)
        self._require_labels()
        n_tags = len(self.tagset)
        output = self.model.get_ref("output_layer")
        if not output.has_dim("nO"):
            output.set_dim("nO", n_tags)
        elif output.get_dim("nO") != n_tags:
            raise ValueError(f"{self.name}: model has nO={output.get_dim('nO')}, tags: {n_tags}")
        sample = list(islice(get_examples(), 10))
        docs = [eg.predicted for eg in sample]
        targets = [self.model.ops.asarray2f(_floats2d(self.targets(eg)[0])) for eg in sample]
        self.model.initialize(X=docs, Y=targets)


def _floats2d(array: np.ndarray) -> Floats2d:
    return cast(Floats2d, np.asarray(array, dtype=np.float32))


@lru_cache(maxsize=16)
def _grammar(tagset: TagSet) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return tagset.transitions()


def _example_labels(examples: Iterable[Example]) -> set[str]:
    """Entity labels in the examples' reference ents and soft-target tag names."""
    labels: set[str] = set()
    for eg in examples:
        labels.update(ent.label_ for ent in eg.reference.ents)
        soft = get_soft_targets(eg.reference)
        if soft is not None:
            labels.update(lab for t in soft[0] if (lab := parse_tag(t)[1]) is not None)
    return labels


def _align_rows(eg: Example, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Carry per-token rows of ``eg.reference`` onto ``eg.predicted``.

    Identical tokenisation copies the rows; otherwise a predicted token takes the row of its
    reference token only when the two align one-to-one, and is masked out if not.
    """
    x, y = eg.predicted, eg.reference
    if len(x) == len(y) and all(a.text == b.text for a, b in zip(x, y, strict=True)):
        return rows, np.ones(len(x), dtype=np.float32)
    x2y, y2x = eg.alignment.x2y, eg.alignment.y2x
    target = np.zeros((len(x), rows.shape[1]), dtype=np.float32)
    mask = np.zeros(len(x), dtype=np.float32)
    for i in range(len(x)):
        js = x2y[i]
        if len(js) == 1 and len(y2x[int(js[0])]) == 1:
            target[i] = rows[int(js[0])]
            mask[i] = 1.0
    return target, mask


_DEFAULT_MODEL = """
[model]
@architectures = "spacy.Tagger.v2"
nO = null
normalize = true

[model.tok2vec]
@architectures = "spacy.HashEmbedCNN.v2"
pretrained_vectors = null
width = 96
depth = 4
embed_size = 2000
window_size = 1
maxout_pieces = 3
subword_features = true
"""


@Language.factory(
    "xner_student_ner",
    assigns=["doc.ents", "token.ent_iob", "token.ent_type"],
    default_config={
        "model": Config().from_str(_DEFAULT_MODEL)["model"],
        "scheme": "BILUO",
        "scorer": {"@scorers": "spacy.ner_scorer.v1"},
    },
    default_score_weights={"ents_f": 1.0, "ents_p": 0.0, "ents_r": 0.0, "ents_per_type": None},
)
def make_student_ner(
    nlp: Language,
    name: str,
    model: Model[list[Doc], list[Floats2d]],
    scheme: str,
    scorer: Callable[..., Any] | None,
) -> StudentEntityRecognizer:
    """Student NER: token softmax trained on soft (teacher) or hard targets, Viterbi-decoded.

    The network is spaCy's own tagger (``spacy.Tagger.v2`` with ``normalize = true``, so
    it outputs probabilities at inference too); the factory exists to bind the vocab.
    """
    return StudentEntityRecognizer(nlp.vocab, model, name, scheme=scheme, scorer=scorer)
