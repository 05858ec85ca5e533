"""Loading without a second copy: tensors stream into the variables in pieces; initial values
are drawn only for what the checkpoint lacks.

Checkpoints are tiny models saved by PyTorch transformers (the oracle); expected values come
from it (or from the checkpoint file itself), never from our own outputs.
"""

import json

import keras
import ml_dtypes
import numpy as np
import pytest
import torch
import transformers
from model_tester import max_abs_diff

import kerasformers
from kerasformers import weights

TINY_BERT = dict(
    vocab_size=99,
    hidden_size=32,
    num_hidden_layers=1,
    num_attention_heads=4,
    intermediate_size=37,
    max_position_embeddings=64,
)
IDS = np.array([[5, 6, 7, 8, 9], [10, 11, 12, 0, 0]], np.int64)
MASK = np.array([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]], np.int64)


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory):
    """(folder, torch model): a BertModel checkpoint (float32)."""
    torch.manual_seed(0)
    model = transformers.BertModel(transformers.BertConfig(**TINY_BERT)).eval()
    folder = tmp_path_factory.mktemp("tiny_bert_in_place")
    model.save_pretrained(folder)
    return folder, model


def variable(model, torch_name):
    """The model's variable for a checkpoint tensor name (the model may add its "bert." prefix)."""
    named = weights.named_variables(model)
    return next(v.variable for name, v in named.items() if name.endswith(torch_name)).numpy()


def torch_hidden(model):
    with torch.no_grad():
        return model(input_ids=torch.tensor(IDS), attention_mask=torch.tensor(MASK)).last_hidden_state.numpy()


def test_pieces_of_a_few_rows_give_pytorchs_outputs(tiny_bert, monkeypatch):
    """Every tensor split into many pieces (rows of embeddings, columns of transposed kernels)."""
    folder, torch_model = tiny_bert
    monkeypatch.setattr(weights, "LOAD_CHUNK_BYTES", 100)  # a 32-wide float32 row is 128 bytes: one row a piece
    model = kerasformers.TFBertModel.from_pretrained(folder)
    ours = model(input_ids=IDS, attention_mask=MASK).last_hidden_state
    assert max_abs_diff(ours, torch_hidden(torch_model)) <= 1e-5
    state = torch_model.state_dict()
    np.testing.assert_array_equal(
        variable(model, "embeddings.word_embeddings.weight"), state["embeddings.word_embeddings.weight"]
    )
    kernel = variable(model, "encoder.layer.0.intermediate.dense.weight")  # (in, out) <- PyTorch's (out, in)
    np.testing.assert_array_equal(kernel, state["encoder.layer.0.intermediate.dense.weight"].numpy().T)


def test_missing_head_gets_its_initializer_not_zeros(tiny_bert):
    """Variables build as zeros while loading; the ones the checkpoint lacks get their real initial values."""
    folder, _ = tiny_bert
    model, info = kerasformers.TFBertForSequenceClassification.from_pretrained(
        folder, num_labels=3, output_loading_info=True
    )
    assert info["missing_keys"] == ["classifier.bias", "classifier.weight"]
    kernel = variable(model, "classifier.weight")
    # BERT's classifier kernel: truncated normal with initializer_range (0.02), bias zeros (transformers' _init_weights)
    assert 0.005 < kernel.std() < 0.04 and np.abs(kernel).max() <= 2 * 0.02 + 1e-6
    np.testing.assert_array_equal(variable(model, "classifier.bias"), np.zeros(3, np.float32))
    # the zeros stand-in is gone once loading ends: a model built afterwards draws random values again
    fresh = kerasformers.TFBertModel(kerasformers.BertConfig(**TINY_BERT))
    fresh.build_with_dummy_inputs()
    assert np.abs(variable(fresh, "embeddings.word_embeddings.weight")).max() > 0


