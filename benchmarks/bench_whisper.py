"""Whisper generate speed: kerasformers (one XLA program) vs PyTorch transformers, same run.

A whisper-tiny-shaped model (d_model 384, 4+4 layers, 6 heads, ffn 1536, vocab 51865, 80 mel bins,
1500 encoder positions) with random weights, on 30 s of audio (log-mel features of noise made by
our WhisperFeatureExtractor, the same array for both sides), greedy, language "en", transcribe, no
timestamps, exactly ``--new-tokens`` tokens (eos suppressed on both sides). Batch 1. Both sides run
alternately in each round; the best round counts; tokens/s = new tokens / generate() time (the
encoder included). Our first call's compile time is reported apart. LiteRT latency: the same features
through ``kerasformers export --format litert``'s flatbuffer (encoder + fixed-length greedy decoder,
no KV cache: each step reruns the decoder over the whole buffer) in the ai-edge-litert interpreter.
``main()`` prints one JSON dict.

    python benchmarks/bench_whisper.py [--new-tokens 64] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

WHISPER_TINY = dict(
    vocab_size=51865,
    num_mel_bins=80,
    encoder_layers=4,
    decoder_layers=4,
    d_model=384,
    encoder_attention_heads=6,
    decoder_attention_heads=6,
    encoder_ffn_dim=1536,
    decoder_ffn_dim=1536,
    max_source_positions=1500,
    max_target_positions=448,
    pad_token_id=50257,
    bos_token_id=50257,
    eos_token_id=50257,
    decoder_start_token_id=50258,
)
GENERATION = dict(
    decoder_start_token_id=50258,
    eos_token_id=50257,
    pad_token_id=50257,
    bos_token_id=50257,
    lang_to_id={"<|en|>": 50259},
    task_to_id={"translate": 50358, "transcribe": 50359},
    no_timestamps_token_id=50363,
    is_multilingual=True,
    suppress_tokens=[50257],  # never stop early: both sides make exactly --new-tokens tokens
    begin_suppress_tokens=[220, 50257],
    max_length=448,
)


def _timed(function):
    start = time.perf_counter()
    out = function()
    return time.perf_counter() - start, out


def main(argv=None) -> dict:
    """Run the benchmark and print (and return) its results as a JSON dict."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--new-tokens", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)

    import numpy as np
    import torch
    import transformers

    import kerasformers

    torch.manual_seed(0)
    torch_model = transformers.WhisperForConditionalGeneration(transformers.WhisperConfig(**WHISPER_TINY)).eval()
    torch_model.generation_config = transformers.GenerationConfig(**GENERATION)
    folder = tempfile.mkdtemp(prefix="bench-whisper-")
    torch_model.save_pretrained(folder)
    model = kerasformers.TFWhisperForConditionalGeneration.from_pretrained(folder)
    audio = np.random.RandomState(0).randn(30 * 16000).astype(np.float32) * 0.1
    features = kerasformers.WhisperFeatureExtractor()(audio, sampling_rate=16000, return_tensors="np").input_features
    options = dict(language="en", task="transcribe", max_new_tokens=args.new_tokens)

    def ours():
        return model.generate(input_features=features, **options).numpy()

    def theirs():
        with torch.no_grad():
            return torch_model.generate(input_features=torch.tensor(features), **options).numpy()

    first_s, first = _timed(ours)
    best_ours = best_theirs = float("inf")
    for _ in range(args.rounds):
        seconds, out_ours = _timed(ours)
        best_ours = min(best_ours, seconds)
        seconds, out_theirs = _timed(theirs)
        best_theirs = min(best_theirs, seconds)
    litert = "not measured"
    try:  # the LiteRT export: encoder + fixed-length greedy decoder, run by ai-edge-litert
        from ai_edge_litert.interpreter import Interpreter

        from kerasformers.serving.litert import export_whisper_litert

        tflite = export_whisper_litert(model, os.path.join(folder, "whisper.tflite"), language="en",
                                       max_new_tokens=args.new_tokens)  # fmt: skip
        runner = Interpreter(str(tflite)).get_signature_runner()
        runner(input_features=features)
        best = min(_timed(lambda: runner(input_features=features))[0] for _ in range(args.rounds))
        litert = round(best, 3)
    except Exception as error:  # reported, not fatal: the other figures stand
        litert = f"failed: {type(error).__name__}: {str(error)[:200]}"
    generated = out_ours.shape[1] - 4  # our rows start with the 4-token prompt (PyTorch 5 strips it)
    result = {
        "new_tokens": int(generated),
        "pytorch_new_tokens": int(out_theirs.shape[1]),
        "same_tokens": bool(np.array_equal(out_ours[:, 4:], out_theirs)),
        "ours_tokens_per_s": round(generated / best_ours, 1),
        "pytorch_tokens_per_s": round(out_theirs.shape[1] / best_theirs, 1),
        "speedup": round(best_theirs / best_ours, 2),
        "ours_generate_s": round(best_ours, 3),
        "pytorch_generate_s": round(best_theirs, 3),
        "compile_s": round(first_s - best_ours, 1),
        "litert_latency_s": litert,
        "litert_tokens_per_s": round(args.new_tokens / litert, 1) if isinstance(litert, float) else None,
        "load_average": round(os.getloadavg()[0], 2),
    }
    shutil.rmtree(folder, ignore_errors=True)
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
