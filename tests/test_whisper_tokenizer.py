"""WhisperTokenizerFast and WhisperProcessor against transformers 5.23 on a tiny Whisper tokenizer that
transformers saved (byte-level BPE trained in tests/whisper_data.py, Whisper's special and timestamp tokens)."""

import numpy as np
import pytest
import transformers
from whisper_data import build_tiny_whisper_tokenizer, espeak_wave

from kerasformers import AutoFeatureExtractor, AutoProcessor, AutoTokenizer
from kerasformers.errors import InvalidInputError
from kerasformers.models.whisper import WhisperFeatureExtractor, WhisperProcessor, WhisperTokenizerFast

TEXTS = ["one two three", " Hello world.", "Kerasformers runs <|en|> Whisper", ""]


@pytest.fixture(scope="module")
def tokenizer_folder(tmp_path_factory):
    return build_tiny_whisper_tokenizer(tmp_path_factory.mktemp("whisper-tokenizer"))


@pytest.fixture(scope="module")
def pair(tokenizer_folder):
    return (
        AutoTokenizer.from_pretrained(tokenizer_folder),
        transformers.WhisperTokenizerFast.from_pretrained(tokenizer_folder),
    )


def timed_sequence(theirs):
    """<|startoftranscript|><|en|><|transcribe|> then two timed segments, a second window and <|endoftext|>."""
    begin = theirs.convert_tokens_to_ids("<|notimestamps|>") + 1
    words = [
        theirs(" one two", add_special_tokens=False)["input_ids"],
        theirs(" three.", add_special_tokens=False)["input_ids"],
    ]
    prefix = theirs.convert_tokens_to_ids(["<|startoftranscript|>", "<|en|>", "<|transcribe|>"])
    return [
        *prefix,
        begin, *words[0], begin + 40,
        begin + 40, *words[1], begin + 90,
        begin + 10, *words[0], begin + 30,
        theirs.eos_token_id,
    ]  # fmt: skip


@pytest.mark.parametrize(
    "settings",
    [
        {},
        {"language": "en", "task": "transcribe"},
        {"language": "german", "task": "translate", "predict_timestamps": True},
    ],
)
def test_encoding_and_prefix_as_transformers(tokenizer_folder, settings):
    ours = AutoTokenizer.from_pretrained(tokenizer_folder, **settings)
    theirs = transformers.WhisperTokenizerFast.from_pretrained(tokenizer_folder, **settings)
    assert isinstance(ours, WhisperTokenizerFast)
    assert ours.prefix_tokens == theirs.prefix_tokens
    for text in TEXTS:
        assert ours(text)["input_ids"] == theirs(text)["input_ids"]
    batch = ours(TEXTS, padding=True, return_tensors="np")
    expected = theirs(TEXTS, padding=True, return_tensors="np")
    np.testing.assert_array_equal(batch["input_ids"], expected["input_ids"])
    np.testing.assert_array_equal(batch["attention_mask"], expected["attention_mask"])


def test_set_prefix_tokens_and_decoder_prompt_ids(pair):
    ours, theirs = pair
    for options in [dict(language="fr", task="translate"), dict(language="en", no_timestamps=False), dict()]:
        assert ours.get_decoder_prompt_ids(**options) == theirs.get_decoder_prompt_ids(**options)
        assert ours("one")["input_ids"] == theirs("one")["input_ids"]
    ours.set_prefix_tokens(language="spanish", task="transcribe", predict_timestamps=False)
    theirs.set_prefix_tokens(language="spanish", task="transcribe", predict_timestamps=False)
    assert ours("two")["input_ids"] == theirs("two")["input_ids"]
    assert ours.get_special_tokens_mask([5, 6]) == theirs.get_special_tokens_mask([5, 6])
    assert ours.build_inputs_with_special_tokens([5, 6]) == theirs.build_inputs_with_special_tokens([5, 6])
    np.testing.assert_array_equal(ours.get_prompt_ids("one two"), theirs.get_prompt_ids("one two"))
    with pytest.raises(InvalidInputError, match="Unsupported language"):
        ours.set_prefix_tokens(language="klingon")


def test_decode_with_timestamps_offsets_and_prompts_as_transformers(pair):
    ours, theirs = pair
    ids = timed_sequence(theirs)
    prompt = theirs.get_prompt_ids("three", return_tensors=None)
    for sequence in (ids, prompt + ids, prompt):
        for skip in (False, True):
            assert ours.decode(sequence, skip_special_tokens=skip) == theirs.decode(sequence, skip_special_tokens=skip)
            assert ours.decode(sequence, skip_special_tokens=skip, decode_with_timestamps=True) == theirs.decode(
                sequence, skip_special_tokens=skip, decode_with_timestamps=True
            )
    assert ours.decode(ids, output_offsets=True) == theirs.decode(ids, output_offsets=True)
    assert ours.decode(ids, output_offsets=True, time_precision=0.04) == theirs.decode(
        ids, output_offsets=True, time_precision=0.04
    )
    batch = np.array([ids, ids[:4] + [theirs.eos_token_id] * (len(ids) - 4)])
    assert ours.batch_decode(batch, skip_special_tokens=True) == theirs.batch_decode(batch, skip_special_tokens=True)
    assert ours.timestamp_ids()[:3] == theirs.timestamp_ids()[:3]


def test_save_pretrained_loads_in_transformers(pair, tmp_path):
    ours, theirs = pair
    ours.set_prefix_tokens(language="en", task="transcribe")
    ours.save_pretrained(tmp_path)
    again = transformers.WhisperTokenizerFast.from_pretrained(tmp_path, language="en", task="transcribe")
    assert again("one two")["input_ids"] == ours("one two")["input_ids"]


@pytest.fixture(scope="module")
def processor_folder(tokenizer_folder, tmp_path_factory):
    folder = tmp_path_factory.mktemp("whisper-processor")
    transformers.WhisperProcessor(
        feature_extractor=transformers.WhisperFeatureExtractor(feature_size=8, chunk_length=1),
        tokenizer=transformers.WhisperTokenizerFast.from_pretrained(tokenizer_folder),
    ).save_pretrained(folder)
    return folder


def test_processor_as_transformers(processor_folder, tmp_path):
    ours = AutoProcessor.from_pretrained(processor_folder)
    theirs = transformers.WhisperProcessor.from_pretrained(processor_folder)
    assert isinstance(ours, WhisperProcessor)
    assert isinstance(AutoFeatureExtractor.from_pretrained(processor_folder), WhisperFeatureExtractor)
    wave = espeak_wave("three one four", speed=220)[:16000]
    got = ours(audio=wave, sampling_rate=16000, text="three one four", return_tensors="np")
    expected = theirs(audio=wave, sampling_rate=16000, text="three one four", return_tensors="np")
    np.testing.assert_allclose(got["input_features"], expected["input_features"], atol=1e-4)  # their torch STFT
    np.testing.assert_array_equal(got["labels"], expected["labels"])
    ids = expected["labels"]
    assert ours.batch_decode(ids, skip_special_tokens=True) == theirs.batch_decode(ids, skip_special_tokens=True)
    assert ours.get_decoder_prompt_ids(language="en") == theirs.get_decoder_prompt_ids(language="en")
    ours.save_pretrained(tmp_path)
    again = transformers.WhisperProcessor.from_pretrained(tmp_path)
    assert again.feature_extractor.feature_size == 8
    assert again.tokenizer("one")["input_ids"] == ours.tokenizer("one")["input_ids"]
    with pytest.raises(InvalidInputError, match="audio="):
        ours()
