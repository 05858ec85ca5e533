"""In-graph SentencePiece tokenizer (Llama 2 / T5 style) as a Keras layer.

:class:`TFSentencePieceTokenizer` runs the real SentencePiece library in the graph through
tensorflow-text's ``SentencepieceTokenizer``, which takes a serialized ``ModelProto`` (the
bytes of a ``tokenizer.model`` file). Three ways to get one:

1. a ``tokenizer.model`` file, used as is (:meth:`TFSentencePieceTokenizer.from_model_file`);
2. a GGUF file's vocabulary (pieces, scores, types): a BPE ``ModelProto`` is written with
   Llama's normaliser (:meth:`~TFSentencePieceTokenizer.from_gguf`);
3. a Python tokenizer / ``tokenizer.json`` of the Llama 2 kind (byte-fallback BPE, normaliser
   ``Prepend("▁")`` + ``Replace(" ", "▁")`` and no pre-tokeniser, or the newer
   ``Metaspace(split=False)`` pre-tokeniser): piece scores are derived from the order of the
   merges, so SentencePiece's BPE (merge the adjacent pair whose result has the highest
   score, leftmost first) picks the merges the ``tokenizers`` library picks (lowest rank
   first) (:meth:`~TFSentencePieceTokenizer.from_tokenizer`). Where no scores reproduce the
   merges (conversions that interleave the merges of equally scored pieces), the original
   ``tokenizer.model`` next to the ``tokenizer.json`` is run instead.

The ``ModelProto`` is written and read by a few lines of protobuf wire format below (the
``sentencepiece`` package is not a dependency: it is only needed for these ~15 fields, and
tensorflow-text already carries the library itself).

Special tokens written in the text (``<s>``, ``</s>``, ...) are split off first and kept as
one id each, as the Python tokenizer does; every other stretch of text gets SentencePiece's
own dummy prefix "▁" (with Metaspace, the layer adds it as the pre-tokeniser's
``prepend_scheme`` says). :meth:`~TFSentencePieceTokenizer.detokenize` is written in TF ops
after the ``tokenizers`` Llama decoder, whose handling of leading spaces and invalid bytes
differs from SentencePiece's own decoding.

Example:
    >>> tokenizer = TFSentencePieceTokenizer.from_gguf("ggml-vocab-llama-spm.gguf")  # doctest: +SKIP
    >>> tokenizer(["Hello world"])["input_ids"]  # doctest: +SKIP
    <tf.Tensor: shape=(1, 3), dtype=int64, numpy=array([[    1, 15043,  3186]])>
    >>> tokenizer.detokenize(tf.ragged.constant([[1, 15043, 3186]]))  # doctest: +SKIP
    <tf.Tensor: shape=(1,), dtype=string, numpy=array([b'Hello world'], dtype=object)>
"""

from __future__ import annotations

import base64
import os
import re
import struct
from pathlib import Path

import tensorflow as tf

from kerasformers.errors import (
    InvalidInputError,
    TokenizerFileError,
    TokenizerFilesNotFoundError,
    UnsupportedTokenizerError,
)
from kerasformers.tokenization.fast import load_pretrained_tokenizer
from kerasformers.tokenization.files import added_token_ids, bos_eos_from_template, post_processors, tokenizer_spec

# ModelProto.SentencePiece.Type numbers are llama.cpp's token types
from kerasformers.tokenization.gguf import (
    BYTE,
    CONTROL,
    LLAMA_LEGACY_NORMALIZERS,
    NORMAL,
    SPM_SPACE,
    UNKNOWN,
    USER_DEFINED,
    read_gguf_vocab,
)
from kerasformers.tokenization.in_graph import DECODER_LAYER_DEFAULTS, TFTokenizerLayer, replace_invalid_utf8, tf_text

__all__ = [
    "TFSentencePieceTokenizer",
    "sentencepiece_model_proto",
    "read_sentencepiece_model_proto",
    "precompiled_charsmap",
]

_SPM = SPM_SPACE
UNIGRAM, BPE = 1, 2  # TrainerSpec.ModelType
_ESCAPE = "\U0010fffe"  # a Unicode noncharacter: escapes NUL bytes around the special-token split
_ESCAPE_RE = "\\x{10fffe}"


# ------------------------------------------------------------------------------- protobuf wire format
# Field numbers from sentencepiece_model.proto: ModelProto {1 pieces, 2 trainer_spec, 3 normalizer_spec},
# SentencePiece {1 piece, 2 score, 3 type}, TrainerSpec {3 model_type, 4 vocab_size, 35 byte_fallback,
# 40 unk_id, 41 bos_id, 42 eos_id, 43 pad_id, 45 unk_piece, 46 bos_piece, 47 eos_piece, 48 pad_piece},
# NormalizerSpec {1 name, 3 add_dummy_prefix, 4 remove_extra_whitespaces, 5 escape_whitespaces}.


def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1  # negative int32 values are written as 10-byte two's complement
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _int_field(number: int, value: int) -> bytes:
    return _varint(number << 3) + _varint(int(value))


def _bytes_field(number: int, value: bytes | str) -> bytes:
    if isinstance(value, str):
        value = value.encode("utf-8")
    return _varint(number << 3 | 2) + _varint(len(value)) + value


def _float_field(number: int, value: float) -> bytes:
    return _varint(number << 3 | 5) + struct.pack("<f", value)


