"""T5TokenizerFast (T5, mT5, Flan-T5): SentencePiece Unigram with sentinel ids and an EOS-only template.

Example:
    >>> tokenizer = T5TokenizerFast(tokenizer_file="tokenizer.json")
    >>> tokenizer("Hello")["input_ids"][-1] == tokenizer.eos_token_id
    True
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from tokenizers import AddedToken, Tokenizer, decoders, normalizers, pre_tokenizers, processors
from tokenizers.models import Unigram

from kerasformers.errors import InvalidInputError, TokenizerFilesNotFoundError
from kerasformers.tokenization.fast import PreTrainedTokenizerFast, build_backend, register_tokenizer_class
from kerasformers.tokenization.files import read_tokenizer_json
from kerasformers.tokenization.sentencepiece import precompiled_charsmap, read_sentencepiece_model_proto

__all__ = ["T5TokenizerFast", "T5Tokenizer", "sentinel_token"]

_SENTINEL = re.compile(r"<extra_id_\d+>")


def sentinel_token(index: int) -> str:
    """The text of T5's ``index``-th sentinel (span-corruption mask) token.

    Example:
        >>> sentinel_token(0)
        '<extra_id_0>'
    """
    return f"<extra_id_{int(index)}>"


class T5TokenizerFast(PreTrainedTokenizerFast):
    """T5's tokenizer (SentencePiece Unigram, ``A </s>`` / ``A </s> B </s>``), with transformers' defaults.

    Built from a ``tokenizer.json`` (``tokenizer_file``), a SentencePiece ``spiece.model``
    (``vocab_file``, read without the sentencepiece package) or a ``vocab`` list of
    ``(piece, score)``. As in transformers, the pre-tokenizer (whitespace split, then a ``▁``
    before each word), the decoder and the template come from this class; the normaliser is the
    file's precompiled SentencePiece character map. ``extra_ids`` sentinels ``<extra_id_0>`` ...
    are special tokens (:meth:`get_sentinel_tokens`). ``T5Tokenizer`` is another name for it.

    Example:
        >>> tokenizer = T5TokenizerFast(tokenizer_file="tokenizer.json")
        >>> tokenizer.decode(tokenizer("Hello world")["input_ids"], skip_special_tokens=True)
        'Hello world'
    """

    vocab_files_names = {"vocab_file": "spiece.model", "tokenizer_file": "tokenizer.json"}
    model_input_names = ["input_ids", "attention_mask"]

    def __init__(
        self,
        vocab_file: str | os.PathLike | None = None,
        tokenizer_file: str | os.PathLike | None = None,
        eos_token: str | AddedToken = "</s>",
        unk_token: str | AddedToken = "<unk>",
        pad_token: str | AddedToken = "<pad>",
        extra_ids: int = 100,
        additional_special_tokens: list | None = None,
        *,
        vocab: list[tuple[str, float]] | None = None,
        tokenizer_object: Tokenizer | None = None,
        **kwargs,
    ):
        extras = additional_special_tokens
        if extras is None:
            extras = kwargs.pop("extra_special_tokens", None)
        else:
            kwargs.pop("extra_special_tokens", None)
        if isinstance(extras, dict):
            extras = list(extras.values())
        if extras is None:
            extras = [sentinel_token(i) for i in range(extra_ids)]
        else:
            extras = list(extras)
            sentinels = [token for token in extras if "<extra_id_" in str(token)]
            if not sentinels:
                extras += [sentinel_token(i) for i in range(extra_ids)]
            elif extra_ids > 0 and extra_ids != len(sentinels):
                raise InvalidInputError(
                    f"extra_ids={extra_ids} but additional_special_tokens holds {len(sentinels)} <extra_id_N> "
                    "tokens: they must agree (or pass extra_ids=0)."
                )
        self._extra_ids = extra_ids
        charsmap = None
        if vocab is None and tokenizer_file is None and tokenizer_object is None and vocab_file is not None:
            vocab, charsmap = _read_spiece_model(vocab_file)
            # as T5's conversion: the sentinels follow the pieces, <extra_id_0> last (T5 checkpoints' ids)
            known = {piece for piece, _ in vocab}
            vocab += [(sentinel_token(i), 0.0) for i in range(extra_ids - 1, -1, -1) if sentinel_token(i) not in known]
        elif tokenizer_file is not None:
            charsmap = precompiled_charsmap(read_tokenizer_json(tokenizer_file))
        default_vocab = [(str(pad_token), 0.0), (str(eos_token), 0.0), (str(unk_token), 0.0), ("▁", -2.0)]
        default_vocab += [(sentinel_token(i), 0.0) for i in range(extra_ids - 1, -1, -1)]

        def unigram(pieces, _):
            return Unigram(vocab=pieces, unk_id=2, byte_fallback=False)

        backend = build_backend(unigram, tokenizer_object, tokenizer_file, vocab, default_vocab=default_vocab)
        if tokenizer_object is None:
            backend.normalizer = normalizers.Precompiled(charsmap) if charsmap else None
            backend.pre_tokenizer = pre_tokenizers.Sequence(
                [
                    pre_tokenizers.WhitespaceSplit(),
                    pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True),
                ]
            )
            backend.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
        super().__init__(
            backend,
            eos_token=eos_token,
            unk_token=unk_token,
            pad_token=pad_token,
            extra_ids=extra_ids,
            extra_special_tokens=extras,
            **kwargs,
        )
        eos = str(eos_token)
        self.backend_tokenizer.post_processor = processors.TemplateProcessing(
            single=["$A", eos], pair=["$A", eos, "$B", eos], special_tokens=[(eos, self.eos_token_id)]
        )

    def get_sentinel_tokens(self) -> list[str]:
        """The sentinel tokens (``<extra_id_N>``) among the additional special tokens (as transformers: a set's order).

        Example:
            >>> sorted(tokenizer.get_sentinel_tokens())[:2]
            ['<extra_id_0>', '<extra_id_1>']
        """
        return list({token for token in self.additional_special_tokens if _SENTINEL.search(token)})

    def get_sentinel_token_ids(self) -> list[int]:
        """The ids of :meth:`get_sentinel_tokens`, in the same order.

        Example:
            >>> tokenizer.convert_tokens_to_ids("<extra_id_0>") in tokenizer.get_sentinel_token_ids()
            True
        """
        return [self.convert_tokens_to_ids(token) for token in self.get_sentinel_tokens()]


def _read_spiece_model(path) -> tuple[list[tuple[str, float]], bytes | None]:
    if not Path(path).is_file():
        raise TokenizerFilesNotFoundError(
            f"No SentencePiece model at {os.fspath(path)}; pass the path of T5's spiece.model (or tokenizer_file)."
        )
    info = read_sentencepiece_model_proto(Path(path).read_bytes())
    return list(zip(info["pieces"], info["scores"])), info.get("precompiled_charsmap") or None


T5Tokenizer = T5TokenizerFast

register_tokenizer_class(T5TokenizerFast, names=("T5Tokenizer", "MT5Tokenizer"), model_types=("t5", "mt5", "umt5"))
