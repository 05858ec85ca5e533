"""Shared fixtures. Real checkpoints and data are built once into the kerasformers cache."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

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