def test_initializers_restored_after_a_failed_load(tiny_bert, tmp_path):
    """A load that raises (shape mismatch) leaves variable creation as it was."""
    folder, _ = tiny_bert
    with pytest.raises(kerasformers.WeightsError, match="ignore_mismatched_sizes"):
        kerasformers.TFBertModel.from_pretrained(folder, hidden_size=16, num_attention_heads=2)
    layer = keras.layers.Dense(8)
    layer.build((None, 4))
    assert np.abs(layer.kernel.numpy()).max() > 0


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_half_precision_checkpoint_loads_bit_for_bit(tiny_bert, tmp_path, dtype):
    """A bf16 / fp16 checkpoint into a model of that dtype: the very bits of the file, no float32 detour."""
    _, torch_model = tiny_bert
    half = transformers.BertModel(torch_model.config).eval()
    half.load_state_dict(torch_model.state_dict())
    half = half.to(getattr(torch, dtype))
    half.save_pretrained(tmp_path)
    model = kerasformers.TFBertModel.from_pretrained(tmp_path, dtype=dtype)
    expected = half.state_dict()["embeddings.word_embeddings.weight"]
    bits = expected.view(torch.int16).numpy()
    ours = variable(model, "embeddings.word_embeddings.weight")
    assert ours.dtype == (ml_dtypes.bfloat16 if dtype == "bfloat16" else np.float16)
    np.testing.assert_array_equal(ours.view(np.int16), bits)
    # into a float32 model: the exact widening of each value
    full = kerasformers.TFBertModel.from_pretrained(tmp_path)
    np.testing.assert_array_equal(variable(full, "embeddings.word_embeddings.weight"), expected.float().numpy())
    # dtype="auto" (transformers' option): the checkpoint's own dtype, from config.json or else its tensors
    auto = kerasformers.TFBertModel.from_pretrained(tmp_path, dtype="auto")
    assert {v.dtype for v in auto.weights} == {dtype}
    config = json.loads((tmp_path / "config.json").read_text())
    config.pop("dtype", None), config.pop("torch_dtype", None)
    (tmp_path / "config.json").write_text(json.dumps(config))
    assert weights.checkpoint_dtype(tmp_path) == dtype


def resident_mb() -> float:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) / 1024 for line in status if line.startswith("VmRSS:"))


def test_variables_take_no_memory_until_the_checkpoint_fills_them():
    """Built for loading, large variables sit on untouched zero pages (a model that is loaded is
    resident once, not as zeros first); their real initial values make them resident."""
    config = kerasformers.BertConfig(
        **{**TINY_BERT, "vocab_size": 60_000, "hidden_size": 512, "num_attention_heads": 8}
    )
    before = resident_mb()
    with weights.deferred_initialization() as deferred:
        model = kerasformers.TFBertModel(config)
        model.build_with_dummy_inputs()
    weight_mb = sum(np.prod(v.shape) * 4 for v in model.weights) / 2**20  # ~120 MB, mostly the embedding
    assert resident_mb() - before < 0.2 * weight_mb
    assert not np.any(variable(model, "embeddings.word_embeddings.weight")[:100])
    deferred.initialize()
    assert resident_mb() - before > 0.8 * weight_mb
    assert np.abs(variable(model, "embeddings.word_embeddings.weight")).max() > 0


def test_loaded_tensors_become_the_variables_without_a_copy_in_tensorflows_allocator(tmp_path):
    """The file is read straight into the buffer each variable adopts: TensorFlow's allocator (whose
    bookkeeping costs ~6% of what it ever held) does not hold the weights, and values are PyTorch's."""
    import tensorflow as tf

    try:
        tf.config.experimental.get_memory_info("CPU:0")
    except ValueError:
        pytest.skip("this TensorFlow's CPU allocator keeps no statistics (oneDNN off)")
    torch.manual_seed(0)
    config = transformers.BertConfig(**{**TINY_BERT, "vocab_size": 8000, "hidden_size": 64, "intermediate_size": 256})
    torch_model = transformers.BertModel(config).eval()
    torch_model.save_pretrained(tmp_path)
    weight_bytes = sum(p.numel() * 4 for p in torch_model.parameters())
    before = tf.config.experimental.get_memory_info("CPU:0")["current"]
    model = kerasformers.TFBertModel.from_pretrained(tmp_path)
    held = tf.config.experimental.get_memory_info("CPU:0")["current"] - before
    assert held < 0.1 * weight_bytes, f"{held} of {weight_bytes} weight bytes went through TensorFlow's allocator"
    ours = model(input_ids=IDS, attention_mask=MASK).last_hidden_state
    assert max_abs_diff(ours, torch_hidden(torch_model)) <= 1e-5
    kernel = variable(model, "encoder.layer.0.intermediate.dense.weight")  # 64 KiB, transposed while read
    np.testing.assert_array_equal(
        kernel, torch_model.state_dict()["encoder.layer.0.intermediate.dense.weight"].numpy().T
    )
