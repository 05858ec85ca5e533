"""Embedding access and resize_token_embeddings against PyTorch transformers 5.23 on tiny configs.

transformers 5.23 (modeling_utils.resize_token_embeddings): shrinking keeps the first rows;
growing keeps the old rows and draws the new ones from N(old mean, 1e-9 * old covariance)
with mean_resizing=True (default), or from N(0, initializer_range) with mean_resizing=False;
an output bias grows with the old bias' mean (or zeros).
"""

import numpy as np
import pytest
import torch
import transformers

import kerasformers
from kerasformers.errors import InvalidInputError, NotSupportedError

BERT = transformers.BertConfig(
    vocab_size=99, hidden_size=32, num_hidden_layers=1, num_attention_heads=4, intermediate_size=37,
    max_position_embeddings=64,
)  # fmt: skip
LLAMA = transformers.LlamaConfig(
    vocab_size=50, hidden_size=32, num_hidden_layers=1, num_attention_heads=4, num_key_value_heads=2,
    intermediate_size=40, max_position_embeddings=64, tie_word_embeddings=False,
)  # fmt: skip
IDS = np.random.RandomState(0).randint(0, 90, (2, 7))


@pytest.fixture(scope="module")
def bert_mlm_folder(tmp_path_factory):
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("bert_mlm")
    transformers.BertForMaskedLM(BERT).eval().save_pretrained(folder)
    return folder


def torch_logits(model, ids):
    with torch.no_grad():
        return model(torch.tensor(ids)).logits.numpy()


def test_grow_keeps_old_rows_and_matches_pytorch(bert_mlm_folder):
    model = kerasformers.TFBertForMaskedLM.from_pretrained(bert_mlm_folder)
    old = model.get_input_embeddings().weight.numpy()
    old_bias = model.get_bias()["bias"].numpy()
    layer = model.resize_token_embeddings(105)
    assert layer is model.get_input_embeddings() is model.get_output_embeddings()  # tied head stays tied
    new = layer.weight.numpy()
    assert new.shape == (105, 32) and model.config.vocab_size == 105
    np.testing.assert_array_equal(new[:99], old)  # old rows bit-identical
    np.testing.assert_allclose(new[99:], np.broadcast_to(old.mean(0), (6, 32)), atol=1e-5)  # 1e-9 covariance
    bias = model.get_bias()["bias"].numpy()
    np.testing.assert_array_equal(bias[:99], old_bias)
    np.testing.assert_allclose(bias[99:], old_bias.mean(), atol=1e-6)
    assert model.input_id_limits()["input_ids"] == (105, "vocab_size")
    # PyTorch after the same resize, with our drawn rows copied in: the same forward pass
    torch_model = transformers.BertForMaskedLM.from_pretrained(bert_mlm_folder).eval()
    torch_model.resize_token_embeddings(105)
    with torch.no_grad():
        torch_model.bert.embeddings.word_embeddings.weight[:] = torch.tensor(new)
        torch_model.cls.predictions.bias[:] = torch.tensor(bias)
    ids = np.concatenate([IDS, [[104, 100, 3, 5, 99, 7, 1]]])
    np.testing.assert_allclose(model(ids).logits.numpy(), torch_logits(torch_model, ids), atol=1e-5)


def test_shrink_is_exact_and_saved_model_loads_in_pytorch(bert_mlm_folder, tmp_path):
    model = kerasformers.TFBertForMaskedLM.from_pretrained(bert_mlm_folder)
    model.resize_token_embeddings(91)
    torch_model = transformers.BertForMaskedLM.from_pretrained(bert_mlm_folder).eval()
    torch_model.resize_token_embeddings(91)
    ids = IDS % 91
    np.testing.assert_allclose(model(ids).logits.numpy(), torch_logits(torch_model, ids), atol=1e-5)
    with pytest.raises(InvalidInputError, match="vocab_size"):
        model(np.array([[95]]))  # the id checks follow the new size
    model.save_pretrained(tmp_path)
    reloaded = transformers.BertForMaskedLM.from_pretrained(tmp_path).eval()
    assert reloaded.config.vocab_size == 91
    np.testing.assert_allclose(torch_logits(reloaded, ids), torch_logits(torch_model, ids), atol=1e-5)
    ours = kerasformers.TFBertForMaskedLM.from_pretrained(tmp_path)
    np.testing.assert_allclose(ours(ids).logits.numpy(), model(ids).logits.numpy(), atol=1e-6)


