"""push_to_hub (models, tokenizers, configs) and PushToHubCallback against the local Hub test server.

The pushed repositories are read back through huggingface_hub (snapshot_download at the commit
sha a push returned) into a folder that from_pretrained loads; outputs must be identical.
"""

import json
from pathlib import Path

import huggingface_hub
import keras
import numpy as np
import pytest
from hub_server import use_hub
from huggingface_hub.errors import HfHubHTTPError

import kerasformers
from kerasformers import BertConfig
from kerasformers.hub_push import HubPushError

TOKEN = "hf_me_write"  # tests/hub_server.py TOKENS: user "me"
TINY_BERT = dict(
    vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37,
    max_position_embeddings=64, num_labels=2,
)  # fmt: skip


@pytest.fixture
def hub(hub_server, monkeypatch, tmp_path):
    use_hub(monkeypatch, hub_server, tmp_path / "hf-cache")
    return hub_server


def _history(hub, repo_id, ref="main"):
    """(sha, message) of the commits on ``ref``, newest first, read from the server's store."""
    meta = hub.store.meta(repo_id)
    sha, out = hub.store.resolve(meta, ref), []
    while sha is not None:
        out.append((sha, meta["commits"][sha]["message"]))
        sha = meta["commits"][sha]["parent"]
    return out


def _download(repo_id, revision, tmp_path, token=TOKEN):
    return Path(
        huggingface_hub.snapshot_download(repo_id, revision=revision, token=token, local_dir=tmp_path / revision)
    )


@pytest.fixture(scope="module")
def tiny_bert():
    keras.utils.set_random_seed(0)
    model = kerasformers.TFBertForSequenceClassification(BertConfig(**TINY_BERT))
    model.build_with_dummy_inputs()
    return model


@pytest.fixture(scope="module")
def tokenizer(minilm_path):
    return kerasformers.AutoTokenizer.from_pretrained(minilm_path)


IDS = np.array([[2, 5, 7, 9, 3, 0], [2, 8, 4, 3, 0, 0]], dtype="int32")


def test_push_model_and_tokenizer_round_trip(hub, tiny_bert, tokenizer, tmp_path):
    info = tiny_bert.push_to_hub("me/round-trip", commit_message="first", token=TOKEN, tags=["tiny"])
    tokenizer_info = tokenizer.push_to_hub("me/round-trip", token=TOKEN)
    assert info.oid != tokenizer_info.oid
    assert _history(hub, "me/round-trip")[:2] == [(tokenizer_info.oid, "Upload tokenizer"), (info.oid, "first")]

    # downloaded by name at the pushed commit
    reloaded = kerasformers.TFBertForSequenceClassification.from_pretrained(
        "me/round-trip", revision=tokenizer_info.oid, token=TOKEN
    )
    np.testing.assert_array_equal(reloaded(IDS).logits.numpy(), tiny_bert(IDS).logits.numpy())
    texts = ["Hello world", "pushing a tokenizer"]
    pushed_tokenizer = kerasformers.AutoTokenizer.from_pretrained(
        "me/round-trip", revision=tokenizer_info.oid, token=TOKEN
    )
    assert pushed_tokenizer(texts)["input_ids"] == tokenizer(texts)["input_ids"]
    folder = _download("me/round-trip", tokenizer_info.oid, tmp_path)

    # the model's commit alone: weights, config and a card; no tokenizer yet
    files = set(
        huggingface_hub.HfApi(endpoint=hub.url).list_repo_files("me/round-trip", revision=info.oid, token=TOKEN)
    )
    assert {"config.json", "model.safetensors", "README.md"} <= files and "tokenizer.json" not in files
    card = huggingface_hub.ModelCard.load(folder / "README.md")
    assert card.data.library_name == "kerasformers" and card.data.pipeline_tag == "text-classification"
    assert "tiny" in card.data.tags  # the tokenizer push kept the model's card


def test_create_pr_leaves_main_alone(hub, tiny_bert, tmp_path):
    main = tiny_bert.push_to_hub("me/pr", token=TOKEN)
    config = BertConfig(**{**TINY_BERT, "num_labels": 3})
    pr = config.push_to_hub("me/pr", token=TOKEN, create_pr=True)
    assert pr.pr_revision == "refs/pr/1" and pr.pr_num == 1
    api = huggingface_hub.HfApi(endpoint=hub.url)
    assert api.model_info("me/pr", token=TOKEN).sha == main.oid
    assert len(json.loads((_download("me/pr", "main", tmp_path) / "config.json").read_text())["id2label"]) == 2
    assert len(json.loads(hub.files("me/pr", "refs/pr/1")["config.json"])["id2label"]) == 3
    branch = config.push_to_hub("me/pr", token=TOKEN, revision="dev")  # a new branch, from main
    assert hub.store.resolve(hub.store.meta("me/pr"), "dev") == branch.oid
    assert api.model_info("me/pr", token=TOKEN).sha == main.oid
    kerasformers.GenerationConfig(eos_token_id=2).push_to_hub("me/pr", token=TOKEN, revision="dev")
    assert json.loads(hub.files("me/pr", "dev")["generation_config.json"])["eos_token_id"] == 2


