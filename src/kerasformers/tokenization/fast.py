"""The Python fast tokenizer, with ids identical to transformers' ``AutoTokenizer``.

:func:`load_pretrained_tokenizer` (what ``AutoTokenizer.from_pretrained`` runs) reads a checkpoint
folder (``tokenizer.json``, or ``vocab.txt`` for WordPiece/BERT, or ``vocab.json`` + ``merges.txt``
for byte-level BPE, plus ``tokenizer_config.json`` and ``special_tokens_map.json``) or a GGUF file
(:func:`tokenizer_from_gguf`) and returns a :class:`PreTrainedTokenizerFast` running on the Rust
``tokenizers`` library. Calling it gives a :class:`BatchEncoding`, a ``dict`` that Keras,
``tf.nest`` and ``tf.data`` take as model input. No TensorFlow is imported here.

Example:
    >>> tokenizer = AutoTokenizer.from_pretrained("sentence-transformers/all-MiniLM-L6-v2")
    >>> batch = tokenizer(["Hello world", "Hi"], padding=True, return_tensors="tf")
    >>> batch["input_ids"].shape
    TensorShape([2, 4])
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from tokenizers import AddedToken, Encoding, Tokenizer, processors

from kerasformers.errors import (
    InvalidInputError,
    InvalidInputTypeError,
    NotAFolderError,
    NotSupportedError,
    TokenizerFilesNotFoundError,
    UnsupportedTokenizerError,
)
from kerasformers.hub import atomic_folder_write, pop_download_options, resolve_checkpoint
from kerasformers.tokenization.chat_template import has_generation_tag, render_chat_template
from kerasformers.tokenization.files import (
    TOKENIZER_FILE,
    load_tokenizer_file,
    read_json_object,
    read_text_file,
    read_tokenizer_json,
)
from kerasformers.tokenization.gguf import save_gguf_tokenizer

__all__ = [
    "BatchEncoding",
    "PreTrainedTokenizerFast",
    "load_pretrained_tokenizer",
    "register_tokenizer_class",
    "tokenizer_class_from_name",
    "build_backend",
    "tokenizer_from_gguf",
    "clean_up_tokenization",
    "CharSpan",
    "TokenSpan",
]

TOKENIZER_CONFIG_FILE = "tokenizer_config.json"
SPECIAL_TOKENS_MAP_FILE = "special_tokens_map.json"
CHAT_TEMPLATE_FILE = "chat_template.jinja"
CHAT_TEMPLATE_DIR = "additional_chat_templates"
CONFIG_FILE = "config.json"

# transformers' sentinel for "no length limit"; asking to truncate or pad to it does nothing.
VERY_LARGE_INTEGER = int(1e30)
LARGE_INTEGER = int(1e20)

SPECIAL_TOKEN_NAMES = ("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token")
PADDING_STRATEGIES = ("longest", "max_length", "do_not_pad")
TRUNCATION_STRATEGIES = ("longest_first", "only_first", "only_second", "do_not_truncate")
TENSOR_TYPES = ("np", "tf")

# transformers picks a tokenizer class per checkpoint; each class fixes the text pipeline, the
# default special tokens and the model inputs. The model packages register the classes they
# rebuild (register_tokenizer_class); any other class loads tokenizer.json as it is
# (transformers' TokenizersBackend). Classes built nowhere here that still give token type ids:
_UNBUILT_CLASSES_WITH_TOKEN_TYPE_IDS = {
    "LxmertTokenizer",
    "DPRContextEncoderTokenizer",
    "DPRQuestionEncoderTokenizer",
    "DebertaTokenizer",
    "DebertaV2Tokenizer",
    "FNetTokenizer",
    "CanineTokenizer",
    "LayoutLMv2Tokenizer",
    "MarkupLMTokenizer",
    "TapasTokenizer",
}
# names of transformers' generic tokenizer classes (the tokenizer.json is loaded as it is)
_GENERIC_CLASS_NAMES = {"PreTrainedTokenizer", "TokenizersBackend", "PythonBackend"}

# Keys of tokenizer_config.json that describe one load (paths, transformers bookkeeping, the
# padding/truncation that transformers copies out of tokenizer.json) rather than the tokenizer.
_CONFIG_KEYS_NOT_SAVED = {
    "name_or_path",
    "tokenizer_file",
    "vocab_file",
    "merges_file",
    "special_tokens_map_file",
    "added_tokens_decoder",
    "auto_map",
    "is_local",
    "local_files_only",
    "backend",
    "files_loaded",
    "max_length",
    "stride",
    "truncation_strategy",
    "pad_to_multiple_of",
    "pad_token_type_id",
    "_commit_hash",
    "_from_auto",
    "additional_special_tokens",
    "extra_special_tokens",
    "chat_template",
    "vocab",
    "merges",
    "tokenizer_object",
}
# transformers' from_pretrained arguments that mean nothing offline; accepted so code runs unchanged.
_IGNORED_LOAD_ARGUMENTS = {"use_fast", "trust_remote_code", "proxies", "resume_download", "_from_auto"}


# --------------------------------------------------------------------------------------------
# BatchEncoding
# --------------------------------------------------------------------------------------------


class BatchEncoding(dict):
    """What a tokenizer call returns: a ``dict`` of model inputs plus the ``tokenizers`` encodings.

    Keys read as attributes too (``batch.input_ids``). Integer indexing returns the
    ``tokenizers.Encoding`` of one example. Being a real ``dict`` (and registered with
    ``keras.tree``), it goes straight into ``model(batch)``, ``model.fit(batch, ...)`` and
    ``tf.data.Dataset.from_tensor_slices(batch)``.

    Example:
        >>> batch = tokenizer(["Hello world", "Hi"], padding=True, return_tensors="np")
        >>> batch.input_ids.shape, batch.word_ids(1)
        ((2, 4), [None, 0, None, None])
    """

    def __init__(
        self,
        data: Any = None,
        encodings: list[Encoding] | None = None,
        tensor_type: str | None = None,
        n_sequences: int | None = None,
    ):
        super().__init__(data if data is not None else {})
        self._encodings = encodings
        if n_sequences is None and encodings:
            n_sequences = encodings[0].n_sequences
        self._n_sequences = n_sequences
        self.convert_to_tensors(tensor_type)

    def __getitem__(self, key):
        if isinstance(key, str):
            return dict.__getitem__(self, key)
        if isinstance(key, slice):
            return {name: value[key] for name, value in self.items()}
        if self._encodings is not None:
            return self._encodings[key]
        raise KeyError(f"{key!r}: use a key name ('input_ids'), an integer (needs encodings) or a slice.")

    def __getattr__(self, name: str):
        try:
            return dict.__getitem__(self, name)
        except KeyError:
            raise AttributeError(f"BatchEncoding has no attribute or key {name!r}") from None

    # keras.tree (optree) treats dict subclasses as leaves unless they say how to flatten.
    # Like a plain dict: children in sorted-key order, the original key order kept for rebuilding.
    def tree_flatten(self):
        sorted_keys = sorted(self)
        return [self[key] for key in sorted_keys], list(self), sorted_keys

    @classmethod
    def tree_unflatten(cls, keys_in_order, children):
        by_key = dict(zip(sorted(keys_in_order), children))
        return cls({key: by_key[key] for key in keys_in_order})

    @property
    def encodings(self) -> list[Encoding] | None:
        """The ``tokenizers.Encoding`` of each row (overflowing pieces included), or None."""
        return self._encodings

    @property
    def n_sequences(self) -> int | None:
        """1 for single texts, 2 for pairs, None when unknown."""
        return self._n_sequences

    def _encoding(self, batch_index: int) -> Encoding:
        if not self._encodings:
            raise InvalidInputError(
                "This BatchEncoding holds no tokenizers encodings (it was built from plain values)."
            )
        return self._encodings[batch_index]

    def tokens(self, batch_index: int = 0) -> list[str]:
        """The token strings of example ``batch_index``, special and padding tokens included."""
        return self._encoding(batch_index).tokens

    def word_ids(self, batch_index: int = 0) -> list[int | None]:
        """For each token of example ``batch_index``, the index of its word (None for special tokens)."""
        return self._encoding(batch_index).word_ids

    def sequence_ids(self, batch_index: int = 0) -> list[int | None]:
        """For each token, 0 (first text), 1 (second text of a pair) or None (special token)."""
        return self._encoding(batch_index).sequence_ids

    @property
    def is_fast(self) -> bool:
        """True when the ``tokenizers`` encodings (offsets, word ids) are here."""
        return self._encodings is not None

    def char_to_token(
        self, batch_or_char_index: int, char_index: int | None = None, sequence_index: int = 0
    ) -> int | None:
        """The token covering a character: ``char_to_token(char)`` in example 0, or ``char_to_token(row, char)``.

        Example:
            >>> batch = tokenizer(["Hello world"]); batch.char_to_token(0, 6)
            2
        """
        row, index = _row_and_index(batch_or_char_index, char_index)
        return self._encoding(row).char_to_token(index, sequence_index)

    def token_to_chars(self, batch_or_token_index: int, token_index: int | None = None) -> CharSpan | None:
        """The (start, end) characters of a token in its text; None for special tokens.

        Example:
            >>> tokenizer(["Hello world"]).token_to_chars(0, 2)
            CharSpan(start=6, end=11)
        """
        row, index = _row_and_index(batch_or_token_index, token_index)
        span = self._encoding(row).token_to_chars(index)
        return CharSpan(*span) if span is not None else None

    def token_to_word(self, batch_or_token_index: int, token_index: int | None = None) -> int | None:
        """The index of the word a token belongs to (None for special tokens)."""
        row, index = _row_and_index(batch_or_token_index, token_index)
        return self._encoding(row).token_to_word(index)

    def token_to_sequence(self, batch_or_token_index: int, token_index: int | None = None) -> int | None:
        """0 or 1: which text of a pair a token comes from (None for special tokens)."""
        row, index = _row_and_index(batch_or_token_index, token_index)
        return self._encoding(row).token_to_sequence(index)

    def word_to_tokens(
        self, batch_or_word_index: int, word_index: int | None = None, sequence_index: int = 0
    ) -> TokenSpan | None:
        """The (start, end) tokens of a word; None when the word has no token (truncated away)."""
        row, index = _row_and_index(batch_or_word_index, word_index)
        span = self._encoding(row).word_to_tokens(index, sequence_index)
        return TokenSpan(*span) if span is not None else None

    def word_to_chars(self, batch_or_word_index: int, word_index: int | None = None, sequence_index: int = 0):
        """The (start, end) characters of a word in its text."""
        row, index = _row_and_index(batch_or_word_index, word_index)
        span = self._encoding(row).word_to_chars(index, sequence_index)
        return CharSpan(*span) if span is not None else None

    def char_to_word(self, batch_or_char_index: int, char_index: int | None = None, sequence_index: int = 0):
        """The index of the word holding a character."""
        row, index = _row_and_index(batch_or_char_index, char_index)
        return self._encoding(row).char_to_word(index, sequence_index)

    def convert_to_tensors(self, tensor_type: str | None = None) -> BatchEncoding:
        """Turn every value into an int64 ``np.ndarray`` (``"np"``) or an int32 ``tf.Tensor`` (``"tf"``).

        Example:
            >>> tokenizer(["a b", "c"], padding=True).convert_to_tensors("tf")["input_ids"].dtype
            tf.int32
        """
        if tensor_type is None:
            return self
        tensor_type = getattr(tensor_type, "value", tensor_type)  # accept transformers' TensorType enum
        if tensor_type not in TENSOR_TYPES:
            raise InvalidInputError(
                f"return_tensors={tensor_type!r} is not supported: use 'np' (NumPy int64) or 'tf' "
                "(TensorFlow int32), or None for Python lists."
            )
        for key, value in list(self.items()):
            array = _as_int64_array(key, value)
            if tensor_type == "np":
                self[key] = array
            else:
                import tensorflow as tf

                self[key] = tf.convert_to_tensor(array.astype(np.int32))
        return self


class CharSpan(NamedTuple):
    """Characters ``start`` to ``end`` (excluded) of the original text."""

    start: int
    end: int


class TokenSpan(NamedTuple):
    """Tokens ``start`` to ``end`` (excluded) of an encoded sequence."""

    start: int
    end: int


def _row_and_index(first: int, second: int | None) -> tuple[int, int]:
    """transformers' (batch_or_index, index=None) arguments as (row, index)."""
    return (0, first) if second is None else (first, second)


