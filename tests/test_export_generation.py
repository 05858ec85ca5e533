"""Text-generation export: prompt strings in, generated strings out, the compiled loop in the graph.

Oracles: PyTorch transformers' generate() on the same weights (prompts tokenized by transformers'
tokenizer, padded on the left) and the ``tokenizers`` library's decode. Tiny random Llama and
GPT-2 models get SmolLM2's real byte-level BPE tokenizer (and its vocabulary size). Exported
models are run in a new process that imports TensorFlow and tensorflow-text only.

An export plus a fresh process takes about a minute even for a tiny model, so those tests are
marked slow; the detokenizer and the option checks run always.
"""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
import torch
import transformers
from test_export import run_fresh

MAX_NEW = 8
MAX_PROMPT = 32  # buckets 16 and 32
# two batches: the longest prompt of the first fits bucket 16, of the second bucket 32
BATCHES = [
    ["Hello", "The quick brown fox jumps over", "Café 😀 東京 is", "a"],
    [
        "Once upon a time, in a land far away, there lived a king who loved to count his gold coins",
        "Short one",
        "  spaces\tand\ttabs  ",
    ],
]
HARD_CORPUS = [
    "Café au lait, s'il vous plaît. 😀",
    "Tokyo 東京 is big. 日本語のテキスト、句読点。",
    "  leading  spaces\n\ttabs ",
    "👩‍👩‍👧‍👦 family 🇫🇷",
    "naïve résumé Ångström",
    "<|im_start|>user hi<|im_end|>",
    "a\u00a0b\u3000c",
    "",
]


def tiny_torch_model(kind: str, vocab_size: int):
    torch.manual_seed(0)
    ids = dict(bos_token_id=1, eos_token_id=2, pad_token_id=2)
    if kind == "llama":
        config = transformers.LlamaConfig(
            vocab_size=vocab_size,
            hidden_size=32,
            intermediate_size=37,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            max_position_embeddings=64,
            **ids,
        )
        return transformers.LlamaForCausalLM(config).eval()
    config = transformers.GPT2Config(vocab_size=vocab_size, n_embd=32, n_layer=2, n_head=4, n_positions=64, **ids)
    return transformers.GPT2LMHeadModel(config).eval()


def torch_generate(model, tokenizer, prompts, **kwargs):
    batch = tokenizer(prompts, return_tensors="pt", padding=True)
    with torch.no_grad():
        out = model.generate(**batch, do_sample=False, **{"max_new_tokens": MAX_NEW, **kwargs})
    return batch, out[:, batch["input_ids"].shape[1] :].numpy()


@pytest.fixture(scope="module")
def hf_tokenizer(smollm2_path):
    return transformers.AutoTokenizer.from_pretrained(smollm2_path, padding_side="left")


# the Llama export runs by default (~1 min with its fresh process): the token-for-token check
@pytest.fixture(scope="module", params=["llama", pytest.param("gpt2", marks=pytest.mark.slow)])
def exported(request, smollm2_path, hf_tokenizer, tmp_path_factory):
    """(tiny checkpoint, export folder, eos ids, expected ids per batch) for one architecture."""
    from kerasformers.serving import export_pipeline

    folder = tmp_path_factory.mktemp(f"tiny_{request.param}")
    torch_model = tiny_torch_model(request.param, len(hf_tokenizer))
    torch_model.save_pretrained(folder)
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(Path(smollm2_path) / name, folder / name)
    # a second eos: a token the model itself picks third for the first prompt, so that row stops early
    _, first = torch_generate(torch_model, hf_tokenizer, BATCHES[0])
    eos = [2, int(first[0, 2])]
    expected = [torch_generate(torch_model, hf_tokenizer, prompts, eos_token_id=eos) for prompts in BATCHES]
    path = export_pipeline(
        folder,
        tmp_path_factory.mktemp("served") / "gen",
        task="text-generation",
        max_new_tokens=MAX_NEW,
        max_prompt_length=MAX_PROMPT,
        eos_token_id=eos,
    )
    return folder, path, eos, expected


@pytest.fixture(scope="module")
def fresh(exported, tmp_path_factory):
    """The export run in a new process without kerasformers, also through saved_model_cli."""
    _, path, _, _ = exported
    out = tmp_path_factory.mktemp("fresh")
    (out / "batches.json").write_text(json.dumps(BATCHES))
    run_fresh(
        """
        import json, sys, numpy as np, tensorflow as tf, tensorflow_text
        from tensorflow.python.tools import saved_model_cli
        path, out = sys.argv[1], sys.argv[2]
        serve = tf.saved_model.load(path).signatures["serving_default"]
        for i, prompts in enumerate(json.load(open(out + "/batches.json"))):
            result = serve(text=tf.constant(prompts))
            np.savez(f"{out}/batch{i}.npz", **{k: v.numpy() for k, v in result.items()})
        assert not any(m.startswith("kerasformers") for m in sys.modules), "kerasformers was imported"
        sys.argv = ["saved_model_cli", "run", "--dir", path, "--tag_set", "serve", "--signature_def",
                    "serving_default", "--input_exprs", "text=['Hello']", "--outdir", out + "/cli"]
        try:
            saved_model_cli.main()
        except SystemExit as stop:
            assert not stop.code, stop.code
    """,
        str(path),
        str(out),
    )
    return out


