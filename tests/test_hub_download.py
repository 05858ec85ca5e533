"""Download by name through huggingface_hub from the local Hub server (tests/hub_server.py).

Expected outputs come from PyTorch transformers 5.23 on the same checkpoint files; token ids
from the tokenizers library on the same tokenizer.json.
"""

import shutil

import numpy as np
import pytest
import tokenizers
import torch
import transformers
from hub_server import use_hub

import kerasformers
from kerasformers.errors import CheckpointNotFoundError, MissingFileError

TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt")
IDS = [[101, 7592, 2088, 2003, 102]]


def _torch_bert(seed, folder, **save):
    torch.manual_seed(seed)
    config = transformers.BertConfig(
        vocab_size=30522, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32
    )
    model = transformers.BertModel(config).eval()
    model.save_pretrained(folder, **save)
    with torch.no_grad():
        return model(torch.tensor(IDS)).last_hidden_state.numpy()


@pytest.fixture(scope="session")
def repos(hub_server, minilm_path, tmp_path_factory):
    """org/tiny-bert: commit 1 (tag v1, branch old), commit 2 on main; org/sharded; error repos."""
    root = tmp_path_factory.mktemp("hub-repos")
    extras = {"README.md": b"# card", "pytorch_model.bin": b"pickle", "tf_model.h5": b"h5", "onnx/model.onnx": b"x"}
    tokenizer = {name: minilm_path / name for name in TOKENIZER_FILES}
    expected = {}
    for seed in (1, 2):
        expected[seed] = _torch_bert(seed, root / f"v{seed}")
        files = {p.name: p for p in (root / f"v{seed}").iterdir()} | tokenizer | extras
        expected[f"sha{seed}"] = hub_server.add_commit("org/tiny-bert", files, message=f"weights {seed}")
    hub_server.add_tag("org/tiny-bert", "v1", expected["sha1"])
    hub_server.add_commit("org/tiny-bert", {"note.txt": b"old"}, branch="old")  # branch from main (sha2)...
    meta = hub_server.store.meta("org/tiny-bert")
    meta["branches"]["old"] = expected["sha1"]  # ...then pointed at commit 1, as `git branch -f old <sha1>`
    hub_server.store._save("org/tiny-bert", meta)
    expected["sharded"] = _torch_bert(3, root / "sharded", max_shard_size="1MB")
    hub_server.add_commit("org/sharded", root / "sharded")
    hub_server.add_commit("me/private", root / "v1", private=True)
    hub_server.add_commit("me/gated", root / "v1", gated=True)
    broken = {p.name: p for p in (root / "sharded").iterdir() if p.name != "model-00002-of-00002.safetensors"}
    hub_server.add_commit("org/missing-shard", broken)
    return expected


def _hidden(name, **kwargs):
    model = kerasformers.TFAutoModel.from_pretrained(name, **kwargs)
    return np.asarray(model({"input_ids": np.array(IDS)}).last_hidden_state)


def test_by_name_fetches_only_the_needed_files(hub_server, repos, monkeypatch, tmp_path, minilm_path):
    use_hub(monkeypatch, hub_server, tmp_path / "cache")
    before = len(hub_server.downloads())
    np.testing.assert_allclose(_hidden("org/tiny-bert"), repos[2], atol=1e-5)
    tokenizer = kerasformers.AutoTokenizer.from_pretrained("org/tiny-bert")
    reference = tokenizers.Tokenizer.from_file(str(minilm_path / "tokenizer.json"))
    reference.no_padding()  # the file pads to 128; from_pretrained tokenizers pad only when asked
    assert tokenizer("hello world is")["input_ids"] == reference.encode("hello world is").ids
    fetched = {path for method, repo, path in hub_server.downloads()[before:] if method == "GET"}
    # not README.md, pytorch_model.bin (pickle), tf_model.h5, onnx/model.onnx
    assert fetched == {"config.json", "model.safetensors", *TOKENIZER_FILES}
    cache = tmp_path / "cache" / "models--org--tiny-bert" / "snapshots" / repos["sha2"]
    assert sorted(p.name for p in cache.iterdir()) == sorted(fetched)


def test_revision_pins_commit_tag_and_branch(hub_server, repos, monkeypatch, tmp_path):
    use_hub(monkeypatch, hub_server, tmp_path / "cache")
    for revision in (repos["sha1"], "v1", "old"):
        np.testing.assert_allclose(_hidden("org/tiny-bert", revision=revision), repos[1], atol=1e-5)
    np.testing.assert_allclose(_hidden("org/tiny-bert", revision="main"), repos[2], atol=1e-5)


