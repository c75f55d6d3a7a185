"""spaCy components over the projection core: ``xner_aligner`` and ``xner_projector``.

A target ``Doc`` carries its source-language ``Doc`` in ``doc._.xner_source``.
``xner_aligner`` word-aligns the two with a registered aligner and stores the links in
``doc._.xner_alignment`` (sorted ``(source token, target token)`` index pairs);
``xner_projector`` projects the source entities onto the target with a registered projector,
sets ``doc.ents`` and keeps the projected spans with a score each in ``doc.spans``::

    nlp = spacy.blank("xx")
    nlp.add_pipe("xner_aligner", config={"aligner": {"@misc": "xner.SoftmaxAligner.v1",
                                                     "model": "xlm-roberta-base"}})
    nlp.add_pipe("xner_projector", config={"label_map": "ontonotes"})
    docs = (with_source(nlp.make_doc(tgt), en_nlp(src)) for src, tgt in pairs)
    for doc in nlp.pipe(docs, batch_size=64):
        print(doc.ents, doc.spans["xner_projected"].attrs["scores"])

Both are thin wrappers: the words are the non-whitespace tokens, and the aligners and
projectors are the ones the ``xner`` CLI steps use. A ``Doc`` holding another ``Doc`` in
``doc._`` cannot be pickled or put in a ``DocBin`` with user data: use ``n_process=1`` and
drop ``doc._.xner_source`` before serialising.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, ClassVar, NamedTuple

from spacy.language import Language
from spacy.pipeline import Pipe
from spacy.tokens import Doc, Span, SpanGroup
from spacy.util import minibatch

from ..labelling.label_maps import get_label_map, map_label
from ..types import Aligner, AlignPair, Entity, Projector, checked_alignment

#: ``doc._`` attribute holding the source-language ``Doc`` of a target ``Doc``.
SOURCE_ATTR = "xner_source"
#: ``doc._`` attribute holding the alignment: sorted ``(source token, target token)`` pairs.
ALIGNMENT_ATTR = "xner_alignment"
#: Default ``doc.spans`` key of the projected entities.
DEFAULT_SPANS_KEY = "xner_projected"
#: ``SpanGroup.attrs`` keys: per-span scores (float32 array) and source entity indices.
SCORES_ATTR = "scores"
SOURCE_ENTS_ATTR = "source_ents"

NER_SCORER = {"@scorers": "spacy.ner_scorer.v1"}
NER_SCORE_WEIGHTS: dict[str, float | None] = {
    "ents_f": 1.0,
    "ents_p": 0.0,
    "ents_r": 0.0,
    "ents_per_type": None,
}


def register_extensions() -> None:
    """Register ``Doc._.xner_source`` and ``Doc._.xner_alignment`` (idempotent)."""
    for attr in (SOURCE_ATTR, ALIGNMENT_ATTR):
        if not Doc.has_extension(attr):
            Doc.set_extension(attr, default=None)


register_extensions()


def with_source(target: Doc, source: Doc) -> Doc:
    """Attach ``source`` to ``target`` (``target._.xner_source``) and return ``target``."""
    target._.set(SOURCE_ATTR, source)
    return target


def load_part(part: Any) -> None:
    """Load a part's model now if it can (``part.load()``), else leave it to first use."""
    load = getattr(part, "load", None)
    if callable(load):
        load()


def is_per_pair(aligner: Any) -> bool:
    """True for aligners that align each pair on its own (``per_pair = True``, e.g. neural)."""
    return bool(getattr(aligner, "per_pair", False))


def token_words(doc: Doc) -> tuple[list[str], list[int]]:
    """The non-whitespace tokens of ``doc`` as words, and each word's token index."""
    index = [t.i for t in doc if not t.is_space]
    return [doc[i].text for i in index], index


