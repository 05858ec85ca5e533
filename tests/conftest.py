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

    See tests/hub_server.py; point huggingface_hub at it with ``hub_server.use_hub(monkeypatch, hub_server, cache)``.
    """
    from hub_server import HubServer

    server = HubServer(tmp_path_factory.mktemp("hub-server")).start()
    yield server
    server.stop()
