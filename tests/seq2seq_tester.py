"""The common model tests for encoder-decoder models (T5, BART, Marian): ModelTesterMixin plus decoder inputs.

A subclass of :class:`Seq2SeqModelTesterMixin` gets every check of ``ModelTesterMixin`` with
``decoder_input_ids`` / ``decoder_attention_mask`` in the inputs (a right-padded decoder row),
seq2seq labels (-100 on the padded decoder positions) for the language-model heads, and the
comparison of every encoder and decoder hidden state, self-attention and cross-attention map.
Encoder-only heads (class name with "EncoderModel") get encoder inputs only.
"""

from __future__ import annotations

import numpy as np
import transformers
from model_tester import ATOL, ModelTesterMixin, compare_outputs, max_abs_diff, torch_outputs

import kerasformers

SEQ2SEQ_GROUPS = (
    "encoder_hidden_states",
    "encoder_attentions",
    "decoder_hidden_states",
    "decoder_attentions",
    "cross_attentions",
)


def compare_seq2seq_outputs(ours, theirs, atol=ATOL):
    """Every tensor output and every tensor of each encoder/decoder/cross group within ``atol``."""
    plain = [k for k in ours if k not in ("loss", "past_key_values", "hidden_states", "attentions", *SEQ2SEQ_GROUPS)]
    compare_outputs(ours, theirs, atol, keys=plain)  # also hidden_states / attentions of encoder-only heads
    for group in SEQ2SEQ_GROUPS:
        if ours.get(group) is not None:
            assert theirs[group] is not None and len(ours[group]) == len(theirs[group]), group
            for i, (a, b) in enumerate(zip(ours[group], theirs[group])):
                assert np.shape(a) == tuple(b.shape), f"{group}[{i}]"
                assert max_abs_diff(a, b.numpy()) <= atol, f"{group}[{i}]"


class Seq2SeqModelTesterMixin(ModelTesterMixin):
    decoder_length = 7

    def is_encoder_only(self, head: str) -> bool:
        return "EncoderModel" in head

    def is_seq2seq_lm(self, head: str) -> bool:
        return "ConditionalGeneration" in head or head.endswith("MTModel")

    def make_inputs(self, head: str, seed: int = 0) -> dict[str, np.ndarray]:
        inputs = super().make_inputs(head, seed)
        if self.is_encoder_only(head):
            return inputs
        rng = np.random.RandomState(seed + 100)
        batch = inputs["input_ids"].shape[0]
        decoder_ids = rng.randint(3, self.torch_config.vocab_size, (batch, self.decoder_length)).astype(np.int64)
        decoder_mask = np.ones_like(decoder_ids)
        decoder_mask[2, 5:] = 0  # a right-padded target, as DataCollatorForSeq2Seq pads
        inputs["decoder_input_ids"] = decoder_ids
        inputs["decoder_attention_mask"] = decoder_mask
        return inputs

    def make_labels(self, head: str, inputs, num_labels: int) -> dict[str, np.ndarray]:
        if not self.is_seq2seq_lm(head):
            return super().make_labels(head, inputs, num_labels)
        labels = np.roll(inputs["decoder_input_ids"], -1, axis=1).copy()
        labels[inputs["decoder_attention_mask"] == 0] = -100
        return {"labels": labels}

    def trainable_heads(self):
        return [h for h in self.heads if self.is_seq2seq_lm(h) or not h.endswith("Model")]

    def test_matches_pytorch(self, head, torch_checkpoints):
        folder, torch_model = torch_checkpoints[head]
        model, info = self.our_class(head).from_pretrained(folder, output_loading_info=True)
        assert info["missing_keys"] == [] and info["mismatched_keys"] == []
        inputs = self.make_inputs(head)
        ours = model(inputs, output_hidden_states=True, output_attentions=True)
        theirs = torch_outputs(torch_model, inputs, output_hidden_states=True, output_attentions=True)
        compare_seq2seq_outputs(ours, theirs, self.atol)

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
        compare_seq2seq_outputs(
            model(inputs, output_hidden_states=True),
            torch_outputs(torch_model.eval(), inputs, output_hidden_states=True),
            self.atol,
        )
