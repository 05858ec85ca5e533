"""T5 (v1.0 ReLU tied, v1.1 gated-GELU untied) against PyTorch transformers on tiny random configs."""

import numpy as np
import pytest
import torch
import transformers
from model_tester import torch_outputs
from seq2seq_tester import Seq2SeqModelTesterMixin

import kerasformers.models.t5 as t5
from kerasformers import AutoConfig, TFAutoModelForSeq2SeqLM

TINY = dict(
    vocab_size=99,
    d_model=32,
    d_kv=8,
    d_ff=37,
    num_layers=2,
    num_heads=4,
    relative_attention_num_buckets=8,
    relative_attention_max_distance=20,
    decoder_start_token_id=0,
)


class TestT5(Seq2SeqModelTesterMixin):
    """T5 v1.0: ReLU feed-forward, head tied to the shared embeddings with the d_model**-0.5 rescale."""

    torch_config = transformers.T5Config(**TINY, feed_forward_proj="relu")
    heads = {
        "TFT5Model": "T5Model",
        "TFT5ForConditionalGeneration": "T5ForConditionalGeneration",
        "TFT5EncoderModel": "T5EncoderModel",
    }

    def our_class(self, head):
        return getattr(t5, head)

    def fit_heads(self):
        # label routing (y / in x / tf.data) is generic and checked on BERT; fit under XLA runs here
        return []

    def test_xla_matches_eager(self, head, torch_checkpoints):
        if head == "TFT5Model":
            pytest.skip("the same encoder and decoder stacks run under XLA in the language-model head's check")
        super().test_xla_matches_eager(head, torch_checkpoints)


class TestT5V11Untied(Seq2SeqModelTesterMixin):
    """T5 v1.1 / Flan-T5: gated-GELU feed-forward, its own lm_head, no rescale."""

    # initializer_factor 0.1: a fresh untied lm_head has std initializer_factor, which at 1.0 gives logits
    # near 30, where float32 rounding alone reaches the 1e-5 tiny-config tolerance (a flaky check).
    torch_config = transformers.T5Config(
        **TINY, feed_forward_proj="gated-gelu", tie_word_embeddings=False, initializer_factor=0.1
    )
    heads = {"TFT5ForConditionalGeneration": "T5ForConditionalGeneration"}

    def our_class(self, head):
        return getattr(t5, head)

    @pytest.fixture(scope="class")
    def torch_checkpoints(self, tmp_path_factory):
        """An untied checkpoint as Flan-T5 ships one: its own lm_head.weight, tie_word_embeddings false."""
        torch.manual_seed(0)
        model = transformers.T5ForConditionalGeneration(self.config_for("TFT5ForConditionalGeneration"))
        model.lm_head.weight = torch.nn.Parameter(torch.randn_like(model.lm_head.weight) * 0.05)
        model.config.tie_word_embeddings = False
        folder = tmp_path_factory.mktemp("t5_untied")
        model.save_pretrained(folder)
        reloaded = transformers.T5ForConditionalGeneration.from_pretrained(folder, attn_implementation="eager").eval()
        assert not torch.equal(reloaded.lm_head.weight, reloaded.shared.weight)  # really untied
        return {"TFT5ForConditionalGeneration": (folder, reloaded)}

    def trainable_heads(self):
        return []  # the loss and fit are TestT5's; this class checks the untied head and gated feed-forward


def test_relative_position_buckets_match_transformers():
    """Bucket ids for relative positions -300..300, both directions, as PyTorch's T5Attention computes them."""
    relative = np.arange(-300, 301)[None, :]
    for bidirectional in (True, False):
        for buckets, distance in ((32, 128), (8, 20)):
            ours = np.asarray(t5.modeling_t5.relative_position_bucket(relative, bidirectional, buckets, distance))
            theirs = transformers.models.t5.modeling_t5.T5Attention._relative_position_bucket(
                torch.tensor(relative), bidirectional, buckets, distance
            ).numpy()
            np.testing.assert_array_equal(ours, theirs)


@pytest.fixture(scope="module")
def t5_checkpoint(tmp_path_factory):
    torch.manual_seed(0)
    model = transformers.T5ForConditionalGeneration(transformers.T5Config(**TINY)).eval()
    folder = tmp_path_factory.mktemp("t5")
    model.save_pretrained(folder)
    return folder, model


def test_labels_shift_right_into_decoder_inputs(t5_checkpoint):
    """labels alone: decoder inputs are decoder_start_token_id + labels[:-1], -100 -> pad; loss as PyTorch's."""
    folder, torch_model = t5_checkpoint
    model = TFAutoModelForSeq2SeqLM.from_pretrained(folder)
    assert type(model) is t5.TFT5ForConditionalGeneration
    rng = np.random.RandomState(3)
    ids = rng.randint(3, 99, (2, 8))
    labels = rng.randint(3, 99, (2, 6))
    labels[1, 4:] = -100
    shifted = np.asarray(model._shift_right(labels))
    np.testing.assert_array_equal(shifted[:, 0], [0, 0])
    np.testing.assert_array_equal(shifted[:, 1:], np.where(labels[:, :-1] == -100, 0, labels[:, :-1]))
    ours = model(input_ids=ids, labels=labels)
    theirs = torch_outputs(torch_model, {"input_ids": ids, "labels": labels})
    assert abs(float(ours.loss) - theirs.loss.item()) <= 1e-5
    assert np.max(np.abs(np.asarray(ours.logits) - theirs.logits.numpy())) <= 1e-5


def test_mt5_config_and_auto_class():
    """mT5 checkpoints load as TFMT5ForConditionalGeneration: gated-GELU by default, untied as their config.json says.

    (transformers 5's MT5Config defaults to tie_word_embeddings=True, as ours; mT5 checkpoints write False.)
    """
    config = AutoConfig.for_model("mt5", **{k: v for k, v in TINY.items()}, tie_word_embeddings=False)
    assert type(config) is t5.MT5Config and config.is_gated_act and not config.tie_word_embeddings
    assert t5.MT5Config().tie_word_embeddings == transformers.MT5Config().tie_word_embeddings
    model = TFAutoModelForSeq2SeqLM.from_config(config)
    assert type(model) is t5.TFMT5ForConditionalGeneration and model.get_lm_head() is not None