def test_mean_resizing_off_follows_initializer_range_and_zero_bias(bert_mlm_folder):
    model = kerasformers.TFBertForMaskedLM.from_pretrained(bert_mlm_folder)
    model.resize_token_embeddings(99 + 20, mean_resizing=False)
    added = model.get_input_embeddings().weight.numpy()[99:]
    assert 0.5 * BERT.initializer_range < added.std() < 1.5 * BERT.initializer_range  # 640 draws of N(0, 0.02)
    assert abs(added.mean()) < 0.01
    np.testing.assert_array_equal(model.get_bias()["bias"].numpy()[99:], 0.0)


def test_untied_llama_head_resizes_with_pad_to_multiple_of(tmp_path):
    torch.manual_seed(0)
    torch_model = transformers.LlamaForCausalLM(LLAMA).eval()
    torch_model.save_pretrained(tmp_path)
    model = kerasformers.TFLlamaForCausalLM.from_pretrained(tmp_path)
    head = model.get_lm_head()
    assert head is model.get_output_embeddings() is not model.get_input_embeddings() and model.get_bias() is None
    old_head = head.kernel.numpy().T
    model.resize_token_embeddings(52, pad_to_multiple_of=16)  # -> 64, as transformers rounds
    assert model.config.vocab_size == 64 and head.kernel.shape == (32, 64)
    np.testing.assert_array_equal(head.kernel.numpy().T[:50], old_head)
    np.testing.assert_allclose(head.kernel.numpy().T[50:], np.broadcast_to(old_head.mean(0), (14, 32)), atol=1e-5)
    torch_model.resize_token_embeddings(52, pad_to_multiple_of=16)
    with torch.no_grad():
        torch_model.model.embed_tokens.weight[:] = torch.tensor(model.get_input_embeddings().weight.numpy())
        torch_model.lm_head.weight[:] = torch.tensor(head.kernel.numpy().T)
    ids = np.array([[63, 50, 1, 2, 3]])
    np.testing.assert_allclose(model(ids).logits.numpy(), torch_logits(torch_model, ids), atol=1e-5)


def test_resize_before_build_and_after_fit():
    config = kerasformers.AutoConfig.for_model("gpt2", vocab_size=40, n_embd=16, n_layer=1, n_head=2, n_positions=32)
    model = kerasformers.TFGPT2LMHeadModel(config)  # not built yet
    assert model.resize_token_embeddings(48).weight.shape == (48, 16)
    assert model.get_output_embeddings() is model.get_input_embeddings() and model.get_bias() is None
    ids = np.random.RandomState(1).randint(0, 48, (4, 6))
    model.compile(optimizer="adam", jit_compile=False)  # XLA would only add compile time here
    model.fit({"input_ids": ids}, ids, epochs=1, verbose=0)
    model.resize_token_embeddings(52)  # the optimizer's slots had the old shape: it restarts
    history = model.fit({"input_ids": ids}, ids, epochs=2, verbose=0)
    assert np.all(np.isfinite(history.history["loss"])) and model(ids).logits.shape == (4, 6, 52)


def test_accessors_and_bad_arguments(bert_mlm_folder):
    model = kerasformers.TFBertForSequenceClassification.from_pretrained(bert_mlm_folder, num_labels=2)
    assert model.get_lm_head() is None and model.get_output_embeddings() is None and model.get_bias() is None
    with pytest.raises(NotSupportedError, match="no output bias"):
        model.set_bias({"bias": np.zeros(99)})
    with pytest.raises(InvalidInputError, match="pad_to_multiple_of"):
        model.resize_token_embeddings(100, pad_to_multiple_of="8")
    with pytest.raises(InvalidInputError, match="new_num_tokens"):
        model.resize_token_embeddings(0)
    before = model(IDS).logits.numpy()
    model.set_input_embeddings(np.zeros((99, 32), np.float32))
    assert not np.allclose(model(IDS).logits.numpy(), before)  # the new values are used
    torch_model = transformers.BertForSequenceClassification.from_pretrained(bert_mlm_folder, num_labels=2)
    assert model.num_parameters() == sum(p.numel() for p in torch_model.parameters())
    assert model.num_parameters(only_trainable=True) == model.num_parameters()
    # 4.57 TFPreTrainedModel: framework "tf"; can_generate() only where generate() works
    assert model.framework == "tf" and not model.can_generate() and kerasformers.TFGPT2LMHeadModel.can_generate()