def test_exported_generation_matches_transformers_token_for_token(exported, fresh, hf_tokenizer):
    _, _, eos, expected = exported
    for i, (batch, theirs) in enumerate(expected):
        got = dict(np.load(fresh / f"batch{i}.npz", allow_pickle=True))
        assert batch["attention_mask"].numpy().min() == 0  # the oracle's batch really is left-padded
        np.testing.assert_array_equal(got["generated_ids"], theirs)
        stops = [next((j + 1 for j, t in enumerate(row) if t in eos), len(row)) for row in theirs]
        np.testing.assert_array_equal(got["num_generated_tokens"], stops)
        np.testing.assert_array_equal(got["num_prompt_tokens"], batch["attention_mask"].numpy().sum(1))
        texts = [hf_tokenizer.decode(row, skip_special_tokens=True) for row in theirs]
        assert [t.decode() for t in got["generated_text"]] == texts
    first = dict(np.load(fresh / "batch0.npz", allow_pickle=True))
    assert first["num_generated_tokens"][0] <= 3  # the early eos really stopped that row


@pytest.mark.slow  # shares the module's export + fresh-process fixture (~1 min)
def test_exported_generation_matches_our_generate(exported, fresh, hf_tokenizer):
    import kerasformers

    folder, _, eos, _ = exported
    model = kerasformers.TFAutoModelForCausalLM.from_pretrained(folder)
    for i, prompts in enumerate(BATCHES):
        batch = hf_tokenizer(prompts, return_tensors="np", padding=True)
        ours = model.generate(**batch, max_new_tokens=MAX_NEW, eos_token_id=eos)
        got = np.load(fresh / f"batch{i}.npz", allow_pickle=True)["generated_ids"]
        np.testing.assert_array_equal(got, ours[:, batch["input_ids"].shape[1] :])


def test_saved_model_cli_runs_the_generation_signature(exported, fresh, hf_tokenizer):
    _, _, _, expected = exported
    got = np.load(fresh / "cli" / "generated_text.npy", allow_pickle=True)
    ids = np.load(fresh / "cli" / "generated_ids.npy")
    # "Hello" alone is the first prompt of the first batch, without its left padding
    theirs = expected[0][1][0]
    np.testing.assert_array_equal(ids[0], theirs[: ids.shape[1]])
    assert got[0].decode() == hf_tokenizer.decode(ids[0], skip_special_tokens=True)


