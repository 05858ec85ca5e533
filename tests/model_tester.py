"""The common model tests (CONTRIBUTING.md: how numerics are checked).

An architecture's test file subclasses :class:`ModelTesterMixin` and supplies a tiny
PyTorch config, its heads, and nothing else; every head then gets the same checks:
equivalence with PyTorch transformers, save/load both ways, `.keras` files, XLA, use as a
layer in a functional model, and the default training loss.
"""

from __future__ import annotations

import copy

import keras
import numpy as np
import pytest
import tensorflow as tf
import torch
import transformers

import kerasformers
from kerasformers.models.auto import _MAPPINGS
from kerasformers.tasks import task_for_registry_key

ATOL = 1e-5  # CONTRIBUTING.md: tiny random configs


def max_abs_diff(ours, theirs) -> float:
    return float(np.max(np.abs(np.asarray(ours, np.float64) - np.asarray(theirs, np.float64))))


def torch_outputs(model, inputs, **kwargs):
    with torch.no_grad():
        return model(**{k: torch.tensor(v) for k, v in inputs.items()}, **kwargs)


def compare_outputs(ours, theirs, atol=ATOL, keys=None):
    """Every tensor output, every hidden state and attention map, within ``atol``."""
    keys = keys or [k for k in ours if k not in ("loss", "hidden_states", "attentions", "past_key_values")]
    assert keys, "nothing to compare"
    for key in keys:
        assert max_abs_diff(ours[key], theirs[key].numpy()) <= atol, key
    for group in ("hidden_states", "attentions"):
        if ours.get(group) is not None:
            assert len(ours[group]) == len(theirs[group])
            for i, (a, b) in enumerate(zip(ours[group], theirs[group])):
                b = b.numpy()
                if b.size == np.size(a):  # GPT2DoubleHeadsModel: PyTorch flattens the choice axis of some
                    b = b.reshape(np.shape(a))
                assert np.shape(a) == b.shape, f"{group}[{i}]"
                assert max_abs_diff(a, b) <= atol, f"{group}[{i}]"