def _read_varint(data: bytes, offset: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[offset]
        offset += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, offset


def _fields(data: bytes):
    """(field number, value) of a serialized message; varints as ints, fixed32 as raw bytes."""
    offset = 0
    while offset < len(data):
        key, offset = _read_varint(data, offset)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, offset = _read_varint(data, offset)
        elif wire == 1:
            value, offset = data[offset : offset + 8], offset + 8
        elif wire == 2:
            length, offset = _read_varint(data, offset)
            value, offset = data[offset : offset + length], offset + length
        elif wire == 5:
            value, offset = data[offset : offset + 4], offset + 4
        else:
            raise TokenizerFileError(f"Not a SentencePiece model: unexpected protobuf wire type {wire}.")
        yield number, value


def _int32(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def sentencepiece_model_proto(
    pieces: list[str],
    scores: list[float],
    types: list[int],
    *,
    unk_id: int,
    bos_id: int = -1,
    eos_id: int = -1,
    pad_id: int = -1,
    byte_fallback: bool = False,
    model_type: int = BPE,
    add_dummy_prefix: bool = True,
    precompiled_charsmap: bytes | None = None,
    remove_extra_whitespaces: bool = False,
) -> bytes:
    """A serialized SentencePiece ``ModelProto`` with Llama's normaliser.

    The normaliser adds a dummy prefix "▁" (unless ``add_dummy_prefix=False``), keeps runs of
    whitespace, writes spaces as "▁" and otherwise leaves the text alone (``identity``), as
    Llama 2's ``tokenizer.model``. T5-style Unigram models pass their ``precompiled_charsmap``
    (the normalisation table) and ``remove_extra_whitespaces=True``.
    ``types`` are ``ModelProto.SentencePiece.Type`` numbers (1 normal, 2 unknown, 3 control,
    4 user-defined, 5 unused, 6 byte); exactly one piece must be the unknown one.

    Example:
        >>> proto = sentencepiece_model_proto(["<unk>", "▁", "a", "▁a"], [0, 0, 0, -1], [2, 1, 1, 1], unk_id=0)
        >>> read_sentencepiece_model_proto(proto)["pieces"]
        ['<unk>', '▁', 'a', '▁a']
    """
    if not len(pieces) == len(scores) == len(types):
        raise InvalidInputError(
            f"pieces, scores and types must have one entry per piece, got {len(pieces)}, "
            f"{len(scores)} and {len(types)}."
        )
    if [i for i, kind in enumerate(types) if kind == UNKNOWN] != [unk_id]:
        raise InvalidInputError(f"Exactly one piece, unk_id={unk_id}, must have the unknown type ({UNKNOWN}).")
    seen = set()
    for piece in pieces:
        if piece in seen or not piece:
            raise InvalidInputError(f"SentencePiece needs distinct, non-empty pieces; {piece!r} is not.")
        seen.add(piece)
    out = bytearray()
    for piece, score, kind in zip(pieces, scores, types):
        body = _bytes_field(1, piece) + _float_field(2, float(score)) + _int_field(3, kind)
        out += _bytes_field(1, body)

    def piece_name(i):
        return pieces[i] if 0 <= i < len(pieces) else None

    trainer = _int_field(3, model_type) + _int_field(4, len(pieces)) + _int_field(35, bool(byte_fallback))
    for number, i in ((40, unk_id), (41, bos_id), (42, eos_id), (43, pad_id)):
        trainer += _int_field(number, -1 if i is None else i)
    for number, i in ((45, unk_id), (46, bos_id), (47, eos_id), (48, pad_id)):
        if piece_name(i if i is not None else -1) is not None:
            trainer += _bytes_field(number, piece_name(i))
    normalizer = _bytes_field(1, "nmt_nfkc" if precompiled_charsmap else "identity")
    if precompiled_charsmap:
        normalizer += _bytes_field(2, bytes(precompiled_charsmap))
    normalizer += (
        _int_field(3, bool(add_dummy_prefix)) + _int_field(4, bool(remove_extra_whitespaces)) + _int_field(5, True)
    )
    out += _bytes_field(2, trainer) + _bytes_field(3, normalizer)
    return bytes(out)


def read_sentencepiece_model_proto(data: bytes) -> dict:
    """The fields of a serialized ``ModelProto`` this layer needs: pieces, scores, types, model type, ids.

    Example:
        >>> info = read_sentencepiece_model_proto(Path("tokenizer.model").read_bytes())  # doctest: +SKIP
        >>> info["model_type"], info["bos_id"]  # doctest: +SKIP
        (2, 1)
    """
    pieces, scores, types = [], [], []
    # proto defaults, for fields the file leaves out
    info = {
        "model_type": UNIGRAM,
        "unk_id": 0,
        "bos_id": 1,
        "eos_id": 2,
        "pad_id": -1,
        "byte_fallback": False,
        "add_dummy_prefix": True,
        "precompiled_charsmap": b"",
    }
    try:
        for number, value in _fields(data):
            if number == 1:
                piece, score, kind = "", 0.0, NORMAL
                for n, v in _fields(value):
                    if n == 1:
                        piece = v.decode("utf-8")
                    elif n == 2:
                        score = struct.unpack("<f", v)[0]
                    elif n == 3:
                        kind = v
                pieces.append(piece)
                scores.append(score)
                types.append(kind)
            elif number == 2:
                names = {3: "model_type", 35: "byte_fallback", 40: "unk_id", 41: "bos_id", 42: "eos_id", 43: "pad_id"}
                for n, v in _fields(value):
                    if n in names:
                        info[names[n]] = _int32(v) if isinstance(v, int) else v
            elif number == 3:
                for n, v in _fields(value):
                    if n == 2:
                        info["precompiled_charsmap"] = bytes(v)
                    elif n == 3:
                        info["add_dummy_prefix"] = bool(v)
    except (IndexError, UnicodeDecodeError, struct.error) as error:
        raise TokenizerFileError(f"Not a SentencePiece model (a serialized ModelProto): {error}.") from None
    if not pieces:
        raise TokenizerFileError("Not a SentencePiece model (a serialized ModelProto): it holds no pieces.")
    info.update(pieces=pieces, scores=scores, types=types)
    info["byte_fallback"] = bool(info["byte_fallback"])
    return info


# ------------------------------------------------------------------------------- the layer


class TFSentencePieceTokenizer(TFTokenizerLayer):
    """SentencePiece tokenizer (Llama 2 / T5 style) as a Keras layer: strings in, int64 ids out.

    ``call`` returns ``input_ids`` and ``attention_mask`` padded to the longest sequence (see
    :class:`kerasformers.tokenization.in_graph.TFTokenizerLayer` for padding / truncation / pairs);
    :meth:`tokenize` gives the unpadded ids as a RaggedTensor, :meth:`detokenize` turns ids back
    into text (special tokens skipped) and :meth:`ids_to_tokens` gives the pieces.

    Build it with :meth:`from_tokenizer` (a Python tokenizer of the Llama 2 kind),
    :meth:`from_pretrained` (a checkpoint), :meth:`from_gguf` or :meth:`from_model_file`.

    Example:
        >>> tokenizer = TFSentencePieceTokenizer.from_model_file("llama-2/tokenizer.model")  # doctest: +SKIP
        >>> tokenizer(["Hello world"], ["again"])["input_ids"]  # doctest: +SKIP
        <tf.Tensor: shape=(1, 5), dtype=int64, numpy=array([[    1, 15043,  3186,     1,  1449]])>
    """

    def __init__(
        self,
        model_proto: bytes | str,
        *,
        special_tokens: dict[str, int] | None = None,
        skip_ids=None,
        prepend_scheme: str | None = None,
        strip_leading_space: bool | None = None,
        bos_ids=(),
        eos_ids=(),
        **kwargs,
    ):
        # bytes, or base64 text as get_config writes it (a .keras config is JSON)
        self.model_proto = base64.b64decode(model_proto) if isinstance(model_proto, str) else bytes(model_proto)
        info = read_sentencepiece_model_proto(self.model_proto)
        kwargs.setdefault("pad_id", 0)
        for option, value in DECODER_LAYER_DEFAULTS.items():
            kwargs.setdefault(option, value)
        super().__init__(bos_ids=bos_ids, eos_ids=eos_ids, **kwargs)
        self.special_tokens = {str(k): int(v) for k, v in (special_tokens or {}).items()}
        if skip_ids is None:  # what SentencePiece itself never writes out: control and unknown pieces
            skip_ids = [i for i, kind in enumerate(info["types"]) if kind in (CONTROL, UNKNOWN)]
        self.skip_ids = sorted({int(i) for i in skip_ids})
        if prepend_scheme not in (None, "always", "first", "never"):
            raise InvalidInputError(
                f"prepend_scheme must be None, 'always', 'first' or 'never', got {prepend_scheme!r}."
            )
        if prepend_scheme is not None and info["add_dummy_prefix"]:
            raise InvalidInputError(
                "prepend_scheme adds the leading '▁' itself: it needs a model whose normaliser "
                "does not (add_dummy_prefix=False), or prepend_scheme=None."
            )
        self.prepend_scheme = prepend_scheme
        # the decoder drops the one leading space a dummy prefix put there
        self.strip_leading_space = (
            bool(info["add_dummy_prefix"] or prepend_scheme not in (None, "never"))
            if strip_leading_space is None
            else bool(strip_leading_space)
        )
        self.vocab_size = len(info["pieces"])
        self._build_graph_parts(info)

    def _build_graph_parts(self, info: dict):
        self._spm = tf_text().SentencepieceTokenizer(model=self.model_proto, out_type=tf.int32)
        # decoding, as the tokenizers library's Llama decoder: skipped ids dropped first, then
        # each id's text ("▁" as a space, a byte piece as its byte), byte runs checked as UTF-8
        skip = set(self.skip_ids)
        self._keep = tf.constant([i not in skip for i in range(len(info["pieces"]))])
        surface, is_byte = [], []
        for piece, kind in zip(info["pieces"], info["types"]):
            byte = kind == BYTE and re.fullmatch(r"<0x[0-9A-Fa-f]{2}>", piece) is not None
            is_byte.append(byte)
            surface.append(bytes([int(piece[3:5], 16)]) if byte else piece.replace(_SPM, " ").encode("utf-8"))
        self._surface = tf.constant(surface)
        self._is_byte = tf.constant(is_byte)
        self.use_special_tokens(self.special_tokens)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            model_proto=base64.b64encode(self.model_proto).decode("ascii"),
            special_tokens=dict(self.special_tokens),
            skip_ids=list(self.skip_ids),
            prepend_scheme=self.prepend_scheme,
            strip_leading_space=self.strip_leading_space,
        )
        return config

    # ---------------------------------------------------------------- construction
    @classmethod
    def from_model_file(
        cls, path: str | os.PathLike, *, add_bos: bool = True, add_eos: bool = False, **kwargs
    ) -> "TFSentencePieceTokenizer":
        """Build from a SentencePiece ``tokenizer.model`` file, used as is.

        The file does not say which special tokens a model expects around a text: Llama adds
        BOS (the default here), T5 adds EOS only (``add_bos=False, add_eos=True``). Control,
        unknown and user-defined pieces written in the text are kept as one id each.

        Example:
            >>> TFSentencePieceTokenizer.from_model_file("spiece.model", add_bos=False, add_eos=True)  # doctest: +SKIP
        """
        path = Path(path)
        if not path.is_file():
            raise TokenizerFilesNotFoundError(
                f"No SentencePiece model at {os.fspath(path)}; pass the path of a tokenizer.model file."
            )
        proto = path.read_bytes()
        info = read_sentencepiece_model_proto(proto)
        pieces, types = info["pieces"], info["types"]
        special = {p: i for i, (p, kind) in enumerate(zip(pieces, types)) if kind in (CONTROL, UNKNOWN, USER_DEFINED)}

        def ids(on, i):
            if not on:
                return []
            if not 0 <= i < len(pieces):
                raise InvalidInputError(
                    f"{os.fspath(path)} defines no BOS / EOS piece to add; pass add_bos=False / add_eos=False."
                )
            return [i]

        options = dict(
            special_tokens=special, bos_ids=ids(add_bos, info["bos_id"]), eos_ids=ids(add_eos, info["eos_id"])
        )
        if 0 <= info["pad_id"] < len(pieces):
            options["pad_id"] = info["pad_id"]
        options.update(kwargs)
        return cls(proto, **options)

    @classmethod
    def from_gguf(cls, path: str | os.PathLike, **kwargs) -> "TFSentencePieceTokenizer":
        """Build from the SentencePiece vocabulary of a GGUF file (``tokenizer.ggml.model == "llama"``).

        BOS / EOS are added as the file's ``add_bos_token`` / ``add_eos_token`` say (BOS when
        unset, as llama.cpp does for this model); control, unknown and user-defined tokens
        written in the text are one id each.

        Example:
            >>> tokenizer = TFSentencePieceTokenizer.from_gguf("ggml-vocab-llama-spm.gguf")  # doctest: +SKIP
        """
        vocab = read_gguf_vocab(path)
        if vocab.model != "llama":
            raise UnsupportedTokenizerError(
                f"{os.fspath(path)} holds a {vocab.model!r} tokenizer, not SentencePiece ('llama'); use "
                "kerasformers.tokenization.tokenizer_from_gguf and TFAutoTokenizer.from_tokenizer for it."
            )
        if vocab.scores is None:
            raise UnsupportedTokenizerError(
                f"{os.fspath(path)} has no tokenizer.ggml.scores; SentencePiece needs the piece scores."
            )
        unk_id = vocab.unknown_token_id
        if unk_id is None:
            unk_id = next((i for i, kind in enumerate(vocab.token_types) if kind == UNKNOWN), None)
        if unk_id is None:
            raise UnsupportedTokenizerError(f"{os.fspath(path)} defines no unknown token; SentencePiece needs one.")
        # SentencePiece allows one unknown piece: other "unknown" tokens (padding slots) become control ones,
        # which are likewise never produced by encoding and dropped by decoding
        types = [
            UNKNOWN if i == unk_id else CONTROL if kind == UNKNOWN else kind for i, kind in enumerate(vocab.token_types)
        ]
        proto = sentencepiece_model_proto(
            vocab.tokens,
            vocab.scores,
            types,
            unk_id=unk_id,
            bos_id=_or(vocab.bos_token_id),
            eos_id=_or(vocab.eos_token_id),
            pad_id=_or(vocab.padding_token_id),
            byte_fallback=BYTE in types,
        )
        add_bos = True if vocab.add_bos_token is None else bool(vocab.add_bos_token)
        add_eos = bool(vocab.add_eos_token)
        kinds = vocab.token_types
        options = dict(
            special_tokens={
                t: i for i, (t, kind) in enumerate(zip(vocab.tokens, kinds)) if kind in (CONTROL, USER_DEFINED, UNKNOWN)
            },
            skip_ids=[i for i, kind in enumerate(kinds) if kind in (CONTROL, UNKNOWN)],
            bos_ids=[vocab.bos_token_id] if add_bos and vocab.bos_token_id is not None else [],
            eos_ids=[vocab.eos_token_id] if add_eos and vocab.eos_token_id is not None else [],
        )
        if vocab.padding_token_id is not None:
            options["pad_id"] = vocab.padding_token_id
        options.update(kwargs)
        return cls(proto, **options)

    @classmethod
    def from_tokenizer(cls, tokenizer, **kwargs) -> "TFSentencePieceTokenizer":
        """Build from a Python tokenizer (or ``tokenizers.Tokenizer``) of the Llama 2 kind.

        That is a BPE model (byte fallback, or unknown tokens fused) over the whole text, with
        a leading "▁" and spaces as "▁" from either Llama 2's normaliser ``Prepend("▁")`` +
        ``Replace(" ", "▁")`` (:func:`kerasformers.tokenization.tokenizer_from_gguf` too) or a
        ``Metaspace(split=False)`` pre-tokenizer (transformers' newer Llama conversion).
        Anything else raises :class:`UnsupportedTokenizerError`.

        When no piece scores reproduce the order of the merges (some conversions interleave the
        merges of equally scored pieces) and the tokenizer's folder also holds the original
        ``tokenizer.model``, that model is used, with the tokenizer's special tokens and template.

        Example:
            >>> python_tokenizer = AutoTokenizer.from_pretrained("path/to/llama-2")  # doctest: +SKIP
            >>> layer = TFSentencePieceTokenizer.from_tokenizer(python_tokenizer)  # doctest: +SKIP
        """
        spec = tokenizer_spec(tokenizer)
        options = dict(pad_token=getattr(tokenizer, "pad_token", None), unk_token=getattr(tokenizer, "unk_token", None))
        try:
            return cls.from_spec(spec, **options, **kwargs)
        except _MergeOrderError:
            folder = getattr(tokenizer, "name_or_path", None)
            model_file = Path(folder) / "tokenizer.model" if folder else None
            if model_file is None or not model_file.is_file():
                raise
            return cls.from_spec(spec, model_file=model_file, **options, **kwargs)

    @classmethod
    def from_spec(
        cls,
        spec: dict,
        pad_token: str | None = None,
        unk_token: str | None = None,
        model_file: str | os.PathLike | None = None,
        **kwargs,
    ) -> "TFSentencePieceTokenizer":
        """Build from the parsed contents of a Llama 2 kind ``tokenizer.json`` (see :meth:`from_tokenizer`).

        With ``model_file`` (the checkpoint's ``tokenizer.model``, whose pieces must be the
        vocabulary's first ids), SentencePiece runs that model instead of scores derived from
        the merges; the special tokens, template and pre-tokenizer still come from ``spec``.

        Example:
            >>> spec = json.loads(Path("llama-2/tokenizer.json").read_text())  # doctest: +SKIP
            >>> TFSentencePieceTokenizer.from_spec(spec)  # doctest: +SKIP
        """
        if (spec.get("model") or {}).get("type") == "Unigram":
            return cls._from_unigram_spec(spec, pad_token=pad_token, **kwargs)
        prepend_scheme, strip_leading_space = _check_llama_kind(spec)
        model = spec["model"]
        added = spec.get("added_tokens", [])
        vocab = {str(k): int(v) for k, v in model["vocab"].items()}
        for token in added:
            vocab.setdefault(token["content"], int(token["id"]))
        size = max(vocab.values()) + 1
        if sorted(vocab.values()) != list(range(size)):
            raise UnsupportedTokenizerError(
                "The vocabulary's ids are not 0..n-1 without gaps, which a SentencePiece model needs."
            )
        pieces = [""] * size
        for token, i in vocab.items():
            pieces[i] = token
        byte_fallback = bool(model.get("byte_fallback"))
        special = added_token_ids(spec)
        unk = model.get("unk_token") or unk_token
        if unk not in vocab and byte_fallback and all(f"<0x{b:02X}>" in vocab for b in range(256)):
            # SentencePiece needs an unknown piece; with every byte a piece it is never produced
            unk = next((t["content"] for t in added if t.get("special")), None)
        if unk not in vocab:
            raise UnsupportedTokenizerError(
                f"The tokenizer has no unknown token in its vocabulary (got {unk!r}); SentencePiece needs one."
            )
        # special added tokens are control pieces (never made by merges, dropped by decoding, as
        # decode(skip_special_tokens=True)); the others user-defined (decoded as their text)
        control = {t["content"] for t in added if t.get("special")} | {unk}
        if model_file is None:
            scores, types = _scores_from_merges(
                pieces, vocab, model.get("merges", []), byte_fallback, control, set(special) - control
            )
            types[vocab[unk]] = UNKNOWN
            proto = sentencepiece_model_proto(
                pieces,
                scores,
                types,
                unk_id=vocab[unk],
                byte_fallback=byte_fallback,
                add_dummy_prefix=prepend_scheme is None,
            )
        else:
            proto = Path(model_file).read_bytes()
            info = read_sentencepiece_model_proto(proto)
            if info["pieces"] != pieces[: len(info["pieces"])]:
                raise UnsupportedTokenizerError(
                    f"The pieces of {os.fspath(model_file)} are not the tokenizer's "
                    "vocabulary; it is not the model this tokenizer was converted from."
                )
            if prepend_scheme is not None and info["add_dummy_prefix"]:
                # the layer adds the "▁" as Metaspace does; protobuf merges a repeated message field,
                # so this appended normalizer_spec turns off the model's own dummy prefix alone
                proto += _bytes_field(3, _int_field(3, False))
        bos_ids, eos_ids = [], []
        for processor in post_processors(spec):
            if processor.get("type") != "TemplateProcessing":
                raise UnsupportedTokenizerError(f"Post-processor {processor.get('type')!r} is not supported in-graph.")
            bos_ids, eos_ids = bos_eos_from_template(processor)
        options = dict(
            special_tokens=special,
            skip_ids=[int(t["id"]) for t in added if t.get("special")],
            prepend_scheme=prepend_scheme,
            strip_leading_space=strip_leading_space,
            bos_ids=bos_ids,
            eos_ids=eos_ids,
        )
        if pad_token is not None:
            if pad_token not in vocab:
                raise InvalidInputError(f"pad_token {pad_token!r} is not in the vocabulary.")
            options["pad_id"] = vocab[pad_token]
        options.update(kwargs)
        return cls(proto, **options)

    @classmethod
    def _from_unigram_spec(cls, spec: dict, pad_token: str | None = None, **kwargs) -> "TFSentencePieceTokenizer":
        """A T5-kind Unigram ``tokenizer.json`` (pieces with scores, a SentencePiece character map) as a ModelProto."""
        charsmap = _check_unigram_kind(spec)
        model = spec["model"]
        pieces = [str(piece) for piece, _ in model["vocab"]]
        scores = [float(score) for _, score in model["vocab"]]
        added = spec.get("added_tokens", [])
        for token in sorted(added, key=lambda t: int(t["id"])):
            if int(token["id"]) == len(pieces):
                pieces.append(token["content"])
                scores.append(0.0)
            elif int(token["id"]) > len(pieces) or pieces[int(token["id"])] != token["content"]:
                raise UnsupportedTokenizerError(
                    f"Added token {token['content']!r} (id {token['id']}) is not a piece of the vocabulary or the "
                    "next id after it, which a SentencePiece model needs."
                )
        unk_id = model.get("unk_id")
        if unk_id is None:
            raise UnsupportedTokenizerError("The Unigram model has no unknown piece (unk_id); SentencePiece needs one.")
        special = {t["content"] for t in added if t.get("special")}
        user_defined = {t["content"] for t in added if not t.get("special")}
        types = [
            UNKNOWN
            if i == unk_id
            else CONTROL
            if piece in special
            else USER_DEFINED
            if piece in user_defined
            else NORMAL
            for i, piece in enumerate(pieces)
        ]
        proto = sentencepiece_model_proto(
            pieces,
            scores,
            types,
            unk_id=int(unk_id),
            model_type=UNIGRAM,
            add_dummy_prefix=True,
            precompiled_charsmap=charsmap,
            remove_extra_whitespaces=True,
        )
        bos_ids, eos_ids = [], []
        for processor in post_processors(spec):
            if processor.get("type") != "TemplateProcessing":
                raise UnsupportedTokenizerError(f"Post-processor {processor.get('type')!r} is not supported in-graph.")
            bos_ids, eos_ids = bos_eos_from_template(processor)
        options = dict(
            special_tokens=added_token_ids(spec),
            skip_ids=[int(t["id"]) for t in added if t.get("special")],
            strip_leading_space=True,
            bos_ids=bos_ids,
            eos_ids=eos_ids,
        )
        if pad_token is not None:
            if pad_token not in pieces:
                raise InvalidInputError(f"pad_token {pad_token!r} is not in the vocabulary.")
            options["pad_id"] = pieces.index(pad_token)
        options.update(kwargs)
        return cls(proto, **options)

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path: str | os.PathLike, **kwargs) -> "TFSentencePieceTokenizer":
        """Build from a checkpoint's tokenizer files, through its Python tokenizer (:meth:`from_tokenizer`).

        Keyword arguments are layer options (``padding``, ``max_length``, ...); ``revision`` and
        ``cache_dir`` go to the loading.

        Example:
            >>> layer = TFSentencePieceTokenizer.from_pretrained("path/to/llama-2", max_length=512)  # doctest: +SKIP
        """
        loading = {k: kwargs.pop(k) for k in ("revision", "cache_dir") if k in kwargs}
        return cls.from_tokenizer(load_pretrained_tokenizer(pretrained_model_name_or_path, **loading), **kwargs)

    # ---------------------------------------------------------------- graph
    def _encode(self, text, at_start):
        """SentencePiece on stretches of text without special tokens; ``at_start``: they begin the text."""
        if self.prepend_scheme in ("always", "first"):
            # as the Metaspace pre-tokenizer: a "▁" before non-empty text not starting with one
            prepend = (tf.strings.length(text) > 0) & ~tf.strings.regex_full_match(text, f"(?s)[ {_SPM}].*")
            if self.prepend_scheme == "first":
                prepend &= at_start
            text = tf.where(prepend, tf.strings.join([" ", text]), text)
        return tf.cast(self._spm.tokenize(text), tf.int64)

    def tokenize(self, text):
        """Strings [N] -> int64 RaggedTensor [N, tokens] of ids, without special tokens added.

        Example:
            >>> tokenizer.tokenize(tf.constant(["Hello world"]))  # doctest: +SKIP
            <tf.RaggedTensor [[15043, 3186]]>
        """
        text = replace_invalid_utf8(text)
        if self.special_pattern is None:
            return self._encode(text, True)
        # regex_split ends a string at a NUL byte, which SentencePiece encodes (as <0x00>):
        # NULs are escaped around the split (the escape character first, so it round-trips)
        text = tf.strings.regex_replace(text, _ESCAPE_RE, _ESCAPE + "e")
        text = tf.strings.regex_replace(text, "\\x00", _ESCAPE + "0")
        segments, starts, _ = tf_text().regex_split_with_offsets(text, self.special_pattern, self.special_pattern)
        flat = segments.flat_values
        special_ids = self.special_table.lookup(flat)
        is_special = special_ids >= 0
        flat = tf.strings.regex_replace(flat, _ESCAPE_RE + "0", "\x00")
        flat = tf.strings.regex_replace(flat, _ESCAPE_RE + "e", _ESCAPE)
        plain = self._encode(tf.where(is_special, "", flat), tf.equal(starts.flat_values, 0))
        single = tf.RaggedTensor.from_row_lengths(
            tf.boolean_mask(special_ids, is_special), tf.cast(is_special, tf.int64)
        )
        return segments.with_flat_values(tf.concat([single, plain], axis=1)).merge_dims(1, 2)

    def ids_to_tokens(self, ids):
        """int ids (any shape, ragged too) -> their pieces, e.g. ``b"\\xe2\\x96\\x81Hello"`` for "▁Hello".

        Example:
            >>> tokenizer.ids_to_tokens(tf.constant([15043]))  # doctest: +SKIP
            <tf.Tensor: shape=(1,), dtype=string, numpy=array([b'\\xe2\\x96\\x81Hello'], dtype=object)>
        """
        ids = tf.clip_by_value(tf.cast(ids, tf.int32), 0, self.vocab_size - 1)
        return self._spm.id_to_string(ids)

    def detokenize(self, ids):
        """Ids [N, tokens] (ragged or dense) -> strings [N], special tokens skipped.

        Gives what the Python tokenizer's ``decode(ids, skip_special_tokens=True)`` gives: "▁"
        as spaces, each run of byte pieces as UTF-8 (one U+FFFD per byte when the run is not
        valid UTF-8), and the one leading space of the dummy prefix removed. Ids outside the
        vocabulary are skipped, and so is padding when the pad token is special; otherwise
        pass a RaggedTensor (or cut the rows by the attention mask) first.

        Example:
            >>> tokenizer.detokenize(tf.ragged.constant([[1, 15043, 3186]]))  # doctest: +SKIP
            <tf.Tensor: shape=(1,), dtype=string, numpy=array([b'Hello world'], dtype=object)>
        """
        if not isinstance(ids, tf.RaggedTensor):
            ids = tf.convert_to_tensor(ids)
            if ids.shape.rank == 1:
                ids = ids[None]
            ids = tf.RaggedTensor.from_tensor(ids)
        ids = tf.cast(ids, tf.int64)
        in_range = (ids >= 0) & (ids < self.vocab_size)
        ids = tf.ragged.boolean_mask(ids, in_range)
        ids = tf.ragged.boolean_mask(ids, tf.ragged.map_flat_values(tf.gather, self._keep, ids))
        flat = ids.flat_values
        text = tf.gather(self._surface, flat)
        is_byte = tf.gather(self._is_byte, flat)
        # runs of byte pieces (a run ends at a row's end too): their bytes joined must be UTF-8
        position = tf.range(tf.size(flat, out_type=tf.int64))
        first_in_row = tf.equal(position, tf.gather(ids.row_splits, ids.value_rowids()))
        previous_byte = tf.concat([[False], is_byte[:-1]], axis=0) & ~first_in_row
        run = tf.cumsum(tf.cast(is_byte & ~previous_byte, tf.int64)) - 1
        runs = tf.strings.unsorted_segment_join(
            tf.boolean_mask(text, is_byte),
            tf.boolean_mask(run, is_byte),
            tf.reduce_max(tf.concat([run + 1, [0]], axis=0)),
        )
        checked = tf.strings.unicode_transcode(runs, "UTF-8", "UTF-8", errors="replace", replacement_char=0xFFFD)
        valid_run = tf.equal(checked, runs)
        valid = tf.gather(tf.concat([valid_run, [True]], axis=0), tf.where(is_byte, run, tf.size(runs, tf.int64)))
        text = tf.where(valid, text, "\ufffd")
        text = tf.strings.reduce_join(ids.with_flat_values(text), axis=1)
        if self.strip_leading_space:
            text = tf.strings.regex_replace(text, "^ ", "", replace_global=False)
        return text


