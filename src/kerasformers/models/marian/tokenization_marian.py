"""MarianTokenizer (Marian MT / opus-mt): a source and a target SentencePiece model sharing one ``vocab.json``.

Example:
    >>> tokenizer = MarianTokenizer("source.spm", "target.spm", "vocab.json")
    >>> labels = tokenizer("I am a small frog.", text_target="Ich bin ein kleiner Frosch.")["labels"]
    >>> labels[-1] == tokenizer.eos_token_id
    True
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import tensorflow as tf
from tokenizers import AddedToken, Tokenizer, decoders, normalizers, pre_tokenizers, processors
from tokenizers.models import Unigram

from kerasformers.errors import InvalidInputError, TokenizerFilesNotFoundError
from kerasformers.hub import atomic_folder_write
from kerasformers.logging import get_logger
from kerasformers.tokenization.fast import PreTrainedTokenizerFast, clean_up_tokenization, register_tokenizer_class
from kerasformers.tokenization.files import tokenizer_spec
from kerasformers.tokenization.sentencepiece import TFSentencePieceTokenizer, read_sentencepiece_model_proto

__all__ = ["MarianTokenizer", "TFMarianTokenizer"]

logger = get_logger(__name__)

_UNREACHABLE = "▁▁"  # appended to a piece the side's SentencePiece model lacks: no pre-tokenized word has it


def _language_code(token: str) -> bool:
    return token.startswith(">>") and token.endswith("<<")


def _read_vocab(path) -> dict[str, int]:
    if path is None or not Path(path).is_file():
        raise TokenizerFilesNotFoundError(f"No Marian vocabulary at {path}; pass the checkpoint's vocab.json.")
    vocab = json.loads(Path(path).read_text("utf-8"))
    if not isinstance(vocab, dict):
        raise InvalidInputError(f"{os.fspath(path)} must hold a JSON object of token -> id.")
    return {str(token): int(index) for token, index in vocab.items()}


def _read_spm(path) -> dict:
    if path is None or not Path(path).is_file():
        raise TokenizerFilesNotFoundError(
            f"No SentencePiece model at {path}; Marian needs the checkpoint's source.spm and target.spm."
        )
    return read_sentencepiece_model_proto(Path(path).read_bytes())


def _side_backend(spm: dict, vocab: dict[str, int], specials: list[str], side: str) -> Tokenizer:
    """A Unigram tokenizer with ``vocab``'s ids and one SentencePiece model's pieces and scores.

    The pieces of ``vocab`` this model does not have (the other language's, language codes) keep their
    ids but can never be chosen, so the segmentation is this model's; the model's pieces missing from
    ``vocab`` are dropped (transformers maps them to <unk>).
    """
    scores = dict(zip(spm["pieces"], spm["scores"]))
    missing = [piece for piece in spm["pieces"] if piece not in vocab and piece not in specials]
    if missing:
        logger.warning(
            "%d pieces of the %s SentencePiece model are not in vocab.json (e.g. %r); they are not used.",
            len(missing),
            side,
            missing[0],
        )
    by_id = sorted(vocab.items(), key=lambda item: item[1])
    if [index for _, index in by_id] != list(range(len(by_id))):
        raise InvalidInputError("vocab.json's ids must be 0, 1, ... without gaps.")
    pieces = []
    for token, _ in by_id:
        if token in scores or token in specials or _language_code(token):
            pieces.append((token, float(scores.get(token, 0.0))))
        else:
            pieces.append((token + _UNREACHABLE, 0.0))
    backend = Tokenizer(Unigram(pieces, unk_id=vocab["<unk>"], byte_fallback=False))
    charsmap = spm.get("precompiled_charsmap")
    backend.normalizer = normalizers.Precompiled(charsmap) if charsmap else None
    backend.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")]
    )
    backend.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    # language codes (>>fr<<) are whole tokens, as transformers takes them off the text before SentencePiece
    backend.add_tokens([AddedToken(token, normalized=False) for token, _ in by_id if _language_code(token)])
    return backend


class MarianTokenizer(PreTrainedTokenizerFast):
    """Marian's tokenizer: ``source.spm`` for sources, ``target.spm`` for ``text_target``, ids from ``vocab.json``.

    As transformers' ``MarianTokenizer``: each text is split by its side's SentencePiece model (a
    leading language code such as ``>>fr<<`` kept as one token), the pieces take their ``vocab.json``
    ids (``target_vocab.json``'s for targets with ``separate_vocabs=True``; unknown pieces are
    ``<unk>``), and ``</s>`` is appended (``A </s>``, pairs ``A B </s>``). ``decode`` joins the
    pieces (``▁`` as spaces) from the joint vocabulary, or the target one when the vocabularies are
    separate (as SentencePiece decodes them: a piece the model lacks is written as it is).
    ``save_pretrained`` writes the SentencePiece models and vocabularies back, which transformers
    loads. Differences: transformers runs sacremoses' punctuation normaliser on sources when that
    package is installed, kerasformers does not (transformers without sacremoses); a run of characters
    the source model does not know is ``<unk>`` here, while transformers looks the run's text up in
    vocab.json (where the target model may have it); a language code of vocab.json is one token
    anywhere in the text, not only at its start, and a ``>>xx<<`` prefix not in vocab.json is split
    into pieces rather than made one ``<unk>``.

    Example:
        >>> tokenizer = MarianTokenizer.from_pretrained("path/to/opus-mt-en-de")
        >>> batch = tokenizer(["I am a small frog."], text_target=["Ich bin ein kleiner Frosch."])
        >>> tokenizer.batch_decode(batch["labels"], skip_special_tokens=True)
        ['Ich bin ein kleiner Frosch.']
    """

    vocab_files_names = {"source_spm": "source.spm", "target_spm": "target.spm", "vocab": "vocab.json"}
    model_input_names = ["input_ids", "attention_mask"]

    def __init__(
        self,
        source_spm: str | os.PathLike | None = None,
        target_spm: str | os.PathLike | None = None,
        vocab: str | os.PathLike | None = None,
        target_vocab_file: str | os.PathLike | None = None,
        source_lang: str | None = None,
        target_lang: str | None = None,
        unk_token: str = "<unk>",
        eos_token: str = "</s>",
        pad_token: str = "<pad>",
        model_max_length: int = 512,
        separate_vocabs: bool = False,
        **kwargs,
    ):
        kwargs.pop("tokenizer_object", None)
        kwargs.pop("sp_model_kwargs", None)
        self._files = {"source.spm": source_spm, "target.spm": target_spm, "vocab.json": vocab}
        source, target = _read_spm(source_spm), _read_spm(target_spm)
        self.encoder = _read_vocab(vocab)
        specials = [str(token) for token in (eos_token, unk_token, pad_token)]
        for token in specials:
            if token not in self.encoder:
                raise InvalidInputError(f"{token} must be in vocab.json ({os.fspath(vocab)}).")
        self.separate_vocabs = bool(separate_vocabs)
        if self.separate_vocabs:
            if target_vocab_file is None:
                target_vocab_file = Path(vocab).parent / "target_vocab.json"
            self.target_encoder = _read_vocab(target_vocab_file)
            self._files["target_vocab.json"] = target_vocab_file
        else:
            self.target_encoder = self.encoder
        self.decoder = {index: token for token, index in self.target_encoder.items()}
        # as transformers: text is decoded with the source model's pieces, the target's when vocabularies are separate
        self._decode_pieces = set((target if self.separate_vocabs else source)["pieces"])
        self.source_lang, self.target_lang = source_lang, target_lang
        self.supported_language_codes = [] if self.separate_vocabs else [t for t in self.encoder if _language_code(t)]
        backend = _side_backend(source, self.encoder, specials, "source")
        self._target_backend = _side_backend(target, self.target_encoder, specials, "target")
        super().__init__(
            backend,
            unk_token=unk_token,
            eos_token=eos_token,
            pad_token=pad_token,
            model_max_length=model_max_length,
            source_lang=source_lang,
            target_lang=target_lang,
            separate_vocabs=separate_vocabs,
            **kwargs,
        )
        # the target side's special tokens and template, as the source's
        self._target_backend.add_special_tokens([str(token) for token in self.all_special_tokens])
        eos = str(eos_token)
        for side, encoder in ((self.backend_tokenizer, self.encoder), (self._target_backend, self.target_encoder)):
            side.post_processor = processors.TemplateProcessing(
                single=["$A", eos], pair=["$A", "$B", eos], special_tokens=[(eos, encoder[eos])]
            )

    def update_post_processor(self) -> None:
        """Marian's template stays ``A </s>`` (its ``add_bos_token`` / ``add_eos_token`` are not options)."""

    def __call__(self, text=None, text_pair=None, text_target=None, text_pair_target=None, **kwargs):
        """Sources with ``source.spm``; ``text_target`` with ``target.spm`` (its ids come back as ``labels``).

        Example:
            >>> tokenizer(["Hello"], text_target=["Hallo"], padding=True, return_tensors="np")["labels"]
        """
        encodings = super().__call__(text, text_pair, **kwargs) if text is not None else None
        if text_target is None:
            return encodings
        targets = self._encode_targets(text_target, text_pair_target, **kwargs)
        if encodings is None:
            return targets
        encodings["labels"] = targets["input_ids"]
        return encodings

    def _encode_targets(self, text, text_pair=None, **kwargs):
        source, self._tokenizer = self._tokenizer, self._target_backend
        try:
            return super().__call__(text, text_pair, **kwargs)
        finally:
            self._tokenizer = source

    # ---- decoding: pieces joined, as transformers' convert_tokens_to_string ----------------------

    def _decode_one(self, ids: list[int], skip_special_tokens: bool, clean_up: bool | None) -> str:
        tokens = self.convert_ids_to_tokens(ids, skip_special_tokens=skip_special_tokens)
        text = self.convert_tokens_to_string(tokens)
        if clean_up is None:
            clean_up = self.clean_up_tokenization_spaces
        return clean_up_tokenization(text) if clean_up else text

    def convert_ids_to_tokens(self, ids, skip_special_tokens: bool = False):
        """Ids -> pieces of the (target, when separate) vocabulary; unknown ids are ``<unk>``.

        Example:
            >>> tokenizer.convert_ids_to_tokens([tokenizer.eos_token_id])
            ['</s>']
        """
        if isinstance(ids, int):
            return self.decoder.get(ids, str(self.unk_token))
        skipped = set(self.all_special_ids) if skip_special_tokens else set()
        return [self.decoder.get(int(index), str(self.unk_token)) for index in ids if int(index) not in skipped]

    def convert_tokens_to_string(self, tokens: list[str]) -> str:
        """Pieces -> text: ``▁`` as spaces, special tokens kept as written (followed by a space), ends stripped.

        Example:
            >>> tokenizer.convert_tokens_to_string(["▁Hello", "▁world", "</s>"])
            'Hello world</s>'
        """
        specials = set(self.all_special_tokens)
        text, run = "", []
        for token in tokens:
            if token in specials:
                text += _join_pieces(run, self._decode_pieces) + token + " "
                run = []
            else:
                run.append(token)
        text += _join_pieces(run, self._decode_pieces)
        return text.replace("▁", " ").strip()

    def _convert_id_to_token(self, index: int) -> str:
        return self.decoder.get(index, str(self.unk_token))

    @property
    def vocab_size(self) -> int:
        """The size of the joint (source) vocabulary, as transformers counts it."""
        return len(self.encoder)

    def __len__(self) -> int:
        return len(self.encoder)

    def get_vocab(self) -> dict[str, int]:
        """vocab.json's token -> id (the source vocabulary)."""
        return dict(self.encoder)

    def get_src_vocab(self) -> dict[str, int]:
        """The source vocabulary (vocab.json)."""
        return dict(self.encoder)

    def get_tgt_vocab(self) -> dict[str, int]:
        """The target vocabulary (target_vocab.json with ``separate_vocabs``, else vocab.json)."""
        return dict(self.target_encoder)

    def save_pretrained(self, save_directory: str | os.PathLike, **kwargs) -> tuple[str, ...]:
        """Write source.spm, target.spm, vocab.json (target_vocab.json), tokenizer_config.json, special_tokens_map.json.

        The folder loads in transformers' MarianTokenizer and here; it appears only when complete.

        Example:
            >>> tokenizer.save_pretrained("out")[:3]
            ('out/source.spm', 'out/target.spm', 'out/vocab.json')
        """
        save_directory = Path(save_directory)
        config = {key: value for key, value in self.init_kwargs.items() if isinstance(value, (str, int, float, bool))}
        config = {k: v for k, v in config.items() if k not in ("name_or_path", "tokenizer_file")}
        config.update(
            tokenizer_class="MarianTokenizer",
            source_lang=self.source_lang,
            target_lang=self.target_lang,
            separate_vocabs=self.separate_vocabs,
            model_max_length=self.model_max_length,
            unk_token=str(self.unk_token),
            eos_token=str(self.eos_token),
            pad_token=str(self.pad_token),
        )
        special_tokens_map = {"unk_token": config["unk_token"], "eos_token": config["eos_token"]}
        special_tokens_map["pad_token"] = config["pad_token"]
        names = [*self._files, "tokenizer_config.json", "special_tokens_map.json"]
        with atomic_folder_write(save_directory) as tmp:
            for name, path in self._files.items():
                shutil.copyfile(path, tmp / name)
            (tmp / "tokenizer_config.json").write_text(json.dumps(config, indent=2, ensure_ascii=False), "utf-8")
            (tmp / "special_tokens_map.json").write_text(json.dumps(special_tokens_map, indent=2), "utf-8")
        return tuple(str(save_directory / name) for name in names)


class TFMarianTokenizer(TFSentencePieceTokenizer):
    """Marian's source tokenizer in TF ops: strings in, vocab.json ids out, ``</s>`` appended; ids back to text.

    The source SentencePiece model with vocab.json's ids (a ModelProto built from
    :class:`MarianTokenizer`'s source side, run by tensorflow-text), so ``layer(texts)`` gives what
    ``MarianTokenizer(texts)`` gives; :meth:`detokenize` gives ``batch_decode(ids,
    skip_special_tokens=True)`` for generated (target) ids. Single texts only: a pair comes out as
    ``A </s> B </s>``, not Marian's ``A B </s>``; separate source and target vocabularies are not supported.

    Example:
        >>> layer = TFMarianTokenizer.from_tokenizer(MarianTokenizer.from_pretrained("path/to/opus-mt-en-de"))
        >>> layer(tf.constant(["I am a small frog."]))["input_ids"]
        >>> layer.detokenize(generated_ids)
    """

    def __init__(self, model_proto, *, decode_pieces=None, **kwargs):
        # vocab.json's pieces by id: what detokenize writes for each id (the target language's pieces too)
        self.decode_pieces = None if decode_pieces is None else [str(piece) for piece in decode_pieces]
        super().__init__(model_proto, **kwargs)

    def _build_graph_parts(self, info: dict):
        super()._build_graph_parts(info)
        if self.decode_pieces is not None:
            self._surface = tf.constant([piece.replace("▁", " ").encode("utf-8") for piece in self.decode_pieces])
            self._is_byte = tf.zeros([len(self.decode_pieces)], tf.bool)

    def get_config(self) -> dict:
        config = super().get_config()
        config["decode_pieces"] = self.decode_pieces
        return config

    @classmethod
    def from_tokenizer(cls, tokenizer, **kwargs) -> "TFMarianTokenizer":
        """Build from a :class:`MarianTokenizer` (joint vocabulary).

        Example:
            >>> layer = TFMarianTokenizer.from_tokenizer(tokenizer, max_length=512)
        """
        if not isinstance(tokenizer, MarianTokenizer):
            raise InvalidInputError(f"TFMarianTokenizer.from_tokenizer needs a MarianTokenizer, got {type(tokenizer)}.")
        if tokenizer.separate_vocabs:
            raise InvalidInputError(
                "TFMarianTokenizer needs a joint vocabulary (vocab.json for both sides); this tokenizer has "
                "separate_vocabs=True."
            )
        backend = Tokenizer.from_str(tokenizer.backend_tokenizer.to_str())
        eos = str(tokenizer.eos_token)
        # in-graph templates add special tokens around each text: Marian's single-text template is one of them
        backend.post_processor = processors.TemplateProcessing(
            single=["$A", eos], pair=["$A", eos, "$B", eos], special_tokens=[(eos, tokenizer.eos_token_id)]
        )
        pieces = [tokenizer.decoder[index] for index in range(len(tokenizer.decoder))]
        options = dict(pad_token=str(tokenizer.pad_token), decode_pieces=pieces)
        return cls.from_spec(tokenizer_spec(backend), **options, **kwargs)

    def detokenize(self, ids):
        """Ids [N, tokens] -> strings [N], special tokens skipped and the ends stripped, as ``batch_decode``.

        Example:
            >>> layer.detokenize(tf.ragged.constant([[46, 15, 0]]))
        """
        return tf.strings.strip(super().detokenize(ids))


def _join_pieces(pieces: list[str], known: set[str]) -> str:
    """SentencePiece's DecodePieces: a piece of the model with ``▁`` as spaces (the leading one dropped while
    nothing is written yet), a piece the model does not know as written."""
    text = ""
    for piece in pieces:
        if piece in known:
            surface = piece.replace("▁", " ")
            text += surface[1:] if not text and surface.startswith(" ") else surface
        else:
            text += piece
    return text


MarianTokenizer.in_graph_class = TFMarianTokenizer  # what an export puts into the graph for this tokenizer
register_tokenizer_class(MarianTokenizer, model_types=("marian",))
