"""Shared fixtures. Real checkpoints and data are built once into the kerasformers cache."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Tests never reach the internet: huggingface_hub works offline unless a test points it at the local
# Hub server with use_hub() (read once, at huggingface_hub import).
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pytest  # noqa: E402


def pytest_generate_tests(metafunc):
    # ModelTesterMixin subclasses list their heads; every mixin test runs once per head.
    heads = getattr(metafunc.cls, "heads", None)
    if heads and "head" in metafunc.fixturenames:
        metafunc.parametrize("head", list(heads))


@pytest.fixture(scope="session")
def minilm_path():
    from kerasformers.data.embedded import minilm_checkpoint

    return minilm_checkpoint()


@pytest.fixture(scope="session")
def smollm2_path():
    from fixture_data import smollm2_checkpoint

    return smollm2_checkpoint()


@pytest.fixture(scope="session")
def hub_server(tmp_path_factory):
    """A Hub-compatible HTTP server on 127.0.0.1 (a free port), backed by a temporary folder.

    See tests/hub_server.py; point huggingface_hub at it with ``use_hub(monkeypatch, hub_server, cache)``.
    """
    from hub_server import HubServer

    server = HubServer(tmp_path_factory.mktemp("hub-server")).start()
    yield server
    server.stop()


def use_hub(monkeypatch, server, cache_dir, offline: bool = False):
    """Send huggingface_hub to ``server`` (HF_ENDPOINT) with an empty cache at ``cache_dir`` and no token.

    huggingface_hub reads HF_ENDPOINT / HF_HUB_CACHE / HF_HUB_OFFLINE once at import, so both the
    environment (for child processes) and its constants are patched, and undone after the test.

    Example:
        >>> use_hub(monkeypatch, hub_server, tmp_path / "hf-cache")
    """
    import huggingface_hub.constants as constants

    cache_dir = str(cache_dir)
    values = {"HF_ENDPOINT": server.url, "HF_HUB_CACHE": cache_dir, "HF_HUB_OFFLINE": "1" if offline else "0"}
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    for key in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setattr(constants, "ENDPOINT", server.url)
    monkeypatch.setattr(
        constants, "HUGGINGFACE_CO_URL_TEMPLATE", server.url + "/{repo_id}/resolve/{revision}/{filename}"
    )
    monkeypatch.setattr(constants, "HF_HUB_CACHE", cache_dir)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", offline)
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", os.path.join(cache_dir, "no-token"))
    monkeypatch.setattr(constants, "HF_STORED_TOKENS_PATH", os.path.join(cache_dir, "no-stored-tokens"))
