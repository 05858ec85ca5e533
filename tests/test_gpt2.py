"""GPT-2 against PyTorch transformers on a tiny config: every head, plus greedy and beam generate()."""

import numpy as np
import torch
import transformers
from model_tester import ModelTesterMixin

import kerasformers


class TestGPT2(ModelTesterMixin):
    torch_config = transformers.GPT2Config(
        vocab_size=99,
        n_embd=32,
        n_layer=2,
        n_head=4,
        n_positions=64,
        pad_token_id=0,
        bos_token_id=1,
        eos_token_id=2,
        num_labels=3,
        scale_attn_by_inverse_layer_idx=True,
    )
    heads = {
        "TFGPT2Model": "GPT2Model",
        "TFGPT2LMHeadModel": "GPT2LMHeadModel",
        "TFGPT2ForSequenceClassification": "GPT2ForSequenceClassification",
        "TFGPT2DoubleHeadsModel": "GPT2DoubleHeadsModel",
    }

    def trainable_heads(self):
        # "LMHeadModel" and "DoubleHeadsModel" end in "Model"
        return ["TFGPT2LMHeadModel", "TFGPT2ForSequenceClassification", "TFGPT2DoubleHeadsModel"]

    def make_inputs(self, head, seed=0):
        if head != "TFGPT2DoubleHeadsModel":
            return super().make_inputs(head, seed)
        inputs = super().make_inputs("MultipleChoice", seed)  # (batch, num_choices, length)
        inputs["mc_token_ids"] = inputs["attention_mask"].sum(-1) - 1  # each choice's last real token
        return inputs

    def make_labels(self, head, inputs, num_labels):
        if head == "TFGPT2DoubleHeadsModel":
            labels = np.where(inputs["attention_mask"] == 1, inputs["input_ids"], -100)
            return {"labels": labels, "mc_labels": super().make_labels("MultipleChoice", inputs, num_labels)["labels"]}
        # GPT-2's causal LM head is named LMHeadModel: give it the mixin's causal LM labels
        return super().make_labels(head.replace("LMHeadModel", "ForCausalLM"), inputs, num_labels)

    def torch_loss(self, head, outputs):
        if head == "TFGPT2DoubleHeadsModel":  # our loss is the sum of the losses whose labels were given
            return outputs.loss.item() + outputs.mc_loss.item()
        return outputs.loss.item()


def test_gpt2_greedy_and_beam_match_transformers(tmp_path):
    torch.manual_seed(0)
    torch_model = transformers.GPT2LMHeadModel(TestGPT2.torch_config).eval()
    torch_model.save_pretrained(tmp_path)
    model = kerasformers.TFAutoModelForCausalLM.from_pretrained(tmp_path)
    assert isinstance(model, kerasformers.TFGPT2LMHeadModel)
    rng = np.random.RandomState(0)
    ids = rng.randint(3, 99, (2, 6))
    mask = np.ones_like(ids)
    mask[1, :2] = 0
    ids[1, :2] = 0
    for kwargs in (dict(max_new_tokens=6), dict(max_new_tokens=6, num_beams=2)):
        with torch.no_grad():
            theirs = torch_model.generate(
                torch.tensor(ids), attention_mask=torch.tensor(mask), do_sample=False, **kwargs
            ).numpy()
        np.testing.assert_array_equal(model.generate(ids, attention_mask=mask, **kwargs), theirs)
