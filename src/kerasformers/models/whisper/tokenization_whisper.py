"""WhisperTokenizerFast: Whisper's byte-level BPE tokenizer with its prompt tokens and timestamp tokens.

Text is GPT-2-style byte-level BPE. A call puts Whisper's prefix in front
(``<|startoftranscript|>``, then ``<|lang|>``, ``<|task|>`` and ``<|notimestamps|>`` as set by
``language`` / ``task`` / ``predict_timestamps``) and ``<|endoftext|>`` at the end, as labels for
fine-tuning need. ``decode`` drops a previous-text prompt with ``skip_special_tokens``, removes
timestamp tokens (``<|1.08|>``) unless ``decode_with_timestamps=True``, and gives the timed
segments with ``output_offsets=True``.

Example:
    >>> tokenizer = WhisperTokenizerFast.from_pretrained("openai/whisper-tiny", language="en", task="transcribe")
    >>> tokenizer.decode(tokenizer(" hello")["input_ids"], skip_special_tokens=True)
    ' hello'
"""

from __future__ import annotations

import os
import re

import numpy as np
from tokenizers import AddedToken, Tokenizer, decoders, pre_tokenizers, processors

from kerasformers.errors import InvalidInputError, NotSupportedError
from kerasformers.models.gpt2.tokenization_gpt2 import byte_level_bpe_model, read_bpe_vocab_and_merges
from kerasformers.models.whisper.generation_whisper import LANGUAGES, TASK_IDS, TO_LANGUAGE_CODE
from kerasformers.tokenization.fast import PreTrainedTokenizerFast, build_backend, register_tokenizer_class

__all__ = ["WhisperTokenizerFast", "WhisperTokenizer"]

_TIMESTAMP_TEXT = re.compile(r"<\|(\d+\.\d+)\|>")
# the number of timestamp tokens after <|notimestamps|>: 0.00 to 30.00 s in steps of 0.02 s
_TIMESTAMP_COUNT = 1501