def align_docs(
    aligner: Aligner, sources: Sequence[Doc], targets: Sequence[Doc]
) -> list[list[AlignPair]]:
    """Align each ``(sources[k], targets[k])`` in one ``aligner.align`` call; token-index pairs.

    The aligner sees the non-whitespace tokens; its word links are mapped back to token
    indices. For a statistical aligner the call's pairs are its whole training corpus.
    """
    src = [token_words(d) for d in sources]
    tgt = [token_words(d) for d in targets]
    links = aligner.align([w for w, _ in src], [w for w, _ in tgt])
    if len(links) != len(targets):
        raise ValueError(f"the aligner returned {len(links)} alignments for {len(targets)} pairs")
    out: list[list[AlignPair]] = []
    for k, ((_, si), (_, ti), pairs) in enumerate(zip(src, tgt, links, strict=True)):
        words = checked_alignment(pairs, len(si), len(ti), f"aligner output for doc {k}")
        out.append(sorted({(si[i], ti[j]) for i, j in words}))
    return out


class Projected(NamedTuple):
    """A projected entity on target tokens, its score and the index of its source entity."""

    start: int
    end: int
    label: str
    score: float
    source: int


def _dice_source(
    ent: Entity, src_ents: Sequence[Entity], alignment: Sequence[AlignPair]
) -> tuple[float, int]:
    """Best alignment Dice of ``ent`` with a source entity (same label first); -1 if none."""
    best = (0.0, -1)
    for same_label in (True, False):
        for k, src in enumerate(src_ents):
            if same_label != (src.label == ent.label):
                continue
            links = sum(
                1 for i, j in alignment if src.start <= i < src.end and ent.start <= j < ent.end
            )
            dice = 2.0 * links / (len(src) + len(ent))
            if dice > best[0]:
                best = (dice, k)
        if best[1] >= 0:
            break
    return best


def _trim_space(doc: Doc, start: int, end: int) -> tuple[int, int]:
    """Shrink ``[start, end)`` so it neither starts nor ends on a whitespace token."""
    while start < end and doc[start].is_space:
        start += 1
    while end > start and doc[end - 1].is_space:
        end -= 1
    return start, end


def project_doc(
    projector: Projector,
    source: Doc,
    target: Doc,
    alignment: Sequence[AlignPair],
    label_map: Mapping[str, str | None] | None = None,
    extras: Mapping[str, Any] | None = None,
) -> list[Projected]:
    """Project ``source.ents`` onto ``target`` tokens, each with a score and its source entity.

    Source labels go through ``label_map`` (a label it drops is not projected). The score is
    the projector's own match score where it gives one (``project_with_scores``, candidate
    matching), else the alignment Dice of the span with its best source entity.
    """
    kept: list[int] = []
    src_ents: list[Entity] = []
    for k, span in enumerate(source.ents):
        label = map_label(span.label_, label_map or {})
        if label is not None:
            kept.append(k)
            src_ents.append(Entity(span.start, span.end, label))
    if not src_ents or not len(target):
        return []
    src_words = [t.text for t in source]
    tgt_words = [t.text for t in target]
    scored = getattr(projector, "project_with_scores", None)
    found: list[tuple[Entity, float, int]]
    if callable(scored):
        found = [
            (Entity(*e), float(c), k)
            for e, c, k in scored(src_words, tgt_words, src_ents, alignment, extras)
        ]
    else:
        ents = projector(src_words, tgt_words, src_ents, alignment, extras)
        found = [(Entity(*e), *_dice_source(Entity(*e), src_ents, alignment)) for e in ents]
    out = []
    for ent, score, k in found:
        start, end = _trim_space(target, ent.start, ent.end)
        if end > start:
            out.append(Projected(start, end, ent.label, score, kept[k] if k >= 0 else -1))
    return sorted(out)


def set_projection(
    doc: Doc, projected: Iterable[Projected], spans_key: str, set_ents: bool
) -> None:
    """Write ``doc.spans[spans_key]`` (attrs ``scores``, ``source_ents``) and maybe ``doc.ents``.

    The scores are a float32 array parallel to the spans, as spaCy's ``spancat`` stores them;
    ``source_ents`` holds the index of each span's source entity in ``doc._.xner_source.ents``.
    """
    import numpy

    items = list(projected)
    spans = [Span(doc, p.start, p.end, label=p.label) for p in items]
    attrs = {
        SCORES_ATTR: numpy.asarray([p.score for p in items], dtype="float32"),
        SOURCE_ENTS_ATTR: [p.source for p in items],
    }
    doc.spans[spans_key] = SpanGroup(doc, name=spans_key, spans=spans, attrs=attrs)
    if set_ents:
        doc.set_ents(spans, default="outside")


