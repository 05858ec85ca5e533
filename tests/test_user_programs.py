"""Programs written as transformers-TensorFlow users wrote them, run with only the import line changed.

Each file in tests/user_programs/ is one such program (modelled on transformers' TensorFlow
examples and course chapters). It reads its checkpoint and data from globals the test passes in
(``runpy.run_path(..., init_globals=...)``, so TensorFlow is imported once), asserts what its
user would check, and the test then compares numbers the program left in its globals with
PyTorch transformers 5.23 on the same weights and inputs.
"""

from __future__ import annotations

import runpy
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
import transformers

PROGRAMS = Path(__file__).parent / "user_programs"

# Small enough that each program trains in seconds on 2 cores; the tokenizers are real ones.
TINY_BERT = dict(
    hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37, max_position_embeddings=512
)
TINY_DECODER = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37)


def run_program(name: str, **program_globals) -> dict:
    """Run ``tests/user_programs/<name>`` as ``__main__`` with the given globals; return its globals."""
    return runpy.run_path(str(PROGRAMS / name), init_globals=program_globals, run_name="__main__")


def _copy_tokenizer(source: Path, folder: Path) -> None:
    for name in (
        "tokenizer.json",
        "tokenizer_config.json",
        "vocab.txt",
        "special_tokens_map.json",
        "chat_template.jinja",
    ):
        if (Path(source) / name).exists():
            shutil.copy(Path(source) / name, folder / name)


@pytest.fixture(scope="session")
def bert_checkpoint(minilm_path, tmp_path_factory) -> Path:
    """A tiny random BERT pretraining checkpoint saved by PyTorch transformers, with all-MiniLM-L6-v2's tokenizer.

    Like ``bert-base-uncased`` on the Hub: ``BertForPreTraining`` weights (no task head), so
    each program's ``from_pretrained(CHECKPOINT, num_labels=...)`` adds a new head.
    """
    torch.manual_seed(0)
    config = transformers.BertConfig(vocab_size=30522, **TINY_BERT)
    folder = tmp_path_factory.mktemp("user-bert")
    transformers.BertForPreTraining(config).save_pretrained(folder)
    _copy_tokenizer(minilm_path, folder)
    return folder


@pytest.fixture(scope="session")
def llama_checkpoint(smollm2_path, tmp_path_factory) -> Path:
    """A tiny random Llama saved by PyTorch transformers with SmolLM2's tokenizer and chat template."""
    torch.manual_seed(0)
    config = transformers.LlamaConfig(
        vocab_size=49152,
        num_key_value_heads=2,
        max_position_embeddings=512,
        bos_token_id=1,
        eos_token_id=2,
        pad_token_id=2,
        tie_word_embeddings=True,
        **TINY_DECODER,
    )
    folder = tmp_path_factory.mktemp("user-llama")
    transformers.LlamaForCausalLM(config).save_pretrained(folder)
    _copy_tokenizer(smollm2_path, folder)
    return folder


@pytest.fixture(scope="session")
def gpt2_checkpoint(smollm2_path, tmp_path_factory) -> Path:
    """A tiny random GPT-2 saved by PyTorch transformers with a byte-level BPE tokenizer (SmolLM2's).

    Its end-of-text token is SmolLM2's ``<|endoftext|>`` (id 0), as GPT-2's is its own.
    """
    torch.manual_seed(0)
    config = transformers.GPT2Config(
        vocab_size=49152, n_embd=32, n_layer=2, n_head=4, n_positions=256, bos_token_id=0, eos_token_id=0
    )
    folder = tmp_path_factory.mktemp("user-gpt2")
    transformers.GPT2LMHeadModel(config).save_pretrained(folder)
    shutil.copy(Path(smollm2_path) / "tokenizer.json", folder / "tokenizer.json")
    # GPT-2's own tokenizer config: no pad token, <|endoftext|> for bos, eos and unk
    (folder / "tokenizer_config.json").write_text(
        '{"tokenizer_class": "GPT2Tokenizer", "model_max_length": 256, "bos_token": "<|endoftext|>",'
        ' "eos_token": "<|endoftext|>", "unk_token": "<|endoftext|>"}'
    )
    return folder


@pytest.fixture(scope="session")
def reviews():
    """Real movie-review sentences: 48 for training, 16 for evaluation, with 0/1 sentiment labels."""
    from kerasformers.data.embedded import movie_reviews

    data = movie_reviews()
    train, test = data["train"].select(range(48)), data["test"].select(range(16))
    return dict(
        TRAIN_TEXTS=train["text"], TRAIN_LABELS=train["label"], EVAL_TEXTS=test["text"], EVAL_LABELS=test["label"]
    )


def torch_outputs(torch_class, folder, encoding: dict):
    """Outputs of ``torch_class.from_pretrained(folder)`` in eval mode on numpy/tf inputs."""
    model = torch_class.from_pretrained(str(folder)).eval()
    with torch.no_grad():
        return model(**{k: torch.tensor(np.asarray(v)) for k, v in encoding.items()})


def test_text_classification(bert_checkpoint, reviews, tmp_path):
    g = run_program("text_classification.py", CHECKPOINT=str(bert_checkpoint), OUTPUT_DIR=str(tmp_path), **reviews)
    # the fine-tuned model, saved by us and reloaded by PyTorch transformers, gives the same logits
    encoding = {k: np.asarray(v) for k, v in g["inputs"].items()}
    theirs = torch_outputs(transformers.BertForSequenceClassification, tmp_path, encoding).logits.numpy()
    np.testing.assert_allclose(g["logits"].numpy(), theirs, atol=1e-5)
    assert transformers.AutoConfig.from_pretrained(tmp_path).id2label == {0: "NEGATIVE", 1: "POSITIVE"}
