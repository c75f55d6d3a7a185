"""Tiny, randomly initialised Hugging Face models built locally in seconds, for offline tests.

Nothing here downloads anything. Each ``save_*`` function trains a small tokenizer on
:func:`toy_corpus` with the ``tokenizers`` library, builds a 2-layer encoder with hidden size
32 from a fixed torch seed, writes both with ``save_pretrained`` into a directory and returns
that directory, which ``from_pretrained`` (and so every ``model = "..."`` option) accepts.

* :func:`save_tiny_xlmr` — SentencePiece-style Unigram tokenizer (``▁`` word prefix) wrapped as
  ``XLMRobertaTokenizerFast`` + ``XLMRobertaModel``.
* :func:`save_tiny_bert` — WordPiece tokenizer (``##`` continuation) wrapped as
  ``BertTokenizerFast`` + ``BertModel``.
* :func:`save_tiny_xlmr_token_classifier` — the XLM-R tokenizer + an
  ``XLMRobertaForTokenClassification`` head over :data:`CONLL_BIO_LABELS`; optionally a
  constant predictor, so label decoding can be tested exactly.

Weights are random, so embeddings carry no meaning: test structure and determinism, not quality.
Pytest fixtures over these builders live in ``tests/conftest.py``.
"""

from __future__ import annotations

import json
import random
import struct
from collections.abc import Sequence
from pathlib import Path
from typing import Any

CONLL_BIO_LABELS: tuple[str, ...] = (
    "O",
    "B-PER",
    "I-PER",
    "B-ORG",
    "I-ORG",
    "B-LOC",
    "I-LOC",
    "B-MISC",
    "I-MISC",
)

HIDDEN_SIZE = 32
NUM_LAYERS = 2
NUM_HEADS = 2
# Like the real models: XLM-R has 514 positions (512 usable, 2 offset by padding_idx), BERT 512.
MAX_LENGTH = 512

_NAMES = ["Ada", "Bola", "Chidi", "José", "Zoë", "Ngozi", "Ọlá", "Müller", "Łukasz", "Ñandú"]
_PLACES = ["Lagos", "Abuja", "São Paulo", "Kraków", "Zürich", "Bamako", "Dakar", "Côte d'Ivoire"]
_TEMPLATES = [
    "{n} went to {p} yesterday .",
    "{n} est allé à {p} hier .",
    "{n} fue a {p} ayer , ¿ verdad ?",
    "{n} ist gestern nach {p} gefahren .",
    "{n} lọ si {p} lana .",
    "awọn eniyan {p} fẹran {n} .",
    "a ri {n} ati {p} loni !",
    "the people of {p} like {n} very much .",
    "{n} travaille à {p} depuis 2019 .",
    "naïve café owners in {p} met {n} .",
]


def toy_corpus(n: int = 300, seed: int = 0) -> list[str]:
    """``n`` deterministic toy sentences in several languages, with accented characters."""
    rng = random.Random(seed)
    return [
        rng.choice(_TEMPLATES).format(n=rng.choice(_NAMES), p=rng.choice(_PLACES)) for _ in range(n)
    ]


def _unigram_backend(corpus: Sequence[str], vocab_size: int) -> Any:
    """A SentencePiece-style Unigram ``tokenizers.Tokenizer`` with XLM-R's special-token ids.

    As in XLM-R: ``<s>`` 0, ``<pad>`` 1, ``</s>`` 2, ``<unk>`` 3, the pieces, ``<mask>`` last.
    """
    from tokenizers import AddedToken, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram
    from tokenizers.trainers import UnigramTrainer

    tok = Tokenizer(Unigram())
    tok.normalizer = normalizers.NFKC()
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    trainer = UnigramTrainer(
        vocab_size=vocab_size,
        special_tokens=["<s>", "<pad>", "</s>", "<unk>"],
        unk_token="<unk>",
        show_progress=False,
    )
    tok.train_from_iterator(corpus, trainer=trainer)
    tok.add_special_tokens([AddedToken("<mask>", lstrip=True, special=True)])
    bos, eos = tok.token_to_id("<s>"), tok.token_to_id("</s>")
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>",
        pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", bos), ("</s>", eos)],
    )
    return tok


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def sentencepiece_model_bytes(pieces: Sequence[tuple[str, float]]) -> bytes:
    """A SentencePiece Unigram model file (``ModelProto``) for ``pieces``, as XLM-R ships it.

    Written by hand (protobuf wire format, no ``protobuf`` needed) so a tiny XLM-R directory has
    the ``sentencepiece.bpe.model`` that tools such as spacy-transformers read next to
    ``tokenizer.json``. Layout: ``<unk>`` 0, ``<s>`` 1, ``</s>`` 2, then ``pieces``; XLM-R's
    tokenizers shift these ids by one to make room for ``<pad>``.
    """
    normal, unknown, control = 1, 2, 3
    entries = [("<unk>", 0.0, unknown), ("<s>", 0.0, control), ("</s>", 0.0, control)]
    entries += [(piece, score, normal) for piece, score in pieces]
    out = bytearray()
    for piece, score, kind in entries:
        body = _field(1, piece.encode("utf-8"))
        body += _varint(2 << 3 | 5) + struct.pack("<f", score)
        body += _varint(3 << 3 | 0) + _varint(kind)
        out += _field(1, body)
    # TrainerSpec: model_type UNIGRAM (1), vocab_size; NormalizerSpec: no normalisation.
    trainer = _varint(3 << 3) + _varint(1) + _varint(4 << 3) + _varint(len(entries))
    out += _field(2, trainer)
    out += _field(3, _field(1, b"identity"))
    return bytes(out)