class _MergeOrderError(UnsupportedTokenizerError):
    """No SentencePiece scores reproduce the order of a tokenizer's BPE merges."""


def _or(value: int | None) -> int:
    return -1 if value is None else int(value)


_LLAMA_NORMALIZER = LLAMA_LEGACY_NORMALIZERS
_LLAMA_DECODER = [
    {"type": "Replace", "pattern": {"String": _SPM}, "content": " "},
    {"type": "ByteFallback"},
    {"type": "Fuse"},
]


def _check_llama_kind(spec: dict) -> tuple[str | None, bool]:
    """Raise unless ``spec`` is a tokenizer SentencePiece reproduces; (prepend_scheme, strip_leading_space)."""
    model = spec.get("model") or {}
    kind = model.get("type")
    if kind != "BPE":
        raise UnsupportedTokenizerError(
            f"TFSentencePieceTokenizer reproduces SentencePiece BPE tokenizers of the Llama 2 kind; this one's "
            f"model is {kind!r}."
        )
    if (
        model.get("continuing_subword_prefix")
        or model.get("end_of_word_suffix")
        or model.get("dropout")
        or model.get("ignore_merges")
    ):
        raise UnsupportedTokenizerError(
            "BPE subword prefixes / suffixes / dropout / ignore_merges have no SentencePiece equivalent."
        )
    if not model.get("byte_fallback") and not model.get("fuse_unk"):
        raise UnsupportedTokenizerError(
            "A BPE model without byte_fallback must fuse unknown tokens (fuse_unk) to match SentencePiece."
        )

    def only(step, keys):
        return {k: v for k, v in step.items() if k in keys}

    normalizer = spec.get("normalizer") or {}
    steps = (
        normalizer.get("normalizers", [])
        if normalizer.get("type") == "Sequence"
        else [normalizer]
        if normalizer
        else []
    )
    pre = spec.get("pre_tokenizer") or {}
    if [only(step, ("type", "prepend", "pattern", "content")) for step in steps] == _LLAMA_NORMALIZER and not pre:
        prepend_scheme = None  # SentencePiece's own dummy prefix, as Llama 2's legacy normaliser
    elif (
        not steps
        and pre.get("type") == "Metaspace"
        and pre.get("replacement", _SPM) == _SPM
        and pre.get("split", True) is False
    ):
        prepend_scheme = pre.get("prepend_scheme") or ("always" if pre.get("add_prefix_space", True) else "never")
    else:
        raise UnsupportedTokenizerError(
            "TFSentencePieceTokenizer reproduces Llama 2's normaliser (Prepend('▁'), Replace(' ', '▁')) without a "
            "pre-tokenizer, or a Metaspace('▁', split=False) pre-tokenizer without a normaliser; this tokenizer "
            f"has normaliser {[step.get('type') for step in steps]} and pre-tokenizer {pre.get('type')!r}."
        )
    decoder = spec.get("decoder") or {}
    parts = decoder.get("decoders", []) if decoder.get("type") == "Sequence" else [decoder]
    if [only(step, ("type", "pattern", "content")) for step in parts[:3]] == _LLAMA_DECODER and (
        len(parts) == 3
        or len(parts) == 4
        and only(parts[3], ("type", "content", "stop")) == {"type": "Strip", "content": " ", "stop": 0}
        and parts[3].get("start") in (0, 1)
    ):
        strip = len(parts) == 4 and parts[3]["start"] == 1
    elif decoder.get("type") == "Metaspace" and decoder.get("replacement", _SPM) == _SPM:
        strip = decoder.get("prepend_scheme", "always") != "never" and decoder.get("add_prefix_space", True)
    else:
        raise UnsupportedTokenizerError(
            f"The decoder {decoder.get('type')!r} is not the Llama kind (Replace('▁', ' '), ByteFallback, Fuse, "
            "Strip) that the in-graph detokenize reproduces."
        )
    for token in spec.get("added_tokens", []):
        if token.get("lstrip") or token.get("rstrip") or token.get("single_word") or token.get("normalized"):
            raise UnsupportedTokenizerError(
                f"Added token {token.get('content')!r} has lstrip / rstrip / single_word / normalized set, which "
                "the in-graph tokenizer does not reproduce."
            )
    return prepend_scheme, bool(strip)