class WhisperTokenizerFast(PreTrainedTokenizerFast):
    """Whisper's tokenizer (byte-level BPE, prompt and timestamp tokens), with transformers' defaults.

    Built from a ``tokenizer.json`` (``tokenizer_file``) or a ``vocab.json`` + ``merges.txt``.
    ``language`` (a code such as ``"en"`` or a name such as ``"english"``), ``task``
    (``"transcribe"`` / ``"translate"``) and ``predict_timestamps`` choose the prefix a call
    adds; :meth:`set_prefix_tokens` changes them later. ``WhisperTokenizer`` is another name
    for this class.

    Example:
        >>> tokenizer = WhisperTokenizerFast("vocab.json", "merges.txt", language="en", task="transcribe")
        >>> tokenizer.convert_ids_to_tokens(tokenizer.prefix_tokens)
        ['<|startoftranscript|>', '<|en|>', '<|transcribe|>', '<|notimestamps|>']
    """

    vocab_files_names = {"vocab_file": "vocab.json", "merges_file": "merges.txt", "tokenizer_file": "tokenizer.json"}
    model_input_names = ["input_ids", "attention_mask"]

    def __init__(
        self,
        vocab_file: str | os.PathLike | None = None,
        merges_file: str | os.PathLike | None = None,
        tokenizer_file: str | os.PathLike | None = None,
        unk_token: str | AddedToken = "<|endoftext|>",
        bos_token: str | AddedToken = "<|endoftext|>",
        eos_token: str | AddedToken = "<|endoftext|>",
        add_prefix_space: bool = False,
        language: str | None = None,
        task: str | None = None,
        predict_timestamps: bool = False,
        *,
        vocab: dict[str, int] | None = None,
        merges: list | None = None,
        tokenizer_object: Tokenizer | None = None,
        **kwargs,
    ):
        if vocab is None and vocab_file is not None and tokenizer_file is None:
            vocab, merges = read_bpe_vocab_and_merges(vocab_file, merges_file)
        backend = build_backend(byte_level_bpe_model, tokenizer_object, tokenizer_file, vocab, merges, default_vocab={})
        backend.normalizer = None
        backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=add_prefix_space)
        backend.decoder = decoders.ByteLevel()
        kwargs.pop("normalizer_file", None)  # the English spelling normaliser is not provided (see normalize())
        self.add_prefix_space = add_prefix_space
        super().__init__(
            backend,
            unk_token=unk_token,
            bos_token=bos_token,
            eos_token=eos_token,
            add_prefix_space=add_prefix_space,
            language=language,
            task=task,
            predict_timestamps=predict_timestamps,
            **kwargs,
        )
        self.language = language
        self.task = task
        self.predict_timestamps = predict_timestamps
        self.set_prefix_tokens()

    # ---------------------------------------------------------------- the prefix
    def set_prefix_tokens(
        self, language: str | None = None, task: str | None = None, predict_timestamps: bool | None = None
    ) -> None:
        """Change the prefix a call puts before the text (``None`` keeps a setting as it is).

        Example:
            >>> tokenizer.set_prefix_tokens(language="french", task="translate")
            >>> tokenizer.convert_ids_to_tokens(tokenizer("hi")["input_ids"][:3])
            ['<|startoftranscript|>', '<|fr|>', '<|translate|>']
        """
        self.language = language if language is not None else self.language
        self.task = task if task is not None else self.task
        self.predict_timestamps = predict_timestamps if predict_timestamps is not None else self.predict_timestamps
        prefix_ids = self.prefix_tokens
        # saved as set now, as transformers does
        self.init_kwargs.update(language=self.language, task=self.task, predict_timestamps=self.predict_timestamps)
        prefixes = self.convert_ids_to_tokens(prefix_ids)
        eos = str(self.eos_token)
        template = " ".join(f"{token}:0" for token in prefixes)
        self._tokenizer.post_processor = processors.TemplateProcessing(
            single=f"{template} $A:0 {eos}:0",
            pair=f"{template} $A:0 $B:1 {eos}:1",
            special_tokens=[(eos, self.eos_token_id), *zip(prefixes, prefix_ids)],
        )

    def update_post_processor(self) -> None:
        """Whisper's template is its prefix (see :meth:`set_prefix_tokens`), rebuilt here once the prefix is known."""
        if hasattr(self, "predict_timestamps"):
            self.set_prefix_tokens()
        else:  # during the base class's construction, before the prefix settings exist
            super().update_post_processor()

    @property
    def prefix_tokens(self) -> list[int]:
        """``<|startoftranscript|>`` then the language, task and ``<|notimestamps|>`` tokens the settings ask for.

        Example:
            >>> WhisperTokenizerFast.from_pretrained("openai/whisper-tiny").prefix_tokens
            [50258, 50363]
        """
        start_id = self.convert_tokens_to_ids("<|startoftranscript|>")
        sequence = [start_id]
        if self.language is not None:
            self.language = self.language.lower()
            code = self._language_code(self.language)
            # the language tokens follow <|startoftranscript|> in Whisper's language order
            sequence.append(start_id + 1 + list(LANGUAGES).index(code))
        if self.task is not None:
            if self.task not in TASK_IDS:
                raise InvalidInputError(f"Unsupported task {self.task!r}: use one of {TASK_IDS}.")
            sequence.append(self.convert_tokens_to_ids(f"<|{self.task}|>"))
        if not self.predict_timestamps:
            sequence.append(self.convert_tokens_to_ids("<|notimestamps|>"))
        return sequence

    @staticmethod
    def _language_code(language: str) -> str:
        if language in TO_LANGUAGE_CODE:
            return TO_LANGUAGE_CODE[language]
        if language in LANGUAGES:
            return language
        known = sorted(LANGUAGES) if len(language) <= 3 else sorted(TO_LANGUAGE_CODE)
        raise InvalidInputError(f"Unsupported language {language!r}: use one of {known}.")

    def get_decoder_prompt_ids(
        self, task: str | None = None, language: str | None = None, no_timestamps: bool = True
    ) -> list[tuple[int, int]]:
        """``[(position, token id), ...]`` forcing the prefix after ``<|startoftranscript|>`` (sets the prefix too).

        Example:
            >>> tokenizer.get_decoder_prompt_ids(language="en", task="transcribe")
            [(1, 50259), (2, 50359), (3, 50363)]
        """
        self.set_prefix_tokens(task=task, language=language, predict_timestamps=not no_timestamps)
        return [(rank + 1, token) for rank, token in enumerate(self.prefix_tokens[1:])]

    def build_inputs_with_special_tokens(
        self, token_ids_0: list[int], token_ids_1: list[int] | None = None
    ) -> list[int]:
        """The prefix, the ids (and a pair's), then ``<|endoftext|>``.

        Example:
            >>> tokenizer.build_inputs_with_special_tokens([400, 401])[-3:]
            [400, 401, 50257]
        """
        return self.prefix_tokens + list(token_ids_0) + list(token_ids_1 or []) + [self.eos_token_id]

    def get_special_tokens_mask(self, token_ids_0, token_ids_1=None, already_has_special_tokens=False) -> list[int]:
        """1 for the prefix and ``<|endoftext|>`` around ``token_ids_0`` (and ``token_ids_1``), 0 for the text.

        Example:
            >>> tokenizer.get_special_tokens_mask([400, 401])
            [1, 1, 0, 0, 1]
        """
        if already_has_special_tokens:
            return super().get_special_tokens_mask(token_ids_0, token_ids_1, already_has_special_tokens=True)
        text = len(token_ids_0) + len(token_ids_1 or [])
        return [1] * len(self.prefix_tokens) + [0] * text + [1]

    def get_prompt_ids(self, text: str, return_tensors: str | None = "np"):
        """``<|startofprev|>`` and ``text`` as ids, for ``generate(prompt_ids=...)``.

        Example:
            >>> tokenizer.get_prompt_ids("Kerasformers")[0] == tokenizer.convert_tokens_to_ids("<|startofprev|>")
            True
        """
        ids = self("<|startofprev|>", " " + text.strip(), add_special_tokens=False)["input_ids"]
        first_special = min(self.all_special_ids)
        for index in ids[1:]:
            if index >= first_special:
                token = self.convert_ids_to_tokens(index)
                raise InvalidInputError(f"The prompt text holds the special token {token!r}; leave it out.")
        if return_tensors is None:
            return ids
        if return_tensors == "tf":
            import tensorflow as tf

            return tf.constant(ids, tf.int32)
        return np.asarray(ids, np.int64)

    # ---------------------------------------------------------------- decoding
    @property
    def timestamp_begin(self) -> int:
        """The id of ``<|0.00|>``: the first id after the special tokens.

        Example:
            >>> tokenizer.convert_ids_to_tokens(tokenizer.timestamp_begin)
            '<|0.00|>'
        """
        return self.all_special_ids[-1] + 1

    def timestamp_ids(self, time_precision: float = 0.02) -> list[int]:
        """The ids of the timestamp tokens ``<|0.00|>`` ... ``<|30.00|>`` at ``time_precision``.

        Example:
            >>> tokenizer.convert_ids_to_tokens(tokenizer.timestamp_ids()[:2])
            ['<|0.00|>', '<|0.02|>']
        """
        return self.convert_tokens_to_ids([f"<|{i * time_precision:.2f}|>" for i in range(_TIMESTAMP_COUNT)])

    def decode(
        self,
        token_ids,
        skip_special_tokens: bool = False,
        clean_up_tokenization_spaces: bool | None = None,
        output_offsets: bool = False,
        time_precision: float = 0.02,
        decode_with_timestamps: bool = False,
        normalize: bool = False,
        basic_normalize: bool = False,
        remove_diacritics: bool = False,
        **kwargs,
    ):
        """Ids to text; Whisper's timestamp options as transformers' ``WhisperTokenizerFast.decode``.

        ``skip_special_tokens`` also drops a ``<|startofprev|>`` prompt; timestamp tokens are removed
        unless ``decode_with_timestamps`` (then written ``<|1.08|>``, counting on across 30 s
        windows); ``output_offsets`` gives ``{"text", "offsets": [{"text", "timestamp": (start, end)}]}``.

        Example:
            >>> tokenizer.decode(ids, skip_special_tokens=True)
            ' Hello world.'
            >>> tokenizer.decode(ids, decode_with_timestamps=True)
            '<|startoftranscript|><|en|><|transcribe|><|0.00|> Hello world.<|1.20|><|endoftext|>'
        """
        if normalize or basic_normalize or remove_diacritics:
            raise NotSupportedError(
                "decode(normalize=/basic_normalize=) is not provided: Whisper's text normalisers are for scoring; "
                "use transformers' EnglishTextNormalizer / BasicTextNormalizer on the decoded text."
            )
        if kwargs:
            raise InvalidInputError(f"decode() got unexpected keywords: {', '.join(sorted(kwargs))}.")
        token_ids = _as_id_list(token_ids)
        is_batch = bool(token_ids) and isinstance(token_ids[0], list)
        if is_batch:
            if output_offsets:
                raise InvalidInputError("output_offsets=True takes one sequence at a time; decode each row.")
            return [
                self.decode(
                    row,
                    skip_special_tokens=skip_special_tokens,
                    clean_up_tokenization_spaces=clean_up_tokenization_spaces,
                    time_precision=time_precision,
                    decode_with_timestamps=decode_with_timestamps,
                )
                for row in token_ids
            ]
        filtered = self._strip_prompt(token_ids) if skip_special_tokens else token_ids
        if decode_with_timestamps:
            text = self._decode_with_timestamps(filtered, skip_special_tokens, time_precision)
        else:
            text = _TIMESTAMP_TEXT.sub("", super().decode(filtered, skip_special_tokens, clean_up_tokenization_spaces))
        if output_offsets:
            return {"text": text, "offsets": self._compute_offsets(token_ids, time_precision)}
        return text

    def batch_decode(self, sequences, skip_special_tokens: bool = False, **kwargs) -> list:
        """:meth:`decode` of each sequence (same keywords).

        Example:
            >>> processor.batch_decode(generated_ids, skip_special_tokens=True)
            [' Hello world.']
        """
        return [self.decode(row, skip_special_tokens=skip_special_tokens, **kwargs) for row in _as_id_list(sequences)]

    def _strip_prompt(self, token_ids: list[int]) -> list[int]:
        """Drop a ``<|startofprev|>`` prompt: everything before ``<|startoftranscript|>`` (all if it is absent)."""
        if not token_ids or token_ids[0] != self.convert_tokens_to_ids("<|startofprev|>"):
            return token_ids
        start = self.convert_tokens_to_ids("<|startoftranscript|>")
        return token_ids[token_ids.index(start) :] if start in token_ids else []

    def _decode_with_timestamps(self, token_ids: list[int], skip_special_tokens: bool, time_precision: float) -> str:
        """Text with each timestamp token written ``<|seconds|>``; a timestamp lower than the one before starts
        a new 30 s window, so times count on from the end of the previous one."""
        plain_decode = PreTrainedTokenizerFast.decode
        begin = self.timestamp_begin
        pieces: list = [[]]
        current_max = penultimate = previous_windows = 0.0
        for position, token in enumerate(token_ids):
            if token < begin:
                pieces[-1].append(token)
                continue
            seconds = float((token - begin) * time_precision)
            if seconds < current_max:
                single_ending = position >= 2 and not (
                    token_ids[position - 1] >= begin and token_ids[position - 2] >= begin
                )
                if single_ending:
                    previous_windows += time_precision * 1500
                else:
                    current_max = penultimate
                    previous_windows += penultimate
                    pieces = pieces[:-2]
            penultimate, current_max = current_max, seconds
            pieces += [f"<|{seconds + previous_windows:.2f}|>", []]
        return "".join(
            piece if isinstance(piece, str) else (plain_decode(self, piece, skip_special_tokens) if piece else "")
            for piece in pieces
        )

    def _compute_offsets(self, token_ids: list[int], time_precision: float = 0.02) -> list[dict]:
        """The segments between consecutive timestamp pairs: ``{"text", "timestamp": (start, end)}`` in seconds."""
        ids = np.asarray(token_ids)
        begin = self.timestamp_begin
        is_time = ids >= begin
        ends = np.where(is_time[:-1] & is_time[1:])[0] + 1
        if ends.shape[0] == 0 and is_time.sum() <= 1:
            return []
        last_time = np.where(is_time)[0][-1] + 1
        if last_time not in ends:
            ends = np.append(ends, last_time)
        offsets = []
        start_position = np.where(is_time)[0][0]
        current_max = previous_windows = 0
        for end_position in ends:
            segment = ids[start_position:end_position]
            if len(segment) > 1:
                start_step, end_step = int(segment[0]) - begin, int(segment[-1]) - begin
                if start_step < current_max:  # a new 30 s window has started
                    single_ending = start_position >= 2 and not (
                        ids[start_position - 2] >= begin and ids[start_position - 1] >= begin
                    )
                    previous_windows += 1500 if single_ending else current_max
                current_max = end_step
                text = _TIMESTAMP_TEXT.sub("", super().decode([int(i) for i in segment]))
                offsets.append(
                    {
                        "text": text,
                        "timestamp": (
                            start_step * time_precision + previous_windows * time_precision,
                            end_step * time_precision + previous_windows * time_precision,
                        ),
                    }
                )
            start_position = end_position
        return offsets

    def _decode_asr(self, model_outputs: list[dict], *, return_timestamps, return_language, time_precision: float):
        """The speech-recognition pipeline's text (and ``chunks``) from the outputs of one input's audio chunks.

        Each output holds ``tokens`` (one generated row) and, for chunked audio, ``stride``
        ``(chunk seconds, left overlap, right overlap)``; overlapping chunks are merged on their
        longest common token run, as transformers' pipeline does. Word-level timestamps are not provided.
        """
        if return_timestamps == "word":
            raise NotSupportedError(
                "return_timestamps='word' (cross-attention word timings) is not provided: use return_timestamps=True "
                "for segment-level timestamps."
            )
        return decode_asr(self, model_outputs, bool(return_timestamps), bool(return_language), time_precision)

    def normalize(self, text: str) -> str:
        """Not provided: Whisper's English normaliser is for scoring; transformers' ``EnglishTextNormalizer`` has it."""
        raise NotSupportedError(
            "WhisperTokenizerFast.normalize is not provided: use transformers' EnglishTextNormalizer for scoring."
        )


