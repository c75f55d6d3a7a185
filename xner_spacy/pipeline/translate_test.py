"""The translate-test component ``xner_translate_test``: NER for a language without a model.

For each target ``Doc``: machine-translate its text into the source language, label the
translation with a source-language NER (a spaCy pipeline or a HF token classifier), align
the translation's tokens with the original tokens and project the entities back, so
``doc.ents`` lies on the original tokens. The translated ``Doc`` (with its entities) stays in
``doc._.xner_source`` and the links in ``doc._.xner_alignment``, for inspection.

The models are referenced by hub name or local path in the config, loaded by
``nlp.initialize()`` (or on first use by a pipeline that was loaded, not initialised), and
never serialised: a packaged pipeline holds only its config, so it is a few kilobytes, and
the machine that loads it needs the models (in the HF cache or at the configured paths).
``pipe`` works batch-wise: one translation call, one labelling call and one alignment call
per batch (``nlp.pipe(texts, batch_size=...)``). As with ``xner_aligner``, a Doc holding
its source Doc cannot be pickled: keep ``n_process=1``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from ..text import nfc
from ..types import Aligner, Labeller, Projector, Translator
from .projection_components import (
    ALIGNMENT_ATTR,
    DEFAULT_SPANS_KEY,
    NER_SCORE_WEIGHTS,
    NER_SCORER,
    SOURCE_ATTR,
    AligningPipe,
    align_docs,
    load_part,
    project_doc,
    register_extensions,
    set_projection,
    token_words,
)

CFG_FILE = "cfg"


def _blank(lang: str) -> Language:
    """A blank pipeline for tokenising ``lang`` (spaCy's ``xx`` rules for unknown codes)."""
    import spacy

    try:
        return spacy.blank(lang)
    except Exception:
        return spacy.blank("xx")


def _model_name(part: Any) -> str | None:
    name = getattr(part, "model_name", None) or getattr(part, "model", None)
    return name if isinstance(name, str) else None


class TranslateTest(AligningPipe):
    """Translate → label → align → project back, on a batch of target Docs at a time.

    ``source_lang``: the language the labeller knows and the text is translated into;
    ``target_lang``: the language of the Docs (``None``: the pipeline's ``lang`` unless it
    is ``xx``, else the translator's default source language). Every part is a registered
    function's result (``[components.<name>.translator]`` etc.). A statistical aligner is
    allowed but sees only one batch as its corpus (see ``xner_aligner``); use a neural one.
    """

    default_batch_size = 64

    def __init__(
        self,
        nlp: Language,
        name: str,
        *,
        translator: Translator,
        labeller: Labeller,
        aligner: Aligner,
        projector: Projector,
        source_lang: str,
        target_lang: str | None,
        spans_key: str,
        scorer: Callable[..., Any] | None,
    ) -> None:
        self.name = name
        self.translator = translator
        self.labeller = labeller
        self.aligner = aligner
        self.projector = projector
        self.source_lang = source_lang
        self.target_lang = target_lang or (nlp.lang if nlp.lang != "xx" else None)
        self.spans_key = spans_key
        self.scorer = scorer
        self._source_nlp: Language | None = None

    @property
    def source_nlp(self) -> Language:
        """A blank ``source_lang`` pipeline whose tokenizer splits the translations."""
        if self._source_nlp is None:
            self._source_nlp = _blank(self.source_lang)
        return self._source_nlp

    def initialize(
        self,
        get_examples: Callable[[], Iterable[Any]] | None = None,
        *,
        nlp: Language | None = None,
    ) -> None:
        """Load translator, labeller and aligner models now; no examples are needed."""
        for part in (self.translator, self.labeller, self.aligner):
            load_part(part)

    def translate(self, docs: Sequence[Doc]) -> list[Doc]:
        """Each Doc's text in ``source_lang``, tokenised as a source-language Doc."""
        texts = [nfc(doc.text).strip() for doc in docs]
        todo = [k for k, text in enumerate(texts) if text]
        out = [""] * len(docs)
        if todo and self.target_lang is None and getattr(self.translator, "src_lang", "") is None:
            raise ValueError(
                f"[{self.name}] the language of the Docs is unknown: set target_lang in "
                f'[components.{self.name}] (e.g. "yor") or use a pipeline whose lang is not xx'
            )
        if todo:
            found = self.translator.translate(
                [texts[k] for k in todo], src_lang=self.target_lang, tgt_lang=self.source_lang
            )
            if len(found) != len(todo):
                raise ValueError(
                    f"the translator returned {len(found)} translations for {len(todo)} texts"
                )
            for k, translation in zip(todo, found, strict=True):
                out[k] = nfc(translation).strip()
        return [self.source_nlp.make_doc(text) for text in out]

    def label(self, sources: Sequence[Doc]) -> None:
        """Set ``source.ents`` from the labeller (run on the non-whitespace tokens)."""
        words = [token_words(doc) for doc in sources]
        todo = [k for k, (w, _) in enumerate(words) if w]
        found = list(self.labeller.label([words[k][0] for k in todo])) if todo else []
        if len(found) != len(todo):
            raise ValueError(f"the labeller returned {len(found)} results for {len(todo)} texts")
        for k, ents in zip(todo, found, strict=True):
            doc, index = sources[k], words[k][1]
            spans = [Span(doc, index[e.start], index[e.end - 1] + 1, label=e.label) for e in ents]
            doc.set_ents(filter_spans(spans), default="outside")

    def set_annotations(self, docs: Sequence[Doc]) -> None:
        """Translate, label, align and project one batch; sets ``doc.ents`` and ``doc.spans``."""
        sources = self.translate(docs)
        self.label(sources)
        alignments = align_docs(self.aligner, sources, docs)
        for doc, source, alignment in zip(docs, sources, alignments, strict=True):
            doc._.set(SOURCE_ATTR, source)
            doc._.set(ALIGNMENT_ATTR, alignment)
            projected = project_doc(self.projector, source, doc, alignment)
            set_projection(doc, projected, self.spans_key, set_ents=True)

    def to_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> None:
        """Write ``cfg``: the languages and the models this component loads (never weights)."""
        import srsly

        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        cfg = {
            "source_lang": self.source_lang,
            "target_lang": self.target_lang,
            "spans_key": self.spans_key,
            "models": {
                "translator": _model_name(self.translator),
                "labeller": _model_name(self.labeller),
                "aligner": _model_name(self.aligner),
            },
        }
        srsly.write_json(folder / CFG_FILE, cfg)

    def from_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> TranslateTest:
        """Restore nothing: settings come from ``config.cfg``, so load-time overrides win."""
        return self


@Language.factory(
    "xner_translate_test",
    assigns=["doc.ents", "doc.spans", f"doc._.{SOURCE_ATTR}", f"doc._.{ALIGNMENT_ATTR}"],
    default_config={
        "translator": {"@misc": "xner.HFTranslator.v1"},
        "labeller": {
            "@misc": "xner.HFTokenClassifier.v1",
            "model": "xlm-roberta-large-finetuned-conll03-english",
            "label_map": "conll",
        },
        "aligner": {"@misc": "xner.SoftmaxAligner.v1", "model": "xlm-roberta-base"},
        "projector": {"@misc": "xner.HeuristicProjector.v1"},
        "source_lang": "en",
        "target_lang": None,
        "spans_key": DEFAULT_SPANS_KEY,
        "scorer": NER_SCORER,
    },
    default_score_weights=NER_SCORE_WEIGHTS,
)
def make_translate_test(
    nlp: Language,
    name: str,
    translator: Translator,
    labeller: Labeller,
    aligner: Aligner,
    projector: Projector,
    source_lang: str,
    target_lang: str | None,
    spans_key: str,
    scorer: Callable[..., Any] | None,
) -> TranslateTest:
    """Translate-test NER: translate into ``source_lang``, label, align, project back."""
    register_extensions()
    return TranslateTest(
        nlp,
        name,
        translator=translator,
        labeller=labeller,
        aligner=aligner,
        projector=projector,
        source_lang=source_lang,
        target_lang=target_lang,
        spans_key=spans_key,
        scorer=scorer,
    )
