"""VisionEncoderDecoder (tiny ViT + tiny GPT-2 with cross-attention) against PyTorch transformers:
every output, hidden state and attention, the captioning loss, greedy and beam captions, composing
from two checkpoints and saving/loading as one (both ways)."""

import numpy as np
import pytest
import torch
import transformers
from model_tester import max_abs_diff

import kerasformers
from kerasformers.models.vision_encoder_decoder import TFVisionEncoderDecoderModel

VIT = transformers.ViTConfig(
    hidden_size=24, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37, image_size=30, patch_size=6
)
GPT2 = transformers.GPT2Config(
    vocab_size=99, n_embd=32, n_layer=2, n_head=4, n_positions=64, bos_token_id=1, eos_token_id=2, pad_token_id=0
)


def captioner_config():
    config = transformers.VisionEncoderDecoderConfig.from_encoder_decoder_configs(VIT, GPT2)
    config.decoder_start_token_id, config.pad_token_id = 1, 0
    return config


@pytest.fixture(scope="module")
def torch_captioner(tmp_path_factory):
    torch.manual_seed(0)
    model = transformers.VisionEncoderDecoderModel(captioner_config()).eval()
    model.set_attn_implementation("eager")
    folder = tmp_path_factory.mktemp("ved")
    model.save_pretrained(folder)
    return folder, model


def inputs(seed=0):
    rng = np.random.RandomState(seed)
    return rng.randn(2, 3, 30, 30).astype(np.float32), rng.randint(3, 99, (2, 6))


def test_every_output_and_loss_match_pytorch(torch_captioner):
    folder, torch_model = torch_captioner
    model, info = TFVisionEncoderDecoderModel.from_pretrained(folder, output_loading_info=True)
    assert info == {"missing_keys": [], "unexpected_keys": [], "mismatched_keys": []}
    pixels, ids = inputs()
    ours = model(pixel_values=pixels, decoder_input_ids=ids, output_attentions=True, output_hidden_states=True)
    with torch.no_grad():
        theirs = torch_model(
            pixel_values=torch.tensor(pixels),
            decoder_input_ids=torch.tensor(ids),
            output_attentions=True,
            output_hidden_states=True,
        )
    for key in ("logits", "encoder_last_hidden_state"):
        assert max_abs_diff(ours[key], theirs[key].numpy()) <= 1e-5, key
    groups = (
        "decoder_hidden_states",
        "decoder_attentions",
        "cross_attentions",
        "encoder_hidden_states",
        "encoder_attentions",
    )
    for group in groups:
        assert len(ours[group]) == len(theirs[group]), group
        for a, b in zip(ours[group], theirs[group]):
            assert max_abs_diff(a, b.numpy()) <= 1e-5, group
    labels = ids.copy()
    labels[1, 4:] = -100
    with torch.no_grad():
        torch_loss = torch_model(pixel_values=torch.tensor(pixels), labels=torch.tensor(labels)).loss.item()
    assert abs(float(model(pixel_values=pixels, labels=labels).loss) - torch_loss) <= 1e-5


@pytest.mark.parametrize(
    "kwargs",
    [dict(max_new_tokens=8), pytest.param(dict(max_new_tokens=8, num_beams=2), marks=pytest.mark.slow)],
    ids=["greedy", "beam"],
)
def test_captions_token_identical(torch_captioner, kwargs):
    folder, torch_model = torch_captioner
    model = TFVisionEncoderDecoderModel.from_pretrained(folder)
    pixels, _ = inputs(1)
    with torch.no_grad():
        theirs = torch_model.generate(pixel_values=torch.tensor(pixels), do_sample=False, **kwargs).numpy()
    np.testing.assert_array_equal(np.asarray(model.generate(pixels, **kwargs)), theirs)


def test_compose_two_checkpoints_save_and_load_both_ways(tmp_path):
    torch.manual_seed(1)
    transformers.ViTModel(VIT).save_pretrained(tmp_path / "vit")
    transformers.GPT2LMHeadModel(GPT2).save_pretrained(tmp_path / "gpt2")
    model = TFVisionEncoderDecoderModel.from_encoder_decoder_pretrained(tmp_path / "vit", tmp_path / "gpt2")
    assert model.config.decoder.add_cross_attention and model.config.decoder.is_decoder
    # the composed encoder and decoder carry the checkpoints' weights
    vit = kerasformers.TFAutoModel.from_pretrained(tmp_path / "vit")
    pixels, ids = inputs()
    np.testing.assert_array_equal(
        np.asarray(model.encoder(pixels).last_hidden_state), np.asarray(vit(pixels).last_hidden_state)
    )
    model.config.decoder_start_token_id, model.config.pad_token_id = 1, 0
    model.save_pretrained(tmp_path / "captioner")
    torch_model, info = transformers.VisionEncoderDecoderModel.from_pretrained(
        tmp_path / "captioner", output_loading_info=True, attn_implementation="eager"
    )
    assert not info["missing_keys"] and not info["unexpected_keys"] and not info["mismatched_keys"]
    with torch.no_grad():
        theirs = torch_model.eval()(pixel_values=torch.tensor(pixels), decoder_input_ids=torch.tensor(ids)).logits
    assert max_abs_diff(model(pixel_values=pixels, decoder_input_ids=ids).logits, theirs.numpy()) <= 1e-5
    reloaded = TFVisionEncoderDecoderModel.from_pretrained(tmp_path / "captioner")
    assert max_abs_diff(reloaded(pixel_values=pixels, decoder_input_ids=ids).logits, theirs.numpy()) <= 1e-5


def test_gpt2_cross_attention_matches_pytorch(tmp_path):
    """GPT-2 with add_cross_attention on its own: encoder states with a padding mask, cross attentions."""
    config = transformers.GPT2Config(**{**GPT2.to_dict(), "add_cross_attention": True})
    config.scale_attn_by_inverse_layer_idx = True
    torch.manual_seed(2)
    torch_model = transformers.GPT2LMHeadModel(config).eval()
    torch_model.set_attn_implementation("eager")
    torch_model.save_pretrained(tmp_path)
    model, info = kerasformers.TFGPT2LMHeadModel.from_pretrained(tmp_path, output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"]
    rng = np.random.RandomState(3)
    ids, states = rng.randint(3, 99, (2, 7)), rng.randn(2, 5, 32).astype(np.float32)
    mask = np.ones((2, 5), np.int64)
    mask[1, 3:] = 0
    ours = model(ids, encoder_hidden_states=states, encoder_attention_mask=mask, output_attentions=True)
    with torch.no_grad():
        theirs = torch_model(
            torch.tensor(ids),
            encoder_hidden_states=torch.tensor(states),
            encoder_attention_mask=torch.tensor(mask),
            output_attentions=True,
        )
    assert max_abs_diff(ours.logits, theirs.logits.numpy()) <= 1e-5
    for a, b in zip(ours.cross_attentions, theirs.cross_attentions, strict=True):
        assert max_abs_diff(a, b.numpy()) <= 1e-5
