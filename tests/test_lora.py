"""LoRA adapters in PEFT's format: ours load in PEFT (PyTorch, peft 0.21) and PEFT's load in ours.

Tiny random configs; expected outputs come from PEFT on transformers 5.23 with the same weights.
"""

import json

import keras
import numpy as np
import pytest
import torch
import transformers
from model_tester import max_abs_diff
from tiny_configs import BERT_KWARGS, IDS, LLAMA_KWARGS, MASK

import kerasformers
from kerasformers.errors import InvalidInputError

peft = pytest.importorskip("peft")

ATOL = 1e-5

BERT = transformers.BertConfig(**BERT_KWARGS, num_labels=3)
LLAMA = transformers.LlamaConfig(**LLAMA_KWARGS)


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    folders = {}
    for name, config, cls in (
        ("bert", BERT, transformers.BertForSequenceClassification),
        ("llama", LLAMA, transformers.LlamaForCausalLM),
    ):
        torch.manual_seed(0)
        folder = tmp_path_factory.mktemp(name)
        cls(config).eval().save_pretrained(folder)
        folders[name] = folder
    return folders


def torch_model(name, folder):
    cls = transformers.BertForSequenceClassification if name == "bert" else transformers.LlamaForCausalLM
    return cls.from_pretrained(folder).eval()


def torch_logits(model):
    with torch.no_grad():
        return model(input_ids=torch.tensor(IDS, dtype=torch.long), attention_mask=torch.tensor(MASK)).logits.numpy()


def our_logits(model):
    return keras.ops.convert_to_numpy(model(input_ids=IDS, attention_mask=MASK).logits)


def randomize_adapters(model, seed=1):
    rng = np.random.RandomState(seed)
    for layer in model._lora.modules.values():
        layer.lora_kernel_b.assign(rng.normal(0, 0.2, layer.lora_kernel_b.shape).astype("float32"))


@pytest.mark.parametrize(
    "name,targets,cls",
    [
        ("bert", ["query", "value"], "TFBertForSequenceClassification"),
        ("llama", ["q_proj", "v_proj", "down_proj"], "TFLlamaForCausalLM"),
    ],
)
def test_adapter_saved_here_loads_in_peft(name, targets, cls, checkpoints, tmp_path):
    model = getattr(kerasformers, cls).from_pretrained(checkpoints[name])
    save = ["classifier"] if name == "bert" else None
    model.enable_lora(rank=4, target_modules=targets, alpha=8, modules_to_save=save)
    randomize_adapters(model)
    if save:
        classifier = model.classifier.kernel
        classifier.assign(classifier + 0.1)  # a trained head travels with the adapter
    files = model.save_lora_adapter(tmp_path)
    assert sorted(files) == ["adapter_config.json", "adapter_model.safetensors"]
    config = json.loads((tmp_path / "adapter_config.json").read_text())
    assert config["peft_type"] == "LORA" and config["r"] == 4 and config["lora_alpha"] == 8

    peft_model = peft.PeftModel.from_pretrained(torch_model(name, checkpoints[name]), tmp_path).eval()
    assert max_abs_diff(our_logits(model), torch_logits(peft_model)) <= ATOL
    # the adapter changed the outputs (a zero adapter would pass trivially)
    assert max_abs_diff(torch_logits(peft_model), torch_logits(torch_model(name, checkpoints[name]))) > 1e-3


@pytest.mark.parametrize(
    "name,targets", [("bert", ["query", "value", "dense"]), ("llama", ["q_proj", "k_proj", "o_proj"])]
)
def test_adapter_saved_by_peft_loads_here(name, targets, checkpoints, tmp_path):
    torch.manual_seed(2)
    base = torch_model(name, checkpoints[name])
    lora = peft.LoraConfig(
        r=4, lora_alpha=16, target_modules=targets, init_lora_weights=False, use_rslora=name == "llama"
    )
    peft_model = peft.get_peft_model(base, lora).eval()
    peft_model.save_pretrained(tmp_path)
    expected = torch_logits(peft_model)

    cls = kerasformers.TFBertForSequenceClassification if name == "bert" else kerasformers.TFLlamaForCausalLM
    model = cls.from_pretrained(checkpoints[name])
    model.load_lora_adapter(tmp_path)
    assert max_abs_diff(our_logits(model), expected) <= ATOL

    # merge folds the adapter into the kernels with the same outputs; unmerge restores it
    model.merge_lora()
    assert max_abs_diff(our_logits(model), expected) <= ATOL
    model.unmerge_lora()
    assert max_abs_diff(our_logits(model), expected) <= ATOL
    # save_pretrained writes base weights only (adapters are their own files)
    assert all(".lora" not in k for k in kerasformers.weights.named_variables(model))


