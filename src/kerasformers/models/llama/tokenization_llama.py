"""LlamaTokenizerFast (Llama 2 and Mistral checkpoints): SentencePiece-style BPE, as transformers builds it.

Example:
    >>> tokenizer = LlamaTokenizerFast.from_pretrained("path/to/llama")
    >>> tokenizer.padding_side
    'left'
"""

from __future__ import annotations

import os

from tokenizers import AddedToken, Tokenizer, decoders, pre_tokenizers
from tokenizers.models import BPE

from kerasformers.tokenization.fast import PreTrainedTokenizerFast, build_backend, register_tokenizer_class

__all__ = ["LlamaTokenizerFast", "LlamaTokenizer"]


class LlamaTokenizerFast(PreTrainedTokenizerFast):
    """Llama's tokenizer (BPE over ``▁``-marked words with byte fallback), with transformers' defaults.

    Built from a ``tokenizer.json`` (``tokenizer_file``) or ``vocab`` / ``merges`` (the
    ``tokenizer.model`` protobuf is not read here). As in transformers, the pre-tokenizer (a
    ``▁`` before the first word when ``add_prefix_space``, the default), the decoder and the
    model's byte fallback come from this class; padding goes on the left. Mistral checkpoints
    use this class too. ``LlamaTokenizer`` is another name for it: no slow Python tokenizer here.

    Example:
        >>> tokenizer = LlamaTokenizerFast(tokenizer_file="tokenizer.json")
        >>> tokenizer.bos_token, tokenizer.eos_token, tokenizer.unk_token
        ('<s>', '</s>', '<unk>')
    """

    vocab_files_names = {"tokenizer_file": "tokenizer.json"}
    model_input_names = ["input_ids", "attention_mask"]
    padding_side = "left"

    def __init__(
        self,
        vocab_file: str | os.PathLike | None = None,
        tokenizer_file: str | os.PathLike | None = None,
        clean_up_tokenization_spaces: bool = False,
        unk_token: str | AddedToken = "<unk>",
        bos_token: str | AddedToken = "<s>",
        eos_token: str | AddedToken = "</s>",
        use_default_system_prompt: bool = False,
        legacy: bool = False,
        add_prefix_space: bool | None = None,
        *,
        vocab: dict[str, int] | None = None,
        merges: list | None = None,
        tokenizer_object: Tokenizer | None = None,
        **kwargs,
    ):
        self.add_prefix_space = True if add_prefix_space is None else add_prefix_space
        self.legacy = legacy
        self.use_default_system_prompt = use_default_system_prompt
        default_vocab = {str(unk_token): 0, str(bos_token): 1, str(eos_token): 2}
        backend = build_backend(
            lambda words, pairs: BPE(vocab=words, merges=pairs or [], fuse_unk=True, byte_fallback=True, dropout=None),
            tokenizer_object,
            tokenizer_file,
            vocab,
            merges,
            default_vocab=default_vocab,
        )
        backend.normalizer = None
        # transformers: a "▁" before the first word only ("always" for legacy tokenizers), no split on "▁"
        prepend_scheme = ("always" if legacy else "first") if self.add_prefix_space else "never"
        backend.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme=prepend_scheme, split=False)
        steps = [decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse()]
        if self.add_prefix_space:
            steps.append(decoders.Strip(content=" ", left=1))
        backend.decoder = decoders.Sequence(steps)
        super().__init__(
            backend,
            clean_up_tokenization_spaces=clean_up_tokenization_spaces,
            unk_token=unk_token,
            bos_token=bos_token,
            eos_token=eos_token,
            use_default_system_prompt=use_default_system_prompt,
            legacy=legacy,
            add_prefix_space=add_prefix_space,
            **kwargs,
        )


LlamaTokenizer = LlamaTokenizerFast

register_tokenizer_class(
    LlamaTokenizerFast, names=("LlamaTokenizer", "CodeLlamaTokenizer"), model_types=("llama", "mistral")
)