def test_private_repo_needs_the_token(hub, tiny_bert, tmp_path):
    tiny_bert.push_to_hub("me/secret", token=TOKEN, private=True)
    with pytest.raises(HfHubHTTPError) as anonymous:
        huggingface_hub.hf_hub_download("me/secret", "config.json", token=False, cache_dir=tmp_path / "c1")
    assert anonymous.value.response.status_code == 401
    with pytest.raises(HfHubHTTPError) as other_user:
        huggingface_hub.hf_hub_download("me/secret", "config.json", token="hf_other_user", cache_dir=tmp_path / "c2")
    assert other_user.value.response.status_code == 403
    assert huggingface_hub.hf_hub_download("me/secret", "config.json", token=TOKEN, cache_dir=tmp_path / "c3")


def test_push_errors(hub, tiny_bert):
    with pytest.raises(kerasformers.errors.InvalidInputError, match="safe_serialization"):
        tiny_bert.push_to_hub("me/x", token=TOKEN, safe_serialization=False)
    with pytest.raises(HubPushError, match="token"):
        tiny_bert.push_to_hub("me/no-token")  # use_hub removed every stored token
    with pytest.raises(TypeError, match="cache_dir"):
        tiny_bert.push_to_hub("me/x", token=TOKEN, cache_dir="typo")
    tiny_bert.config.push_to_hub("me/mine", use_auth_token=TOKEN)  # 4.57's deprecated name still works
    with pytest.raises(HubPushError, match=r"'me/mine'.*\(403\)"):
        tiny_bert.push_to_hub("me/mine", token="hf_other_user")  # another user's repository


def _dataset(seed):
    rng = np.random.default_rng(seed)
    ids = rng.integers(4, 99, size=(16, 8)).astype("int32")
    return {"input_ids": ids}, (ids[:, 1] % 2).astype("int32")


def test_callback_pushes_every_epoch_with_the_history(hub, tokenizer, tmp_path):
    keras.utils.set_random_seed(1)
    model = kerasformers.TFBertForSequenceClassification(BertConfig(**TINY_BERT))
    model.compile(optimizer=keras.optimizers.Adam(1e-3), metrics=["accuracy"])
    callback = kerasformers.PushToHubCallback(
        tmp_path / "out", hub_model_id="me/fit", hub_token=TOKEN, tokenizer=tokenizer, checkpoint=True, dataset="toy"
    )
    features, labels = _dataset(0)
    history = model.fit(features, labels, batch_size=8, epochs=2, callbacks=[callback], verbose=0)

    pushes = [(sha, message) for sha, message in _history(hub, "me/fit") if message != "initial commit"]
    assert len(pushes) == 2, pushes
    assert pushes[1][1] == "Training in progress epoch 0"  # newest first
    folder = _download("me/fit", pushes[0][0], tmp_path)
    reloaded = kerasformers.TFBertForSequenceClassification.from_pretrained(
        "me/fit", revision=pushes[0][0], token=TOKEN
    )
    np.testing.assert_array_equal(reloaded(IDS).logits.numpy(), model(IDS).logits.numpy())  # epoch 2's weights
    card = (folder / "README.md").read_text()
    for epoch in (0, 1):
        row = f"| {epoch + 1} | {history.history['accuracy'][epoch]:.4f} | {history.history['loss'][epoch]:.4f} |"
        assert row in card
    assert (folder / "tokenizer.json").is_file() and (folder / "checkpoint" / "extra_data.json").is_file()

    # checkpoint=True resumes: weights and optimizer state as at the end of epoch 2
    keras.utils.set_random_seed(2)
    fresh = kerasformers.TFBertForSequenceClassification(BertConfig(**TINY_BERT))
    fresh.compile(optimizer=keras.optimizers.Adam(1e-3))
    assert fresh.load_repo_checkpoint("me/fit", token=TOKEN) == {"epoch": 1}
    np.testing.assert_array_equal(fresh(IDS).logits.numpy(), model(IDS).logits.numpy())
    for ours, theirs in zip(fresh.optimizer.variables, model.optimizer.variables):
        np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))


def test_callback_steps_strategy_ends_with_the_final_weights(hub, tmp_path):
    keras.utils.set_random_seed(3)
    model = kerasformers.TFBertForSequenceClassification(BertConfig(**TINY_BERT))
    model.compile(optimizer=keras.optimizers.SGD(0.1))
    callback = kerasformers.PushToHubCallback(
        tmp_path / "out", save_strategy="steps", save_steps=3, hub_model_id="me/steps", hub_token=TOKEN
    )
    features, labels = _dataset(1)
    model.fit(features, labels, batch_size=4, epochs=1, callbacks=[callback], verbose=0)
    messages = [message for _, message in _history(hub, "me/steps")]
    # after batch 3 of 4, then the final weights (batch 4 was never a save step) at the end of training
    assert messages[:2] == ["End of training", "Training in progress steps 2"]
    folder = _download("me/steps", "main", tmp_path)
    reloaded = kerasformers.TFBertForSequenceClassification.from_pretrained(folder)
    np.testing.assert_array_equal(reloaded(IDS).logits.numpy(), model(IDS).logits.numpy())


def test_callback_argument_errors(hub, tmp_path):
    with pytest.raises(HubPushError, match=r"'me/a'.*\(401\).*token"):
        kerasformers.PushToHubCallback(tmp_path, hub_model_id="me/a")  # no token anywhere
    with pytest.raises(kerasformers.errors.InvalidInputError, match="save_steps"):
        kerasformers.PushToHubCallback(tmp_path, save_strategy="steps", hub_model_id="me/a", hub_token=TOKEN)
    with pytest.raises(kerasformers.errors.InvalidInputError, match="checkpoint"):
        kerasformers.PushToHubCallback(
            tmp_path, save_strategy="steps", save_steps=2, checkpoint=True, hub_model_id="me/a", hub_token=TOKEN
        )
