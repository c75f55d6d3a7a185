"""``xner.SoftNERTagger.v1``: kept so configs and trained pipelines that name it still load.

It is spaCy's tagger network with normalised outputs, a softmax over NER tags per token
whose backward pass takes ``probs - targets`` (the cross-entropy gradient), so teacher
distributions and one-hot targets train it alike. New configs name ``spacy.Tagger.v2``
with ``normalize = true`` directly, as the student component's default config does.
"""

from __future__ import annotations

from spacy.ml.models.tagger import build_tagger_model
from spacy.tokens import Doc
from thinc.api import Model
from thinc.types import Floats2d


def build_soft_ner_tagger(
    tok2vec: Model[list[Doc], list[Floats2d]], nO: int | None = None
) -> Model[list[Doc], list[Floats2d]]:
    """``spacy.Tagger.v2`` with ``normalize=True`` (an alias, not a copy)."""
    return build_tagger_model(tok2vec, nO=nO, normalize=True)
