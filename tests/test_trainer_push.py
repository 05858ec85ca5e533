"""TrainingArguments(push_to_hub=True) and Trainer.push_to_hub against the local Hub test server.

As transformers' Trainer: every checkpoint save pushes the model, processor, training arguments
and card in the background ("Training in progress, epoch N"); hub_strategy="checkpoint" also
uploads the checkpoint as last-checkpoint/; trainer.push_to_hub() ends with "End of training".
What lands is read back through huggingface_hub and compared with what was trained.
"""

import json
from pathlib import Path

import huggingface_hub
import numpy as np
import pytest
from hub_server import use_hub
from safetensors.numpy import load_file
from test_trainer import args, dataset, make_model, tokenizer  # noqa: F401 - session fixtures

import kerasformers
from kerasformers.errors import ConfigError
from kerasformers.trainer import HubStrategy, Trainer, TrainingArguments

TOKEN = "hf_me_write"  # tests/hub_server.py TOKENS: user "me"


def _messages(hub, repo_id, ref="main"):
    meta = hub.store.meta(repo_id)
    sha, out = hub.store.resolve(meta, ref), []
    while sha is not None:
        out.append((sha, meta["commits"][sha]["message"]))
        sha = meta["commits"][sha]["parent"]
    return out[::-1]  # oldest first


def test_push_to_hub_every_epoch_then_at_the_end(hub_server, monkeypatch, tmp_path, tokenizer, dataset):  # noqa: F811
    use_hub(monkeypatch, hub_server, tmp_path / "hf-cache")
    output = tmp_path / "out"
    settings = dict(
        num_train_epochs=2,
        per_device_train_batch_size=16,
        learning_rate=5e-3,
        save_strategy="epoch",
        eval_strategy="epoch",
        push_to_hub=True,
        hub_model_id="me/trainer-push",
        hub_token=TOKEN,
        hub_strategy="checkpoint",
        hub_always_push=True,  # every save is pushed, so the test sees exactly one commit per epoch
    )
    trainer = Trainer(
        make_model(tokenizer),
        args(output, **settings),
        train_dataset=dataset,
        eval_dataset=dataset.select(range(16)),
        processing_class=tokenizer,
    )
    assert trainer.hub_model_id == "me/trainer-push"  # the repo exists before training
    trainer.train()
    epochs = [m for _, m in _messages(hub_server, "me/trainer-push") if m.startswith("Training in progress")]
    assert epochs == ["Training in progress, epoch 1", "Training in progress, epoch 2"]

    # the epoch-2 commit holds epoch 2's weights (the local checkpoint) and the resumable checkpoint
    epoch2 = _messages(hub_server, "me/trainer-push")[-1][0]
    pushed = Path(huggingface_hub.snapshot_download("me/trainer-push", revision=epoch2, token=TOKEN))
    last_step = trainer.state.global_step
    local = load_file(output / f"checkpoint-{last_step}" / "model.safetensors")
    remote = load_file(pushed / "model.safetensors")
    assert local.keys() == remote.keys() and all(np.array_equal(local[k], remote[k]) for k in local)
    state = json.loads((pushed / "last-checkpoint" / "trainer_state.json").read_text())
    assert state["global_step"] == last_step
    assert not any(p.name.startswith("checkpoint-") for p in pushed.iterdir())  # only last-checkpoint/
    saved_args = (pushed / "training_args.json").read_text()
    assert TOKEN not in saved_args and json.loads(saved_args)["hub_token"] == "<HUB_TOKEN>"

    info = trainer.push_to_hub(dataset="tiny-reviews", license="apache-2.0")
    assert _messages(hub_server, "me/trainer-push")[-1] == (info.oid, "End of training")
    final = Path(huggingface_hub.snapshot_download("me/trainer-push", revision=info.oid, token=TOKEN))
    reloaded = kerasformers.TFAutoModelForSequenceClassification.from_pretrained(final)
    ids = np.array([[2, 5, 7, 9, 3]], dtype="int32")
    np.testing.assert_array_equal(reloaded(ids).logits.numpy(), trainer.model(ids).logits.numpy())
    card = huggingface_hub.ModelCard.load(final / "README.md")
    assert card.data.library_name == "kerasformers" and card.data.license == "apache-2.0"
    assert "tiny-reviews" in card.text
    results = card.text.split("### Training results", 1)[1].split("###", 1)[0]
    evaluations = [e for e in trainer.state.log_history if "eval_loss" in e]
    assert len(evaluations) == 2
    for entry in evaluations:  # one row per evaluation, with its validation loss
        assert f"{entry['eval_loss']:.4f}" in results
    assert "learning_rate: 0.005" in card.text


def test_hub_strategy_end_pushes_only_when_asked(hub_server, monkeypatch, tmp_path, tokenizer, dataset):  # noqa: F811
    use_hub(monkeypatch, hub_server, tmp_path / "hf-cache")
    settings = dict(
        max_steps=2,
        save_strategy="steps",
        save_steps=1,
        push_to_hub=True,
        hub_model_id="me/trainer-end",
        hub_token=TOKEN,
        hub_strategy="end",
        hub_private_repo=True,
    )
    trainer = Trainer(
        make_model(tokenizer), args(tmp_path / "o", **settings), train_dataset=dataset, processing_class=tokenizer
    )
    trainer.train()
    assert [m for _, m in _messages(hub_server, "me/trainer-end")] == ["initial commit"]
    trainer.save_model()  # a user's save_model pushes "Model save", as transformers does
    assert _messages(hub_server, "me/trainer-end")[-1][1] == "Model save"
    with pytest.raises(huggingface_hub.errors.RepositoryNotFoundError):  # private: not readable without a token
        huggingface_hub.hf_hub_download("me/trainer-end", "config.json", token=False)


def test_hub_arguments_are_checked():
    with pytest.raises(ConfigError, match="hub_strategy"):
        TrainingArguments("out", hub_strategy="sometimes")
    assert TrainingArguments("out", hub_strategy="all_checkpoints").hub_strategy is HubStrategy.ALL_CHECKPOINTS


def test_push_threads_yield_to_training():
    """Background uploads run at a lower CPU priority than the training thread (Linux, per thread)."""
    import os
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from kerasformers.hub_push import lower_thread_priority

    def priority():
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    with ThreadPoolExecutor(max_workers=1, initializer=lower_thread_priority) as pool:
        assert pool.submit(priority).result() > priority()
