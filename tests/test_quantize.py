"""model.quantize("int8" | "int4") (Keras' own quantization) on tiny models: predict, generate, save/reload.

Quantization changes the numbers by design, so the checks are properties: logits close to the
float model's (relative to their scale) with the same top-1 on nearly every position, quantized
variables stored as int8 in the saved file, and a reload that gives the same outputs and tokens.
"""

import json

import keras
import numpy as np
import pytest
import torch
import transformers
from safetensors.numpy import load_file
from tiny_configs import BERT_KWARGS, IDS, LLAMA_KWARGS

import kerasformers
from kerasformers.errors import InvalidInputError, NotSupportedError

LLAMA = transformers.LlamaConfig(**LLAMA_KWARGS)
BERT = transformers.BertConfig(**BERT_KWARGS)


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    folders = {}
    for name, config, cls in (
        ("llama", LLAMA, transformers.LlamaForCausalLM),
        ("bert", BERT, transformers.BertForMaskedLM),
    ):
        torch.manual_seed(0)
        folders[name] = tmp_path_factory.mktemp(name)
        cls(config).save_pretrained(folders[name])
    return folders


def logits(model):
    return keras.ops.convert_to_numpy(model(input_ids=IDS).logits)


@pytest.mark.parametrize(
    "name,cls,mode,tolerance",
    [
        ("llama", "TFLlamaForCausalLM", "int8", 0.02),
        pytest.param("bert", "TFBertForMaskedLM", "int8", 0.02, marks=pytest.mark.slow),
        # 4 bits on random weights: near-tied logits move
        pytest.param("llama", "TFLlamaForCausalLM", "int4", 0.25, marks=pytest.mark.slow),
    ],
)
def test_quantized_predict_generate_and_reload(name, cls, mode, tolerance, checkpoints, tmp_path):
    model = getattr(kerasformers, cls).from_pretrained(checkpoints[name])
    full = logits(model)
    model.quantize(mode)
    quantized = logits(model)
    assert np.abs(quantized - full).max() <= tolerance * np.abs(full).max()
    if mode == "int8":
        assert (quantized.argmax(-1) == full.argmax(-1)).mean() >= 0.9
    model.save_pretrained(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["quantization_config"] == {"quant_method": "keras", "mode": mode}
    tensors = load_file(str(tmp_path / "model.safetensors"))
    projection = "model.layers.0.self_attn.q_proj" if name == "llama" else "bert.encoder.layer.0.attention.self.query"
    assert tensors[f"{projection}.weight"].dtype == np.int8 and f"{projection}.weight_scale" in tensors
    if name == "bert":  # keras.layers.Embedding is quantized too; the tied MLM head reads it dequantized
        assert tensors["bert.embeddings.word_embeddings.weight"].dtype == np.int8

    reloaded, info = getattr(kerasformers, cls).from_pretrained(tmp_path, output_loading_info=True)
    assert info == {"missing_keys": [], "unexpected_keys": [], "mismatched_keys": []}
    assert reloaded.quantization_mode_of_model() == mode
    np.testing.assert_allclose(logits(reloaded), quantized, atol=1e-5)
    if name == "llama":
        before = model.generate(IDS[:1], max_new_tokens=6, do_sample=False)
        after = reloaded.generate(IDS[:1], max_new_tokens=6, do_sample=False)
        np.testing.assert_array_equal(np.asarray(before), np.asarray(after))


def test_bad_input(checkpoints, tmp_path):
    model = kerasformers.TFLlamaForCausalLM.from_pretrained(checkpoints["llama"])
    with pytest.raises(InvalidInputError, match="int8"):
        model.quantize("float8")  # Keras has it; it is not saved and reloaded here
    with pytest.raises(NotSupportedError, match="filters"):
        model.quantize("int8", filters="q_proj")
    model.quantize("int8")
    with pytest.raises(InvalidInputError, match="already quantized"):
        model.quantize("int8")
    config = json.loads((checkpoints["llama"] / "config.json").read_text())
    config["quantization_config"] = {"quant_method": "bitsandbytes", "load_in_8bit": True}
    for file in checkpoints["llama"].iterdir():
        (tmp_path / file.name).write_bytes(file.read_bytes())
    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.raises(NotSupportedError, match="bitsandbytes"):
        kerasformers.TFLlamaForCausalLM.from_pretrained(tmp_path)


@pytest.mark.slow
def test_smollm2_int8_greedy_matches_float(smollm2_path):
    """int8 SmolLM2 greedy output on a fixed prompt set matches the float model's on >= 90% of tokens."""
    prompts = [
        "The capital of France is",
        "def fibonacci(n):",
        "Once upon a time, there was a",
        "The three primary colors are",
    ]
    tokenizer = kerasformers.AutoTokenizer.from_pretrained(smollm2_path)
    model = kerasformers.TFAutoModelForCausalLM.from_pretrained(smollm2_path)

    def greedy():
        out = []
        for prompt in prompts:
            ids = np.asarray(tokenizer(prompt, return_tensors="np")["input_ids"], "int32")
            tokens = model.generate(ids, max_new_tokens=16, do_sample=False)
            out.append(np.asarray(tokens)[0, ids.shape[1] :])
        return np.concatenate(out)

    full = greedy()
    model.quantize("int8")
    quantized = greedy()
    match = float((full == quantized).mean())
    print(f"int8 SmolLM2 greedy token match: {match:.4f} over {full.size} tokens")
    assert match >= 0.9