def _as_id_list(token_ids):
    """Python ints (or lists of them) from a list, numpy array or tensor of ids."""
    if hasattr(token_ids, "numpy"):
        token_ids = token_ids.numpy()
    if isinstance(token_ids, np.ndarray):
        token_ids = token_ids.tolist()
    if isinstance(token_ids, (int, np.integer)):
        return [int(token_ids)]
    return [_as_id_list(item) if not isinstance(item, (int, np.integer)) else int(item) for item in token_ids]


def decode_asr(tokenizer, model_outputs, return_timestamps: bool, return_language: bool, time_precision: float):
    """(text, {"chunks": [...]} or {}) from per-chunk token rows, as transformers' Whisper ``_decode_asr``.

    Tokens are read one by one: a language token records the language, other special tokens are
    skipped, a timestamp token opens or closes a segment (those inside a chunk's overlap are put
    off until the overlap is resolved), text tokens are gathered; gathered runs of overlapping
    chunks are merged with :func:`merge_overlapping_tokens`.
    """
    last_language = None

    def new_chunk():
        return {"language": last_language, "timestamp": [None, None], "text": ""}

    chunks = []
    chunk = new_chunk()
    time_offset = 0.0
    begin = tokenizer.convert_tokens_to_ids("<|notimestamps|>") + 1
    special_ids = set(tokenizer.all_special_ids)
    previous_runs: list[list[int]] = []
    skip_next = False
    for output in model_outputs:
        ids = tokenizer._strip_prompt(
            _as_id_list(output["tokens"])[0] if _is_2d(output["tokens"]) else _as_id_list(output["tokens"])
        )
        last_timestamp = None
        first_timestamp = begin
        current_max = penultimate = previous_windows = 0.0
        if "stride" in output:
            chunk_seconds, stride_left, stride_right = output["stride"]
            time_offset -= stride_left
            right_stride_start = chunk_seconds - stride_right
            if stride_left:
                first_timestamp = stride_left / time_precision + begin
            if stride_right:
                # timestamps in the right overlap are resolved by the next chunk; the last one always is
                for token in reversed(ids):
                    if token >= begin:
                        if last_timestamp is not None and (token - begin) * time_precision < right_stride_start:
                            break
                        last_timestamp = token
        current_run: list[int] = []
        for position, token in enumerate(ids):
            if token in special_ids:
                language = LANGUAGES.get(tokenizer.decode([token])[2:-2])
                if language is not None:
                    if last_language and language != last_language and not return_timestamps:
                        previous_runs.append(current_run)
                        chunk["text"] = tokenizer.decode(merge_overlapping_tokens(previous_runs))
                        chunks.append(chunk)
                        previous_runs, current_run = [], []
                        chunk = new_chunk()
                    chunk["language"] = language
                    last_language = language
            elif token >= begin:
                seconds = float((token - begin) * time_precision)
                if seconds < current_max:  # a new 30 s window inside this output
                    single_ending = position >= 2 and not (ids[position - 1] >= begin and ids[position - 2] >= begin)
                    if single_ending:
                        previous_windows += time_precision * 1500
                    else:
                        current_max = penultimate
                        previous_windows += penultimate
                penultimate, current_max = current_max, seconds
                time = round((token - begin) * time_precision + time_offset + previous_windows, 2)
                if last_timestamp and token >= last_timestamp:
                    skip_next = True  # inside the right overlap: this pair is resolved by the next chunk
                elif skip_next or (previous_runs and token < first_timestamp):
                    skip_next = False
                elif chunk["timestamp"][0] is None:
                    chunk["timestamp"][0] = time
                elif time != chunk["timestamp"][0]:  # an end (a repeated start stays a start)
                    chunk["timestamp"][1] = time
                    previous_runs.append(current_run)
                    chunk["text"] = tokenizer.decode(merge_overlapping_tokens(previous_runs))
                    chunks.append(chunk)
                    previous_runs, current_run = [], []
                    chunk = new_chunk()
            else:
                current_run.append(token)
        if "stride" in output:
            time_offset += chunk_seconds - stride_right
        if current_run:
            previous_runs.append(current_run)
        elif not any(previous_runs):
            chunk = new_chunk()
            previous_runs = []
    if previous_runs:  # no closing timestamp (or no timestamps at all)
        chunk["text"] = tokenizer.decode(merge_overlapping_tokens(previous_runs))
        chunks.append(chunk)
    text = "".join(item["text"] for item in chunks)
    if not (return_timestamps or return_language):
        return text, {}
    for item in chunks:
        if return_timestamps:
            item["timestamp"] = tuple(item["timestamp"])
        else:
            item.pop("timestamp")
        if not return_language:
            item.pop("language")
    return text, {"chunks": chunks}