def _as_int64_array(key: str, value) -> np.ndarray:
    if isinstance(value, np.ndarray) and value.dtype == np.int64:
        return value
    try:
        return np.asarray(value, dtype=np.int64)
    except (ValueError, TypeError) as error:
        raise InvalidInputError(
            f"Cannot make one tensor of {key!r}: its sequences have different lengths. Pass padding=True "
            "(pad to the longest in the batch) or padding='max_length' with truncation=True so every row "
            "has the same length, or leave return_tensors=None to get Python lists."
        ) from error


def _register_with_keras_tree() -> None:
    try:
        from keras.src import tree
    except ImportError:  # keras not installed: nothing to register with
        return
    try:
        tree.register_tree_node_class(BatchEncoding)
    except ValueError:  # already registered (module reloaded)
        pass


_register_with_keras_tree()


# --------------------------------------------------------------------------------------------
# PreTrainedTokenizerFast
# --------------------------------------------------------------------------------------------


def _special_token_property(name: str) -> property:
    def get(self) -> str | None:
        value = self._special_tokens.get(name)
        return None if value is None else str(value)

    def set(self, value: str | AddedToken | None) -> None:
        if value is not None and not isinstance(value, (str, AddedToken)):
            raise InvalidInputError(
                f"{name} must be a string, a tokenizers.AddedToken or None, got {type(value).__name__}."
            )
        self._special_tokens[name] = value

    return property(get, set, doc=f"The {name.replace('_', ' ')} as a string, or None when the tokenizer has none.")


def _special_token_id_property(name: str) -> property:
    def get(self) -> int | None:
        token = self._special_tokens.get(name)
        return None if token is None else self.convert_tokens_to_ids(str(token))

    def set(self, value: int | None) -> None:
        self._special_tokens[name] = None if value is None else self.convert_ids_to_tokens(int(value))

    return property(get, set, doc=f"The id of the {name.replace('_', ' ')}, or None.")