def precompiled_charsmap(spec: dict) -> bytes | None:
    """The SentencePiece character map (``Precompiled`` normaliser) of a ``tokenizer.json``'s contents, or None.

    Example:
        >>> precompiled_charsmap(json.loads(Path("t5/tokenizer.json").read_text()))  # doctest: +SKIP
        b'...'
    """
    normalizer = spec.get("normalizer") or {}
    steps = normalizer.get("normalizers", []) if normalizer.get("type") == "Sequence" else [normalizer]
    for step in steps:
        if step.get("type") == "Precompiled" and step.get("precompiled_charsmap"):
            return base64.b64decode(step["precompiled_charsmap"])
    return None


def _check_unigram_kind(spec: dict) -> bytes | None:
    """Raise unless ``spec`` is a T5-kind Unigram tokenizer SentencePiece reproduces; its character map."""
    normalizer = spec.get("normalizer") or {}
    steps = normalizer.get("normalizers", []) if normalizer.get("type") == "Sequence" else [normalizer]
    steps = [step for step in steps if step]
    # transformers 4's T5 files add Replace(" {2,}", " "): SentencePiece's remove_extra_whitespaces does it too
    extra = [
        step
        for step in steps
        if step.get("type") != "Precompiled"
        and not (step.get("type") == "Replace" and step.get("pattern", {}).get("Regex") == " {2,}")
    ]
    if extra:
        raise UnsupportedTokenizerError(
            "TFSentencePieceTokenizer reproduces Unigram tokenizers whose normaliser is SentencePiece's character "
            f"map (Precompiled); this one has {[step.get('type') for step in extra]}."
        )
    pre = spec.get("pre_tokenizer") or {}
    parts = pre.get("pretokenizers", []) if pre.get("type") == "Sequence" else [pre]
    kinds = [part.get("type") for part in parts]
    metaspace = parts[-1] if parts else {}
    if (
        kinds not in (["WhitespaceSplit", "Metaspace"], ["Metaspace"])
        or metaspace.get("replacement", _SPM) != _SPM
        or (metaspace.get("prepend_scheme") or "always") != "always"
        or not metaspace.get("add_prefix_space", True)
    ):
        raise UnsupportedTokenizerError(
            "TFSentencePieceTokenizer reproduces Unigram tokenizers pre-tokenized by WhitespaceSplit + "
            f"Metaspace('▁', prepend_scheme='always') (T5, XLM-RoBERTa); this 'Unigram' one has {kinds}."
        )
    decoder = spec.get("decoder") or {}
    if decoder.get("type") != "Metaspace" or (decoder.get("prepend_scheme") or "always") != "always":
        raise UnsupportedTokenizerError(
            f"The decoder {decoder.get('type')!r} is not Metaspace('▁', prepend_scheme='always'), which the in-graph "
            "detokenize reproduces for Unigram tokenizers."
        )
    if (spec.get("model") or {}).get("byte_fallback"):
        raise UnsupportedTokenizerError("Unigram byte fallback is not reproduced in-graph.")
    for token in spec.get("added_tokens", []):
        if token.get("lstrip") or token.get("rstrip") or token.get("single_word"):
            raise UnsupportedTokenizerError(
                f"Added token {token.get('content')!r} has lstrip / rstrip / single_word set, which the in-graph "
                "tokenizer does not reproduce."
            )
    return precompiled_charsmap(spec)


