"""Shared Whisper test data: a tiny Whisper tokenizer saved by transformers (byte-level BPE trained here,
Whisper's special tokens in Whisper's order, 1501 timestamp tokens), and espeak-ng speech."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np

DIGIT_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
TRAINING_TEXT = [
    " ".join(DIGIT_WORDS),
    "Hello world. The quick brown fox jumps over the lazy dog.",
    "Kerasformers runs Whisper in TensorFlow.",
]


def whisper_special_tokens() -> list[str]:
    """Whisper's special tokens in id order after <|endoftext|> (transformers 4.57 tokenization_whisper.py)."""
    from kerasformers.models.whisper.generation_whisper import LANGUAGES

    return [
        "<|endoftext|>",
        "<|startoftranscript|>",
        *[f"<|{code}|>" for code in LANGUAGES],
        "<|translate|>",
        "<|transcribe|>",
        "<|startoflm|>",
        "<|startofprev|>",
        "<|nocaptions|>",
        "<|notimestamps|>",
    ]


def build_tiny_whisper_tokenizer(folder: Path, vocab_size: int = 300) -> Path:
    """Save a transformers WhisperTokenizerFast with a small trained vocabulary into ``folder``."""
    import transformers
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    backend = Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False
    )
    backend.train_from_iterator(TRAINING_TEXT * 4, trainer=trainer)
    model = backend.model
    vocab = backend.get_vocab()
    dump = Path(folder) / "_bpe"
    dump.mkdir(parents=True, exist_ok=True)
    model.save(str(dump))
    merges = [tuple(line.split()) for line in (dump / "merges.txt").read_text().splitlines()[1:] if line.strip()]
    shutil.rmtree(dump)
    specials = whisper_special_tokens()
    tokenizer = transformers.WhisperTokenizerFast(vocab=vocab, merges=merges, pad_token="<|endoftext|>")
    tokenizer.add_special_tokens({"additional_special_tokens": specials})
    tokenizer.add_tokens([f"<|{i * 0.02:.2f}|>" for i in range(1501)])
    tokenizer.save_pretrained(folder)
    return Path(folder)


def espeak_wave(text: str, voice: str = "en", speed: int = 160, pitch: int = 50) -> np.ndarray:
    """16 kHz float32 speech of ``text`` synthesised by espeak-ng."""
    import io

    import soundfile

    out = subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "--stdout", text],
        check=True,
        capture_output=True,
    ).stdout
    wave, rate = soundfile.read(io.BytesIO(out), dtype="float32")
    if rate != 16000:  # espeak-ng writes 22050 Hz: resample linearly (test data only)
        times = np.arange(int(len(wave) * 16000 / rate)) / 16000
        wave = np.interp(times, np.arange(len(wave)) / rate, wave).astype(np.float32)
    return wave


def build_tiny_whisper_checkpoint(folder: Path, seed: int = 0) -> Path:
    """A tiny multilingual Whisper saved by PyTorch transformers with the tiny tokenizer, its feature
    extractor (8 mel bins, 1 s windows: 100 frames) and a generation_config.json naming the tokenizer's ids."""
    import torch
    import transformers

    folder = Path(folder)
    build_tiny_whisper_tokenizer(folder)
    tokenizer = transformers.WhisperTokenizerFast.from_pretrained(folder)
    ids = tokenizer.convert_tokens_to_ids
    eos, start = ids("<|endoftext|>"), ids("<|startoftranscript|>")
    # random weights: never end early and never write partial UTF-8 bytes, so transcripts are readable text
    suppress = [eos] + [i for i in range(eos) if not tokenizer.decode([i]).isascii()]
    config = transformers.WhisperConfig(
        vocab_size=len(tokenizer),
        num_mel_bins=8,
        encoder_layers=1,
        decoder_layers=1,
        d_model=32,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=32,
        decoder_ffn_dim=32,
        max_source_positions=50,
        max_target_positions=64,
        pad_token_id=eos,
        bos_token_id=eos,
        eos_token_id=eos,
        decoder_start_token_id=start,
        suppress_tokens=suppress,
        begin_suppress_tokens=[ids("Ġ"), eos],
    )
    torch.manual_seed(seed)
    model = transformers.WhisperForConditionalGeneration(config).eval()
    with torch.no_grad():  # text tokens' (tied) output rows larger: random weights then write text, not specials
        model.model.decoder.embed_tokens.weight[:eos] *= 20.0
    model.generation_config = transformers.GenerationConfig(
        decoder_start_token_id=start,
        eos_token_id=eos,
        pad_token_id=eos,
        bos_token_id=eos,
        lang_to_id={f"<|{code}|>": ids(f"<|{code}|>") for code in ("en", "de", "fr")},
        task_to_id={"translate": ids("<|translate|>"), "transcribe": ids("<|transcribe|>")},
        no_timestamps_token_id=ids("<|notimestamps|>"),
        is_multilingual=True,
        suppress_tokens=suppress,
        begin_suppress_tokens=[ids("Ġ"), eos],
        max_length=64,
    )
    model.save_pretrained(folder)
    transformers.WhisperFeatureExtractor(feature_size=8, chunk_length=1).save_pretrained(folder)
    return folder