class ModelTesterMixin:
    """Subclass with ``torch_config`` (a transformers config) and ``heads`` {ours: theirs}."""

    torch_config: transformers.PretrainedConfig
    heads: dict[str, str]
    input_names: tuple[str, ...] = ("input_ids", "attention_mask")
    num_choices = 2
    atol = ATOL
    pad_with_pad_token_id = False  # True: padded positions hold config.pad_token_id, as tokenizers do

    def config_for(self, head: str) -> transformers.PretrainedConfig:
        config = copy.deepcopy(self.torch_config)
        if "QuestionAnswering" in head:
            config.num_labels = 2  # start and end logits
        return config

    # ---------------------------------------------------------------- inputs
    def make_inputs(self, head: str, seed: int = 0) -> dict[str, np.ndarray]:
        rng = np.random.RandomState(seed)
        batch, length = 3, 9
        ids = rng.randint(3, self.torch_config.vocab_size, (batch, length)).astype(np.int64)
        mask = np.ones_like(ids)
        mask[1, 6:] = 0  # a padded row
        mask[2, 3:] = 0
        pad = getattr(self.torch_config, "pad_token_id", None)
        if self.pad_with_pad_token_id and pad is not None:
            ids[mask == 0] = pad  # as a tokenizer pads (RoBERTa's position ids depend on it)
        inputs = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self.input_names:
            types = np.zeros_like(ids)
            types[:, 4:] = 1
            inputs["token_type_ids"] = types
        if "MultipleChoice" in head:
            inputs = {k: np.stack([v, np.roll(v, 1, axis=0)], axis=1) for k, v in inputs.items()}
        return inputs

    def make_labels(self, head: str, inputs, num_labels: int) -> dict[str, np.ndarray]:
        rng = np.random.RandomState(1)
        batch = inputs["input_ids"].shape[0]
        length = inputs["input_ids"].shape[-1]
        if "SequenceClassification" in head:
            return {"labels": rng.randint(0, num_labels, (batch,))}
        if "TokenClassification" in head:
            labels = rng.randint(0, num_labels, (batch, length))
            labels[inputs["attention_mask"] == 0] = -100
            return {"labels": labels}
        if "MaskedLM" in head:
            labels = np.full((batch, length), -100)
            labels[:, 1::3] = inputs["input_ids"][:, 1::3]
            return {"labels": labels}
        if "CausalLM" in head:
            labels = inputs["input_ids"].copy()
            labels[inputs["attention_mask"] == 0] = -100
            return {"labels": labels}
        if "QuestionAnswering" in head:
            return {
                "start_positions": rng.randint(0, length, (batch,)),
                "end_positions": rng.randint(0, length, (batch,)),
            }
        if "MultipleChoice" in head:
            return {"labels": rng.randint(0, self.num_choices, (batch,))}
        return {}

    # ---------------------------------------------------------------- fixtures
    @pytest.fixture(scope="class")
    def torch_checkpoints(self, tmp_path_factory):
        """Each head built and saved by PyTorch transformers, with its own random head weights."""
        folders = {}
        for ours, theirs in self.heads.items():
            torch.manual_seed(0)
            model = getattr(transformers, theirs)(self.config_for(ours)).eval()
            model.set_attn_implementation("eager")  # sdpa gives no attention maps to compare
            folder = tmp_path_factory.mktemp(theirs)
            model.save_pretrained(folder)
            folders[ours] = (folder, model)
        return folders

    def our_class(self, head: str):
        return getattr(kerasformers, head)

    # ---------------------------------------------------------------- checks
    def test_matches_pytorch(self, head, torch_checkpoints):
        folder, torch_model = torch_checkpoints[head]
        model, info = self.our_class(head).from_pretrained(folder, output_loading_info=True)
        # the trained head is loaded, not newly initialised
        assert info["missing_keys"] == [] and info["mismatched_keys"] == []
        inputs = self.make_inputs(head)
        ours = model(inputs, output_hidden_states=True, output_attentions=True)
        theirs = torch_outputs(torch_model, inputs, output_hidden_states=True, output_attentions=True)
        compare_outputs(ours, theirs, self.atol)

    def test_auto_class_loads_same_head(self, head, torch_checkpoints):
        folder, _ = torch_checkpoints[head]
        task = next((t for t, mapping in _MAPPINGS.items() if self.our_class(head) in mapping.values()), None)
        if task is None:
            pytest.skip("no auto class loads this head (none does in transformers either)")
        auto = getattr(kerasformers, task_for_registry_key(task).auto_class)  # the task table's auto class
        assert type(auto.from_pretrained(folder)) is self.our_class(head)

    def test_saved_by_us_loads_in_pytorch(self, head, tmp_path):
        torch_config = self.config_for(head)
        config = kerasformers.AutoConfig.for_model(torch_config.model_type, **torch_config.to_dict())
        model = self.our_class(head)(config)
        model.build_with_dummy_inputs()
        model.save_pretrained(tmp_path)
        torch_model, info = getattr(transformers, self.heads[head]).from_pretrained(
            tmp_path, output_loading_info=True, attn_implementation="eager"
        )
        assert not info["missing_keys"] and not info["mismatched_keys"], info
        inputs = self.make_inputs(head)
        compare_outputs(
            model(inputs, output_hidden_states=True),
            torch_outputs(torch_model.eval(), inputs, output_hidden_states=True),
            self.atol,
        )

    def test_keras_file_round_trip(self, head, torch_checkpoints, tmp_path):
        model = self.our_class(head).from_pretrained(torch_checkpoints[head][0])
        path = tmp_path / "model.keras"
        model.save(path)
        reloaded = keras.saving.load_model(path)
        assert type(reloaded) is type(model)
        inputs = self.make_inputs(head)
        before, after = model(inputs), reloaded(inputs)
        for key in before:
            np.testing.assert_array_equal(np.asarray(before[key]), np.asarray(after[key]))

    def test_xla_matches_eager(self, head, torch_checkpoints):
        model = self.our_class(head).from_pretrained(torch_checkpoints[head][0])
        inputs = self.make_inputs(head)
        if head in self.trainable_heads():  # the default loss, too, must compile and agree
            inputs.update(self.make_labels(head, inputs, getattr(model.config, "num_labels", 2)))
        inputs = self.tensor_inputs(inputs)
        compiled = tf.function(lambda batch: dict(model(batch)), jit_compile=True)
        eager, xla = model(inputs), compiled(inputs)
        for key in eager:
            assert max_abs_diff(eager[key], xla[key]) <= self.atol, key

    def test_default_loss_matches_pytorch(self, head, torch_checkpoints):
        if head not in self.trainable_heads():
            pytest.skip("base models have no training objective")
        model = self.our_class(head).from_pretrained(torch_checkpoints[head][0])
        inputs = self.make_inputs(head)
        labels = self.make_labels(head, inputs, getattr(model.config, "num_labels", 2))
        # the model's own loss equals PyTorch transformers' loss on the same labels
        folder, torch_model = torch_checkpoints[head]
        theirs = self.torch_loss(head, torch_outputs(torch_model, {**inputs, **self.torch_labels(head, labels)}))
        ours = float(model({**inputs, **labels}).loss)
        assert abs(ours - theirs) <= self.atol, (ours, theirs)

    # ---------------------------------------------------------------- training (compile() without a loss)
    label_ways = ("y", "in_x", "tf_data")

    def fit_data(self, inputs, labels, way):
        """fit()/evaluate() arguments giving the labels as y, inside x, or as (x, y, w) from tf.data."""
        y = next(iter(labels.values())) if len(labels) == 1 else labels
        if way == "y":
            return {"x": inputs, "y": y}
        if way == "in_x":
            return {"x": {**inputs, **labels}}
        batch = self.batch_size_of(inputs)
        weights = np.ones(batch, np.float32)
        return {"x": tf.data.Dataset.from_tensor_slices((inputs, y, weights)).batch(batch)}

    @pytest.mark.parametrize("way", label_ways)
    def test_fit_with_default_loss_lowers_loss(self, head, way, torch_checkpoints):
        """compile() with no loss trains on the head's own loss, wherever the labels are given."""
        if head not in self.trainable_heads():
            pytest.skip("base models have no training objective")
        if head not in self.fit_heads():
            pytest.skip("this head's loss is checked against PyTorch and under XLA; label routing is generic")
        if way != "y" and head != self.trainable_heads()[0]:
            # Label routing is one generic mechanism: every way on one head, labels-as-y on all
            # (keeps the suite inside its 20-minute budget on 2 cores).
            pytest.skip("the other label ways are checked on this architecture's first head")
        model = self.our_class(head).from_pretrained(torch_checkpoints[head][0])
        inputs = self.make_inputs(head)
        labels = self.make_labels(head, inputs, getattr(model.config, "num_labels", 2))
        own = float(model({**inputs, **labels}).loss)
        model.compile(optimizer=keras.optimizers.Adam(1e-3), run_eagerly=True)
        data = self.fit_data(inputs, labels, way)
        before = model.evaluate(**data, verbose=0)
        assert abs(before - own) <= self.atol, (way, before, own)  # the same loss whichever way
        history = model.fit(**data, epochs=4, verbose=0)
        assert np.all(np.isfinite(history.history["loss"]))
        assert model.evaluate(**data, verbose=0) < before

    def test_fit_with_default_loss_xla(self, head, torch_checkpoints):
        """compile(jit_compile=True) trains (labels as (x, y, w) from tf.data).

        An XLA train step costs ~15 s to compile here, so one head per architecture trains under
        XLA; every head's loss is checked under XLA in test_xla_matches_eager.
        """
        if head not in self.trainable_heads()[:1]:
            pytest.skip("one XLA fit per architecture; every head's XLA loss is checked elsewhere")
        model = self.our_class(head).from_pretrained(torch_checkpoints[head][0])
        inputs = self.make_inputs(head)
        labels = self.make_labels(head, inputs, getattr(model.config, "num_labels", 2))
        before = float(model({**inputs, **labels}).loss)
        model.compile(optimizer=keras.optimizers.Adam(1e-3), jit_compile=True)
        history = model.fit(**self.fit_data(inputs, labels, "tf_data"), epochs=4, verbose=0)
        assert model.jit_compile and np.all(np.isfinite(history.history["loss"]))
        assert float(model({**inputs, **labels}).loss) < before

    @pytest.mark.parametrize("problem_type", ["regression", "multi_label_classification"])
    def test_sequence_classification_problem_types(self, head, problem_type, tmp_path):
        """Regression (num_labels=1, MSE) and multi-label (BCE) losses equal PyTorch's."""
        if "SequenceClassification" not in head:
            pytest.skip("sequence classification heads only")
        config = self.config_for(head)
        config.problem_type = problem_type
        num_labels = 1 if problem_type == "regression" else 3
        config.num_labels = num_labels
        torch.manual_seed(0)
        torch_model = getattr(transformers, self.heads[head])(config).eval()
        torch_model.set_attn_implementation("eager")  # as in torch_checkpoints
        torch_model.save_pretrained(tmp_path)
        model = self.our_class(head).from_pretrained(tmp_path)
        assert model.config.problem_type == problem_type and model.config.num_labels == num_labels
        inputs = self.make_inputs(head)
        rng = np.random.RandomState(2)
        batch = inputs["input_ids"].shape[0]
        if problem_type == "regression":
            labels = rng.randn(batch).astype(np.float32)
        else:
            labels = rng.randint(0, 2, (batch, num_labels)).astype(np.float32)
        ours = model({**inputs, "labels": labels})
        theirs = torch_outputs(torch_model, {**inputs, "labels": labels})
        assert max_abs_diff(ours.logits, theirs.logits.numpy()) <= self.atol
        assert abs(float(ours.loss) - theirs.loss.item()) <= self.atol

    # ---------------------------------------------------------------- input hooks (image models override)
    def tensor_inputs(self, inputs) -> dict:
        """The inputs as TF constants for the XLA check (token ids: int32)."""
        return {k: tf.constant(v, tf.int32) for k, v in inputs.items()}

    def batch_size_of(self, inputs) -> int:
        return inputs["input_ids"].shape[0]

    def symbolic_inputs(self, inputs) -> dict:
        """keras.Input placeholders for the functional-model check (token ids: (None,) int32)."""
        return {k: keras.Input(shape=(None,), dtype="int32", name=k) for k in inputs}

    def trainable_heads(self):
        return [h for h in self.heads if not h.endswith("Model")]

    def fit_heads(self):
        """The heads fit() trains in test_fit_with_default_loss_lowers_loss (all trainable ones by default)."""
        return self.trainable_heads()

    def torch_labels(self, head: str, labels: dict) -> dict:
        """Our label arguments under PyTorch's names (a head may name them as transformers' TF side did)."""
        return labels

    def torch_loss(self, head: str, outputs) -> float:
        """PyTorch's value of what our ``loss`` output holds."""
        return outputs.loss.item()

    def test_usable_as_layer_in_functional_model(self, head, torch_checkpoints):
        if "MultipleChoice" in head or self.our_class(head).main_input_rank == 3:
            pytest.skip("covered by the 2-D heads")
        model = self.our_class(head).from_pretrained(torch_checkpoints[head][0])
        inputs = self.make_inputs(head)
        symbolic = self.symbolic_inputs(inputs)
        first = next(k for k in model(inputs) if k != "loss")
        wrapper = keras.Model(symbolic, model(symbolic)[first])
        np.testing.assert_allclose(np.asarray(wrapper(inputs)), np.asarray(model(inputs)[first]), atol=self.atol)
