"""automatic-speech-recognition export (Whisper): the in-graph log-mel features against the numpy
WhisperFeatureExtractor on espeak-ng speech, and the SavedModel (raw audio in, text out) against generate() +
batch_decode, in process and in a fresh process without kerasformers (slow)."""

import numpy as np
import pytest
import tensorflow as tf
from test_export import run_fresh
from whisper_data import build_tiny_whisper_checkpoint, espeak_wave

import kerasformers
from kerasformers.serving.speech_recognition import log_mel_features

MAX_NEW = 12


@pytest.fixture(scope="module")
def speech():
    return espeak_wave("three one four one five nine two six", speed=170)


def test_in_graph_log_mel_close_to_numpy(speech):
    """float32 TF ops vs the numpy extractor (float64, equal to transformers'): <= 1e-4 on real speech
    (measured 4.5e-5), for audio shorter than the window, and longer (cut to 30 s)."""
    extractor = kerasformers.WhisperFeatureExtractor()
    long = np.tile(speech, 13)  # about 33 s
    for wave in (speech[:8000], speech, long):
        expected = extractor(wave, sampling_rate=16000, return_tensors="np").input_features
        got = log_mel_features(tf.constant(wave[None]), extractor.mel_filters, n_samples=extractor.n_samples)
        assert got.shape == expected.shape
        assert np.abs(got.numpy() - expected).max() <= 1e-4


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    from kerasformers.cli import main

    checkpoint = build_tiny_whisper_checkpoint(tmp_path_factory.mktemp("tiny-whisper"))
    out = tmp_path_factory.mktemp("serving") / "whisper"
    main(
        [
            "export",
            str(checkpoint),
            str(out),
            "--task",
            "automatic-speech-recognition",
            "--with-processor",
            "--language",
            "en",
            "--max-new-tokens",
            str(MAX_NEW),
        ]
    )
    return checkpoint, out / "1"


def expected_transcripts(checkpoint, waves):
    model = kerasformers.TFWhisperForConditionalGeneration.from_pretrained(checkpoint)
    processor = kerasformers.AutoProcessor.from_pretrained(checkpoint)
    features = processor(list(waves), sampling_rate=16000, return_tensors="np").input_features
    ids = np.asarray(model.generate(input_features=features, language="en", max_new_tokens=MAX_NEW))
    return ids, processor.batch_decode(ids, skip_special_tokens=True)


def test_saved_model_equals_generate_and_decode(exported, speech):
    checkpoint, path = exported
    waves = np.stack([speech[:16000], speech[8000:24000]])
    ids, texts = expected_transcripts(checkpoint, waves)
    served = tf.saved_model.load(str(path)).signatures["serving_default"](audio=tf.constant(waves))
    np.testing.assert_array_equal(served["generated_ids"].numpy(), ids[:, 4:])  # after the 4-token prompt
    assert [t.decode() for t in served["text"].numpy()] == texts


@pytest.mark.slow  # a new process loading the export
def test_fresh_process_without_kerasformers(exported, speech, tmp_path):
    checkpoint, path = exported
    waves = np.stack([speech[:16000], speech[4000:20000]])
    np.save(tmp_path / "audio.npy", waves)
    run_fresh(
        """
        import sys, numpy as np, tensorflow as tf, tensorflow_text
        path, out = sys.argv[1], sys.argv[2]
        serve = tf.saved_model.load(path).signatures["serving_default"]
        result = serve(audio=tf.constant(np.load(out + "/audio.npy")))
        np.savez(out + "/result.npz", **{k: v.numpy() for k, v in result.items()})
        assert not any(m.startswith("kerasformers") for m in sys.modules), "kerasformers was imported"
        """,
        str(path),
        str(tmp_path),
    )
    got = np.load(tmp_path / "result.npz", allow_pickle=True)
    ids, texts = expected_transcripts(checkpoint, waves)
    np.testing.assert_array_equal(got["generated_ids"], ids[:, 4:])
    assert [t.decode() for t in got["text"]] == texts


def test_litert_in_fresh_process_equals_generate(exported, speech, tmp_path):
    """kerasformers export --format litert: the .tflite run by the ai-edge-litert interpreter in a new process
    without kerasformers (nor TensorFlow) gives generate()'s tokens after the prompt."""
    from kerasformers.cli import main

    checkpoint, _ = exported
    tflite = tmp_path / "whisper.tflite"
    main(["export", str(checkpoint), str(tflite), "--format", "litert", "--language", "en"]
         + ["--max-new-tokens", str(MAX_NEW)])  # fmt: skip
    processor = kerasformers.AutoProcessor.from_pretrained(checkpoint)
    features = processor(speech[:16000], sampling_rate=16000, return_tensors="np").input_features
    np.save(tmp_path / "features.npy", features)
    run_fresh(
        """
        import sys, numpy as np
        from ai_edge_litert.interpreter import Interpreter
        path, out = sys.argv[1], sys.argv[2]
        runner = Interpreter(path).get_signature_runner()
        np.save(out + "/ids.npy", runner(input_features=np.load(out + "/features.npy"))["token_ids"])
        assert not any(m.startswith(("kerasformers", "tensorflow")) for m in sys.modules), sorted(sys.modules)
        """,
        str(tflite),
        str(tmp_path),
    )
    model = kerasformers.TFWhisperForConditionalGeneration.from_pretrained(checkpoint)
    ids = np.asarray(model.generate(input_features=features, language="en", max_new_tokens=MAX_NEW))[0, 4:]
    got = np.load(tmp_path / "ids.npy")
    np.testing.assert_array_equal(got[: len(ids)], ids)