def _source_of(doc: Doc, component: str) -> Doc:
    source = doc._.get(SOURCE_ATTR)
    if not isinstance(source, Doc):
        raise ValueError(
            f"[{component}] the Doc has no source Doc: set doc._.{SOURCE_ATTR} (e.g. with "
            f"xner_spacy.pipeline.projection_components.with_source(doc, source_doc)) "
            "before the pipeline"
        )
    return source


class AligningPipe(Pipe):
    """A ``Pipe`` that annotates a batch of Docs at once, word-aligning them with ``aligner``.

    ``pipe`` cuts the stream into batches of ``batch_size`` Docs (``default_batch_size`` when
    none is given), runs ``set_annotations`` on each and hands a failed batch to the
    pipeline's error handler. ``__call__`` runs a batch of one Doc, which a statistical
    aligner (one that learns from the corpus it aligns) refuses. Subclasses set ``name`` and
    ``aligner`` and implement ``set_annotations``.
    """

    default_batch_size: ClassVar[int] = 128
    name: str
    aligner: Aligner

    def __call__(self, doc: Doc) -> Doc:
        if not is_per_pair(self.aligner):
            raise ValueError(
                f"[{self.name}] {type(self.aligner).__name__} learns from the corpus it aligns, "
                "so it cannot align one Doc on its own: use nlp.pipe(docs, batch_size=...) "
                "(each batch is aligned as one corpus) or a neural aligner"
            )
        self.set_annotations([doc])
        return doc

    def pipe(self, stream: Iterable[Doc], *, batch_size: int | None = None) -> Iterator[Doc]:
        size = self.default_batch_size if batch_size is None else batch_size
        error_handler = self.get_error_handler()
        for batch in minibatch(stream, size=size):
            docs = list(batch)
            try:
                self.set_annotations(docs)
                yield from docs
            except Exception as err:
                error_handler(self.name, self, docs, err)

    def set_annotations(self, docs: Sequence[Doc]) -> None:
        """Annotate one batch of Docs in place."""
        raise NotImplementedError


class AlignerComponent(AligningPipe):
    """Word-aligns each target ``Doc`` with its source (``doc._.xner_source``), batch-wise.

    Per-pair aligners (neural: SoftmaxAligner, SimAlign) embed the docs of each ``pipe``
    batch together and give the same links whatever the batching. Statistical aligners
    (eflomal, fast_align) learn from the text they align, so ``pipe`` aligns each batch as
    one corpus: the links of a pair depend on the other pairs in its batch and improve
    with the batch size (give ``nlp.pipe`` a ``batch_size`` of thousands). One ``Doc`` alone
    is too little text for them, so ``nlp(doc)`` with a statistical aligner raises.
    """

    def __init__(self, nlp: Language, name: str, *, aligner: Aligner) -> None:
        self.name = name
        self.aligner = aligner
        self.per_pair = is_per_pair(aligner)

    def initialize(
        self,
        get_examples: Callable[[], Iterable[Any]] | None = None,
        *,
        nlp: Language | None = None,
    ) -> None:
        """Load the aligner's model (neural aligners), so the first batch does not."""
        load_part(self.aligner)

    def set_annotations(self, docs: Sequence[Doc]) -> None:
        """Align the docs of one batch together and store ``doc._.xner_alignment``."""
        sources = [_source_of(doc, self.name) for doc in docs]
        for doc, pairs in zip(docs, align_docs(self.aligner, sources, docs), strict=True):
            doc._.set(ALIGNMENT_ATTR, pairs)


