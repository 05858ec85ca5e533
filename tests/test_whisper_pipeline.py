"""automatic-speech-recognition pipeline against transformers 5.23's pipeline on a tiny random Whisper with the
same weights and tokenizer (tests/whisper_data.py), on espeak-ng speech longer than a chunk; the chunk merge
(_decode_asr) against transformers' on hand-made chunk outputs with timestamps and overlaps."""

import numpy as np
import pytest
import torch
import transformers
from whisper_data import build_tiny_whisper_checkpoint, espeak_wave

import kerasformers
from kerasformers.errors import InvalidInputError, NotSupportedError

# no_repeat_ngram_size: random weights otherwise repeat one token; num_beams=1: one compile (beam is slow below)
GENERATE = {"language": "en", "max_new_tokens": 12, "no_repeat_ngram_size": 2, "num_beams": 1}


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    return build_tiny_whisper_checkpoint(tmp_path_factory.mktemp("tiny-whisper"))


@pytest.fixture(scope="module")
def speech():
    return espeak_wave("three one four one five nine two six", speed=170)  # about 2.5 s: several 1 s chunks


@pytest.fixture(scope="module")
def pipelines(checkpoint):
    return (
        kerasformers.pipeline("automatic-speech-recognition", model=str(checkpoint)),
        transformers.pipeline("automatic-speech-recognition", model=str(checkpoint)),
    )


CASES = [
    dict(),  # one window (the first second)
    dict(chunk_length_s=1, batch_size=2),
    pytest.param(
        dict(chunk_length_s=1.2, stride_length_s=0.4, batch_size=3, return_timestamps=True), marks=pytest.mark.slow
    ),
]


@pytest.mark.parametrize("options", CASES, ids=["one-window", "chunked", "chunked-timestamps"])
def test_pipeline_equals_transformers(pipelines, speech, options):
    ours, theirs = pipelines
    audio = speech if options else speech[:16000]
    expected = theirs(audio.copy(), generate_kwargs=dict(GENERATE), ignore_warning=True, **options)
    assert ours(audio, generate_kwargs=dict(GENERATE), **options) == expected
    assert expected["text"]  # the random model writes text


def test_inputs_paths_dicts_and_lists(pipelines, speech, tmp_path):
    import soundfile

    ours, _ = pipelines
    path = tmp_path / "speech.wav"
    soundfile.write(path, speech[:16000], 16000)
    single = ours(speech[:16000], generate_kwargs=GENERATE)
    assert ours(str(path), generate_kwargs=GENERATE) == single
    assert ours({"array": speech[:16000], "sampling_rate": 16000}, generate_kwargs=GENERATE) == single
    assert ours([str(path), path.read_bytes()], generate_kwargs=GENERATE) == [single, single]
    with pytest.raises(InvalidInputError, match="resample"):
        ours({"array": speech, "sampling_rate": 8000})
    with pytest.raises(NotSupportedError, match="chunk_length_s"):
        ours(np.zeros(3 * 16000, np.float32))  # longer than the 1 s window, no chunking
    with pytest.raises(NotSupportedError, match="word"):
        ours(speech[:16000], return_timestamps="word")


def test_decode_asr_merges_chunks_as_transformers(checkpoint):
    """Hand-made per-chunk tokens (overlapping text, timestamps inside and outside the strides, a language
    token) through both tokenizers' _decode_asr."""
    ours = kerasformers.AutoTokenizer.from_pretrained(checkpoint)
    theirs = transformers.WhisperTokenizerFast.from_pretrained(checkpoint)
    ids = theirs.convert_tokens_to_ids
    begin = ids("<|notimestamps|>") + 1
    words = [theirs(f" {w}", add_special_tokens=False)["input_ids"] for w in ["one", "two", "three", "four", "five"]]
    prefix = [ids("<|startoftranscript|>"), ids("<|en|>"), ids("<|transcribe|>")]
    eos = theirs.eos_token_id
    timed = [
        prefix + [begin, *words[0], *words[1], begin + 40, begin + 40, *words[2], begin + 48, eos],
        prefix + [begin + 2, *words[2], begin + 10, begin + 10, *words[3], *words[4], begin + 49, eos],
        prefix + [begin + 5, *words[4], begin + 30, eos],
    ]
    plain = [
        prefix + [ids("<|notimestamps|>"), *words[0], *words[1], *words[2], eos],
        prefix + [ids("<|notimestamps|>"), *words[1], *words[2], *words[3], eos],
        prefix + [ids("<|notimestamps|>"), *words[3], *words[4], eos],
    ]
    strides = [(1.0, 0.0, 0.2), (1.0, 0.2, 0.2), (0.6, 0.2, 0.0)]
    for rows, timestamps in ((timed, True), (plain, False), (timed, False)):
        for language in (False, True):
            outputs = lambda tensor: [  # noqa: E731
                {"tokens": tensor([row]), "stride": stride} for row, stride in zip(rows, strides, strict=True)
            ]
            expected = theirs._decode_asr(
                outputs(torch.tensor), return_timestamps=timestamps, return_language=language, time_precision=0.02
            )
            got = ours._decode_asr(
                outputs(np.array), return_timestamps=timestamps, return_language=language, time_precision=0.02
            )
            assert got == expected
