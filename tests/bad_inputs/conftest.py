"""Shared pieces of the bad-input catalogue: tiny checkpoints and a "nothing changed" check.

Every case in this folder feeds one bad input and asserts the exception type, the key words
of its message and, where something could be written, that nothing was written or overwritten.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from tiny_configs import BERT_KWARGS, LLAMA_KWARGS

TINY_BERT = dict(BERT_KWARGS)
TINY_LLAMA = dict(LLAMA_KWARGS, bos_token_id=1, eos_token_id=2, pad_token_id=0)


def snapshot(path: str | Path) -> dict[str, str]:
    """Relative path -> sha256 of every file under ``path`` (hidden files included)."""
    root = Path(path)
    if root.is_file():
        return {"": hashlib.sha256(root.read_bytes()).hexdigest()}
    if not root.exists():
        return {}
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(name="snapshot", scope="session")
def snapshot_fixture():
    """The :func:`snapshot` function, for test files in this folder."""
    return snapshot


@pytest.fixture(scope="session")
def tiny_bert_classifier():
    from kerasformers import TFBertForSequenceClassification
    from kerasformers.models.bert.configuration_bert import BertConfig

    model = TFBertForSequenceClassification(BertConfig(**TINY_BERT, num_labels=3))
    model.build_with_dummy_inputs()
    return model


@pytest.fixture(scope="session")
def tiny_llama():
    from kerasformers import TFLlamaForCausalLM
    from kerasformers.models.llama.configuration_llama import LlamaConfig

    model = TFLlamaForCausalLM(LlamaConfig(**TINY_LLAMA))
    model.build_with_dummy_inputs()
    return model


@pytest.fixture(scope="session")
def tiny_bert_folder(tiny_bert_classifier, tmp_path_factory) -> Path:
    """A saved tiny BERT classifier (config.json + model.safetensors); do not modify it."""
    folder = tmp_path_factory.mktemp("tiny-bert")
    tiny_bert_classifier.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_bert_kwargs() -> dict:
    return dict(TINY_BERT)


@pytest.fixture(scope="session")
def tiny_llama_kwargs() -> dict:
    return dict(TINY_LLAMA)


@pytest.fixture
def ids():
    return np.array([[5, 6, 7, 8], [9, 10, 11, 12]], np.int32)


@pytest.fixture(scope="session")
def tiny_checkpoint_with_tokenizer(minilm_path, tmp_path_factory):
    """``make(head)``: a folder with a tiny random BERT of class ``head`` and all-MiniLM-L6-v2's tokenizer.

    Runs that get as far as training or exporting take seconds with it. Each head is built once.
    """
    import shutil

    import kerasformers
    from kerasformers.models.bert.configuration_bert import BertConfig

    vocab = sum(1 for _ in open(Path(minilm_path) / "vocab.txt", encoding="utf-8"))
    made = {}

    def make(head: str = "TFBertModel") -> Path:
        if head not in made:
            model = getattr(kerasformers, head)(BertConfig(**{**TINY_BERT, "vocab_size": vocab}))
            model.build_with_dummy_inputs()
            folder = tmp_path_factory.mktemp(f"tiny-{head}")
            model.save_pretrained(folder)
            for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
                if (Path(minilm_path) / name).exists():
                    shutil.copy(Path(minilm_path) / name, folder / name)
            made[head] = folder
        return made[head]

    return make