def test_only_adapters_trainable_and_fit_moves_them(checkpoints):
    model = kerasformers.TFBertForSequenceClassification.from_pretrained(checkpoints["bert"])
    total = sum(int(np.prod(v.shape)) for v in model.weights)
    before = {v.path: keras.ops.convert_to_numpy(v) for v in model.weights}
    model.enable_lora(rank=2, target_modules=["query", "value"])
    names = sorted(v.path for v in model.trainable_weights)
    assert names and all("lora_kernel" in n for n in names)
    assert len(names) == 2 * 2 * BERT.num_hidden_layers
    trainable = sum(int(np.prod(v.shape)) for v in model.trainable_weights)
    assert trainable < 0.1 * total
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    model.fit({"input_ids": IDS, "attention_mask": MASK}, np.array([0, 2]), epochs=2, verbose=0)
    for variable in model.weights:
        if "lora_kernel" not in variable.path:
            np.testing.assert_array_equal(keras.ops.convert_to_numpy(variable), before[variable.path])


def test_bad_input(checkpoints, tmp_path):
    model = kerasformers.TFBertForSequenceClassification.from_pretrained(checkpoints["bert"])
    with pytest.raises(InvalidInputError, match="target_modules"):
        model.enable_lora(rank=2, target_modules=["q_proj"])
    with pytest.raises(InvalidInputError, match="not enabled"):
        model.save_lora_adapter(tmp_path)
    with pytest.raises(InvalidInputError, match="adapter_config.json"):
        model.load_lora_adapter(tmp_path)


@pytest.mark.slow
def test_minilm_lora_movie_reviews_and_int8(minilm_path):
    """LoRA (rank 8 on query/value, plus the new classifier) fine-tunes all-MiniLM-L6-v2 on the movie-review
    sentences to >= 0.80 held-out accuracy while training < 2% of the parameters; int8 within 1 point."""
    from kerasformers.data.embedded import movie_reviews

    reviews = movie_reviews()
    tokenizer = kerasformers.AutoTokenizer.from_pretrained(minilm_path)

    def encode(split):
        batch = tokenizer(
            list(split["text"]), padding="max_length", truncation=True, max_length=64, return_tensors="np"
        )
        return {k: batch[k].astype("int32") for k in ("input_ids", "attention_mask", "token_type_ids")}, np.asarray(
            list(split["label"])
        )

    train_x, train_y = encode(reviews["train"])
    test_x, test_y = encode(reviews["test"])
    keras.utils.set_random_seed(0)
    model = kerasformers.TFBertForSequenceClassification.from_pretrained(minilm_path, num_labels=2)
    total = sum(int(np.prod(v.shape)) for v in model.weights)
    model.enable_lora(rank=8, target_modules=["query", "value"], alpha=16, modules_to_save=["classifier"])
    trainable = sum(int(np.prod(v.shape)) for v in model.trainable_weights)
    assert trainable < 0.02 * total
    model.compile(optimizer=keras.optimizers.Adam(1e-3), metrics=["accuracy"])
    model.fit(train_x, train_y, batch_size=32, epochs=2, verbose=0)

    def accuracy():
        logits = model.predict(test_x, batch_size=64, verbose=0)["logits"]
        return float((np.asarray(logits).argmax(-1) == test_y).mean())

    full = accuracy()
    model.merge_lora()
    model.quantize("int8")
    quantized = accuracy()
    print(
        f"LoRA trainable {trainable}/{total} = {trainable / total:.4%}; accuracy fp32 {full:.4f} int8 {quantized:.4f}"
    )
    assert full >= 0.80
    assert quantized >= full - 0.01