def _scores_from_merges(
    pieces: list[str], vocab: dict[str, int], merges, byte_fallback: bool, control: set[str], user_defined: set[str]
):
    """SentencePiece scores and types giving the segmentation of BPE ``merges``.

    SentencePiece merges the adjacent pair whose result has the highest score (leftmost on
    ties); ``tokenizers`` merges the pair of lowest rank. A piece made by merges of ranks
    r..r+k gets score -r: the two agree when every split of a piece into two pieces is a merge
    (SentencePiece tries them all) and each piece's merges have consecutive ranks.
    """
    merges = [tuple(m) if isinstance(m, (list, tuple)) else tuple(m.split(" ", 1)) for m in merges]
    first_rank: dict[str, int] = {}
    merge_set = set()
    for rank, (left, right) in enumerate(merges):
        piece = left + right
        if piece not in vocab or left not in vocab or right not in vocab:
            raise UnsupportedTokenizerError(f"Merge {left!r} + {right!r} is not between vocabulary pieces.")
        if piece in first_rank and merges[rank - 1][0] + merges[rank - 1][1] != piece:
            raise _MergeOrderError(
                f"The merges making {piece!r} are not consecutive, so no SentencePiece scores reproduce their "
                "order (some conversions interleave the merges of equally scored pieces). Build the layer from "
                "the original SentencePiece model: put tokenizer.model in the tokenizer's folder, or use "
                "TFSentencePieceTokenizer.from_model_file / from_gguf."
            )
        first_rank.setdefault(piece, rank)
        merge_set.add((left, right))
    byte_piece = re.compile(r"<0x[0-9A-F]{2}>")
    scores, types = [], []
    for piece in pieces:
        if byte_fallback and byte_piece.fullmatch(piece):
            scores.append(0.0)
            types.append(BYTE)
            continue
        if piece in control:
            scores.append(0.0)
            types.append(CONTROL)
            continue
        splits = [
            (piece[:cut], piece[cut:]) for cut in range(1, len(piece)) if piece[:cut] in vocab and piece[cut:] in vocab
        ]
        missing = [s for s in splits if s not in merge_set]
        if missing:
            raise UnsupportedTokenizerError(
                f"Piece {piece!r} can be made from {missing[0][0]!r} + {missing[0][1]!r} but no merge says so: "
                "SentencePiece's BPE would make it, the tokenizer's would not."
            )
        scores.append(-float(first_rank.get(piece, 0)))
        types.append(USER_DEFINED if piece in user_defined else NORMAL)
    return scores, types
