"""WhisperFeatureExtractor against transformers' on real (synthesised) speech of several lengths.

espeak-ng speaks digit strings (two voices, two speeds) at 22.05 kHz; scipy resamples them to 16 kHz.
transformers computes the features two ways: numpy (float64, its reference when torch is absent) and
torch.stft (float32), which differ from each other by up to ~5e-5 after log10 in quiet bins. Ours
follow the numpy path: <= 1e-5 from it, and within 1e-4 of the torch path.
"""

import shutil
import subprocess

import numpy as np
import pytest
import soundfile
import transformers
import transformers.models.whisper.feature_extraction_whisper as hf_features
from scipy.signal import resample_poly

from kerasformers.errors import InvalidInputError
from kerasformers.models.whisper.feature_extraction_whisper import WhisperFeatureExtractor

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs espeak-ng (a system package)")

UTTERANCES = [("en+m3", 150, "three one four"), ("en+f2", 110, "nine two six five three five eight nine seven")]


@pytest.fixture(scope="module")
def speech(tmp_path_factory):
    """{name: (16 kHz float32 waveform, path of the 22.05 kHz wav)} for each utterance."""
    folder = tmp_path_factory.mktemp("speech")
    out = {}
    for index, (voice, speed, text) in enumerate(UTTERANCES):
        path = folder / f"u{index}.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(path), text], check=True)
        audio, rate = soundfile.read(path, dtype="float32")
        out[index] = (resample_poly(audio, 16000, rate).astype(np.float32), path)
    return out


@pytest.fixture
def numpy_transformers(monkeypatch):
    monkeypatch.setattr(hf_features, "is_torch_available", lambda: False)  # its numpy (reference) path
    return transformers.WhisperFeatureExtractor()


def test_equal_to_transformers_on_speech(speech, numpy_transformers):
    ours = WhisperFeatureExtractor()
    short, long = speech[0][0], speech[1][0]
    for batch in (short, [short, long], [long[:3000], short]):
        got = ours(batch, sampling_rate=16000, return_tensors="np").input_features
        reference = numpy_transformers(batch, sampling_rate=16000, return_tensors="np").input_features
        assert got.shape == reference.shape and got.shape[1:] == (80, 3000)
        assert np.abs(got - reference).max() <= 1e-5
    torch_path = transformers.WhisperFeatureExtractor()([short, long], sampling_rate=16000, return_tensors="np")
    got = ours([short, long], sampling_rate=16000, return_tensors="np").input_features
    assert np.abs(got - torch_path.input_features).max() <= 1e-4  # float32 STFT vs float64 (see module doc)


def test_normalize_and_attention_mask_as_transformers(speech, numpy_transformers):
    waves = [speech[0][0], speech[1][0]]
    ours = WhisperFeatureExtractor()(waves, sampling_rate=16000, do_normalize=True, return_attention_mask=True)
    theirs = numpy_transformers(waves, sampling_rate=16000, do_normalize=True, return_attention_mask=True)
    np.testing.assert_array_equal(ours.attention_mask, theirs["attention_mask"])
    assert np.abs(ours.input_features - np.asarray(theirs["input_features"])).max() <= 1e-5


def test_paths_and_datasets_audio_values(speech):
    fe = WhisperFeatureExtractor()
    wave, path = speech[0]
    from_array = fe({"array": wave, "sampling_rate": 16000}).input_features
    np.testing.assert_array_equal(fe(wave).input_features, from_array)
    with pytest.raises(InvalidInputError, match="22050 Hz but Whisper needs 16000 Hz"):
        fe(str(path))  # espeak-ng writes 22.05 kHz: refused with the fix, not silently misread


def test_save_and_load_round_trip(tmp_path):
    fe = WhisperFeatureExtractor(feature_size=128)
    fe.save_pretrained(tmp_path)
    theirs = transformers.WhisperFeatureExtractor.from_pretrained(tmp_path)
    assert theirs.feature_size == 128 and np.allclose(theirs.mel_filters, fe.mel_filters)
    assert WhisperFeatureExtractor.from_pretrained(tmp_path).to_dict() == fe.to_dict()