class ProjectorComponent(Pipe):
    """Projects ``doc._.xner_source.ents`` onto the target ``Doc`` along ``doc._.xner_alignment``.

    Writes ``doc.spans[spans_key]`` (with ``attrs["scores"]`` and ``attrs["source_ents"]``)
    and, with ``set_ents``, replaces ``doc.ents``. ``label_map`` maps source labels (a
    built-in name such as ``"ontonotes"`` or a dict; ``"identity"`` keeps them).
    ``ner_spans_key`` names a ``doc.spans`` group of target NER proposals (scores from its
    ``attrs["scores"]`` when present, else 1) passed as ``extras["ner_spans"]`` to the
    projector, for candidate matching with ``xner.NerCandidates.v1``/``xner.NerSpanScore.v1``.
    """

    def __init__(
        self,
        nlp: Language,
        name: str,
        *,
        projector: Projector,
        label_map: str | Mapping[str, str | None],
        spans_key: str,
        set_ents: bool,
        ner_spans_key: str | None,
        scorer: Callable[..., Any] | None,
    ) -> None:
        self.name = name
        self.projector = projector
        self.label_map = get_label_map(label_map)
        self.spans_key = spans_key
        self.set_ents = set_ents
        self.ner_spans_key = ner_spans_key
        self.scorer = scorer

    def __call__(self, doc: Doc) -> Doc:
        source = _source_of(doc, self.name)
        alignment = doc._.get(ALIGNMENT_ATTR)
        if alignment is None:
            raise ValueError(
                f"[{self.name}] the Doc has no alignment: add the 'xner_aligner' component "
                f"before '{self.name}' or set doc._.{ALIGNMENT_ATTR}"
            )
        projected = project_doc(
            self.projector, source, doc, alignment, self.label_map, self._extras(doc)
        )
        set_projection(doc, projected, self.spans_key, self.set_ents)
        return doc

    def _extras(self, doc: Doc) -> dict[str, Any] | None:
        if self.ner_spans_key is None or self.ner_spans_key not in doc.spans:
            return None
        group = doc.spans[self.ner_spans_key]
        scores = group.attrs.get(SCORES_ATTR)
        ner_spans = [
            (s.start, s.end, s.label_, 1.0 if scores is None else float(scores[n]))
            for n, s in enumerate(group)
        ]
        return {"ner_spans": ner_spans}


@Language.factory(
    "xner_aligner",
    assigns=[f"doc._.{ALIGNMENT_ATTR}"],
    requires=[f"doc._.{SOURCE_ATTR}"],
    default_config={"aligner": {"@misc": "xner.SoftmaxAligner.v1"}},
)
def make_aligner_component(nlp: Language, name: str, aligner: Aligner) -> AlignerComponent:
    """Word alignment of each target Doc with ``doc._.xner_source`` by a registered aligner."""
    register_extensions()
    return AlignerComponent(nlp, name, aligner=aligner)


@Language.factory(
    "xner_projector",
    assigns=["doc.ents", "doc.spans"],
    requires=[f"doc._.{SOURCE_ATTR}", f"doc._.{ALIGNMENT_ATTR}"],
    default_config={
        "projector": {"@misc": "xner.HeuristicProjector.v1"},
        "label_map": "identity",
        "spans_key": DEFAULT_SPANS_KEY,
        "set_ents": True,
        "ner_spans_key": None,
        "scorer": NER_SCORER,
    },
    default_score_weights=NER_SCORE_WEIGHTS,
)
def make_projector_component(
    nlp: Language,
    name: str,
    projector: Projector,
    label_map: str | dict[str, str | None],
    spans_key: str,
    set_ents: bool,
    ner_spans_key: str | None,
    scorer: Callable[..., Any] | None,
) -> ProjectorComponent:
    """Source entities projected onto the target Doc by a registered projector, with scores."""
    register_extensions()
    return ProjectorComponent(
        nlp,
        name,
        projector=projector,
        label_map=label_map,
        spans_key=spans_key,
        set_ents=set_ents,
        ner_spans_key=ner_spans_key,
        scorer=scorer,
    )