@pytest.mark.slow  # shares the module's export + fresh-process fixture (~1 min)
def test_prompt_limits_are_clear_errors(exported):
    _, path, _, _ = exported
    serve = tf.saved_model.load(str(path)).signatures["serving_default"]
    with pytest.raises(tf.errors.InvalidArgumentError, match="max_prompt_length=32"):
        serve(text=tf.constant(["word " * 40, "short"]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="no tokens"):
        serve(text=tf.constant(["", "short"]))


def test_export_options_are_checked(hf_tokenizer, tmp_path):
    import kerasformers
    from kerasformers.serving import export_pipeline

    folder = tmp_path / "tiny"
    tiny_torch_model("llama", 128).save_pretrained(folder)
    model = kerasformers.TFAutoModelForCausalLM.from_pretrained(folder)
    with pytest.raises(TypeError, match="max_new_token"):
        export_pipeline(model, "unused", task="text-generation", max_new_token=3)
    with pytest.raises(NotImplementedError, match="num_beams=1"):
        export_pipeline(model, "unused", task="text-generation", num_beams=2)
    with pytest.raises(ValueError, match="max_position_embeddings"):
        export_pipeline(model, "unused", task="text-generation", max_new_tokens=8, max_prompt_length=60)
    with pytest.raises(ValueError, match="with_tokenizer"):
        export_pipeline(model, "unused", task="text-generation", with_tokenizer=False)
    with pytest.raises(TypeError, match="text-generation"):
        export_pipeline(model, "unused", task="text-classification", max_new_tokens=3)
    with pytest.raises(ValueError, match="prompt_truncation"):
        export_pipeline(model, "unused", task="text-generation", prompt_truncation="right")
    encoder = kerasformers.TFAutoModel.from_pretrained(folder)
    with pytest.raises(ValueError, match="decoder-only"):
        export_pipeline(encoder, "unused", task="text-generation")
    assert not Path("unused").exists()


def test_detokenize_matches_tokenizers_decode_on_a_hard_corpus(smollm2_path):
    """Every split of every text (emoji and CJK cut between tokens included), special tokens skipped."""
    from tokenizers import Tokenizer

    from kerasformers.tokenization.bpe import TFByteLevelBPETokenizer

    tokenizer = Tokenizer.from_file(str(Path(smollm2_path) / "tokenizer.json"))
    layer = TFByteLevelBPETokenizer.from_pretrained(smollm2_path)
    rows = []
    for text in HARD_CORPUS:
        ids = tokenizer.encode(text).ids
        for cut in range(len(ids) + 1):
            rows += [ids[:cut], ids[cut:]]
    rows.append([2, 0, 17, 3])  # special tokens only
    expected = [tokenizer.decode(row, skip_special_tokens=True) for row in rows]
    assert any("\ufffd" in text for text in expected)  # some cuts really split a character
    got = layer.detokenize(tf.ragged.constant(rows, dtype=tf.int64, row_splits_dtype=tf.int64))
    assert [g.decode() for g in got.numpy()] == expected
    # dense input (one row per text) and inside a traced function
    dense = tf.function(layer.detokenize)(tf.constant([tokenizer.encode("Café 😀").ids]))
    assert dense.numpy()[0].decode() == "Café 😀"


# ---------------------------------------------------------------------------- SmolLM2-135M-Instruct
SMOLLM2_PROMPTS = ["The capital of France is", "Write a short poem about the sea and the wind"]


@pytest.mark.slow  # exports the 135M-parameter checkpoint (540 MB) and reloads it in a new process
def test_smollm2_export_matches_transformers_greedy(smollm2_path, hf_tokenizer, tmp_path):
    from kerasformers.cli import main

    assert (
        main(
            [
                "export",
                str(smollm2_path),
                str(tmp_path / "served"),
                "--task",
                "text-generation",
                "--with-tokenizer",
                "--max-new-tokens",
                "12",
                "--max-prompt-length",
                "64",
            ]
        )
        == 0
    )
    torch_model = transformers.AutoModelForCausalLM.from_pretrained(smollm2_path, dtype=torch.float32).eval()
    batch, theirs = torch_generate(torch_model, hf_tokenizer, SMOLLM2_PROMPTS, max_new_tokens=12)
    assert batch["attention_mask"].numpy().min() == 0
    run_fresh(
        """
        import json, sys, numpy as np, tensorflow as tf, tensorflow_text
        serve = tf.saved_model.load(sys.argv[1]).signatures["serving_default"]
        result = serve(text=tf.constant(json.loads(sys.argv[2])))
        np.savez(sys.argv[3], **{k: v.numpy() for k, v in result.items()})
    """,
        str(tmp_path / "served" / "1"),
        json.dumps(SMOLLM2_PROMPTS),
        str(tmp_path / "out.npz"),
    )
    got = dict(np.load(tmp_path / "out.npz", allow_pickle=True))
    np.testing.assert_array_equal(got["generated_ids"], theirs)
    assert [t.decode() for t in got["generated_text"]] == hf_tokenizer.batch_decode(theirs, skip_special_tokens=True)


@pytest.mark.slow  # one more export of a tiny model (~30 s)
def test_sampling_options_and_left_truncation(smollm2_path, hf_tokenizer, tmp_path):
    """do_sample with top_k=1 keeps one candidate, so it must equal greedy; long prompts keep their end."""
    from kerasformers.serving import export_pipeline

    torch_model = tiny_torch_model("llama", len(hf_tokenizer))
    torch_model.save_pretrained(tmp_path / "tiny")
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(Path(smollm2_path) / name, tmp_path / "tiny" / name)
    path = export_pipeline(
        tmp_path / "tiny",
        tmp_path / "served",
        task="text-generation",
        max_new_tokens=MAX_NEW,
        max_prompt_length=16,
        prompt_truncation="left",
        do_sample=True,
        top_k=1,
    )
    assert json.loads((path / "assets.extra" / "generation_config.json").read_text())["do_sample"] is True
    prompts = [BATCHES[1][0], "Short one"]  # the first has more than 16 tokens
    ids = [hf_tokenizer(p)["input_ids"][-16:] for p in prompts]
    assert len(hf_tokenizer(prompts[0])["input_ids"]) > 16
    width = max(map(len, ids))
    with torch.no_grad():  # the truncated ids, left-padded, straight to the oracle
        out = torch_model.generate(
            torch.tensor([[2] * (width - len(i)) + i for i in ids]),
            attention_mask=torch.tensor([[0] * (width - len(i)) + [1] * len(i) for i in ids]),
            do_sample=False,
            max_new_tokens=MAX_NEW,
        )
    theirs = out[:, width:].numpy()
    got = tf.saved_model.load(str(path)).signatures["serving_default"](text=tf.constant(prompts))
    np.testing.assert_array_equal(got["generated_ids"].numpy(), theirs)
    np.testing.assert_array_equal(got["num_prompt_tokens"].numpy(), [len(i) for i in ids])