def test_sharded_checkpoint_fetches_the_shards_its_index_names(hub_server, repos, monkeypatch, tmp_path):
    use_hub(monkeypatch, hub_server, tmp_path / "cache")
    before = len(hub_server.downloads())
    np.testing.assert_allclose(_hidden("org/sharded"), repos["sharded"], atol=1e-5)
    fetched = {path for method, repo, path in hub_server.downloads()[before:] if method == "GET"}
    shards = {"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"}
    assert fetched == {"config.json", "model.safetensors.index.json", *shards}


def test_cached_reload_with_the_server_stopped(hub_server, repos, monkeypatch, tmp_path):
    use_hub(monkeypatch, hub_server, tmp_path / "cache")
    kerasformers.hub.resolve_checkpoint("org/tiny-bert")
    kerasformers.hub.resolve_checkpoint("org/tiny-bert", revision=repos["sha1"])
    hub_server.stop()
    try:
        np.testing.assert_allclose(_hidden("org/tiny-bert"), repos[2], atol=1e-5)  # connection refused: cache
        np.testing.assert_allclose(_hidden("org/tiny-bert", revision=repos["sha1"]), repos[1], atol=1e-5)
        use_hub(monkeypatch, hub_server, tmp_path / "cache", offline=True)
        np.testing.assert_allclose(_hidden("org/tiny-bert"), repos[2], atol=1e-5)
        folder = kerasformers.hub.resolve_checkpoint("org/tiny-bert", local_files_only=True)
        assert folder.name == repos["sha2"]
        with pytest.raises(CheckpointNotFoundError, match="HF_HUB_OFFLINE"):
            kerasformers.hub.resolve_checkpoint("org/sharded")
        use_hub(monkeypatch, hub_server, tmp_path / "empty-cache")
        with pytest.raises(CheckpointNotFoundError, match="cannot be reached"):
            kerasformers.hub.resolve_checkpoint("org/tiny-bert")
    finally:
        hub_server.start()


@pytest.mark.parametrize(
    "name, kwargs, error, words",
    [
        ("org/nope", {}, CheckpointNotFoundError, "'org/nope' was not found .* pass token"),
        ("me/private", {}, CheckpointNotFoundError, "'me/private' .* pass token"),
        ("me/private", {"token": "hf_other_user"}, CheckpointNotFoundError, "private and this token has no access"),
        ("me/gated", {}, CheckpointNotFoundError, "'me/gated' .* gated repo: pass a token"),
        ("org/tiny-bert", {"revision": "v9"}, CheckpointNotFoundError, "no revision 'v9'.*branch, tag or commit"),
        ("org/missing-shard", {}, MissingFileError, "model-00002-of-00002.safetensors"),
    ],
)
def test_errors_name_the_repo_and_the_fix(hub_server, repos, monkeypatch, tmp_path, name, kwargs, error, words):
    use_hub(monkeypatch, hub_server, tmp_path / "cache")
    with pytest.raises(error, match=words) as caught:
        kerasformers.hub.resolve_checkpoint(name, **kwargs)
    assert "\n" not in str(caught.value)


def test_private_repo_loads_with_the_owner_token(hub_server, repos, monkeypatch, tmp_path):
    use_hub(monkeypatch, hub_server, tmp_path / "cache")
    folder = kerasformers.hub.resolve_checkpoint("me/private", token="hf_me_write", force_download=True)
    assert (folder / "model.safetensors").is_file()
    shutil.rmtree(tmp_path / "cache")
    # the config and the tokenizer pass token= on too (a private repo needs it at each door)
    for load in (kerasformers.AutoTokenizer.from_pretrained, kerasformers.AutoConfig.from_pretrained):
        with pytest.raises(CheckpointNotFoundError, match="token"):
            load("me/private")
    config = kerasformers.AutoConfig.from_pretrained("me/private", token="hf_me_write")
    assert config.to_dict() == kerasformers.AutoConfig.from_pretrained(folder).to_dict()
    with pytest.raises(kerasformers.errors.TokenizerFilesNotFoundError):  # in, but this repo has no tokenizer
        kerasformers.AutoTokenizer.from_pretrained("me/private", token="hf_me_write")


def test_force_download_fetches_each_file_once(hub_server, repos, monkeypatch, tmp_path):
    """An auto class resolves the name for its config, then the model class loads: one download, not two."""
    use_hub(monkeypatch, hub_server, tmp_path / "cache")
    _hidden("org/tiny-bert")  # cached
    before = len(hub_server.downloads())
    np.testing.assert_allclose(_hidden("org/tiny-bert", force_download=True), repos[2], atol=1e-5)
    weights = [p for method, repo, p in hub_server.downloads()[before:] if method == "GET" and p == "model.safetensors"]
    assert weights == ["model.safetensors"]
