"""AutoTokenizer and TFAutoTokenizer: the tokenizer of a checkpoint, Python or in-graph.

This is the only module that knows every in-graph kind; each kind lives in its own module
(``wordpiece.py``, ``bpe.py``, ``sentencepiece.py``) and knows none of the others.

Example:
    >>> tokenizer = AutoTokenizer.from_pretrained("sentence-transformers/all-MiniLM-L6-v2")
    >>> layer = TFAutoTokenizer.from_tokenizer(tokenizer, max_length=128)
    >>> layer(["Hello world"])["input_ids"]
    <tf.Tensor: shape=(1, 4), dtype=int64, numpy=array([[ 101, 7592, 2088,  102]])>
"""

from __future__ import annotations

import os

from kerasformers.errors import UnsupportedTokenizerError
from kerasformers.tokenization.bpe import TFByteLevelBPETokenizer
from kerasformers.tokenization.fast import PreTrainedTokenizerFast, load_pretrained_tokenizer
from kerasformers.tokenization.files import tokenizer_kind, tokenizer_spec
from kerasformers.tokenization.in_graph import TFTokenizerLayer
from kerasformers.tokenization.sentencepiece import TFSentencePieceTokenizer
from kerasformers.tokenization.wordpiece import TFWordPieceTokenizer

# tokenizer_kind() -> the layer that reproduces it
_IN_GRAPH_KINDS = {
    "wordpiece": TFWordPieceTokenizer,
    "byte_level_bpe": TFByteLevelBPETokenizer,
    "sentencepiece": TFSentencePieceTokenizer,
}

__all__ = ["AutoTokenizer", "TFAutoTokenizer"]


class AutoTokenizer:
    """Loads the tokenizer of a checkpoint, choosing its kind as transformers' ``AutoTokenizer`` does.

    Example:
        >>> tokenizer = AutoTokenizer.from_pretrained("sentence-transformers/all-MiniLM-L6-v2")
        >>> tokenizer("Hello world")["input_ids"]
        [101, 7592, 2088, 102]
    """

    def __init__(self):
        raise OSError("AutoTokenizer is not instantiated: use AutoTokenizer.from_pretrained(name_or_path).")

    @classmethod
    def from_pretrained(
        cls,
        name_or_path: str | os.PathLike,
        revision: str | None = None,
        cache_dir: str | os.PathLike | None = None,
        **kwargs,
    ) -> PreTrainedTokenizerFast:
        """Build the tokenizer of a checkpoint folder, HF cache entry or local-hub name.

        The keyword arguments are those of :func:`kerasformers.tokenization.fast.load_pretrained_tokenizer`
        (overrides of ``tokenizer_config.json``, ``subfolder``, ``gguf_file``).

        Example:
            >>> tokenizer = AutoTokenizer.from_pretrained("./my-bert", padding_side="left")
        """
        return load_pretrained_tokenizer(name_or_path, revision=revision, cache_dir=cache_dir, **kwargs)


class TFAutoTokenizer:
    """Picks the in-graph tokenizer layer for a checkpoint from its tokenizer files.

    Example:
        >>> tokenizer = TFAutoTokenizer.from_pretrained("path/to/all-MiniLM-L6-v2", max_length=128)
        >>> tokenizer(tf.constant(["hi"]))["input_ids"]
    """

    def __init__(self):
        raise OSError("Use TFAutoTokenizer.from_pretrained(checkpoint).")

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path: str | os.PathLike, **kwargs) -> TFTokenizerLayer:
        """The in-graph tokenizer for ``pretrained_model_name_or_path`` (layer options as kwargs).

        Example:
            >>> TFAutoTokenizer.from_pretrained("path/to/gpt2", padding="max_length", max_length=64)
        """
        loading = {k: kwargs.pop(k) for k in ("revision", "cache_dir") if k in kwargs}
        tokenizer = load_pretrained_tokenizer(pretrained_model_name_or_path, **loading)
        return cls.from_tokenizer(tokenizer, **kwargs)

    @classmethod
    def from_tokenizer(cls, tokenizer, **kwargs) -> TFTokenizerLayer:
        """The in-graph tokenizer layer reproducing a Python tokenizer.

        Example:
            >>> TFAutoTokenizer.from_tokenizer(AutoTokenizer.from_pretrained("path/to/bert"))
        """
        spec = tokenizer_spec(tokenizer)
        layer_class = _IN_GRAPH_KINDS.get(tokenizer_kind(spec))
        if layer_class is not None:
            # the layer checks the rest of the pipeline: UnsupportedTokenizerError where it differs
            return layer_class.from_tokenizer(tokenizer, **kwargs)
        model_type = (spec.get("model") or {}).get("type")
        raise UnsupportedTokenizerError(f"No in-graph tokenizer for a {model_type!r} tokenizer model yet.")
