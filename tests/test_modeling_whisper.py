"""Whisper: every head against PyTorch transformers 5.23 (the common mixin on a tiny config, float
``input_features``), labels shifted right, the cached decoder of the seq2seq protocol, and
generate() token-identical with transformers' Whisper generate (forced/detected language,
with/without timestamps; the non-default cases are slow: an XLA compile each)."""

import copy

import keras
import numpy as np
import pytest
import tensorflow as tf
import torch
import transformers
from model_tester import max_abs_diff, torch_outputs
from seq2seq_tester import Seq2SeqModelTesterMixin

import kerasformers
import kerasformers.models.whisper as whisper
from kerasformers.errors import InvalidInputError
from kerasformers.models.whisper.generation_whisper import strip_prompt

MELS, FRAMES = 8, 32  # max_source_positions 16: the encoder reads 32 frames

TINY = dict(
    vocab_size=99,
    num_mel_bins=MELS,
    encoder_layers=2,
    decoder_layers=2,
    d_model=32,
    encoder_attention_heads=4,
    decoder_attention_heads=4,
    encoder_ffn_dim=37,
    decoder_ffn_dim=37,
    max_source_positions=FRAMES // 2,
    max_target_positions=40,
    pad_token_id=2,
    bos_token_id=2,
    eos_token_id=2,
    decoder_start_token_id=3,
    begin_suppress_tokens=[2, 12],
    suppress_tokens=[10, 11],
    num_labels=3,
    classifier_proj_size=16,
)

# a multilingual generation_config.json in miniature: 3 languages, 2 tasks, timestamps from id 61
GENERATION = dict(
    decoder_start_token_id=3,
    eos_token_id=2,
    pad_token_id=2,
    bos_token_id=2,
    lang_to_id={"<|en|>": 4, "<|fr|>": 5, "<|de|>": 6},
    task_to_id={"translate": 7, "transcribe": 8},
    no_timestamps_token_id=60,
    is_multilingual=True,
    suppress_tokens=[10, 11],
    begin_suppress_tokens=[2, 12],
    max_length=40,
)