def merge_overlapping_tokens(runs: list[list[int]]) -> list[int]:
    """One token run from runs whose ends overlap (chunks of overlapping audio), as transformers merges them.

    For each next run, every alignment of its start against the end of the text so far is scored
    by the share of equal tokens (plus a small bonus for longer overlaps); at the best alignment
    (at least two equal tokens), the left run is kept up to the middle of the overlap and the right
    run from its middle on.

    Example:
        >>> merge_overlapping_tokens([[1, 2, 3, 4], [3, 4, 5, 6]])
        [1, 2, 3, 4, 5, 6]
    """
    left = list(runs[0])
    merged: list[int] = []
    for right in runs[1:]:
        best_score = 0.0
        best = (len(left), len(left), 0, 0)
        for shift in range(1, len(left) + len(right)):
            left_start, left_stop = max(0, len(left) - shift), min(len(left), len(left) + len(right) - shift)
            right_start, right_stop = max(0, shift - len(left)), min(len(right), shift)
            equal = int(np.sum(np.array(left[left_start:left_stop]) == np.array(right[right_start:right_stop])))
            score = equal / shift + shift / 10000.0  # the bonus favours long exact overlaps
            if equal > 1 and score > best_score:
                best_score, best = score, (left_start, left_stop, right_start, right_stop)
        left_start, left_stop, right_start, right_stop = best
        merged.extend(left[: (left_start + left_stop) // 2])
        left = list(right[(right_start + right_stop) // 2 :])
    return merged + left


def _is_2d(tokens) -> bool:
    return np.ndim(tokens) == 2


WhisperTokenizer = WhisperTokenizerFast

register_tokenizer_class(WhisperTokenizerFast, names=("WhisperTokenizer",), model_types=("whisper",))
