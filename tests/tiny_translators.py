"""Tiny random seq2seq translators for tests, built offline in about a second.

Each builder trains a small tokenizer on a toy corpus with the ``tokenizers`` (or
``sentencepiece``) library, initialises a 1-layer model with random weights and saves both
with ``save_pretrained``, so the directory loads like a hub model
(``AutoTokenizer``/``AutoModelForSeq2SeqLM``). Outputs are garbage, but every code path
(language-code tokens, forced BOS, batching, forced decoding) runs as with the real models:

- ``build_tiny_nllb``: M2M-100 architecture + ``NllbTokenizerFast`` with NLLB-200 codes
  (``eng_Latn``, ``yor_Latn``, ...), the path of ``facebook/nllb-200-*``;
- ``build_tiny_m2m100``: M2M-100 + the sentencepiece ``M2M100Tokenizer`` (``__en__``, ...);
  needs ``sentencepiece``;
- ``build_tiny_marian``: Marian + a plain fast tokenizer, with ``>>yor<<``-style target
  tokens as in multilingual OPUS-MT models.
"""

from __future__ import annotations

import json
from pathlib import Path

#: Languages the tiny NLLB tokenizer knows (a real NLLB-200 tokenizer knows 202).
TINY_NLLB_CODES = ["eng_Latn", "fra_Latn", "yor_Latn", "swh_Latn", "hau_Latn"]
#: Target-language tokens of the tiny Marian model.
TINY_MARIAN_TARGETS = [">>yor<<", ">>fra<<"]

CORPUS = [
    "Ada went to Lagos yesterday .",
    "Bola works for Shell in Abuja now .",
    "the people of Kano like Chidi .",
    "we saw Ada and Bola today .",
    "Ada lo si Lagos lana .",
    "Bola n sise fun Shell ni Abuja bayi .",
    "awon eniyan Kano feran Chidi .",
    "a ri Ada ati Bola loni .",
    "Le président est à Paris .",
    "Rais yuko Nairobi leo .",
] * 4
SPECIALS = ["<s>", "<pad>", "</s>", "<unk>"]  # ids 0..3, as in fairseq vocabularies


def _train_tokenizer(vocab_size: int = 120):  # type: ignore[no-untyped-def]
    """A Unigram tokenizer with sentencepiece-style ``▁`` word boundaries."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

    tok = Tokenizer(models.Unigram())
    tok.normalizer = normalizers.NFKC()
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Metaspace()
    trainer = trainers.UnigramTrainer(
        vocab_size=vocab_size, special_tokens=SPECIALS, unk_token="<unk>", show_progress=False
    )
    tok.train_from_iterator(CORPUS, trainer)
    return tok


def _tiny_m2m_config(vocab_size: int, **kw: int):  # type: ignore[no-untyped-def]
    from transformers import M2M100Config

    return M2M100Config(
        vocab_size=vocab_size,
        d_model=16,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=32,
        decoder_ffn_dim=32,
        max_position_embeddings=128,
        bos_token_id=0,
        pad_token_id=1,
        eos_token_id=2,
        decoder_start_token_id=2,
        **kw,
    )


def _save_model(model, path: Path) -> None:  # type: ignore[no-untyped-def]
    model.generation_config.max_length = 16  # the default of 20 is plenty for tests too
    model.save_pretrained(path)


def build_tiny_nllb(path: str | Path, seed: int = 0) -> Path:
    """Save a random NLLB-style model (M2M-100 + ``NllbTokenizerFast``) under ``path``."""
    import torch
    from transformers import M2M100ForConditionalGeneration, NllbTokenizerFast

    path = Path(path)
    tokenizer = NllbTokenizerFast(
        tokenizer_object=_train_tokenizer(),
        src_lang="eng_Latn",
        additional_special_tokens=TINY_NLLB_CODES,
    )
    tokenizer.save_pretrained(path)
    torch.manual_seed(seed)
    model = M2M100ForConditionalGeneration(_tiny_m2m_config(len(tokenizer)))
    _save_model(model, path)
    return path


def build_tiny_m2m100(path: str | Path, seed: int = 0) -> Path:
    """Save a random M2M-100 model with a sentencepiece ``M2M100Tokenizer`` under ``path``."""
    import io

    import sentencepiece as spm
    import torch
    from transformers import M2M100ForConditionalGeneration, M2M100Tokenizer

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(CORPUS),
        model_writer=buf,
        vocab_size=60,
        hard_vocab_limit=False,
        model_type="unigram",
        character_coverage=1.0,
        bos_id=-1,
        eos_id=-1,
        unk_id=0,
        minloglevel=2,
    )
    (path / "sentencepiece.bpe.model").write_bytes(buf.getvalue())
    sp = spm.SentencePieceProcessor(model_proto=buf.getvalue())
    pieces = [sp.id_to_piece(i) for i in range(sp.get_piece_size())]
    vocab = {tok: i for i, tok in enumerate(SPECIALS)}
    for piece in pieces:
        vocab.setdefault(piece, len(vocab))
    (path / "vocab.json").write_text(json.dumps(vocab), encoding="utf8")
    from transformers.models.m2m_100.tokenization_m2m_100 import FAIRSEQ_LANGUAGE_CODES

    tokenizer = M2M100Tokenizer(
        vocab_file=str(path / "vocab.json"),
        spm_file=str(path / "sentencepiece.bpe.model"),
        # listed explicitly, as in the hub's files, so decoding skips them
        additional_special_tokens=[f"__{c}__" for c in FAIRSEQ_LANGUAGE_CODES["m2m100"]],
    )
    tokenizer.save_pretrained(path)
    torch.manual_seed(seed)
    # language tokens (and fairseq's "madeup" words) come after the sentencepiece vocab
    n_ids = tokenizer.encoder_size + len(tokenizer.lang_code_to_id) + tokenizer.num_madeup_words
    model = M2M100ForConditionalGeneration(_tiny_m2m_config(n_ids))
    _save_model(model, path)
    return path


def build_tiny_marian(path: str | Path, seed: int = 0) -> Path:
    """Save a random Marian model with a plain fast tokenizer (``X </s>``) under ``path``."""
    import torch
    from tokenizers import processors
    from transformers import MarianConfig, MarianMTModel, PreTrainedTokenizerFast

    path = Path(path)
    tok = _train_tokenizer()
    tok.add_special_tokens(TINY_MARIAN_TARGETS)
    tok.post_processor = processors.TemplateProcessing(
        single="$A </s>", special_tokens=[("</s>", tok.token_to_id("</s>"))]
    )
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token="</s>",
        pad_token="<pad>",
        unk_token="<unk>",
        model_input_names=["input_ids", "attention_mask"],
    )
    tokenizer.save_pretrained(path)
    torch.manual_seed(seed)
    config = MarianConfig(
        vocab_size=len(tokenizer),
        decoder_vocab_size=len(tokenizer),
        d_model=16,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=32,
        decoder_ffn_dim=32,
        max_position_embeddings=128,
        pad_token_id=1,
        eos_token_id=2,
        decoder_start_token_id=1,
    )
    _save_model(MarianMTModel(config), path)
    return path
