"""transformers' ``transformers.utils`` names that TensorFlow code and the official TF examples import.

``from transformers.utils import logging, check_min_version, send_example_telemetry`` becomes
``from kerasformers.utils import ...`` with the same meaning where it has one here.

Example:
    >>> from kerasformers.utils import PaddingStrategy, logging
    >>> logging.set_verbosity_error()
    >>> tokenizer(texts, padding=PaddingStrategy.LONGEST)
"""

from __future__ import annotations

import enum

from kerasformers import logging
from kerasformers.errors import MissingDependencyError

__all__ = [
    "logging",
    "PaddingStrategy",
    "TruncationStrategy",
    "TensorType",
    "TRANSFORMERS_API_VERSION",
    "check_min_version",
    "send_example_telemetry",
    "is_tf_available",
    "is_torch_available",
]

# The transformers release whose TensorFlow API kerasformers follows (the last with a TF side).
TRANSFORMERS_API_VERSION = "4.57.1"


class _StrEnum(str, enum.Enum):
    """A str enum: its members compare equal to their values (``PaddingStrategy.LONGEST == "longest"``)."""

    def __str__(self) -> str:
        return self.value


class PaddingStrategy(_StrEnum):
    """The ``padding=`` values tokenizers and collators accept.

    Example:
        >>> PaddingStrategy("max_length") is PaddingStrategy.MAX_LENGTH
        True
    """

    LONGEST = "longest"
    MAX_LENGTH = "max_length"
    DO_NOT_PAD = "do_not_pad"


class TruncationStrategy(_StrEnum):
    """The ``truncation=`` values tokenizers accept.

    Example:
        >>> TruncationStrategy.ONLY_SECOND == "only_second"
        True
    """

    ONLY_FIRST = "only_first"
    ONLY_SECOND = "only_second"
    LONGEST_FIRST = "longest_first"
    DO_NOT_TRUNCATE = "do_not_truncate"


class TensorType(_StrEnum):
    """The ``return_tensors=`` values: kerasformers returns TensorFlow tensors or numpy arrays.

    Example:
        >>> TensorType.TENSORFLOW == "tf"
        True
    """

    TENSORFLOW = "tf"
    NUMPY = "np"


def _version_tuple(version: str) -> tuple[int, ...]:
    parts = []
    for piece in version.split(".")[:3]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


def check_min_version(min_version: str) -> None:
    """The official examples' ``check_min_version("4.x")``: passes when kerasformers provides that
    transformers TF API (up to :data:`TRANSFORMERS_API_VERSION`), else raises ImportError.

    Example:
        >>> check_min_version("4.30.0.dev0")
    """
    if _version_tuple(min_version) > _version_tuple(TRANSFORMERS_API_VERSION):
        raise MissingDependencyError(
            f"This script asks for transformers >= {min_version}; kerasformers provides transformers' TensorFlow "
            f"API as of {TRANSFORMERS_API_VERSION}, the last release with a TensorFlow side. Lower the requirement "
            "in the script if it only needs that API."
        )


def send_example_telemetry(example_name: str, *args, **kwargs) -> None:
    """The official examples call this; kerasformers sends no telemetry, so it does nothing.

    Example:
        >>> send_example_telemetry("run_glue", model_args, data_args, framework="tensorflow")
    """


def is_tf_available() -> bool:
    """Always True: kerasformers runs on TensorFlow.

    Example:
        >>> is_tf_available()
        True
    """
    return True


def is_torch_available() -> bool:
    """Whether PyTorch is importable (kerasformers never needs it; its tests use it as the oracle).

    Example:
        >>> isinstance(is_torch_available(), bool)
        True
    """
    import importlib.util

    return importlib.util.find_spec("torch") is not None
