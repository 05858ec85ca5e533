"""docs/API_PARITY.md stays true: what it calls "same" or "different" imports, what it calls "not
provided" does not, and every public name of kerasformers is in it."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import numpy as np
import pytest

import kerasformers
import kerasformers.modeling_tf_outputs
from kerasformers import ModelOutput

PARITY = Path(__file__).resolve().parents[1] / "docs" / "API_PARITY.md"
STATUSES = ("same", "different", "not provided", "kerasformers only")
ROW = re.compile(r"^\|\s*`(?P<name>[^`]+)`\s*\|\s*(?P<status>[^|]+?)\s*\|\s*(?P<path>[^|]*?)\s*\|(?P<note>.*)\|\s*$")


def parity_rows() -> list[dict[str, str]]:
    rows = [m.groupdict() for line in PARITY.read_text().splitlines() if (m := ROW.match(line))]
    assert rows, f"no table rows parsed from {PARITY}"
    return rows


def resolve(path: str):
    """``kerasformers.tf_utils.shape_list`` or ``kerasformers.TFPreTrainedModel.resize_token_embeddings``:
    import the longest module prefix, then read attributes."""
    parts = path.strip("`").split(".")
    for cut in range(len(parts), 0, -1):
        try:
            target = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[cut:]:
            target = getattr(target, attribute)
        return target
    raise ModuleNotFoundError(path)


def test_every_row_has_a_known_status_and_a_reason_where_needed():
    for row in parity_rows():
        assert row["status"] in STATUSES, row
        if row["status"] in ("different", "not provided"):
            assert len(row["note"].strip()) > 10, f"{row['name']}: say what differs or why it is not provided"
        if row["status"] != "not provided":
            assert row["path"].startswith("`kerasformers"), f"{row['name']}: where is it in kerasformers?"


@pytest.mark.parametrize("status", ["same", "different", "kerasformers only"])
def test_rows_marked_provided_import(status):
    missing = []
    for row in parity_rows():
        if row["status"] == status:
            try:
                resolve(row["path"])
            except (ImportError, AttributeError) as error:
                missing.append(f"{row['name']} -> {row['path']}: {error}")
    assert not missing, "\n".join(missing)


def test_rows_marked_not_provided_are_really_absent():
    """A name that arrives must have its row updated (the table is the user's map)."""
    present = []
    for row in parity_rows():
        if row["status"] == "not provided" and re.fullmatch(r"[A-Za-z_][\w.]*", row["name"]):
            try:
                resolve(f"kerasformers.{row['name']}")
            except (ImportError, AttributeError):
                continue
            present.append(row["name"])
    assert not present, f"now provided, update docs/API_PARITY.md: {present}"


def test_every_public_name_is_in_the_table():
    listed = {row["name"] for row in parity_rows()}
    unlisted = sorted(set(kerasformers.__all__) - listed)
    assert not unlisted, f"add these public names to docs/API_PARITY.md: {unlisted}"


# The output class each head returned in transformers 4.57's TF model files (modeling_tf_bert.py,
# modeling_tf_gpt2.py, modeling_tf_distilbert.py, modeling_tf_roberta.py, modeling_tf_mistral.py).
OUTPUT_CLASSES_457 = {
    "TFBertModel": "TFBaseModelOutputWithPoolingAndCrossAttentions",
    "TFBertForSequenceClassification": "TFSequenceClassifierOutput",
    "TFBertLMHeadModel": "TFCausalLMOutputWithCrossAttentions",
    "TFBertForNextSentencePrediction": "TFNextSentencePredictorOutput",
    "TFRobertaModel": "TFBaseModelOutputWithPoolingAndCrossAttentions",
    "TFRobertaForMaskedLM": "TFMaskedLMOutput",
    "TFDistilBertModel": "TFBaseModelOutput",
    "TFDistilBertForQuestionAnswering": "TFQuestionAnsweringModelOutput",
    "TFGPT2Model": "TFBaseModelOutputWithPastAndCrossAttentions",
    "TFGPT2LMHeadModel": "TFCausalLMOutputWithCrossAttentions",
    "TFGPT2ForSequenceClassification": "TFSequenceClassifierOutputWithPast",
    "TFMistralModel": "TFBaseModelOutputWithPast",
    "TFMistralForCausalLM": "TFCausalLMOutputWithPast",
}
TINY = {
    "bert": dict(vocab_size=40, hidden_size=8, num_hidden_layers=1, num_attention_heads=2, intermediate_size=16),
    "roberta": dict(vocab_size=40, hidden_size=8, num_hidden_layers=1, num_attention_heads=2, intermediate_size=16),
    "distilbert": dict(vocab_size=40, dim=8, n_layers=1, n_heads=2, hidden_dim=16),
    "gpt2": dict(vocab_size=40, n_embd=8, n_layer=1, n_head=2, pad_token_id=0),
    "mistral": dict(
        vocab_size=40,
        hidden_size=8,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=1,
        intermediate_size=16,
    ),
}


@pytest.mark.parametrize("class_name", sorted(OUTPUT_CLASSES_457))
def test_models_return_the_output_class_transformers_tf_returned(class_name):
    model_class = getattr(kerasformers, class_name)
    config = kerasformers.AutoConfig.for_model(
        model_class.config_class.model_type, **TINY[model_class.config_class.model_type]
    )
    output = model_class(config)({"input_ids": [[5, 6, 7]], "attention_mask": [[1, 1, 1]]})
    assert type(output).__name__ == OUTPUT_CLASSES_457[class_name]
    assert isinstance(output, getattr(kerasformers.modeling_tf_outputs, OUTPUT_CLASSES_457[class_name], ModelOutput))


def test_transformers_utils_names_behave_as_transformers(minilm_path):
    """`from transformers.utils import ...` lines of the official TF examples, with the import changed."""
    import transformers

    from kerasformers.tokenization_utils_base import PreTrainedTokenizerBase
    from kerasformers.utils import PaddingStrategy, TensorType, TruncationStrategy, check_min_version, logging

    assert logging is kerasformers.logging
    tokenizer = kerasformers.AutoTokenizer.from_pretrained(minilm_path)
    assert (
        isinstance(tokenizer, PreTrainedTokenizerBase)
        and kerasformers.PreTrainedTokenizerBase is PreTrainedTokenizerBase
    )
    reference = transformers.AutoTokenizer.from_pretrained(minilm_path)
    texts = ["a short one", "and a much longer sentence than the first"]
    for padding, truncation in [
        (PaddingStrategy.LONGEST, TruncationStrategy.LONGEST_FIRST),
        (PaddingStrategy.MAX_LENGTH, TruncationStrategy.ONLY_FIRST),
    ]:
        ours = tokenizer(texts, padding=padding, truncation=truncation, max_length=6, return_tensors=TensorType.NUMPY)
        theirs = reference(texts, padding=padding.value, truncation=truncation.value, max_length=6, return_tensors="np")
        np.testing.assert_array_equal(ours["input_ids"], theirs["input_ids"])
    # the enum values are transformers' (transformers.utils.PaddingStrategy / TruncationStrategy)
    for ours_enum, theirs_enum in [
        (PaddingStrategy, transformers.utils.PaddingStrategy),
        (TruncationStrategy, transformers.tokenization_utils_base.TruncationStrategy),
    ]:
        assert {m.value for m in ours_enum} == {m.value for m in theirs_enum}
    check_min_version("4.30.0.dev0")  # what the TF examples of the 4.x series asked for
    with pytest.raises(ImportError, match="4.57"):
        check_min_version("5.0.0")
