"""The error family: every error kerasformers raises on purpose derives from KerasformersError.

Each class also keeps the standard exception it has always been (a missing checkpoint is an
``OSError``, a bad id a ``ValueError``), so ``except ValueError`` code keeps working. The CLI
prints a KerasformersError as one line and exits 2; anything else is a bug and shows its
traceback.

Example:
    >>> try:
    ...     TFAutoModel.from_pretrained("no/such-model")
    ... except KerasformersError as error:
    ...     print(error)
"""

from __future__ import annotations


class KerasformersError(Exception):
    """Base of every error raised on purpose: the message names the problem and the fix."""


# ------------------------------------------------------------------ checkpoints and files
class CheckpointNotFoundError(KerasformersError, OSError):
    """A checkpoint name that no source could resolve; the message lists where we looked."""


class MissingFileError(KerasformersError, FileNotFoundError):
    """A file a checkpoint needs (config.json, ...) is not in its folder."""


class WeightsError(KerasformersError, OSError):
    """A checkpoint's weight files are missing, unreadable or do not fit the model."""


class ConfigError(KerasformersError, ValueError):
    """A config.json that cannot be read, or config values that cannot work."""


class UnsupportedModelTypeError(ConfigError):
    """A model_type (or task) that kerasformers has no class for."""


class NotAFolderError(KerasformersError, NotADirectoryError):
    """A path that must be (or become) a folder is a file."""


class FolderNotWritableError(KerasformersError, PermissionError):
    """A folder we must write into is not writable."""


# ------------------------------------------------------------------ tokenizers
class TokenizerFilesNotFoundError(MissingFileError):
    """A checkpoint folder without any tokenizer files."""


class TokenizerFileError(KerasformersError, OSError, ValueError):
    """A tokenizer file that exists but cannot be read (corrupt, truncated, wrong format)."""


class UnsupportedTokenizerError(KerasformersError, ValueError):
    """A tokenizer kind or setting that this tokenizer class cannot reproduce."""


class UnsupportedGGUFTokenizerError(UnsupportedTokenizerError):
    """A GGUF file whose tokenizer (model, pre-tokenizer, version) cannot be rebuilt as a tokenizer.json."""


# ------------------------------------------------------------------ inputs, training, generation
class InvalidInputError(KerasformersError, ValueError):
    """A model, generate() or fit() input with a bad value or shape (ids out of range, empty, ...)."""


class InvalidInputTypeError(KerasformersError, TypeError):
    """A model input of the wrong type or dtype (float or string ids, unknown arguments)."""


class TrainingDataError(KerasformersError, ValueError):
    """Data that cannot be trained on, found before training starts."""


class NotSupportedError(KerasformersError, NotImplementedError):
    """A transformers feature that kerasformers does not implement (yet)."""


# ------------------------------------------------------------------ export and environment
class ExportError(KerasformersError, ValueError):
    """An export that cannot be made as asked (bad option, existing target, unsupported op)."""


class TargetExistsError(KerasformersError, FileExistsError):
    """An export target that exists already; pass overwrite=True (``--overwrite``) to replace it."""


class MissingDependencyError(KerasformersError, ImportError):
    """An optional package a feature needs is not installed; the message gives the pip command."""


class SourceUnavailableError(KerasformersError, RuntimeError):
    """Embedded weights or data cannot be built (package missing, no network to fetch it)."""


class HubPushError(KerasformersError, OSError):
    """An upload to the Hub failed (no access, unknown repository, server down): the message names the fix."""