class TestWhisper(Seq2SeqModelTesterMixin):
    torch_config = transformers.WhisperConfig(**TINY)
    heads = {
        "TFWhisperForConditionalGeneration": "WhisperForConditionalGeneration",
        "TFWhisperModel": "WhisperModel",
        "TFWhisperForAudioClassification": "WhisperForAudioClassification",
    }
    input_names = ("input_features",)

    def our_class(self, head):
        return getattr(whisper, head)

    def is_encoder_only(self, head):
        return "AudioClassification" in head

    def make_inputs(self, head, seed=0):
        rng = np.random.RandomState(seed)
        inputs = {"input_features": rng.randn(3, MELS, FRAMES).astype(np.float32)}
        if self.is_encoder_only(head):
            return inputs
        decoder_ids = rng.randint(13, 99, (3, self.decoder_length)).astype(np.int64)
        decoder_mask = np.ones_like(decoder_ids)
        decoder_mask[2, 5:] = 0
        inputs["decoder_input_ids"] = decoder_ids
        inputs["decoder_attention_mask"] = decoder_mask
        return inputs

    def make_labels(self, head, inputs, num_labels):
        if self.is_encoder_only(head):
            return {"labels": np.random.RandomState(1).randint(0, num_labels, (3,))}
        return super().make_labels(head, inputs, num_labels)

    def tensor_inputs(self, inputs):
        return {k: tf.constant(v, tf.float32 if k == "input_features" else tf.int32) for k, v in inputs.items()}

    def batch_size_of(self, inputs):
        return inputs["input_features"].shape[0]

    def trainable_heads(self):
        return [h for h in self.heads if not h.endswith("Model")]

    def fit_heads(self):
        return self.trainable_heads()[:1]

    @pytest.fixture(autouse=True)
    def _budget(self, request):
        """Suite budget: generic plumbing on one head, label routing on labels-as-y only."""
        params = request.node.callspec.params if hasattr(request.node, "callspec") else {}
        head, name = params.get("head"), request.node.originalname
        if head is not None and name == "test_keras_file_round_trip" and head != next(iter(self.heads)):
            pytest.skip("generic plumbing: checked on the first head")
        if params.get("way") not in (None, "y"):
            pytest.skip("labels in x and from tf.data route through the same generic code as on BERT/GPT-2")
        if head != "TFWhisperForConditionalGeneration" and name == "test_xla_matches_eager":
            pytest.skip("the LM head's XLA run covers the same encoder and decoder")

    @pytest.mark.slow  # an XLA train step: ~30 s of compilation here; the eager fit runs by default
    def test_fit_with_default_loss_xla(self, head, torch_checkpoints):
        super().test_fit_with_default_loss_xla(head, torch_checkpoints)

    # ------------------------------------------------------------------ Whisper's own checks
    def test_labels_shift_right_as_transformers(self, torch_checkpoints):
        folder, torch_model = torch_checkpoints["TFWhisperForConditionalGeneration"]
        model = whisper.TFWhisperForConditionalGeneration.from_pretrained(folder)
        inputs = self.make_inputs("TFWhisperForConditionalGeneration")
        labels = inputs["decoder_input_ids"].copy()
        labels[0, 5:] = -100
        features = {"input_features": inputs["input_features"]}
        ours = model({**features, "labels": labels})
        theirs = torch_outputs(torch_model, {**features, "labels": labels})
        assert max_abs_diff(ours.logits, theirs.logits.numpy()) <= self.atol
        assert abs(float(ours.loss) - theirs.loss.item()) <= self.atol

    def test_cached_decoding_matches_pytorch(self, torch_checkpoints):
        """The seq2seq protocol step by step (static cache, cross keys/values once) equals the full pass."""
        folder, torch_model = torch_checkpoints["TFWhisperForConditionalGeneration"]
        model = whisper.TFWhisperForConditionalGeneration.from_pretrained(folder)
        inputs = self.make_inputs("TFWhisperForConditionalGeneration")
        ids = inputs["decoder_input_ids"]
        states = model.get_encoder()(inputs["input_features"]).last_hidden_state
        cache = model.init_cache(3, 12, states)
        slots = np.zeros((3, 12), np.int32)
        logits = []
        for step in range(ids.shape[1]):
            slots[:, step] = 1
            out = model(
                decoder_input_ids=ids[:, step : step + 1],
                decoder_attention_mask=slots.copy(),
                encoder_outputs=(states,),
                past_key_values=cache,
                cache_position=np.int32(step),
                logits_to_keep=1,
            )
            cache = out.past_key_values
            logits.append(np.asarray(out.logits)[:, -1])
        theirs = torch_outputs(torch_model, {"input_features": inputs["input_features"], "decoder_input_ids": ids})
        assert max_abs_diff(np.stack(logits, axis=1), theirs.logits.numpy()) <= self.atol

    def test_weighted_layer_sum_matches_pytorch(self, tmp_path):
        config = copy.deepcopy(self.torch_config)
        config.use_weighted_layer_sum = True
        torch.manual_seed(0)
        torch_model = transformers.WhisperForAudioClassification(config).eval()
        with torch.no_grad():  # not the uniform initial weights, so the softmax mix is exercised
            torch_model.layer_weights.copy_(torch.tensor([0.1, 0.7, -0.4]))
        torch_model.save_pretrained(tmp_path)
        model = whisper.TFWhisperForAudioClassification.from_pretrained(tmp_path)
        inputs = self.make_inputs("TFWhisperForAudioClassification")
        theirs = torch_outputs(torch_model, inputs)
        assert max_abs_diff(model(inputs).logits, theirs.logits.numpy()) <= self.atol

    def test_wrong_feature_length_is_one_clear_error(self, torch_checkpoints):
        model = whisper.TFWhisperModel.from_pretrained(torch_checkpoints["TFWhisperModel"][0])
        with pytest.raises(InvalidInputError, match=rf"\(batch, {MELS}, {FRAMES}\).*WhisperFeatureExtractor"):
            model({"input_features": np.zeros((1, MELS, FRAMES - 4), np.float32), "decoder_input_ids": [[3]]})

    def test_auto_classes(self, torch_checkpoints):
        folder = torch_checkpoints["TFWhisperModel"][0]
        assert type(kerasformers.TFAutoModel.from_pretrained(folder)) is whisper.TFWhisperModel


# ---------------------------------------------------------------------- generate()
@pytest.fixture(scope="module")
def generation_pair(tmp_path_factory):
    """A tiny multilingual Whisper saved by PyTorch transformers with its generation_config.json."""
    torch.manual_seed(0)
    torch_model = transformers.WhisperForConditionalGeneration(transformers.WhisperConfig(**TINY)).eval()
    torch_model.generation_config = transformers.GenerationConfig(**GENERATION)
    folder = tmp_path_factory.mktemp("whisper_generate")
    torch_model.save_pretrained(folder)
    model = whisper.TFWhisperForConditionalGeneration.from_pretrained(folder)
    features = np.random.RandomState(5).randn(2, MELS, FRAMES).astype(np.float32) * 3
    return model, torch_model, features


