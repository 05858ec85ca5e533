"""kerasformers' Trainer against PyTorch transformers' Trainer: the same 30-step run, step by step.

Both sides start from one tiny BERT sequence classifier created by PyTorch and saved, train on
the same real movie-review sentences (tokenized by all-MiniLM-L6-v2's tokenizer, padded to a
fixed length so every batch has the same shape), in file order (no shuffling), with dropout off
and the same TrainingArguments: linear warmup, weight decay 0.01 (not on biases and LayerNorm),
gradient clipping at 1.0, accumulation 2 at batch 4, 30 optimizer steps. The per-step losses of
``trainer.state.log_history`` must agree within 1e-3 relative and the learning rates exactly.
"""

import datasets
import numpy as np
import pytest
import torch
import transformers

import kerasformers
from kerasformers.trainer import Trainer, TrainingArguments

EXAMPLES = 48  # 12 batches of 4 = 6 updates per epoch: 30 steps are 5 whole epochs
LENGTH = 32
SHARED_ARGUMENTS = dict(
    learning_rate=1e-3,
    warmup_steps=5,
    lr_scheduler_type="linear",
    weight_decay=0.01,
    max_grad_norm=1.0,
    gradient_accumulation_steps=2,
    per_device_train_batch_size=4,
    max_steps=30,
    logging_steps=1,
    save_strategy="no",
    report_to="none",
    disable_tqdm=True,
    seed=0,
)


@pytest.fixture(scope="module")
def run_inputs(minilm_path, tmp_path_factory):
    """(the saved initial model's folder, the tokenized training set) shared by both sides."""
    from kerasformers.data.embedded import movie_reviews

    reviews = movie_reviews()["train"].select(range(EXAMPLES))
    tokenizer = transformers.AutoTokenizer.from_pretrained(minilm_path)
    encoded = tokenizer(list(reviews["text"]), padding="max_length", truncation=True, max_length=LENGTH)
    train = datasets.Dataset.from_dict({**{k: list(v) for k, v in encoded.items()}, "labels": list(reviews["label"])})
    config = transformers.BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=37,
        max_position_embeddings=64,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
        classifier_dropout=0.0,
        num_labels=2,
        initializer_range=0.2,  # logits far from 0: large early gradients, so clipping is exercised
    )
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("equivalence_init")
    transformers.BertForSequenceClassification(config).save_pretrained(folder)
    return folder, train


class MeanOverAccumulationTrainer(transformers.Trainer):
    """transformers 5.23's Trainer, told that BERT's loss is a mean per micro-batch.

    transformers 5.23 takes any model whose forward has ``**kwargs`` (BertForSequenceClassification
    has) for one that normalises its loss by ``num_items_in_batch`` itself, so it does not divide
    the micro-batch loss by ``gradient_accumulation_steps``: BERT's classification loss (a mean
    per micro-batch) is then summed over the accumulated micro-batches, and the logged loss and
    gradient norm are ``gradient_accumulation_steps`` times those of the same batch unsplit.
    ``loss_is_scaled_for_ga = False`` (a public class attribute of 5.23's Trainer) makes it divide,
    as our Trainer does for a model whose call takes no ``num_items_in_batch``; accumulation 2 at
    batch 4 is then the update of batch 8 on both sides.
    """

    loss_is_scaled_for_ga = False


def torch_log_history(folder, train, output_dir) -> list[dict]:
    model = transformers.BertForSequenceClassification.from_pretrained(folder)
    # transformers 5.23's public switch for keeping the data in order (a SequentialSampler)
    args = transformers.TrainingArguments(
        str(output_dir), use_cpu=True, train_sampling_strategy="sequential", **SHARED_ARGUMENTS
    )
    trainer = MeanOverAccumulationTrainer(model=model, args=args, train_dataset=train)
    trainer.train()
    return trainer.state.log_history


def our_log_history(folder, train, output_dir) -> list[dict]:
    model = kerasformers.TFBertForSequenceClassification.from_pretrained(folder)
    args = TrainingArguments(str(output_dir), train_sampling_strategy="sequential", **SHARED_ARGUMENTS)
    trainer = Trainer(model=model, args=args, train_dataset=train)
    trainer.train()
    return trainer.state.log_history


def step_logs(history: list[dict]) -> list[dict]:
    return [entry for entry in history if "loss" in entry]


def test_thirty_steps_match_pytorch_trainer(run_inputs, tmp_path):
    folder, train = run_inputs
    theirs = step_logs(torch_log_history(folder, train, tmp_path / "torch"))
    ours = step_logs(our_log_history(folder, train, tmp_path / "ours"))

    assert [e["step"] for e in theirs] == list(range(1, 31))
    assert [e["step"] for e in ours] == [e["step"] for e in theirs]
    their_loss, our_loss = np.array([e["loss"] for e in theirs]), np.array([e["loss"] for e in ours])
    their_lr, our_lr = np.array([e["learning_rate"] for e in theirs]), np.array([e["learning_rate"] for e in ours])
    their_norm, our_norm = np.array([e["grad_norm"] for e in theirs]), np.array([e["grad_norm"] for e in ours])
    loss_rel = np.abs(our_loss - their_loss) / np.abs(their_loss)
    lr_diff = np.abs(our_lr - their_lr)
    norm_rel = np.abs(our_norm - their_norm) / their_norm
    print(
        f"\n30 steps vs PyTorch transformers' Trainer: max relative loss difference {loss_rel.max():.2e}, "
        f"max learning-rate difference {lr_diff.max():.2e}, max relative grad-norm difference "
        f"{norm_rel.max():.2e}; loss {their_loss[0]:.4f} -> {their_loss[-1]:.4f} (theirs), "
        f"{our_loss[0]:.4f} -> {our_loss[-1]:.4f} (ours); clipped steps: {int((their_norm > 1).sum())}"
    )
    assert loss_rel.max() <= 1e-3, loss_rel
    np.testing.assert_allclose(our_lr, their_lr, rtol=1e-6, atol=1e-12)
    # the gradients (pre-clip norm) agree too: a check on clipping and accumulation
    assert norm_rel.max() <= 1e-3, norm_rel
    assert their_loss[-5:].mean() < their_loss[:5].mean()  # the run learned something
    assert [round(e["epoch"], 6) for e in ours] == [round(e["epoch"], 6) for e in theirs]
