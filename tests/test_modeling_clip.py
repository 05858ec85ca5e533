"""CLIP against PyTorch transformers on a tiny config: both towers, the joint model, its contrastive loss."""

import keras
import numpy as np
import pytest
import tensorflow as tf
import torch
import transformers
from model_tester import ModelTesterMixin, max_abs_diff, torch_outputs

from kerasformers.models import clip

TEXT = dict(
    vocab_size=99,
    hidden_size=32,
    intermediate_size=37,
    num_hidden_layers=2,
    num_attention_heads=4,
    max_position_embeddings=16,
    pad_token_id=0,
    bos_token_id=97,
    eos_token_id=98,
)
VISION = dict(
    hidden_size=32, intermediate_size=37, num_hidden_layers=2, num_attention_heads=4, image_size=30, patch_size=6
)


def flat(outputs, prefix=""):
    """Nested model outputs as {"text_model_output.last_hidden_state": array, "...hidden_states.0": ...}."""
    found = {}
    for key, value in outputs.items():
        if hasattr(value, "items"):
            found.update(flat(value, f"{prefix}{key}."))
        elif isinstance(value, (tuple, list)):
            found.update({f"{prefix}{key}.{i}": np.asarray(v) for i, v in enumerate(value)})
        elif value is not None:
            found[f"{prefix}{key}"] = np.asarray(value)
    return found


class TestCLIP(ModelTesterMixin):
    torch_config = transformers.CLIPConfig(text_config=TEXT, vision_config=VISION, projection_dim=24)
    heads = {"TFCLIPModel": "CLIPModel", "TFCLIPTextModel": "CLIPTextModel", "TFCLIPVisionModel": "CLIPVisionModel"}

    def config_for(self, head):
        return {
            "TFCLIPTextModel": transformers.CLIPTextConfig(**TEXT),
            "TFCLIPVisionModel": transformers.CLIPVisionConfig(**VISION),
        }.get(head, self.torch_config)

    def our_class(self, head):
        return getattr(clip, head)

    def make_inputs(self, head, seed=0):
        rng = np.random.RandomState(seed)
        ids = rng.randint(1, 97, (3, 9)).astype(np.int64)
        ids[:, 0] = 97
        ids[0, 5], ids[1, 8], ids[2, 3] = 98, 98, 98  # end-of-text tokens, rows of different length
        mask = np.ones_like(ids)
        mask[2, 4:] = 0
        ids[2, 4:] = 0
        text = {"input_ids": ids, "attention_mask": mask}
        pixels = {"pixel_values": rng.randn(3, 3, 30, 30).astype(np.float32)}
        return {"TFCLIPTextModel": text, "TFCLIPVisionModel": pixels}.get(head, {**text, **pixels})

    def compare(self, head, model, ours, theirs, atol=None):
        ours = flat(ours)
        if head == "TFCLIPModel":
            # transformers 5.23 puts each tower's *projected* pooled state in its pooler_output;
            # transformers' TF side (and we) keep the tower's own pooled state there.
            for tower, projection in (("text", model.text_projection), ("vision", model.visual_projection)):
                key = f"{tower}_model_output.pooler_output"
                ours[key] = np.asarray(projection(ours[key]))
        theirs = flat(theirs)
        theirs = {k: v for k, v in theirs.items() if k in ours or k.split(".")[-1] != "loss"}
        assert sorted(ours) == sorted(theirs)
        for key in ours:
            assert max_abs_diff(ours[key], theirs[key]) <= (atol or self.atol), key

    # -- the mixin's checks, with image inputs and nested outputs
    def test_matches_pytorch(self, head, torch_checkpoints):
        folder, torch_model = torch_checkpoints[head]
        model, info = self.our_class(head).from_pretrained(folder, output_loading_info=True)
        assert info["missing_keys"] == [] and info["mismatched_keys"] == [] and info["unexpected_keys"] == []
        inputs = self.make_inputs(head)
        kwargs = dict(output_hidden_states=True, output_attentions=True)
        if head == "TFCLIPModel":
            kwargs["return_loss"] = True  # the contrastive loss, too
        self.compare(head, model, model(inputs, **kwargs), torch_outputs(torch_model, inputs, **kwargs))

    def test_saved_by_us_loads_in_pytorch(self, head, tmp_path):
        torch_config = self.config_for(head)
        config = self.our_class(head).config_class.from_dict(torch_config.to_dict())
        model = self.our_class(head)(config)
        model.build_with_dummy_inputs()
        model.save_pretrained(tmp_path)
        torch_model, info = getattr(transformers, self.heads[head]).from_pretrained(
            tmp_path, output_loading_info=True, attn_implementation="eager"
        )
        assert not info["missing_keys"] and not info["mismatched_keys"], info
        inputs = self.make_inputs(head)
        self.compare(head, model, model(inputs), torch_outputs(torch_model.eval(), inputs))

    def test_keras_file_round_trip(self, head, torch_checkpoints, tmp_path):
        model = self.our_class(head).from_pretrained(torch_checkpoints[head][0])
        model.save(tmp_path / "model.keras")
        reloaded = keras.saving.load_model(tmp_path / "model.keras")
        assert type(reloaded) is type(model)
        inputs = self.make_inputs(head)
        before, after = flat(model(inputs)), flat(reloaded(inputs))
        for key in before:
            np.testing.assert_array_equal(before[key], after[key])

    def test_xla_matches_eager(self, head, torch_checkpoints):
        if head != "TFCLIPModel":
            pytest.skip("the joint model runs both towers under XLA")
        model = self.our_class(head).from_pretrained(torch_checkpoints[head][0])
        inputs = {
            k: tf.constant(v, tf.float32 if v.dtype.kind == "f" else tf.int32)
            for k, v in self.make_inputs(head).items()
        }
        kwargs = {"return_loss": True} if head == "TFCLIPModel" else {}
        eager = flat(model(inputs, **kwargs))
        xla = flat(tf.function(lambda batch: model(batch, **kwargs), jit_compile=True)(inputs))
        for key in eager:
            assert max_abs_diff(eager[key], xla[key]) <= self.atol, key

    def test_usable_as_layer_in_functional_model(self, head, torch_checkpoints):
        model = self.our_class(head).from_pretrained(torch_checkpoints[head][0])
        inputs = self.make_inputs(head)
        symbolic = {
            k: keras.Input(shape=v.shape[1:], dtype="float32" if v.dtype.kind == "f" else "int32", name=k)
            for k, v in inputs.items()
        }
        first = "logits_per_image" if head == "TFCLIPModel" else "pooler_output"
        wrapper = keras.Model(symbolic, model(symbolic)[first])
        np.testing.assert_allclose(np.asarray(wrapper(inputs)), np.asarray(model(inputs)[first]), atol=self.atol)