class PreTrainedTokenizerFast:
    """A tokenizer over a ``tokenizers.Tokenizer``, with the call and decode API of transformers.

    Usually made by :meth:`AutoTokenizer.from_pretrained`; it can also wrap a
    ``tokenizers.Tokenizer`` (used, and changed, in place) or a ``tokenizer.json`` directly.
    Not safe to call from several threads at once: each call sets the backend's padding and
    truncation, as in transformers.

    Example:
        >>> tokenizer = PreTrainedTokenizerFast(tokenizer_file="tokenizer.json", pad_token="[PAD]")
        >>> tokenizer("Hello world")["input_ids"]
        [101, 7592, 2088, 102]
    """

    bos_token = _special_token_property("bos_token")
    eos_token = _special_token_property("eos_token")
    unk_token = _special_token_property("unk_token")
    sep_token = _special_token_property("sep_token")
    pad_token = _special_token_property("pad_token")
    cls_token = _special_token_property("cls_token")
    mask_token = _special_token_property("mask_token")
    bos_token_id = _special_token_id_property("bos_token")
    eos_token_id = _special_token_id_property("eos_token")
    unk_token_id = _special_token_id_property("unk_token")
    sep_token_id = _special_token_id_property("sep_token")
    pad_token_id = _special_token_id_property("pad_token")
    cls_token_id = _special_token_id_property("cls_token")
    mask_token_id = _special_token_id_property("mask_token")

    # class defaults, as on transformers' classes; the per-architecture subclasses set their own
    vocab_files_names: dict[str, str] = {"tokenizer_file": TOKENIZER_FILE}
    model_input_names: list[str] = ["input_ids", "attention_mask"]
    padding_side: str = "right"
    truncation_side: str = "right"

    def __init__(
        self,
        tokenizer_object: Tokenizer | None = None,
        tokenizer_file: str | os.PathLike | None = None,
        *,
        model_max_length: int | None = None,
        padding_side: str | None = None,
        truncation_side: str | None = None,
        model_input_names: list[str] | None = None,
        clean_up_tokenization_spaces: bool = False,
        extra_special_tokens: list[str | AddedToken] | dict | None = None,
        added_tokens_decoder: dict | None = None,
        chat_template: str | dict | list | None = None,
        tokenizer_class: str | None = None,
        name_or_path: str = "",
        init_kwargs: dict | None = None,
        **kwargs,
    ):
        if tokenizer_object is None and tokenizer_file is None:
            raise InvalidInputError(
                "Pass tokenizer_object (a tokenizers.Tokenizer) or tokenizer_file (a tokenizer.json)."
            )
        self._tokenizer = tokenizer_object if tokenizer_object is not None else load_tokenizer_file(tokenizer_file)
        # A tokenizer.json may switch on fixed padding/truncation; like transformers, every call
        # sets its own instead.
        self._tokenizer.no_padding()
        self._tokenizer.no_truncation()

        # as transformers: named special tokens are set, other keywords are kept in init_kwargs
        # (and written back to tokenizer_config.json by save_pretrained)
        older_name_for_extras = kwargs.pop("additional_special_tokens", None)  # transformers v4
        if "max_len" in kwargs:  # transformers' older name
            model_max_length = kwargs.pop("max_len") if model_max_length is None else model_max_length
        explicit_bos_eos = "add_bos_token" in kwargs or "add_eos_token" in kwargs
        self._add_bos_token = bool(kwargs.pop("add_bos_token", False))
        self._add_eos_token = bool(kwargs.pop("add_eos_token", False))
        self._special_tokens: dict[str, str | AddedToken | None] = dict.fromkeys(SPECIAL_TOKEN_NAMES)
        for name in SPECIAL_TOKEN_NAMES:
            if name in kwargs:
                setattr(self, name, _as_token(kwargs.pop(name)))
        extras = extra_special_tokens if extra_special_tokens is not None else older_name_for_extras
        if isinstance(extras, dict):  # transformers v5 may store {name: token}
            extras = list(extras.values())
        self._extra_special_tokens: list[str | AddedToken] = [_as_token(token) for token in extras or []]

        self.model_max_length = VERY_LARGE_INTEGER if model_max_length is None else int(model_max_length)
        self.padding_side = _check_side("padding_side", padding_side or type(self).padding_side)
        self.truncation_side = _check_side("truncation_side", truncation_side or type(self).truncation_side)
        self.model_input_names = list(model_input_names or type(self).model_input_names)
        self.clean_up_tokenization_spaces = clean_up_tokenization_spaces
        self.tokenizer_class = tokenizer_class or _default_class_name(type(self))
        self.name_or_path = str(name_or_path)
        self.init_kwargs = {**(init_kwargs or {}), **kwargs}
        if explicit_bos_eos:
            self.init_kwargs.update(add_bos_token=self._add_bos_token, add_eos_token=self._add_eos_token)
        if isinstance(chat_template, (list, tuple)):  # tokenizer_config.json's list of named templates
            chat_template = {template["name"]: template["template"] for template in chat_template}
        self.chat_template: str | dict[str, str] | None = chat_template
        self._warned: set[str] = set()

        # Added tokens recorded in tokenizer_config.json go in first, in id order, so ids stay put.
        added = [
            token if isinstance(token, AddedToken) else AddedToken(**{k: v for k, v in token.items() if k != "__type"})
            for _, token in sorted((added_tokens_decoder or {}).items(), key=lambda item: int(item[0]))
            if isinstance(token, (dict, AddedToken))
        ]
        present = {token.content for token in self._tokenizer.get_added_tokens_decoder().values()}
        self._tokenizer.add_tokens([token for token in added if token.content not in present])
        self._add_missing_special_tokens()
        if explicit_bos_eos or self._tokenizer.post_processor is None:
            # as transformers: [bos] $A [eos] with the tokens add_bos_token / add_eos_token ask for
            # (plain $A / $A $B with type ids 0 / 1 when neither)
            self.update_post_processor()

    def update_post_processor(self) -> None:
        """Rebuild the ``[bos] $A [eos]`` template from ``add_bos_token`` / ``add_eos_token`` and the current tokens.

        Example:
            >>> tokenizer.add_eos_token = True  # calls update_post_processor()
            >>> tokenizer.encode("hi")[-1] == tokenizer.eos_token_id
            True
        """
        add_bos = self._add_bos_token and self.bos_token is not None
        add_eos = self._add_eos_token and self.eos_token is not None
        self._tokenizer.post_processor = _template_post_processor(
            (self.bos_token, self.bos_token_id) if add_bos else None,
            (self.eos_token, self.eos_token_id) if add_eos else None,
        )

    @property
    def add_bos_token(self) -> bool:
        """Whether a call puts ``bos_token`` first; setting it rebuilds the template."""
        return self._add_bos_token

    @add_bos_token.setter
    def add_bos_token(self, value: bool) -> None:
        self._add_bos_token = bool(value)
        self.update_post_processor()

    @property
    def add_eos_token(self) -> bool:
        """Whether a call puts ``eos_token`` last; setting it rebuilds the template."""
        return self._add_eos_token

    @add_eos_token.setter
    def add_eos_token(self, value: bool) -> None:
        self._add_eos_token = bool(value)
        self.update_post_processor()

    # ---- loading and saving ------------------------------------------------------------------

    @classmethod
    def from_pretrained(cls, name_or_path, revision=None, cache_dir=None, **kwargs) -> PreTrainedTokenizerFast:
        """Same as :meth:`AutoTokenizer.from_pretrained` (see :func:`load_pretrained_tokenizer`).

        Example:
            >>> tokenizer = PreTrainedTokenizerFast.from_pretrained("./my-model")
        """
        return load_pretrained_tokenizer(name_or_path, revision=revision, cache_dir=cache_dir, **kwargs)

    def push_to_hub(
        self,
        repo_id: str,
        commit_message: str | None = None,
        private: bool | None = None,
        token: str | bool | None = None,
        revision: str | None = None,
        create_pr: bool = False,
        tags: list[str] | None = None,
        **kwargs: Any,
    ):
        """Upload the tokenizer files to the Hub as one commit ("Upload tokenizer"); returns the ``CommitInfo``.

        The repository's model card is kept (``tags`` are added to it).

        Example:
            >>> tokenizer.push_to_hub("me/tiny-bert")
        """
        from kerasformers.hub_push import push_to_hub

        return push_to_hub(
            self,
            repo_id,
            commit_message=commit_message,
            private=private,
            token=token,
            revision=revision,
            create_pr=create_pr,
            tags=tags,
            **kwargs,
        )

    def save_pretrained(self, save_directory: str | os.PathLike, **kwargs) -> tuple[str, ...]:
        """Write tokenizer.json, tokenizer_config.json and special_tokens_map.json to a folder.

        The files are written all at once (never half): they appear only when all are complete.
        ``kwargs`` (transformers' ``legacy_format``, ``push_to_hub``...) are accepted and ignored.
        Both kerasformers and transformers load the folder back.

        Example:
            >>> tokenizer.save_pretrained("out")
            ('out/tokenizer.json', 'out/tokenizer_config.json', 'out/special_tokens_map.json')
        """
        save_directory = Path(save_directory)
        if save_directory.exists() and not save_directory.is_dir():
            raise NotAFolderError(f"save_pretrained needs a folder, but {save_directory} is a file.")

        tokenizer_json = json.loads(self._tokenizer.to_str())
        tokenizer_json["padding"] = None  # the state left by the last call, not part of the tokenizer
        tokenizer_json["truncation"] = None

        special_tokens_map = self.special_tokens_map
        if self._extra_special_tokens:
            special_tokens_map["additional_special_tokens"] = [str(token) for token in self._extra_special_tokens]
        config = {key: value for key, value in self.init_kwargs.items() if key not in _CONFIG_KEYS_NOT_SAVED}
        config.update(
            tokenizer_class=self.tokenizer_class,
            model_max_length=self.model_max_length,
            padding_side=self.padding_side,
            truncation_side=self.truncation_side,
            model_input_names=self.model_input_names,
            clean_up_tokenization_spaces=self.clean_up_tokenization_spaces,
            **{name: getattr(self, name) for name in SPECIAL_TOKEN_NAMES},  # strings or None
        )
        if self._extra_special_tokens:
            config["extra_special_tokens"] = special_tokens_map["additional_special_tokens"]

        if self._add_bos_token or self._add_eos_token or "add_bos_token" in self.init_kwargs:
            config.update(add_bos_token=self._add_bos_token, add_eos_token=self._add_eos_token)

        files = {
            TOKENIZER_FILE: tokenizer_json,
            TOKENIZER_CONFIG_FILE: config,
            SPECIAL_TOKENS_MAP_FILE: special_tokens_map,
        }
        # chat templates as transformers 5 writes them: chat_template.jinja, others in additional_chat_templates/
        templates = {"default": self.chat_template} if isinstance(self.chat_template, str) else self.chat_template
        template_files = {}
        for name, template in (templates or {}).items():
            if name != "default" and (not name or Path(name).name != name or name.startswith(".")):
                raise InvalidInputError(f"Invalid chat template name {name!r}: use a plain file name.")
            template_files[CHAT_TEMPLATE_FILE if name == "default" else f"{CHAT_TEMPLATE_DIR}/{name}.jinja"] = template
        with atomic_folder_write(save_directory) as tmp:
            for file_name, content in files.items():
                (tmp / file_name).write_text(json.dumps(content, indent=2, ensure_ascii=False) + "\n", "utf-8")
            for file_name, template in template_files.items():
                (tmp / file_name).parent.mkdir(exist_ok=True)
                (tmp / file_name).write_text(template, "utf-8")
        return tuple(str(save_directory / file_name) for file_name in [*files, *template_files])

    # ---- encoding ----------------------------------------------------------------------------

    def __call__(self, text=None, text_pair=None, text_target=None, text_pair_target=None, **kwargs) -> BatchEncoding:
        """Tokenize one text, a batch of texts, or (batches of) text pairs; targets too.

        Padding, truncation and their defaults follow transformers exactly: ``padding`` is
        False / True (= "longest") / "max_length" / "do_not_pad"; ``truncation`` is False / True
        (= "longest_first") / "only_first" / "only_second" / "do_not_truncate"; a ``max_length``
        alone turns truncation on; truncation or ``padding="max_length"`` without ``max_length``
        use ``model_max_length``. ``return_tensors`` is None (lists), "np" (int64) or "tf" (int32).
        ``text_target`` (and ``text_pair_target``) are tokenized with the same options and come
        back as ``labels`` (alone, their encoding, when there is no ``text``), as for seq2seq models.
        The other options: see :meth:`encode_plus`.

        Example:
            >>> tokenizer(["Hello world", "Hi"], padding=True)["attention_mask"]
            [[1, 1, 1, 1], [1, 1, 1, 0]]
            >>> tokenizer("a question", "a context", truncation="only_second", max_length=8)
            >>> tokenizer("translate me", text_target="traduis-moi")["labels"]
        """
        if text is None and text_target is None:
            raise InvalidInputError(
                "You need to give `text` (or `text_target`): a string, a list of strings, or a list of text pairs."
            )
        encodings = self._encode_texts(text, text_pair, **kwargs) if text is not None else None
        if text_target is None:
            return encodings
        targets = self._encode_texts(text_target, text_pair_target, **kwargs)
        if encodings is None:
            return targets
        encodings["labels"] = targets["input_ids"]
        return encodings

    def encode_plus(self, text, text_pair=None, **kwargs) -> BatchEncoding:
        """One text (or pair) to a :class:`BatchEncoding`, as transformers' ``encode_plus`` (the same as calling).

        Example:
            >>> tokenizer.encode_plus("Hello", "world", return_token_type_ids=True)["token_type_ids"]
            [0, 0, 0, 1, 1]
        """
        if isinstance(text, (list, tuple)) and not kwargs.get("is_split_into_words"):
            raise InvalidInputTypeError(
                "encode_plus takes one text (a string); for a batch, call the tokenizer or use batch_encode_plus."
            )
        return self._encode_texts(text, text_pair, **kwargs)

    def batch_encode_plus(self, batch_text_or_text_pairs, **kwargs) -> BatchEncoding:
        """A batch of texts, or of (text, pair) tuples, to a :class:`BatchEncoding` (the same as calling).

        Example:
            >>> tokenizer.batch_encode_plus([("Hello", "world"), ("Hi", "there")], padding=True)["input_ids"]
        """
        if isinstance(batch_text_or_text_pairs, str):
            raise InvalidInputTypeError("batch_encode_plus takes a list of texts or (text, pair) tuples, not a string.")
        return self._encode_texts(list(batch_text_or_text_pairs), None, **kwargs)

    def _encode_texts(
        self,
        text,
        text_pair=None,
        *,
        add_special_tokens: bool = True,
        padding: bool | str = False,
        truncation: bool | str | None = None,
        max_length: int | None = None,
        stride: int = 0,
        is_split_into_words: bool = False,
        pad_to_multiple_of: int | None = None,
        padding_side: str | None = None,
        return_tensors: str | None = None,
        return_token_type_ids: bool | None = None,
        return_attention_mask: bool | None = None,
        return_overflowing_tokens: bool = False,
        return_special_tokens_mask: bool = False,
        return_offsets_mapping: bool = False,
        return_length: bool = False,
        verbose: bool = True,
    ) -> BatchEncoding:
        if text is None:
            raise InvalidInputError("You need to give `text`: a string, a list of strings, or a list of text pairs.")
        padding_strategy, truncation_strategy, max_length = self._padding_and_truncation(
            padding, truncation, max_length, pad_to_multiple_of, verbose
        )
        for name, value in (("text", text), ("text_pair", text_pair)):
            problem = None if value is None else _text_input_problem(value, f"`{name}`")
            if problem:
                raise InvalidInputError(
                    f"`{name}` must be a string (one example), a list of strings (a batch, or one example split "
                    "into words with is_split_into_words=True), a list of lists of strings (a batch of split "
                    f"examples) or a list of (text, text_pair) tuples; got {problem}."
                )

        if is_split_into_words:
            is_batched = isinstance(text, (list, tuple)) and bool(text) and isinstance(text[0], (list, tuple))
        else:
            is_batched = isinstance(text, (list, tuple))
        if is_batched:
            if isinstance(text_pair, str):
                raise InvalidInputTypeError(
                    "When `text` is a batch, `text_pair` must be a list of the same length, not a string."
                )
            if text_pair is not None and len(text) != len(text_pair):
                raise InvalidInputError(f"`text` has {len(text)} examples but `text_pair` has {len(text_pair)}.")
            inputs = list(zip(text, text_pair)) if text_pair is not None else list(text)
        else:
            # as transformers: an empty second text means no pair
            inputs = [(text, text_pair)] if text_pair else [text]

        self._set_backend_padding_and_truncation(
            padding_strategy, truncation_strategy, max_length, stride, pad_to_multiple_of, padding_side
        )
        encodings = self._tokenizer.encode_batch(
            inputs, add_special_tokens=add_special_tokens, is_pretokenized=is_split_into_words
        )

        if return_token_type_ids is None:
            return_token_type_ids = "token_type_ids" in self.model_input_names
        if return_attention_mask is None:
            return_attention_mask = "attention_mask" in self.model_input_names
        rows, sample_of_row = [], []
        for sample, encoding in enumerate(encodings):
            pieces = [encoding] + (list(encoding.overflowing) if return_overflowing_tokens else [])
            rows.extend(pieces)
            sample_of_row.extend([sample] * len(pieces))

        data: dict[str, list] = {"input_ids": [row.ids for row in rows]}
        if return_token_type_ids:
            data["token_type_ids"] = [row.type_ids for row in rows]
        if return_attention_mask:
            data["attention_mask"] = [row.attention_mask for row in rows]
        if return_special_tokens_mask:
            data["special_tokens_mask"] = [row.special_tokens_mask for row in rows]
        if return_offsets_mapping:
            data["offset_mapping"] = [row.offsets for row in rows]
        if return_length:
            data["length"] = [len(row.ids) for row in rows]
        if return_overflowing_tokens:
            data["overflow_to_sample_mapping"] = sample_of_row

        for ids in data["input_ids"]:
            self._warn_if_too_long(len(ids), max_length, verbose)

        if not is_batched and return_tensors is None and not return_overflowing_tokens:
            # one example in, one example out: drop the batch axis (as transformers does, only on
            # values that are lists of lists)
            data = {key: value[0] if value and isinstance(value[0], list) else value for key, value in data.items()}
        return BatchEncoding(data, rows, tensor_type=return_tensors)

    def encode(
        self,
        text,
        text_pair=None,
        *,
        add_special_tokens: bool = True,
        padding: bool | str = False,
        truncation: bool | str | None = None,
        max_length: int | None = None,
        stride: int = 0,
        padding_side: str | None = None,
        return_tensors: str | None = None,
    ) -> list[int]:
        """Token ids of one text (or pair), special tokens included.

        Example:
            >>> tokenizer.encode("Hello world")
            [101, 7592, 2088, 102]
        """
        return self(
            text,
            text_pair,
            add_special_tokens=add_special_tokens,
            padding=padding,
            truncation=truncation,
            max_length=max_length,
            stride=stride,
            padding_side=padding_side,
            return_tensors=return_tensors,
        )["input_ids"]

    def tokenize(self, text: str, pair: str | None = None, add_special_tokens: bool = False) -> list[str]:
        """Token strings of a text (without special tokens unless asked).

        Example:
            >>> tokenizer.tokenize("Hello, wörld!")
            ['hello', ',', 'world', '!']
        """
        return self(text, pair, add_special_tokens=add_special_tokens, return_attention_mask=False).tokens()

    def pad(
        self,
        encoded_inputs,
        padding: bool | str = True,
        max_length: int | None = None,
        pad_to_multiple_of: int | None = None,
        padding_side: str | None = None,
        return_attention_mask: bool | None = None,
        return_tensors: str | None = None,
        verbose: bool = True,
    ) -> BatchEncoding:
        """Pad already tokenized examples to one length, as data collators do.

        ``encoded_inputs`` is a list of examples (dicts), a dict of lists, or one example.
        ``input_ids``, ``attention_mask``, ``token_type_ids`` and ``special_tokens_mask`` are
        padded; other keys are left as they are.

        Example:
            >>> features = [tokenizer("Hello world"), tokenizer("Hi")]
            >>> tokenizer.pad(features, return_tensors="np")["input_ids"].shape
            (2, 4)
        """
        if isinstance(encoded_inputs, (list, tuple)) and encoded_inputs and isinstance(encoded_inputs[0], Mapping):
            encoded_inputs = {key: [example[key] for example in encoded_inputs] for key in encoded_inputs[0]}
        main_input = self.model_input_names[0]
        if main_input not in encoded_inputs:
            raise InvalidInputError(f"pad() needs {main_input!r} in its input, got the keys {list(encoded_inputs)}.")
        if return_tensors is None:  # arrays in, arrays out (as transformers)
            first = encoded_inputs[main_input]
            first = first[0] if isinstance(first, (list, tuple)) and first else first
            return_tensors = "np" if isinstance(first, np.ndarray) else "tf" if _is_tf_tensor(first) else None
        data = {key: _to_python(value) for key, value in encoded_inputs.items()}
        if not data[main_input]:
            if return_attention_mask:
                data["attention_mask"] = []
            return BatchEncoding(data, tensor_type=return_tensors)

        padding_strategy, _, max_length = self._padding_and_truncation(padding, None, max_length, None, verbose)
        if return_attention_mask is None:
            return_attention_mask = "attention_mask" in self.model_input_names
        is_batch = isinstance(data[main_input][0], list)
        examples = [dict(zip(data, values)) for values in zip(*data.values())] if is_batch else [data]
        if padding_strategy == "longest":
            target = max(len(example[main_input]) for example in examples)
        else:
            target = max_length if padding_strategy == "max_length" else None
        if target is not None and pad_to_multiple_of:
            target = -(-target // pad_to_multiple_of) * pad_to_multiple_of  # round up
        side = _check_side("padding_side", padding_side or self.padding_side)
        padded = [self._pad_example(example, target, side, return_attention_mask) for example in examples]
        result = {key: [example[key] for example in padded] for key in padded[0]} if is_batch else padded[0]
        return BatchEncoding(result, tensor_type=return_tensors)

    def _pad_example(self, example: dict, target: int | None, side: str, return_attention_mask: bool) -> dict:
        main_input = self.model_input_names[0]
        length = len(example[main_input])
        if return_attention_mask and "attention_mask" not in example:
            example["attention_mask"] = [1] * length
        missing = 0 if target is None else target - length
        if missing <= 0:
            return example
        fill_values = {
            main_input: self.pad_token_id,
            "token_type_ids": self.pad_token_type_id,
            "special_tokens_mask": 1,
        }
        if return_attention_mask:
            fill_values["attention_mask"] = 0
        for key, fill in fill_values.items():
            if key in example:
                filler = [fill] * missing
                example[key] = example[key] + filler if side == "right" else filler + example[key]
        return example

    def _padding_and_truncation(self, padding, truncation, max_length, pad_to_multiple_of, verbose):
        """Resolve the call arguments to (padding strategy, truncation strategy, max_length) as transformers does."""
        padding = getattr(padding, "value", padding)  # accept transformers' enums
        truncation = getattr(truncation, "value", truncation)
        if max_length is not None and padding is False and truncation is None:
            truncation = "longest_first"  # transformers: a max_length alone means truncate to it

        if padding is False:
            padding_strategy = "do_not_pad"
        elif padding is True:
            if verbose and max_length is not None and truncation in (None, False, "do_not_truncate"):
                warnings.warn(
                    "`max_length` is ignored when `padding`=`True` and there is no truncation strategy. "
                    "To pad to max length, use `padding='max_length'`.",
                    stacklevel=3,
                )
            padding_strategy = "longest"
        elif padding in PADDING_STRATEGIES:
            padding_strategy = padding
        else:
            raise InvalidInputError(f"padding={padding!r} is not one of True, False, {PADDING_STRATEGIES}.")

        if truncation in (None, False):
            truncation_strategy = "do_not_truncate"
        elif truncation is True:
            truncation_strategy = "longest_first"
        elif truncation in TRUNCATION_STRATEGIES:
            truncation_strategy = truncation
        else:
            raise InvalidInputError(f"truncation={truncation!r} is not one of True, False, {TRUNCATION_STRATEGIES}.")

        if max_length is None:
            no_limit = self.model_max_length > LARGE_INTEGER
            if padding_strategy == "max_length":
                if no_limit:
                    padding_strategy = "do_not_pad"
                else:
                    max_length = self.model_max_length
            if truncation_strategy != "do_not_truncate":
                if no_limit:
                    truncation_strategy = "do_not_truncate"
                else:
                    max_length = self.model_max_length

        if padding_strategy != "do_not_pad" and (self.pad_token is None or self.pad_token_id is None):
            raise InvalidInputError(
                "Asking to pad but the tokenizer has no padding token. Set one, e.g. "
                "`tokenizer.pad_token = tokenizer.eos_token`, or add one with "
                "`tokenizer.add_special_tokens({'pad_token': '[PAD]'})`."
            )
        if (
            truncation_strategy != "do_not_truncate"
            and padding_strategy != "do_not_pad"
            and pad_to_multiple_of is not None
            and max_length is not None
            and max_length % pad_to_multiple_of != 0
        ):
            raise InvalidInputError(
                "Truncation and padding are both activated but "
                f"truncation length ({max_length}) is not a multiple of pad_to_multiple_of ({pad_to_multiple_of})."
            )
        return padding_strategy, truncation_strategy, max_length

    def _set_backend_padding_and_truncation(
        self, padding_strategy, truncation_strategy, max_length, stride, pad_to_multiple_of, padding_side
    ):
        if truncation_strategy == "do_not_truncate":
            self._tokenizer.no_truncation()
        else:
            self._tokenizer.enable_truncation(
                max_length, stride=stride, strategy=truncation_strategy, direction=self.truncation_side
            )
        if padding_strategy == "do_not_pad":
            self._tokenizer.no_padding()
        else:
            self._tokenizer.enable_padding(
                direction=_check_side("padding_side", padding_side or self.padding_side),
                pad_id=self.pad_token_id,
                pad_type_id=self.pad_token_type_id,
                pad_token=self.pad_token,
                length=max_length if padding_strategy == "max_length" else None,
                pad_to_multiple_of=pad_to_multiple_of,
            )

    def _warn_if_too_long(self, length: int, max_length: int | None, verbose: bool) -> None:
        if max_length is None and verbose and 0 < self.model_max_length < length and "too_long" not in self._warned:
            self._warned.add("too_long")
            warnings.warn(
                "Token indices sequence length is longer than the specified maximum sequence length "
                f"for this model ({length} > {self.model_max_length}). Running this sequence through the model "
                "will result in indexing errors. Pass truncation=True to cut it to the model's limit.",
                stacklevel=3,
            )

    # ---- decoding ----------------------------------------------------------------------------

    def decode(
        self, token_ids, skip_special_tokens: bool = False, clean_up_tokenization_spaces: bool | None = None
    ) -> str | list[str]:
        """Ids back to text. A batch (list of lists, 2-D array or tensor) gives a list of texts.

        Example:
            >>> tokenizer.decode([101, 7592, 2088, 102], skip_special_tokens=True)
            'hello world'
        """
        return self._decode(token_ids, "token_ids", skip_special_tokens, clean_up_tokenization_spaces)

    def _decode(self, token_ids, argument: str, skip_special_tokens: bool, clean_up: bool | None) -> str | list[str]:
        token_ids = _to_python(token_ids)
        if isinstance(token_ids, int):
            token_ids = [token_ids]
        is_batch = isinstance(token_ids, list) and bool(token_ids) and isinstance(token_ids[0], list)
        rows = token_ids if is_batch else [token_ids]
        for index, ids in enumerate(rows):
            self._check_ids(ids, f"{argument}[{index}]" if is_batch else argument)
        texts = [self._decode_one(ids, skip_special_tokens, clean_up) for ids in rows]
        return texts if is_batch else texts[0]

    def _check_ids(self, ids, argument: str) -> None:
        """An InvalidInputTypeError / InvalidInputError naming ``argument`` for ids tokenizers would
        reject with an opaque message (strings, floats, negatives).

        Ids past the vocabulary are let through: the tokenizers library skips them when decoding, as
        transformers does, and models such as Qwen2 have embedding tables larger than the tokenizer,
        so generated ids may land there.
        """
        if not isinstance(ids, list):
            raise InvalidInputTypeError(
                f"`{argument}` must be a list of int token ids (or a batch of them, an array "
                f"or a tensor), got {type(ids).__name__}{_short_repr(ids)}."
            )
        for item in ids:
            if not isinstance(item, int):
                raise InvalidInputTypeError(
                    f"`{argument}` must hold int token ids, but holds a {type(item).__name__}"
                    f"{_short_repr(item)}; to get ids from text, call the tokenizer on the "
                    "text."
                )
        if ids and min(ids) < 0:
            size = len(self)
            raise InvalidInputError(
                f"`{argument}` holds the id {min(ids)}; token ids are not negative (the "
                f"vocabulary has ids 0 to {size - 1}, {size} tokens)."
            )

    def batch_decode(
        self, sequences, skip_special_tokens: bool = False, clean_up_tokenization_spaces: bool | None = None
    ) -> list[str]:
        """A list of texts from a batch of id sequences.

        Example:
            >>> tokenizer.batch_decode([[101, 7592, 102], [101, 2088, 102]], skip_special_tokens=True)
            ['hello', 'world']
        """
        result = self._decode(sequences, "sequences", skip_special_tokens, clean_up_tokenization_spaces)
        return [result] if isinstance(result, str) else result

    def _decode_one(self, ids: list[int], skip_special_tokens: bool, clean_up: bool | None) -> str:
        text = self._tokenizer.decode(ids, skip_special_tokens=skip_special_tokens)
        if clean_up is None:
            clean_up = self.clean_up_tokenization_spaces
        if not clean_up:
            return text
        # as transformers: the clean-up was made for WordPiece and would drop real spaces from BPE text
        if type(self._tokenizer.model).__name__ == "BPE" and not self.init_kwargs.get(
            "clean_up_tokenization_spaces_for_bpe_even_though_it_will_corrupt_output"
        ):
            if "bpe_cleanup" not in self._warned:
                self._warned.add("bpe_cleanup")
                warnings.warn(
                    "Ignoring clean_up_tokenization_spaces=True for this BPE tokenizer: the clean-up is made for "
                    "WordPiece and would remove real spaces before punctuation. Pass "
                    "clean_up_tokenization_spaces=False to silence this.",
                    stacklevel=3,
                )
            return text
        return clean_up_tokenization(text)

    # ---- chat templates ----------------------------------------------------------------------

    def get_chat_template(self, chat_template: str | None = None, tools: list[dict] | None = None) -> str:
        """The template text to use: ``chat_template`` (a template, or the name of one of the tokenizer's
        named templates), else the tokenizer's ("tool_use" when ``tools`` are given and it has one).

        Example:
            >>> tokenizer.get_chat_template().startswith("{%")
            True
        """
        if isinstance(self.chat_template, dict):
            templates = self.chat_template
            if chat_template is not None and chat_template in templates:
                return templates[chat_template]
            if chat_template is None:
                if tools is not None and "tool_use" in templates:
                    return templates["tool_use"]
                if "default" in templates:
                    return templates["default"]
                raise InvalidInputError(
                    f"This tokenizer has several chat templates and none is named 'default': pass "
                    f"chat_template= one of {sorted(templates)} (or a template string)."
                )
            return chat_template
        if chat_template is not None:
            return chat_template
        if self.chat_template is None:
            raise InvalidInputError(
                "This tokenizer has no chat template (none in tokenizer_config.json or chat_template.jinja). Pass "
                "one: apply_chat_template(conversation, chat_template='{% for message in messages %}...'), or set "
                "tokenizer.chat_template = '...' (save_pretrained writes it to chat_template.jinja)."
            )
        return self.chat_template

    def apply_chat_template(
        self,
        conversation,
        tools: list[dict] | None = None,
        documents: list[dict] | None = None,
        chat_template: str | None = None,
        add_generation_prompt: bool = False,
        continue_final_message: bool | str = False,
        tokenize: bool = True,
        padding: bool | str = False,
        truncation: bool = False,
        max_length: int | None = None,
        return_tensors: str | None = None,
        return_dict: bool = False,
        return_assistant_tokens_mask: bool = False,
        tokenizer_kwargs: dict[str, Any] | None = None,
        **kwargs,
    ):
        """Render a conversation (or a batch of them) with the chat template, and tokenize it.

        ``conversation`` is a list of ``{"role": ..., "content": ...}`` messages, or a list of such
        lists. The template renders as in transformers (see :mod:`kerasformers.tokenization.chat_template`);
        ``kwargs`` become template variables, after the special tokens (``bos_token``...). With
        ``tokenize=False`` the text comes back; else the ids (no special tokens added: the template
        writes them), or with ``return_dict=True`` the whole :class:`BatchEncoding`, where
        ``return_assistant_tokens_mask=True`` adds ``assistant_masks`` (1 on text inside the
        template's ``{% generation %}`` blocks). ``return_dict`` defaults to False, as in transformers 4
        (transformers 5 made it True).

        Example:
            >>> messages = [{"role": "user", "content": "Hi!"}]
            >>> tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
            '<|im_start|>user\\nHi!<|im_end|>\\n<|im_start|>assistant\\n'
            >>> tokenizer.apply_chat_template(messages, return_tensors="tf", return_dict=True)["input_ids"].shape
            TensorShape([1, 9])
        """
        if kwargs.pop("sanitize_control_tokens", False):
            raise NotSupportedError(
                "sanitize_control_tokens=True is not supported by kerasformers: check user text for special "
                "tokens before calling apply_chat_template."
            )
        if not tokenize:
            return_dict = False
        if return_assistant_tokens_mask and not (return_dict and tokenize):
            raise InvalidInputError(
                "return_assistant_tokens_mask=True needs return_dict=True and tokenize=True (the mask is a key "
                "of the returned BatchEncoding)."
            )
        template = self.get_chat_template(chat_template, tools)
        if isinstance(conversation, (list, tuple)) and len(conversation) == 0:
            raise InvalidInputError("Cannot apply a chat template to an empty conversation: give at least one message.")
        is_batched = isinstance(conversation, (list, tuple)) and (
            isinstance(conversation[0], (list, tuple)) or hasattr(conversation[0], "messages")
        )
        conversations = conversation if is_batched else [conversation]
        if not isinstance(conversations, (list, tuple)) or not all(
            isinstance(chat, (list, tuple)) or hasattr(chat, "messages") for chat in conversations
        ):
            raise InvalidInputTypeError(
                "conversation must be a list of {'role': ..., 'content': ...} dicts, or a list of such lists "
                f"(a batch); got {type(conversation).__name__}."
            )
        # as transformers: keys whose value is None are dropped (templates test for a missing key)
        conversations = [
            [
                {key: value for key, value in message.items() if value is not None}
                if isinstance(message, Mapping)
                else message
                for message in getattr(chat, "messages", chat)
            ]
            for chat in conversations
        ]
        if continue_final_message and add_generation_prompt:
            raise InvalidInputError(
                "continue_final_message and add_generation_prompt do not go together: continue_final_message "
                "lets the model continue the last message, add_generation_prompt starts a new assistant message."
            )
        if continue_final_message and return_assistant_tokens_mask:
            raise InvalidInputError("continue_final_message does not go with return_assistant_tokens_mask.")
        if return_assistant_tokens_mask and not has_generation_tag(template) and "generation_tag" not in self._warned:
            self._warned.add("generation_tag")
            warnings.warn(
                "return_assistant_tokens_mask=True but the chat template has no {% generation %} block: the mask "
                "is all zeros.",
                stacklevel=2,
            )

        rendered, spans = render_chat_template(
            conversations,
            template,
            tools=tools,
            documents=documents,
            add_generation_prompt=add_generation_prompt,
            continue_final_message=continue_final_message,
            return_assistant_tokens_mask=return_assistant_tokens_mask,
            **{**self.special_tokens_map, **kwargs},
        )
        if not tokenize:
            return rendered if is_batched else rendered[0]
        out = self(
            rendered if is_batched else rendered[0],
            padding=padding,
            truncation=truncation,
            max_length=max_length,
            add_special_tokens=False,
            return_tensors=return_tensors,
            **(tokenizer_kwargs or {}),
        )
        if not return_dict:
            return out["input_ids"]
        if return_assistant_tokens_mask:
            ids = out["input_ids"] if is_batched or return_tensors else [out["input_ids"]]
            masks = []
            for row in range(len(ids)):
                mask = [0] * len(ids[row])
                for start_char, end_char in spans[row]:
                    start = out.char_to_token(row, start_char)
                    end = out.char_to_token(row, end_char - 1)
                    if start is None:  # cut off by truncation
                        break
                    for index in range(start, end + 1 if end else len(ids[row])):
                        mask[index] = 1
                masks.append(mask)
            out["assistant_masks"] = masks if is_batched or return_tensors else masks[0]
            if return_tensors:
                out.convert_to_tensors(return_tensors)
        return out

    # ---- vocabulary and special tokens -------------------------------------------------------

    @property
    def backend_tokenizer(self) -> Tokenizer:
        """The ``tokenizers.Tokenizer`` doing the work."""
        return self._tokenizer

    @property
    def is_fast(self) -> bool:
        return True

    @property
    def vocab_size(self) -> int:
        """Size of the base vocabulary, without added tokens."""
        return self._tokenizer.get_vocab_size(with_added_tokens=False)

    def __len__(self) -> int:
        """Size of the full vocabulary, added tokens included."""
        return self._tokenizer.get_vocab_size(with_added_tokens=True)

    def get_vocab(self) -> dict[str, int]:
        """Token -> id for the whole vocabulary, added tokens included."""
        return self._tokenizer.get_vocab(with_added_tokens=True)

    @property
    def vocab(self) -> dict[str, int]:
        return self.get_vocab()

    def get_added_vocab(self) -> dict[str, int]:
        """Token -> id for the added tokens only."""
        return {token.content: index for index, token in sorted(self._tokenizer.get_added_tokens_decoder().items())}

    @property
    def pad_token_type_id(self) -> int:
        return 0

    @property
    def special_tokens_map(self) -> dict[str, str]:
        """The named special tokens that are set, e.g. ``{'unk_token': '[UNK]', ...}``."""
        return {name: str(value) for name, value in self._special_tokens.items() if value is not None}

    @property
    def additional_special_tokens(self) -> list[str]:
        return [str(token) for token in self._extra_special_tokens]

    @property
    def all_special_tokens(self) -> list[str]:
        """All special token strings (named first, then additional), without repeats."""
        tokens = [str(value) for value in self._special_tokens.values() if value is not None]
        tokens += [str(token) for token in self._extra_special_tokens]
        return list(dict.fromkeys(tokens))

    @property
    def all_special_ids(self) -> list[int]:
        return self.convert_tokens_to_ids(self.all_special_tokens)

    def convert_tokens_to_ids(self, tokens: str | list[str]) -> int | list[int]:
        """Id of a token (or ids of a list); unknown tokens give ``unk_token_id``.

        Example:
            >>> tokenizer.convert_tokens_to_ids(["hello", "world"])
            [7592, 2088]
        """
        if isinstance(tokens, str):
            return self._token_to_id(tokens)
        return [self._token_to_id(token) for token in tokens]

    def _token_to_id(self, token: str) -> int | None:
        index = self._tokenizer.token_to_id(token)
        if index is None:
            unk = self._special_tokens.get("unk_token")
            return None if unk is None else self._tokenizer.token_to_id(str(unk))
        return index

    def convert_ids_to_tokens(self, ids, skip_special_tokens: bool = False) -> str | list[str]:
        """Token string of an id (or strings of a list of ids).

        Example:
            >>> tokenizer.convert_ids_to_tokens([101, 7592, 102], skip_special_tokens=True)
            ['hello']
        """
        ids = _to_python(ids)
        if isinstance(ids, int):
            return self._tokenizer.id_to_token(ids)
        skipped = set(self.all_special_ids) if skip_special_tokens else set()
        return [self._tokenizer.id_to_token(index) for index in ids if index not in skipped]

    def convert_tokens_to_string(self, tokens: list[str]) -> str:
        """Join token strings into text with the tokenizer's decoder."""
        decoder = self._tokenizer.decoder
        return decoder.decode(tokens) if decoder is not None else " ".join(tokens)

    def num_special_tokens_to_add(self, pair: bool = False) -> int:
        """How many special tokens a call adds to one text (or a pair)."""
        return self._tokenizer.num_special_tokens_to_add(pair)

    @property
    def max_len_single_sentence(self) -> int:
        return self.model_max_length - self.num_special_tokens_to_add(pair=False)

    @property
    def max_len_sentences_pair(self) -> int:
        return self.model_max_length - self.num_special_tokens_to_add(pair=True)

    def get_special_tokens_mask(self, token_ids_0, token_ids_1=None, already_has_special_tokens=False) -> list[int]:
        """1 for each special token id of an already-built sequence, 0 elsewhere.

        Example:
            >>> tokenizer.get_special_tokens_mask([101, 7592, 102], already_has_special_tokens=True)
            [1, 0, 1]
        """
        if not already_has_special_tokens or token_ids_1 is not None:
            raise InvalidInputError(
                "get_special_tokens_mask works on a sequence that already has its special tokens: pass one "
                "sequence and already_has_special_tokens=True, or call the tokenizer with "
                "return_special_tokens_mask=True."
            )
        special_ids = set(self.all_special_ids)
        return [1 if int(index) in special_ids else 0 for index in _to_python(token_ids_0)]

    def add_tokens(self, new_tokens: str | AddedToken | list[str | AddedToken], special_tokens: bool = False) -> int:
        """Add tokens to the vocabulary; returns how many were new. Resize the model's embeddings after.

        Example:
            >>> tokenizer.add_tokens(["<new>"])
            1
        """
        if isinstance(new_tokens, (str, AddedToken)):
            new_tokens = [new_tokens]
        if special_tokens:
            return self._tokenizer.add_special_tokens(new_tokens)
        return self._tokenizer.add_tokens(new_tokens)

    def add_special_tokens(self, special_tokens_dict: dict[str, Any]) -> int:
        """Set named special tokens (and ``additional_special_tokens``), adding them to the vocabulary.

        Example:
            >>> tokenizer.add_special_tokens({"pad_token": "<pad>"})
            1
        """
        added = 0
        for name, value in special_tokens_dict.items():
            if name in ("additional_special_tokens", "extra_special_tokens"):
                values = [value] if isinstance(value, (str, AddedToken)) else list(value)
                for token in values:
                    if str(token) not in self.additional_special_tokens:
                        self._extra_special_tokens.append(token)
                added += self.add_tokens(values, special_tokens=True)
            elif name in SPECIAL_TOKEN_NAMES:
                setattr(self, name, value)
                added += self.add_tokens([value], special_tokens=True)
            else:
                raise InvalidInputError(
                    f"{name!r} is not a special token name; use one of {SPECIAL_TOKEN_NAMES} "
                    "or 'additional_special_tokens'."
                )
        return added

    def _add_missing_special_tokens(self) -> None:
        """Make every special token an added special token of the backend, as transformers does."""
        present = {token.content for token in self._tokenizer.get_added_tokens_decoder().values()}
        missing = []
        for token in [*self._special_tokens.values(), *self._extra_special_tokens]:
            if token is None or str(token) in present:
                continue
            present.add(str(token))
            missing.append(_special_added_token(token))
        if missing:
            self._tokenizer.add_special_tokens(missing)

    # ---- training a new vocabulary -------------------------------------------------------------

    def train_new_from_iterator(
        self,
        text_iterator,
        vocab_size: int,
        length: int | None = None,
        new_special_tokens: list[str | AddedToken] | None = None,
        special_tokens_map: dict[str, str] | None = None,
        **kwargs,
    ) -> PreTrainedTokenizerFast:
        """A tokenizer of the same class, pipeline and special tokens, with a vocabulary trained on new text.

        The tokenizers library does the training (its ``BpeTrainer``, ``WordPieceTrainer``,
        ``UnigramTrainer`` or ``WordLevelTrainer``); the normaliser, pre-tokeniser, decoder, the
        post-processor template (its ids updated) and the special tokens stay those of this
        tokenizer, the special tokens first in the new vocabulary. ``text_iterator`` yields texts
        or batches (lists) of texts; ``length`` is their count, for the progress bar;
        ``special_tokens_map`` renames special tokens (old -> new); ``kwargs`` go to the trainer
        (``min_frequency``, ``show_progress``, ...). As transformers' method.

        Example:
            >>> texts = ["a first sentence", "and a second one"]
            >>> new = tokenizer.train_new_from_iterator([texts], vocab_size=500)
            >>> type(new) is type(tokenizer), new("a second")["input_ids"][0] == new.cls_token_id
            (True, True)
        """
        from tokenizers import trainers

        if not isinstance(vocab_size, int) or vocab_size < 1:
            raise InvalidInputError(f"vocab_size must be a positive integer, got {vocab_size!r}.")
        renamed = dict(special_tokens_map or {})
        spec = json.loads(self._tokenizer.to_str())
        spec["padding"] = spec["truncation"] = None
        old_added = spec.pop("added_tokens") or []
        template = spec.pop("post_processor", None)  # holds ids of the old vocabulary: set again below
        model = spec["model"]
        kind = model.get("type")
        trainer_options = dict(kwargs)
        if kind == "BPE":
            model["vocab"], model["merges"] = {}, []
            for option in ("continuing_subword_prefix", "end_of_word_suffix"):
                if model.get(option) is not None:
                    trainer_options.setdefault(option, model[option])
        elif kind in ("WordPiece", "WordLevel"):
            model["vocab"] = {}
        elif kind == "Unigram":
            unk_id = model.get("unk_id")
            if unk_id is not None:  # the trainer puts the unknown token at id 0
                unk = renamed.get(model["vocab"][unk_id][0], model["vocab"][unk_id][0])
                model["vocab"], model["unk_id"] = [[unk, 0.0]], 0
                trainer_options.setdefault("unk_token", unk)
        else:
            raise UnsupportedTokenizerError(
                f"train_new_from_iterator trains BPE, WordPiece, WordLevel and Unigram tokenizers; "
                f"this one's model is {kind!r}."
            )
        if isinstance(model.get("unk_token"), str):
            model["unk_token"] = renamed.get(model["unk_token"], model["unk_token"])
        if _has_byte_level(spec.get("pre_tokenizer")):  # all 256 byte symbols, as the original has
            from tokenizers import pre_tokenizers

            trainer_options.setdefault("initial_alphabet", pre_tokenizers.ByteLevel.alphabet())

        # The special tokens lead the new vocabulary, in the original's order (Unigram keeps every
        # added token, as transformers does: its added tokens are pieces of the model).
        reserved = []
        for token in old_added:
            if token.get("special") or kind == "Unigram":
                options = {k: v for k, v in token.items() if k not in ("id", "content", "special")}
                reserved.append(AddedToken(renamed.get(token["content"], token["content"]), special=True, **options))
        reserved.extend(_as_added_token(token) for token in new_special_tokens or [])
        trainer_class = {
            "BPE": trainers.BpeTrainer,
            "WordPiece": trainers.WordPieceTrainer,
            "WordLevel": trainers.WordLevelTrainer,
            "Unigram": trainers.UnigramTrainer,
        }[kind]
        backend = Tokenizer.from_str(json.dumps(spec))
        backend.train_from_iterator(
            text_iterator,
            trainer=trainer_class(vocab_size=vocab_size, special_tokens=reserved, **trainer_options),
            length=length,
        )
        if template is not None:
            trained = json.loads(backend.to_str())
            trained["post_processor"] = _renumber_template(template, backend, renamed)
            backend = Tokenizer.from_str(json.dumps(trained))

        arguments = {
            key: value
            for key, value in self.init_kwargs.items()
            if key not in _LOAD_ONLY_KEYS
            and key not in SPECIAL_TOKEN_NAMES
            and key not in ("added_tokens_decoder", "additional_special_tokens", "extra_special_tokens")
        }
        for name, value in self._special_tokens.items():
            if value is not None:
                content = renamed.get(str(value), str(value))
                arguments[name] = (
                    AddedToken(content, **{**_added_token_options(value), "special": True})
                    if isinstance(value, AddedToken)
                    else content
                )
        extras = [renamed.get(str(token), str(token)) for token in self._extra_special_tokens]
        extras += [str(token) for token in new_special_tokens or []]
        if extras:
            arguments["extra_special_tokens"] = list(dict.fromkeys(extras))
        arguments.update(
            model_max_length=self.model_max_length,
            padding_side=self.padding_side,
            truncation_side=self.truncation_side,
            model_input_names=self.model_input_names,
            clean_up_tokenization_spaces=self.clean_up_tokenization_spaces,
            chat_template=self.chat_template,
        )
        if "add_bos_token" in self.init_kwargs or self._add_bos_token or self._add_eos_token:
            arguments.update(add_bos_token=self._add_bos_token, add_eos_token=self._add_eos_token)
        init_kwargs = {k: v for k, v in self.init_kwargs.items() if k != "added_tokens_decoder"}
        return type(self)(tokenizer_object=backend, init_kwargs=init_kwargs, **arguments)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(name_or_path={self.name_or_path!r}, tokenizer_class={self.tokenizer_class!r}, "
            f"vocab_size={self.vocab_size}, model_max_length={self.model_max_length}, "
            f"padding_side={self.padding_side!r}, truncation_side={self.truncation_side!r}, "
            f"special_tokens={self.special_tokens_map})"
        )


def clean_up_tokenization(text: str) -> str:
    """transformers' clean-up of spaces before punctuation and English contractions.

    Example:
        >>> clean_up_tokenization("hello , world ! it 's")
        "hello, world! it's"
    """
    for spaced, joined in (
        (" .", "."),
        (" ?", "?"),
        (" !", "!"),
        (" ,", ","),
        (" ' ", "'"),
        (" n't", "n't"),
        (" 'm", "'m"),
        (" 's", "'s"),
        (" 've", "'ve"),
        (" 're", "'re"),
    ):
        text = text.replace(spaced, joined)
    return text


# --------------------------------------------------------------------------------------------
# building blocks of the per-architecture classes (models/<arch>/tokenization_<arch>.py)
# --------------------------------------------------------------------------------------------


def build_backend(
    make_model,
    tokenizer_object: Tokenizer | None = None,
    tokenizer_file: str | os.PathLike | None = None,
    vocab=None,
    merges=None,
    default_vocab=None,
) -> Tokenizer:
    """The ``tokenizers.Tokenizer`` a per-architecture class starts from, its model made by
    ``make_model(vocab, merges)`` as transformers' class makes it.

    From a ``tokenizer.json``, the file's vocabulary and merges go into the class's model (the
    added tokens and post-processor stay those of the file), as transformers 5 does; from
    ``vocab`` / ``merges`` (already read), a new tokenizer; a ``tokenizer_object`` is used as it is.

    Example:
        >>> backend = build_backend(lambda vocab, merges: WordPiece(vocab, unk_token="[UNK]"),
        ...                         vocab={"[UNK]": 0, "hello": 1})
    """
    if tokenizer_object is not None:
        return tokenizer_object
    if tokenizer_file is not None:
        model = read_tokenizer_json(tokenizer_file)["model"]
        backend = load_tokenizer_file(tokenizer_file)
        vocab, merges = model.get("vocab"), model.get("merges")
        if isinstance(vocab, list) and vocab and isinstance(vocab[0], (list, tuple)):
            vocab = [tuple(item) for item in vocab]  # Unigram: (piece, score)
        if merges is not None:
            merges = [tuple(m.split(" ", 1)) if isinstance(m, str) else tuple(m) for m in merges]
        backend.model = make_model(vocab, merges)
        return backend
    if vocab is None:
        vocab, merges = default_vocab, []
    return Tokenizer(make_model(vocab, merges))


# --------------------------------------------------------------------------------------------
# loading
# --------------------------------------------------------------------------------------------


def load_pretrained_tokenizer(
    name_or_path: str | os.PathLike, revision: str | None = None, cache_dir: str | os.PathLike | None = None, **kwargs
) -> PreTrainedTokenizerFast:
    """The tokenizer of a checkpoint folder, HF cache entry or local-hub name (``AutoTokenizer.from_pretrained``).

    ``kwargs`` override ``tokenizer_config.json``: special tokens (``pad_token="<pad>"``),
    ``model_max_length``, ``padding_side``, ``truncation_side``, ``model_input_names``,
    ``do_lower_case``, ``add_prefix_space``... ``subfolder`` reads a folder inside the checkpoint;
    ``gguf_file`` reads the tokenizer stored in a llama.cpp GGUF file of the folder.

    Example:
        >>> tokenizer = load_pretrained_tokenizer("./my-bert", padding_side="left")
    """
    for name in _IGNORED_LOAD_ARGUMENTS:
        kwargs.pop(name, None)
    download = pop_download_options(kwargs)
    folder = resolve_checkpoint(name_or_path, revision=revision, cache_dir=cache_dir, **download)
    subfolder = kwargs.pop("subfolder", None)
    if subfolder:
        folder = folder / subfolder
    gguf_file = kwargs.pop("gguf_file", None)
    if gguf_file is not None:  # as transformers: the tokenizer stored in a llama.cpp GGUF file
        if not (folder / gguf_file).is_file():
            raise TokenizerFilesNotFoundError(f"No GGUF file {gguf_file!r} in {folder}.")
        return tokenizer_from_gguf(folder / gguf_file, **kwargs)
    return _load_tokenizer(folder, str(name_or_path), kwargs)


def tokenizer_from_gguf(path: str | os.PathLike, **kwargs) -> PreTrainedTokenizerFast:
    """A Python tokenizer from a GGUF file's vocabulary (the tokenizer.json it came from, rebuilt).

    Keyword arguments are the tokenizer's options (``padding_side``, ``model_max_length``, ...).
    The tokenizer carries the file's special tokens, BOS/EOS setting and chat template.

    Example:
        >>> tokenizer = tokenizer_from_gguf("ggml-vocab-llama-spm.gguf")  # doctest: +SKIP
        >>> tokenizer.decode(tokenizer("Hello")["input_ids"], skip_special_tokens=True)  # doctest: +SKIP
        'Hello'
    """
    # Through the folder loader, so that the GGUF's tokenizer_config.json (special tokens, BOS/EOS,
    # chat template) is read as a checkpoint's is.
    with tempfile.TemporaryDirectory(prefix="kerasformers-gguf-") as folder:
        save_gguf_tokenizer(path, folder)
        return _load_tokenizer(Path(folder), os.fspath(path), kwargs)


def _load_tokenizer(folder: Path, name_or_path: str, overrides: dict) -> PreTrainedTokenizerFast:
    config = read_json_object(folder / TOKENIZER_CONFIG_FILE)
    model_config = read_json_object(folder / CONFIG_FILE)
    if "added_tokens_decoder" not in config:
        # older checkpoints keep their special tokens in special_tokens_map.json, which wins
        for name, value in read_json_object(folder / SPECIAL_TOKENS_MAP_FILE).items():
            if name not in overrides:
                config[name] = value
    chat_template = _read_chat_templates(folder)
    if chat_template is not None:  # as transformers: the .jinja files win over tokenizer_config.json
        config["chat_template"] = chat_template
    options = {**config, **overrides}

    class_name = _tokenizer_class_name(options, model_config)
    tokenizer_class = tokenizer_class_from_name(class_name)
    files = {"tokenizer_file": folder / TOKENIZER_FILE} if (folder / TOKENIZER_FILE).is_file() else {}
    if not files:
        if tokenizer_class is PreTrainedTokenizerFast and class_name not in _GENERIC_CLASS_NAMES:
            # no class we build asked for: the first registered class whose vocabulary files are here
            tokenizer_class = _class_for_files(folder) or tokenizer_class
        wanted = [argument for argument in tokenizer_class.vocab_files_names if argument != "tokenizer_file"]
        files = {
            argument: folder / tokenizer_class.vocab_files_names[argument]
            for argument in wanted
            if (folder / tokenizer_class.vocab_files_names[argument]).is_file()
        }
        if not wanted or len(files) < len(wanted):
            raise _missing_files_error(folder, class_name)
        class_name = class_name or _default_class_name(tokenizer_class)

    if tokenizer_class is PreTrainedTokenizerFast and "model_input_names" not in options:
        if class_name in _UNBUILT_CLASSES_WITH_TOKEN_TYPE_IDS:
            options["model_input_names"] = ["input_ids", "token_type_ids", "attention_mask"]
    options["tokenizer_class"] = config.get("tokenizer_class") or class_name
    arguments = {key: value for key, value in options.items() if key not in _LOAD_ONLY_KEYS}
    return tokenizer_class(**files, name_or_path=name_or_path, init_kwargs=options, **arguments)


def _read_chat_templates(folder: Path) -> str | dict[str, str] | None:
    """chat_template.jinja and additional_chat_templates/<name>.jinja, as transformers reads them (None when absent)."""
    templates = {}
    if (folder / CHAT_TEMPLATE_FILE).is_file():
        templates["default"] = read_text_file(folder / CHAT_TEMPLATE_FILE, allow_empty=True)
    if (folder / CHAT_TEMPLATE_DIR).is_dir():
        for path in sorted((folder / CHAT_TEMPLATE_DIR).glob("*.jinja")):
            templates[path.stem] = read_text_file(path, allow_empty=True)
    if not templates:
        return None
    return templates["default"] if list(templates) == ["default"] else templates


def _tokenizer_class_name(options: dict, model_config: dict) -> str | None:
    """The transformers tokenizer class a checkpoint asks for (without "Fast"), or None."""
    name = options.get("tokenizer_class") or model_config.get("tokenizer_class")
    if name:
        return name.removesuffix("Fast")
    model_type = model_config.get("model_type")
    if model_type and model_type not in _CLASS_NAME_OF_MODEL_TYPE:
        _fill_registries()
    return _CLASS_NAME_OF_MODEL_TYPE.get(model_type)


# --------------------------------------------------------------------------------------------
# the registry of tokenizer classes (filled by the model packages)
# --------------------------------------------------------------------------------------------

_REGISTERED_CLASSES: dict[str, type[PreTrainedTokenizerFast]] = {}
_CLASS_NAME_OF_MODEL_TYPE: dict[str, str] = {}
_CLASSES_FOR_BARE_FILES: list[type[PreTrainedTokenizerFast]] = []
_registries_filled = False
# keys of tokenizer_config.json the loader reads but the tokenizer classes do not take
_LOAD_ONLY_KEYS = {"tokenizer_file", "vocab_file", "merges_file", "tokenizer_object", "name_or_path", "init_kwargs"}


def register_tokenizer_class(
    tokenizer_class: type[PreTrainedTokenizerFast],
    names: tuple[str, ...] = (),
    model_types: tuple[str, ...] = (),
    for_bare_files: bool = False,
) -> None:
    """Make ``AutoTokenizer`` build ``tokenizer_class`` for checkpoints that ask for it.

    ``names`` are transformers' class names it stands for (``tokenizer_class`` in
    tokenizer_config.json, "Fast" or not; its own name is always one), ``model_types`` the
    ``config.json`` model types whose checkpoints use it when no class is named. With
    ``for_bare_files``, a folder that names no class but holds this class's vocabulary files
    (and no tokenizer.json) loads with it.

    Example:
        >>> register_tokenizer_class(BertTokenizerFast, names=("ElectraTokenizer",), model_types=("bert",))
    """
    for name in (_default_class_name(tokenizer_class), *names):
        _REGISTERED_CLASSES[name.removesuffix("Fast")] = tokenizer_class
    for model_type in model_types:
        _CLASS_NAME_OF_MODEL_TYPE[model_type] = (names or (_default_class_name(tokenizer_class),))[0]
    if for_bare_files and tokenizer_class not in _CLASSES_FOR_BARE_FILES:
        _CLASSES_FOR_BARE_FILES.append(tokenizer_class)


def tokenizer_class_from_name(name: str | None) -> type[PreTrainedTokenizerFast]:
    """Our class for a transformers tokenizer class name; PreTrainedTokenizerFast for the rest.

    Example:
        >>> tokenizer_class_from_name("BertTokenizerFast").__name__
        'BertTokenizerFast'
    """
    if not name:
        return PreTrainedTokenizerFast
    name = name.removesuffix("Fast")
    if name in _GENERIC_CLASS_NAMES or name == "PreTrainedTokenizer":
        return PreTrainedTokenizerFast
    if name not in _REGISTERED_CLASSES:
        _fill_registries()
    return _REGISTERED_CLASSES.get(name, PreTrainedTokenizerFast)


def _fill_registries() -> None:
    """Have every architecture register its classes, once (through the package: the layers point down)."""
    global _registries_filled
    if not _registries_filled:
        _registries_filled = True
        sys.modules[__name__.split(".")[0]].fill_registries()


def _class_for_files(folder: Path) -> type[PreTrainedTokenizerFast] | None:
    _fill_registries()
    for tokenizer_class in _CLASSES_FOR_BARE_FILES:
        names = [name for argument, name in tokenizer_class.vocab_files_names.items() if argument != "tokenizer_file"]
        if names and all((folder / name).is_file() for name in names):
            return tokenizer_class
    return None


def _default_class_name(tokenizer_class: type) -> str:
    return tokenizer_class.__name__.removesuffix("Fast")


def _template_post_processor(bos: tuple[str, int] | None, eos: tuple[str, int] | None):
    """``[bos] $A [eos]`` / ``[bos] $A [eos] [bos] $B [eos]`` with the optional tokens left out."""

    def with_specials(sequence: str, type_id: int) -> str:
        parts = [f"{bos[0]}:{type_id}"] if bos else []
        parts.append(f"${sequence}:{type_id}")
        parts += [f"{eos[0]}:{type_id}"] if eos else []
        return " ".join(parts)

    return processors.TemplateProcessing(
        single=with_specials("A", 0),
        pair=f"{with_specials('A', 0)} {with_specials('B', 1)}",
        special_tokens=[token for token in (bos, eos) if token],
    )


def _missing_files_error(folder: Path, tokenizer_class: str | None) -> TokenizerFilesNotFoundError:
    present = sorted(path.name for path in folder.iterdir()) if folder.is_dir() else []
    hint = ""
    if (folder / "tokenizer.model").is_file() or (folder / "spiece.model").is_file():
        hint = (
            "\nIt has a SentencePiece model, which kerasformers reads only through tokenizer.json: convert it "
            "once with transformers (AutoTokenizer.from_pretrained(folder).save_pretrained(folder))."
        )
    return TokenizerFilesNotFoundError(
        f"Cannot build a tokenizer from {folder}"
        + (f" (tokenizer class {tokenizer_class})" if tokenizer_class else "")
        + ". Looked for:\n"
        "  - tokenizer.json (any tokenizer)\n"
        "  - vocab.txt (WordPiece, BERT-like)\n"
        "  - vocab.json + merges.txt (byte-level BPE, GPT-2/RoBERTa-like)\n"
        f"Found: {', '.join(present) if present else 'nothing'}.{hint}\n"
        "Fix: point at the checkpoint folder that holds the tokenizer files, or copy them from the original "
        "model (tokenizer.save_pretrained(folder) writes them)."
    )


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def _as_token(value) -> str | AddedToken | None:
    """A special token from a config value: a string, an AddedToken, or its JSON dict form."""
    if value is None or isinstance(value, (str, AddedToken)):
        return value
    if isinstance(value, dict) and "content" in value:
        fields = {
            key: value[key] for key in ("content", "single_word", "lstrip", "rstrip", "normalized") if key in value
        }
        return AddedToken(**fields, special=True)
    raise InvalidInputError(f"A special token must be a string or a dict with 'content', got {value!r}.")


def _has_byte_level(pre_tokenizer: dict | None) -> bool:
    """Whether a tokenizer.json pre-tokeniser is, or holds, a ByteLevel step."""
    if not pre_tokenizer:
        return False
    if pre_tokenizer.get("type") == "ByteLevel":
        return True
    return any(_has_byte_level(step) for step in pre_tokenizer.get("pretokenizers") or [])


def _renumber_template(post_processor: dict, backend: Tokenizer, renamed: dict[str, str]) -> dict:
    """A tokenizer.json post-processor with its special tokens' ids looked up in a new vocabulary."""

    def new_id(token: str) -> int:
        index = backend.token_to_id(token)
        if index is None:
            raise UnsupportedTokenizerError(
                f"The post-processor adds {token!r}, which the trained vocabulary lacks: "
                "keep it among the special tokens (or rename it with special_tokens_map)."
            )
        return index

    post_processor = json.loads(json.dumps(post_processor))  # a copy
    kind = post_processor.get("type")
    if kind == "Sequence":
        post_processor["processors"] = [
            _renumber_template(step, backend, renamed) for step in post_processor.get("processors") or []
        ]
    for entry in (post_processor.get("special_tokens") or {}).values():  # TemplateProcessing
        entry["tokens"] = [renamed.get(token, token) for token in entry["tokens"]]
        entry["ids"] = [new_id(token) for token in entry["tokens"]]
        if "id" in entry:
            entry["id"] = renamed.get(entry["id"], entry["id"])
    for key in ("cls", "sep"):  # BertProcessing / RobertaProcessing: [token, id]
        if key in post_processor:
            token = renamed.get(post_processor[key][0], post_processor[key][0])
            post_processor[key] = [token, new_id(token)]
    return post_processor


def _added_token_options(token: AddedToken) -> dict:
    return {
        "single_word": token.single_word,
        "lstrip": token.lstrip,
        "rstrip": token.rstrip,
        "normalized": token.normalized,
    }


def _as_added_token(token: str | AddedToken) -> AddedToken:
    return token if isinstance(token, AddedToken) else AddedToken(str(token), special=True)


def _special_added_token(token: str | AddedToken) -> AddedToken:
    if isinstance(token, AddedToken):
        return AddedToken(
            token.content,
            single_word=token.single_word,
            lstrip=token.lstrip,
            rstrip=token.rstrip,
            normalized=token.normalized,
            special=True,
        )
    return AddedToken(token, special=True, normalized=False)


def _check_side(name: str, value: str) -> str:
    if value not in ("right", "left"):
        raise InvalidInputError(f"{name} must be 'right' or 'left', got {value!r}.")
    return value


def _text_input_problem(value, where: str, depth: int = 0) -> str | None:
    """None for a string or a list/tuple (nested up to three deep) of strings, else what is wrong and
    where, e.g. "int at `text`[1]": tokenizers checks only what it reaches and reports no place."""
    if isinstance(value, str):
        return None
    if depth == 3 or not isinstance(value, (list, tuple)):
        return type(value).__name__ + (f" at {where}" if depth else "")
    for index, item in enumerate(value):
        if isinstance(item, str) != isinstance(value[0], str):
            other = item if isinstance(value[0], str) else value[0]
            return f"a mix of strings and {type(other).__name__}s at {where}[{index}]"
        problem = _text_input_problem(item, f"{where}[{index}]", depth + 1)
        if problem:
            return problem
    return None


def _short_repr(value) -> str:
    text = repr(value)
    return f" ({text[:40]}...)" if len(text) > 40 else f" ({text})"


def _is_tf_tensor(value) -> bool:
    return type(value).__module__.startswith("tensorflow") and hasattr(value, "numpy")


def _to_python(value):
    """Python ints / lists from ints, lists, NumPy arrays or TensorFlow tensors."""
    if hasattr(value, "numpy") and not isinstance(value, np.ndarray):
        value = value.numpy()
    if isinstance(value, (np.ndarray, np.generic)):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [_to_python(item) for item in value]
    return value
