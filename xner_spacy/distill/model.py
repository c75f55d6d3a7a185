"""The student's network: token vectors → a softmax over NER tags (``xner.SoftNERTagger.v1``)."""

from __future__ import annotations

from spacy.tokens import Doc
from thinc.api import Model, Softmax_v2, chain, with_array, zero_init
from thinc.types import Floats2d


def build_soft_ner_tagger(
    tok2vec: Model[list[Doc], list[Floats2d]], nO: int | None = None
) -> Model[list[Doc], list[Floats2d]]:
    """A tok2vec (inline or a listener) followed by a linear layer and softmax per token.

    The output is a probability distribution over the component's tags for each token; its
    backward pass takes ``probs - targets``, the cross-entropy gradient, so soft targets
    (teacher distributions) and one-hot targets train it the same way. ``nO`` (the number
    of tags) is set by the component when it knows its labels.
    """
    width = tok2vec.get_dim("nO") if tok2vec.has_dim("nO") else None
    output_layer = Softmax_v2(nO, width, init_W=zero_init)
    model: Model[list[Doc], list[Floats2d]] = chain(tok2vec, with_array(output_layer))
    model.set_ref("tok2vec", tok2vec)
    model.set_ref("output_layer", output_layer)
    return model
