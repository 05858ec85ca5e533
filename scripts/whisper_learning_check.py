"""Real speech learning check: a tiny Whisper trained from scratch with fit() transcribes spoken digit strings.

Speech is synthesised with espeak-ng (a system package): strings of three digits read as words ("three one
four"), training voices en+m1..m3 / en+f1..f2 at 140, 170 and 200 words per minute; the held-out set uses OTHER
voices (en+m5, en+f4) at OTHER speeds (155, 185). The audio is built once into the kerasformers cache (file lock,
temporary folder, rename; nothing goes into git). Features: WhisperFeatureExtractor with 40 mel bins and 3 s
windows (300 frames); the tokenizer is the tiny byte-level Whisper tokenizer of tests/whisper_data.py (a digit
word is 2 to 4 tokens there). Labels are Whisper's: <|en|><|transcribe|><|notimestamps|> text <|endoftext|>
after the decoder start token. Evaluation: generate(language="en", task="transcribe") (greedy) and
batch_decode(skip_special_tokens=True), exact match of the stripped text. Prints one JSON line.

Usage:
    .venv/bin/python scripts/whisper_learning_check.py --epochs 30
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

DIGITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
TRAIN_VOICES = ["en+m1", "en+m2", "en+m3", "en+f1", "en+f2"]
TRAIN_SPEEDS = [140, 170, 200]
HELD_OUT_VOICES = ["en+m5", "en+f4"]
HELD_OUT_SPEEDS = [155, 185]
CHUNK_SECONDS, MELS = 3, 40
DATA_VERSION = "v1"


def _utterances(voices, speeds, count, seed):
    rng = np.random.RandomState(seed)
    rows = []
    for index in range(count):
        words = " ".join(DIGITS[d] for d in rng.randint(0, 10, size=3))
        rows.append((words, voices[index % len(voices)], speeds[(index // len(voices)) % len(speeds)]))
    return rows


def digits_audio(train_count: int = 900, held_out_count: int = 100) -> Path:
    """The cached .npz files (``train``, ``held_out``): waves padded to 3 s, texts, voices, speeds."""
    from filelock import FileLock
    from whisper_data import espeak_wave

    from kerasformers.hub import cache_dir

    folder = cache_dir() / f"whisper-digits-{DATA_VERSION}-{train_count}-{held_out_count}"
    if (folder / "held_out.npz").is_file():
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(folder) + ".lock"):
        if (folder / "held_out.npz").is_file():
            return folder
        with tempfile.TemporaryDirectory(dir=folder.parent, prefix=".tmp-whisper-digits-") as temporary:
            splits = {
                "train": _utterances(TRAIN_VOICES, TRAIN_SPEEDS, train_count, 0),
                "held_out": _utterances(HELD_OUT_VOICES, HELD_OUT_SPEEDS, held_out_count, 1),
            }
            for name, rows in splits.items():
                waves = np.zeros((len(rows), CHUNK_SECONDS * 16000), np.float32)
                for row, (text, voice, speed) in enumerate(rows):
                    wave = espeak_wave(text, voice=voice, speed=speed)[: CHUNK_SECONDS * 16000]
                    waves[row, : len(wave)] = wave
                np.savez(
                    Path(temporary) / f"{name}.npz",
                    waves=waves,
                    texts=np.array([r[0] for r in rows]),
                    voices=np.array([r[1] for r in rows]),
                    speeds=np.array([r[2] for r in rows]),
                )
            os.rename(temporary, folder)
            os.makedirs(temporary)  # TemporaryDirectory removes it again on exit
    return folder


def main(argv=None) -> dict:
    """Train, evaluate and print the figures as one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=2e-3)
    parser.add_argument("--train-count", type=int, default=900)
    args = parser.parse_args(argv)

    import keras
    import tensorflow as tf
    from whisper_data import build_tiny_whisper_tokenizer

    import kerasformers

    keras.utils.set_random_seed(0)
    data = digits_audio(args.train_count)
    train, held_out = np.load(data / "train.npz"), np.load(data / "held_out.npz")
    with tempfile.TemporaryDirectory() as folder:
        tokenizer = kerasformers.AutoTokenizer.from_pretrained(
            build_tiny_whisper_tokenizer(Path(folder)), language="en", task="transcribe"
        )
    extractor = kerasformers.WhisperFeatureExtractor(feature_size=MELS, chunk_length=CHUNK_SECONDS)
    ids = tokenizer.convert_tokens_to_ids
    eos, start = ids("<|endoftext|>"), ids("<|startoftranscript|>")
    config = kerasformers.WhisperConfig(
        vocab_size=len(tokenizer), num_mel_bins=MELS, encoder_layers=2, decoder_layers=2, d_model=96,
        encoder_attention_heads=4, decoder_attention_heads=4, encoder_ffn_dim=256, decoder_ffn_dim=256,
        max_source_positions=CHUNK_SECONDS * 50, max_target_positions=32, pad_token_id=eos, bos_token_id=eos,
        eos_token_id=eos, decoder_start_token_id=start, suppress_tokens=[], begin_suppress_tokens=[eos],
        dropout=0.1,
    )  # fmt: skip
    model = kerasformers.TFWhisperForConditionalGeneration(config)
    model.build_with_dummy_inputs()
    model.generation_config = kerasformers.GenerationConfig(
        decoder_start_token_id=start, eos_token_id=eos, pad_token_id=eos, bos_token_id=eos,
        lang_to_id={"<|en|>": ids("<|en|>")}, task_to_id={"transcribe": ids("<|transcribe|>"),
        "translate": ids("<|translate|>")}, no_timestamps_token_id=ids("<|notimestamps|>"), is_multilingual=True,
        begin_suppress_tokens=[eos], max_length=32,
    )  # fmt: skip

    def features_and_labels(split):
        features = extractor(list(split["waves"]), sampling_rate=16000, return_tensors="np").input_features
        encoded = tokenizer([" " + t for t in split["texts"]], padding=True, return_tensors="np")
        labels = np.where(encoded["attention_mask"] == 1, encoded["input_ids"], -100)[:, 1:]  # the start is prepended
        return features, labels

    x_train, y_train = features_and_labels(train)
    x_held, _ = features_and_labels(held_out)
    steps = args.epochs * int(np.ceil(len(x_train) / args.batch_size))
    schedule = keras.optimizers.schedules.CosineDecay(0.0, steps, warmup_target=args.learning_rate,
                                                      warmup_steps=steps // 10)  # fmt: skip
    model.compile(optimizer=keras.optimizers.AdamW(schedule, weight_decay=0.01), jit_compile=True)
    began = time.time()
    history = model.fit(
        {"input_features": x_train, "labels": y_train}, batch_size=args.batch_size, epochs=args.epochs, verbose=2
    )
    train_s = time.time() - began
    predictions = []
    for row in range(0, len(x_held), 50):
        out = model.generate(input_features=x_held[row : row + 50], language="en", task="transcribe",
                             max_new_tokens=20)  # fmt: skip
        predictions += tokenizer.batch_decode(np.asarray(out), skip_special_tokens=True)
    truth = [str(t) for t in held_out["texts"]]
    exact = [p.strip() == t for p, t in zip(predictions, truth, strict=True)]
    digit_accuracy = np.mean(
        [sum(a == b for a, b in zip(p.split(), t.split(), strict=False)) / 3 for p, t in zip(predictions, truth)]
    )
    result = {
        "held_out_exact_match": round(float(np.mean(exact)), 4),
        "held_out_digit_accuracy": round(float(digit_accuracy), 4),
        "held_out": len(truth),
        "train": len(x_train),
        "epochs": args.epochs,
        "final_loss": round(float(history.history["loss"][-1]), 4),
        "train_s": round(train_s, 1),
        "examples": [{"truth": t, "predicted": p} for t, p in list(zip(truth, predictions))[:5]],
        "tf": tf.__version__,
    }
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
