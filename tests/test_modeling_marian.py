"""Marian: both heads against PyTorch transformers 5.23 (the common mixin), shared and separate
source/target vocabularies, labels shifted right from the pad token, and the cached decoder of the
seq2seq generate protocol."""

import numpy as np
import pytest
import torch
import transformers
from model_tester import max_abs_diff, torch_outputs
from test_modeling_bart import (
    BEAM,
    Seq2SeqTesterMixin,
    check_cached_decoding,
    check_generate_token_identical,
    generate_cases,
)

import kerasformers.models.marian as marian

MARIAN_CONFIG = dict(
    vocab_size=99,
    d_model=32,
    encoder_layers=2,
    decoder_layers=2,
    encoder_attention_heads=4,
    decoder_attention_heads=4,
    encoder_ffn_dim=37,
    decoder_ffn_dim=37,
    max_position_embeddings=64,
    pad_token_id=98,
    decoder_start_token_id=98,
    eos_token_id=0,
    forced_eos_token_id=0,
    scale_embedding=True,  # as the opus-mt checkpoints
)


class TestMarian(Seq2SeqTesterMixin):
    module = marian
    torch_config = transformers.MarianConfig(**MARIAN_CONFIG)
    heads = {"TFMarianMTModel": "MarianMTModel", "TFMarianModel": "MarianModel"}
    xla_heads = ("TFMarianMTModel",)
    xla_fit = False
    # transformers' MarianModel lists them as ignorable only under the "model." prefix of MarianMTModel,
    # so it reports them missing, then rebuilds the sinusoids in _init_weights (the outputs still match)
    built_not_saved = ("embed_positions.weight",)

    def trainable_heads(self):
        return ["TFMarianMTModel"]  # its name ends in "Model" like a base model's

    def make_inputs(self, head, seed=0):
        # Marian's decoder needs decoder_input_ids (it does not shift input_ids as BART does)
        inputs = super().make_inputs(head, seed)
        rng = np.random.RandomState(seed + 5)
        decoder_input_ids = rng.randint(1, self.torch_config.vocab_size - 1, (3, self.target_length))
        decoder_input_ids[:, 0] = self.torch_config.decoder_start_token_id
        return {**inputs, "decoder_input_ids": decoder_input_ids}

    @pytest.fixture(scope="class")
    def torch_checkpoints(self, tmp_path_factory):
        """As the mixin's, with a random final_logits_bias (zeros would not show it is read)."""
        folders = {}
        for ours, theirs in self.heads.items():
            torch.manual_seed(0)
            model = getattr(transformers, theirs)(self.config_for(ours)).eval()
            model.set_attn_implementation("eager")
            if hasattr(model, "final_logits_bias"):
                model.final_logits_bias.normal_()
            folder = tmp_path_factory.mktemp(theirs)
            model.save_pretrained(folder)
            folders[ours] = (folder, model)
        return folders

    def test_labels_shift_right_from_pad(self, torch_checkpoints):
        """No decoder_input_ids: labels shift right after the pad token; the loss equals PyTorch's."""
        folder, torch_model = torch_checkpoints["TFMarianMTModel"]
        model = marian.TFMarianMTModel.from_pretrained(folder)
        inputs = self.make_inputs("TFMarianMTModel")
        inputs.pop("decoder_input_ids")
        labels = self.make_labels("TFMarianMTModel", inputs, 2)["labels"]
        ours = model({**inputs, "labels": labels})
        theirs = torch_outputs(torch_model, {**inputs, "labels": labels})
        assert max_abs_diff(ours.logits, theirs.logits.numpy()) <= self.atol
        assert abs(float(ours.loss) - theirs.loss.item()) <= self.atol

    def test_cached_decoding_matches_pytorch(self, torch_checkpoints):
        folder, torch_model = torch_checkpoints["TFMarianMTModel"]
        model = marian.TFMarianMTModel.from_pretrained(folder)
        inputs = self.make_inputs("TFMarianMTModel")
        decoder_input_ids = inputs.pop("decoder_input_ids")[:, :5]
        check_cached_decoding(model, torch_model, inputs, decoder_input_ids, self.atol)

    @pytest.mark.parametrize("strategy, batch", generate_cases(default=("greedy", 4)))
    def test_generate_token_identical(self, torch_checkpoints, strategy, batch):
        """Greedy and beam search from the pad token (decoder_start_token_id), forced_eos_token_id from the config."""
        folder, torch_model = torch_checkpoints["TFMarianMTModel"]
        model = marian.TFMarianMTModel.from_pretrained(folder)
        inputs = self.make_inputs("TFMarianMTModel", seed=batch)
        inputs.pop("decoder_input_ids")
        ends = inputs["attention_mask"].sum(axis=1) - 1
        inputs["input_ids"][np.arange(3), ends] = self.torch_config.eos_token_id  # as the tokenizer ends rows
        inputs["input_ids"][inputs["attention_mask"] == 0] = self.torch_config.pad_token_id
        inputs = {k: np.concatenate([v, v[:1]])[:batch] for k, v in inputs.items()}
        out = check_generate_token_identical(model, torch_model, inputs, **(BEAM if strategy == "beam" else {}))
        assert (out[:, 0] == self.torch_config.pad_token_id).all()

    def test_positions_are_not_saved(self, torch_checkpoints, tmp_path):
        """The sinusoidal tables are built, not stored: save_pretrained writes PyTorch's tensor names."""
        from safetensors import safe_open

        folder = torch_checkpoints["TFMarianMTModel"][0]
        marian.TFMarianMTModel.from_pretrained(folder).save_pretrained(tmp_path)
        with (
            safe_open(tmp_path / "model.safetensors", "np") as ours,
            safe_open(folder / "model.safetensors", "np") as theirs,
        ):
            assert set(ours.keys()) == set(theirs.keys())


def test_separate_source_and_target_vocabularies(tmp_path):
    """share_encoder_decoder_embeddings=False: own encoder/decoder embeddings, head over the target vocabulary."""
    config = transformers.MarianConfig(**MARIAN_CONFIG, share_encoder_decoder_embeddings=False, decoder_vocab_size=77)
    config.pad_token_id = config.decoder_start_token_id = 76
    torch.manual_seed(0)
    torch_model = transformers.MarianMTModel(config).eval()
    torch_model.set_attn_implementation("eager")
    torch_model.save_pretrained(tmp_path)
    model, info = marian.TFMarianMTModel.from_pretrained(tmp_path, output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"]
    rng = np.random.RandomState(0)
    inputs = {"input_ids": rng.randint(1, 99, (2, 6)), "decoder_input_ids": rng.randint(1, 77, (2, 4))}
    ours, theirs = model(inputs), torch_outputs(torch_model, inputs)
    assert ours.logits.shape[-1] == 77
    assert max_abs_diff(ours.logits, theirs.logits.numpy()) <= 1e-5
