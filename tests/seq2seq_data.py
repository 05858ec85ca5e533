"""Tiny seq2seq tokenizer folders built at test time from the movie-review sentences (no downloads).

- ``write_t5_tokenizer(folder)``: a SentencePiece Unigram trained with the sentencepiece trainer
  (nmt_nfkc normalisation, as T5's), ``spiece.model`` plus the ``tokenizer.json`` transformers 4
  wrote for T5 checkpoints (character map, whitespace split, Metaspace, ``$A </s>``, sentinels
  ``<extra_id_N>`` at the end of the vocabulary in reverse order).
- ``write_marian_tokenizer(folder)``: Marian's ``source.spm`` / ``target.spm`` (two SentencePiece
  models) and the joint ``vocab.json``.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

from kerasformers.data.embedded import read_movie_review_scores

EXTRA_IDS = 8


def movie_sentences(count: int = 2000) -> list[str]:
    """The first ``count`` movie-review sentences (real English text)."""
    return [text for text, _ in read_movie_review_scores()[:count]]


def _train_spm(sentences: list[str], vocab_size: int, **options) -> bytes:
    import sentencepiece

    model = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(sentences),
        model_writer=model,
        vocab_size=vocab_size,
        model_type="unigram",
        character_coverage=1.0,
        normalization_rule_name="nmt_nfkc",
        minloglevel=2,
        num_threads=1,
        **options,
    )
    return model.getvalue()


def write_t5_tokenizer(folder: Path, vocab_size: int = 120, extra_ids: int = EXTRA_IDS) -> Path:
    """A T5-style tokenizer folder (spiece.model, tokenizer.json, tokenizer_config.json); returns ``folder``."""
    from tokenizers import Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    from kerasformers.tokenization.sentencepiece import read_sentencepiece_model_proto

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    proto = _train_spm(
        movie_sentences() + ["Das ist gut. Übersetze: ça va? 日本語"] * 3,
        vocab_size,
        pad_id=0,
        eos_id=1,
        unk_id=2,
        bos_id=-1,
        pad_piece="<pad>",
        eos_piece="</s>",
        unk_piece="<unk>",
    )
    (folder / "spiece.model").write_bytes(proto)
    info = read_sentencepiece_model_proto(proto)
    sentinels = [f"<extra_id_{i}>" for i in range(extra_ids)]
    vocab = list(zip(info["pieces"], info["scores"])) + [(token, 0.0) for token in reversed(sentinels)]
    tokenizer = Tokenizer(Unigram(vocab, unk_id=2, byte_fallback=False))
    tokenizer.normalizer = normalizers.Sequence(
        [normalizers.Precompiled(info["precompiled_charsmap"]), normalizers.Replace(" {2,}", " ")]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")]
    )
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    tokenizer.add_special_tokens(["<pad>", "</s>", "<unk>", *sentinels])
    tokenizer.post_processor = processors.TemplateProcessing(
        single="$A </s>", pair="$A </s> $B </s>", special_tokens=[("</s>", 1)]
    )
    tokenizer.save(str(folder / "tokenizer.json"))
    config = {
        "tokenizer_class": "T5Tokenizer",
        "extra_ids": extra_ids,
        "additional_special_tokens": sentinels,
        "eos_token": "</s>",
        "unk_token": "<unk>",
        "pad_token": "<pad>",
        "model_max_length": 512,
    }
    (folder / "tokenizer_config.json").write_text(json.dumps(config), "utf-8")
    return folder


def write_marian_tokenizer(folder: Path, vocab_size: int = 100) -> Path:
    """A Marian-style tokenizer folder: source.spm (English), target.spm (the same text upper-cased) and a
    joint vocab.json (``</s>`` 0, ``<unk>`` 1, the pieces of both, ``<pad>`` last, as Marian's)."""
    from kerasformers.tokenization.sentencepiece import read_sentencepiece_model_proto

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    sentences = movie_sentences(1500)
    options = dict(eos_id=0, unk_id=1, bos_id=-1, pad_id=-1, eos_piece="</s>", unk_piece="<unk>")
    source = _train_spm(sentences, vocab_size, **options)
    target = _train_spm([s.upper() for s in sentences], vocab_size, **options)
    (folder / "source.spm").write_bytes(source)
    (folder / "target.spm").write_bytes(target)
    vocab = {}
    for proto in (source, target):
        for piece in read_sentencepiece_model_proto(proto)["pieces"]:
            vocab.setdefault(piece, len(vocab))
    vocab["<pad>"] = len(vocab)
    (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), "utf-8")
    config = {"tokenizer_class": "MarianTokenizer", "source_lang": "en", "target_lang": "en-upper"}
    (folder / "tokenizer_config.json").write_text(json.dumps(config), "utf-8")
    return folder