def tiny_xlmr_tokenizer(corpus: Sequence[str] | None = None, vocab_size: int = 400) -> Any:
    """An ``XLMRobertaTokenizerFast`` over a Unigram model trained on ``corpus``."""
    from transformers import XLMRobertaTokenizerFast

    backend = _unigram_backend(corpus or toy_corpus(), vocab_size)
    return XLMRobertaTokenizerFast(tokenizer_object=backend, model_max_length=MAX_LENGTH)


def save_sentencepiece_model(tokenizer: Any, path: Path) -> Path:
    """Write the SentencePiece file matching a :func:`tiny_xlmr_tokenizer` into ``path``.

    ``from_pretrained`` then sets the tokenizer's ``vocab_file`` to it, as for the real XLM-R.
    """
    vocab = json.loads(tokenizer.backend_tokenizer.to_str())["model"]["vocab"]
    pieces = [(piece, score) for piece, score in vocab[4:]]  # after <s> <pad> </s> <unk>
    target = Path(path) / "sentencepiece.bpe.model"
    target.write_bytes(sentencepiece_model_bytes(pieces))
    return target


def tiny_bert_tokenizer(corpus: Sequence[str] | None = None, vocab_size: int = 400) -> Any:
    """A cased ``BertTokenizerFast`` over a WordPiece model trained on ``corpus``."""
    from tokenizers import Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import WordPiece
    from tokenizers.trainers import WordPieceTrainer
    from transformers import BertTokenizerFast

    tok = Tokenizer(WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=False, strip_accents=False)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece()
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    trainer = WordPieceTrainer(vocab_size=vocab_size, special_tokens=specials, show_progress=False)
    tok.train_from_iterator(corpus or toy_corpus(), trainer=trainer)
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls), ("[SEP]", sep)],
    )
    return BertTokenizerFast(tokenizer_object=tok, model_max_length=MAX_LENGTH, do_lower_case=False)


def _xlmr_config(tokenizer: Any, num_layers: int = NUM_LAYERS, **kwargs: Any) -> Any:
    from transformers import XLMRobertaConfig

    return XLMRobertaConfig(
        vocab_size=len(tokenizer),
        hidden_size=HIDDEN_SIZE,
        num_hidden_layers=num_layers,
        num_attention_heads=NUM_HEADS,
        intermediate_size=2 * HIDDEN_SIZE,
        max_position_embeddings=MAX_LENGTH + 2,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        **kwargs,
    )


def _save(model: Any, tokenizer: Any, path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    model.eval()
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    if type(tokenizer).__name__.startswith("XLMRoberta"):
        save_sentencepiece_model(tokenizer, path)
    return path


def save_tiny_xlmr(path: Path, seed: int = 0, num_layers: int = NUM_LAYERS) -> Path:
    """Save a 2-layer ``XLMRobertaModel`` + Unigram ``XLMRobertaTokenizerFast`` into ``path``.

    ``num_layers`` deepens it, e.g. to 8 for configs that read hidden layer 8 as shipped
    (``configs/ner_encoder.cfg``, ``configs/align/simalign.cfg``) with no layer override.
    """
    import torch
    from transformers import XLMRobertaModel

    tokenizer = tiny_xlmr_tokenizer()
    torch.manual_seed(seed)
    model = XLMRobertaModel(_xlmr_config(tokenizer, num_layers=num_layers))
    return _save(model, tokenizer, Path(path))


def save_tiny_bert(path: Path, seed: int = 0) -> Path:
    """Save a 2-layer ``BertModel`` + WordPiece ``BertTokenizerFast`` into ``path``."""
    import torch
    from transformers import BertConfig, BertModel

    tokenizer = tiny_bert_tokenizer()
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=HIDDEN_SIZE,
        num_hidden_layers=NUM_LAYERS,
        num_attention_heads=NUM_HEADS,
        intermediate_size=2 * HIDDEN_SIZE,
        max_position_embeddings=MAX_LENGTH,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(seed)
    model = BertModel(config)
    return _save(model, tokenizer, Path(path))


def save_tiny_xlmr_token_classifier(
    path: Path,
    labels: Sequence[str] = CONLL_BIO_LABELS,
    seed: int = 0,
    constant_label: str | None = None,
) -> Path:
    """Save a 2-layer ``XLMRobertaForTokenClassification`` over ``labels`` into ``path``.

    ``constant_label`` makes the head predict that label for every sub-token (zero weights, a
    winning bias), so tests can check exact decoded entities despite random encoder weights.
    """
    import torch
    from transformers import XLMRobertaForTokenClassification

    tokenizer = tiny_xlmr_tokenizer()
    config = _xlmr_config(
        tokenizer,
        id2label=dict(enumerate(labels)),
        label2id={label: i for i, label in enumerate(labels)},
    )
    torch.manual_seed(seed)
    model = XLMRobertaForTokenClassification(config)
    if constant_label is not None:
        with torch.no_grad():
            model.classifier.weight.zero_()
            model.classifier.bias.fill_(-10.0)
            model.classifier.bias[list(labels).index(constant_label)] = 10.0
    return _save(model, tokenizer, Path(path))
