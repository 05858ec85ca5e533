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
