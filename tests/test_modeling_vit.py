"""ViT and DeiT: every head against PyTorch transformers (the common mixin), on pixel_values.

Image heads take float ``pixel_values`` (batch, 3, 32, 32) instead of token ids; the hooks below
give the mixin those inputs, and the image-classification loss is checked for each
``problem_type`` as transformers computes it.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf
import torch
import transformers
from model_tester import ModelTesterMixin, compare_outputs, max_abs_diff, torch_outputs

import kerasformers.models.deit as deit
import kerasformers.models.vit as vit
from kerasformers.errors import InvalidInputError

TINY = dict(
    image_size=32,
    patch_size=8,
    hidden_size=32,
    num_hidden_layers=2,
    num_attention_heads=4,
    intermediate_size=37,
    num_labels=3,
    encoder_stride=8,  # == patch_size: the masked-image-modeling loss needs it
)


class ImageModelTester(ModelTesterMixin):
    input_names = ("pixel_values",)
    package = vit

    def our_class(self, head):
        return getattr(self.package, head)

    def make_inputs(self, head, seed=0):
        rng = np.random.RandomState(seed)
        return {"pixel_values": rng.randn(3, 3, 32, 32).astype(np.float32)}

    def make_labels(self, head, inputs, num_labels):
        rng = np.random.RandomState(1)
        if "MaskedImageModeling" in head:
            return {"bool_masked_pos": rng.randint(0, 2, (3, 16)).astype(bool)}
        if "ImageClassification" in head:
            return {"labels": rng.randint(0, num_labels, (3,))}
        return {}

    def tensor_inputs(self, inputs):
        return {k: tf.constant(v, tf.float32 if k == "pixel_values" else tf.int32) for k, v in inputs.items()}

    def batch_size_of(self, inputs):
        return inputs["pixel_values"].shape[0]

    def symbolic_inputs(self, inputs):
        return {"pixel_values": keras.Input(shape=(3, 32, 32), dtype="float32", name="pixel_values")}

    def trainable_heads(self):
        return [h for h in self.heads if not h.endswith("Model") and "WithTeacher" not in h]

    def fit_heads(self):
        return [h for h in self.trainable_heads() if "ImageClassification" in h]

    # Every head shares the embeddings and the encoder: the default suite compiles (XLA), wraps in a
    # functional model and feeds channels-last / other-resolution pixels through these heads only;
    # test_every_head_compiles_wraps_and_interpolates (slow) runs the same checks on the others.
    default_suite_heads: tuple[str, ...] = ()

    def in_default_suite(self, head):
        return head in self.default_suite_heads

    def test_xla_matches_eager(self, head, torch_checkpoints):
        if not self.in_default_suite(head):
            pytest.skip("shares its layers with a head checked here; every head: -m slow")
        super().test_xla_matches_eager(head, torch_checkpoints)

    def test_usable_as_layer_in_functional_model(self, head, torch_checkpoints):
        if not self.in_default_suite(head):
            pytest.skip("shares its layers with a head checked here; every head: -m slow")
        super().test_usable_as_layer_in_functional_model(head, torch_checkpoints)

    @pytest.mark.slow
    def test_every_head_compiles_wraps_and_interpolates(self, head, torch_checkpoints):
        if self.in_default_suite(head):
            pytest.skip("checked in the default suite")
        super().test_xla_matches_eager(head, torch_checkpoints)
        super().test_usable_as_layer_in_functional_model(head, torch_checkpoints)
        self.check_channels_last_and_interpolation(head, torch_checkpoints)

    # Label routing (labels as y, inside x, from tf.data) is one generic mechanism checked on the text
    # models; images give labels as y here, and from tf.data in test_fit_with_default_loss_xla.
    @pytest.mark.parametrize(
        "way", ["y", pytest.param("in_x", marks=pytest.mark.slow), pytest.param("tf_data", marks=pytest.mark.slow)]
    )
    def test_fit_with_default_loss_lowers_loss(self, head, way, torch_checkpoints):
        super().test_fit_with_default_loss_lowers_loss(head, way, torch_checkpoints)

    @pytest.mark.parametrize("problem_type", ["regression", "multi_label_classification"])
    def test_sequence_classification_problem_types(self, head, problem_type, tmp_path):
        """Image classification: regression (MSE) and multi-label (BCE) losses equal PyTorch's."""
        if not head.endswith("ForImageClassification"):
            pytest.skip("image classification heads only")
        config = self.config_for(head)
        config.problem_type = problem_type
        config.num_labels = 1 if problem_type == "regression" else 3
        torch.manual_seed(0)
        torch_model = getattr(transformers, self.heads[head])(config).eval()
        torch_model.save_pretrained(tmp_path)
        model = self.our_class(head).from_pretrained(tmp_path)
        inputs = self.make_inputs(head)
        rng = np.random.RandomState(2)
        if problem_type == "regression":
            labels = rng.randn(3).astype(np.float32)
        else:
            labels = rng.randint(0, 2, (3, 3)).astype(np.float32)
        ours = model({**inputs, "labels": labels})
        theirs = torch_outputs(torch_model, {**inputs, "labels": labels})
        assert max_abs_diff(ours.logits, theirs.logits.numpy()) <= self.atol
        assert abs(float(ours.loss) - theirs.loss.item()) <= self.atol

    def test_channels_last_and_interpolation(self, head, torch_checkpoints):
        """Channels-last pixels give the same outputs; interpolate_pos_encoding matches PyTorch at 48x40."""
        if not self.in_default_suite(head):
            pytest.skip("the embeddings are shared by every head; every head: -m slow")
        self.check_channels_last_and_interpolation(head, torch_checkpoints)

    def check_channels_last_and_interpolation(self, head, torch_checkpoints):
        folder, torch_model = torch_checkpoints[head]
        model = self.our_class(head).from_pretrained(folder)
        pixels = self.make_inputs(head)["pixel_values"]
        first = next(k for k in model(pixels) if k != "loss")
        channels_last = np.transpose(pixels, (0, 2, 3, 1))
        np.testing.assert_allclose(model(channels_last)[first], model(pixels)[first], atol=1e-6)
        with pytest.raises(InvalidInputError, match="data_format"):
            model(np.zeros((1, 3, 32, 3), np.float32))  # axis 1 and the last axis both have 3 entries
        if "MaskedImageModeling" in head:
            return  # reconstructs a square grid only (as transformers)
        larger = np.random.RandomState(3).randn(2, 3, 48, 40).astype(np.float32)
        ours = model(larger, interpolate_pos_encoding=True)
        theirs = torch_outputs(torch_model, {"pixel_values": larger}, interpolate_pos_encoding=True)
        compare_outputs(ours, theirs, self.atol)
        with pytest.raises(InvalidInputError, match="interpolate_pos_encoding"):
            model(larger)


class TestViT(ImageModelTester):
    torch_config = transformers.ViTConfig(**TINY)
    heads = {
        "TFViTModel": "ViTModel",
        "TFViTForImageClassification": "ViTForImageClassification",
        "TFViTForMaskedImageModeling": "ViTForMaskedImageModeling",
    }
    default_suite_heads = ("TFViTForImageClassification",)


class TestDeiT(ImageModelTester):
    torch_config = transformers.DeiTConfig(**TINY)
    package = deit
    heads = {
        "TFDeiTModel": "DeiTModel",
        "TFDeiTForImageClassification": "DeiTForImageClassification",
        "TFDeiTForImageClassificationWithTeacher": "DeiTForImageClassificationWithTeacher",
        "TFDeiTForMaskedImageModeling": "DeiTForMaskedImageModeling",
    }
    default_suite_heads = ("TFDeiTForImageClassificationWithTeacher",)  # distillation token and both heads

    def fit_heads(self):
        return []  # DeiT trains through ViT's code path, fitted in TestViT; its losses are checked here

    def test_fit_with_default_loss_xla(self, head, torch_checkpoints):
        pytest.skip("one XLA fit for the ViT family (TestViT); DeiT's loss is checked under XLA per head")