def prompt_length(options) -> int:
    """Whisper's decoder prompt: start, language, [task], [no-timestamps] (the task only when a language is given)."""
    with_task = "language" in options or "task" in options
    return 2 + with_task + (not options.get("return_timestamps", False))


GENERATE_CASES = [
    dict(language="en", return_timestamps=True),
    dict(language="fr", task="translate"),
    dict(),  # language detected
    dict(return_timestamps=True),  # detected, with timestamps
    dict(language="de", num_beams=3),
]


@pytest.mark.parametrize(
    "options",
    [GENERATE_CASES[0]] + [pytest.param(case, marks=pytest.mark.slow) for case in GENERATE_CASES[1:]],
    ids=["en-timestamps", "fr-translate", "detected", "detected-timestamps", "de-beam3"],
)
def test_generate_token_identical(generation_pair, options):
    """generate() (one XLA program) gives transformers' Whisper generate() tokens; ours keep the prompt
    first as transformers' TF Whisper did, so they are compared after it (strip_prompt)."""
    model, torch_model, features = generation_pair
    ours = model.generate(input_features=features, max_new_tokens=12, **options).numpy()
    with torch.no_grad():
        theirs = torch_model.generate(input_features=torch.tensor(features), max_new_tokens=12, **options).numpy()
    length = prompt_length(options)
    assert ours[0, 0] == GENERATION["decoder_start_token_id"]
    if "language" in options:
        assert ours[0, 1] == GENERATION["lang_to_id"][f"<|{options['language']}|>"]
    timestamp_begin = GENERATION["no_timestamps_token_id"] + 1 if options.get("return_timestamps") else None
    np.testing.assert_array_equal(strip_prompt(ours, length, 2, 2, timestamp_begin), theirs)
    if timestamp_begin is not None:
        assert (ours[:, length:] >= timestamp_begin).any()  # the case exercises the timestamp rules


def test_detect_language_matches_pytorch(generation_pair):
    model, torch_model, features = generation_pair
    with torch.no_grad():
        theirs = torch_model.detect_language(torch.tensor(features)).numpy()
    np.testing.assert_array_equal(model.detect_language(features), theirs)


def test_generate_refuses_unknown_language(generation_pair):
    model, _, features = generation_pair
    with pytest.raises(InvalidInputError, match="Unsupported language 'klingon'"):
        model.generate(input_features=features, language="klingon")
    with pytest.raises(InvalidInputError, match="not in this model's generation_config.lang_to_id"):
        model.generate(input_features=features, language="japanese")


def test_timestamp_processor_matches_transformers():
    """The TF timestamp rules equal transformers' processor on hand-made histories (no model needed)."""
    from kerasformers.generation.logits_process import DecodeContext

    config = transformers.GenerationConfig(**GENERATION)
    begin = 3
    theirs = transformers.WhisperTimeStampLogitsProcessor(config, begin_index=begin)
    ours = whisper.WhisperTimeStampLogitsProcessor(60, 2, begin)
    rng = np.random.RandomState(0)
    histories = [
        [3, 4, 8],  # first generated token: a timestamp
        [3, 4, 8, 61],  # one timestamp: text or a timestamp >= it
        [3, 4, 8, 61, 20, 70],  # text then a timestamp: another timestamp or eos
        [3, 4, 8, 61, 20, 70, 70],  # a pair: text
        [3, 4, 8, 65, 20, 21],  # text after a timestamp: later timestamps only
    ]
    for history in histories:
        scores = rng.randn(2, 99).astype(np.float32)
        ids = np.array([history, history], np.int64)
        expected = theirs(torch.tensor(ids), torch.tensor(scores)).numpy()
        width = 16  # the loop's static buffer: columns past `length` hold pad
        buffer = np.full((2, width), 2, np.int32)
        buffer[:, : len(history)] = history
        got = ours(tf.constant(buffer), tf.constant(scores), DecodeContext(length=len(history))).numpy()
        np.testing.assert_array_equal(np.isinf(got), np.isinf(expected))
        np.testing.assert_allclose(got[~np.isinf(got)], expected[~np.isinf(expected)])


def test_save_pretrained_loads_in_pytorch_with_generation_config(generation_pair, tmp_path):
    model, _, _ = generation_pair
    model.save_pretrained(tmp_path)
    reloaded = transformers.WhisperForConditionalGeneration.from_pretrained(tmp_path)
    assert reloaded.generation_config.lang_to_id == GENERATION["lang_to_id"]
    assert keras.ops.all(model.get_input_embeddings().embeddings == reloaded.proj_out.weight.detach().numpy())