@pytest.fixture(scope="module")
def clip_pair(tmp_path_factory):
    torch.manual_seed(0)
    torch_model = transformers.CLIPModel(TestCLIP.torch_config).eval()
    folder = tmp_path_factory.mktemp("clip")
    torch_model.save_pretrained(folder)
    return folder, torch_model


def test_features_and_towers_from_a_clip_checkpoint(clip_pair):
    """get_text_features / get_image_features, and each tower loaded from the whole CLIP checkpoint."""
    folder, torch_model = clip_pair
    model = clip.TFCLIPModel.from_pretrained(folder)
    inputs = TestCLIP().make_inputs("TFCLIPModel")
    with torch.no_grad():
        text = torch_model.get_text_features(
            input_ids=torch.tensor(inputs["input_ids"]), attention_mask=torch.tensor(inputs["attention_mask"])
        )
        image = torch_model.get_image_features(pixel_values=torch.tensor(inputs["pixel_values"]))
        tower = torch_model.text_model(input_ids=torch.tensor(inputs["input_ids"]))
    ours = model.get_text_features(inputs["input_ids"], attention_mask=inputs["attention_mask"])
    assert max_abs_diff(ours, text.pooler_output.numpy()) <= 1e-5
    assert max_abs_diff(model.get_image_features(inputs["pixel_values"]), image.pooler_output.numpy()) <= 1e-5
    # channels-last Keras images give the same features
    channels_last = inputs["pixel_values"].transpose(0, 2, 3, 1)
    assert max_abs_diff(model.get_image_features(channels_last), image.pooler_output.numpy()) <= 1e-5
    text_model, info = clip.TFCLIPTextModel.from_pretrained(folder, output_loading_info=True)
    assert info["missing_keys"] == [] and info["unexpected_keys"] == []
    assert max_abs_diff(text_model(inputs["input_ids"]).last_hidden_state, tower.last_hidden_state.numpy()) <= 1e-5
    assert clip.TFCLIPVisionModel.from_pretrained(folder, output_loading_info=True)[1]["missing_keys"] == []


def test_zero_shot_probabilities_match(clip_pair):
    """softmax(logits_per_image) over candidate texts: each image's label probabilities, as transformers."""
    folder, torch_model = clip_pair
    model = clip.TFCLIPModel.from_pretrained(folder)
    inputs = TestCLIP().make_inputs("TFCLIPModel")
    with torch.no_grad():
        theirs = torch_model(**{k: torch.tensor(v) for k, v in inputs.items()}).logits_per_image.softmax(-1).numpy()
    ours = keras.ops.convert_to_numpy(keras.ops.softmax(model(inputs).logits_per_image, axis=-1))
    assert max_abs_diff(ours, theirs) <= 1e-6
    np.testing.assert_array_equal(ours.argmax(-1), theirs.argmax(-1))


def test_bad_pixel_values_and_loss_pairs(clip_pair):
    from kerasformers.errors import InvalidInputError

    model = clip.TFCLIPModel.from_pretrained(clip_pair[0])
    inputs = TestCLIP().make_inputs("TFCLIPModel")
    with pytest.raises(InvalidInputError, match="image size"):
        model.get_image_features(np.zeros((1, 3, 32, 32), np.float32))
    with pytest.raises(InvalidInputError, match="as many texts as images"):
        model({**inputs, "pixel_values": inputs["pixel_values"][:2]}, return_loss=True)
