"""Bad Trainer / TrainingArguments inputs: one clear error each, before training and before anything is written."""

import numpy as np
import pytest
from conftest import TINY_BERT

import kerasformers
from kerasformers import TFBertForSequenceClassification, TFBertModel
from kerasformers.errors import KerasformersError
from kerasformers.trainer import Trainer, TrainingArguments

DATA = {"input_ids": np.tile(np.arange(3, 9, dtype=np.int32), (8, 1)), "labels": np.arange(8) % 2}


def tiny(cls=TFBertForSequenceClassification):
    model = cls(kerasformers.AutoConfig.for_model("bert", **TINY_BERT, num_labels=2))
    model.build_with_dummy_inputs()
    return model


def test_metric_for_best_model_not_among_metrics(tmp_path):
    # compute_metrics' keys are known only once it has run: checked at the first evaluation, before any save
    args = TrainingArguments(
        str(tmp_path),
        eval_strategy="steps",
        eval_steps=1,
        save_strategy="steps",
        save_steps=1,
        metric_for_best_model="f1",
        max_steps=2,
        disable_tqdm=True,
        jit_compile=False,
    )
    trainer = Trainer(tiny(), args, train_dataset=DATA, eval_dataset=DATA, compute_metrics=lambda p: {"accuracy": 1.0})
    with pytest.raises(KerasformersError, match="metric_for_best_model='f1'") as error:
        trainer.train()
    assert isinstance(error.value, ValueError) and "eval_accuracy" in str(error.value)
    assert not list(tmp_path.glob("checkpoint-*"))


def test_eval_strategy_without_eval_dataset(tmp_path):
    args = TrainingArguments(str(tmp_path), eval_strategy="epoch", disable_tqdm=True)
    with pytest.raises(KerasformersError, match="eval_dataset") as error:
        Trainer(tiny(), args, train_dataset=DATA)
    assert isinstance(error.value, ValueError) and "eval_strategy='no'" in str(error.value)


def test_model_without_loss_and_no_override(tmp_path):
    with pytest.raises(KerasformersError, match="computes no loss") as error:
        Trainer(tiny(TFBertModel), TrainingArguments(str(tmp_path), disable_tqdm=True), train_dataset=DATA)
    assert "override compute_loss" in str(error.value)
    assert not tmp_path.exists() or not any(tmp_path.iterdir())


def test_unknown_lr_scheduler_type(tmp_path):
    with pytest.raises(KerasformersError, match="lr_scheduler_type='warmup_linear'") as error:
        TrainingArguments(str(tmp_path), lr_scheduler_type="warmup_linear")
    assert isinstance(error.value, ValueError) and "'cosine'" in str(error.value)


def test_unknown_hub_strategy_refused(tmp_path):
    with pytest.raises(KerasformersError, match="hub_strategy"):
        TrainingArguments(str(tmp_path), push_to_hub=True, hub_strategy="hourly")
    assert not any(tmp_path.iterdir())  # nothing written, no repository created
