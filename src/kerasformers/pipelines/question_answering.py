"""The question-answering pipeline: extractive answers (a span of the context) from a QA head.

transformers 5.23 dropped this pipeline; the behaviour follows transformers 4.57's
``QuestionAnsweringPipeline`` (fast-tokenizer path): the context is split into overlapping windows
(``doc_stride``) when question + context exceed ``max_seq_len``; in each window the start and end
logits of tokens outside the context are masked, softmaxed, and every span ``start <= end <
start + max_answer_len`` is scored ``p_start * p_end``; spans are widened to whole words and the same
answer found in several windows adds up its scores.

Example:
    >>> from kerasformers import pipeline
    >>> qa = pipeline("question-answering", model="./my-bert-squad")
    >>> qa(question="Where do I live?", context="My name is Wolfgang and I live in Berlin")
    {'score': 0.91, 'start': 34, 'end': 40, 'answer': 'Berlin'}
"""

from __future__ import annotations

import numpy as np

from kerasformers.errors import InvalidInputError, InvalidInputTypeError
from kerasformers.pipelines.base import ChunkPipeline, register_pipeline

__all__ = ["QuestionAnsweringPipeline", "QuestionAnsweringArgumentHandler", "decode_spans", "select_starts_ends"]


def decode_spans(start, end, topk: int, max_answer_len: int, undesired_tokens):
    """Score every span (start <= end < start + max_answer_len) as p_start * p_end and keep the best ``topk``.

    Spans touching a token outside ``undesired_tokens.nonzero()`` (the allowed tokens) are dropped after the
    top-k choice, as transformers 4.57's ``decode_spans`` does.

    Example:
        >>> decode_spans(np.array([0.1, 0.9]), np.array([0.2, 0.8]), 1, 15, np.array([1, 1]))
        (array([1]), array([1]), array([0.72]))
    """
    start = np.asarray(start)
    end = np.asarray(end)
    if start.ndim == 1:
        start = start[None]
    if end.ndim == 1:
        end = end[None]
    outer = np.matmul(start[..., :, None], end[..., None, :])
    # upper triangle: end >= start; band: end - start < max_answer_len
    candidates = np.tril(np.triu(outer), max_answer_len - 1)
    flat = candidates.flatten()
    if topk == 1:
        order = np.array([np.argmax(flat)])
    elif len(flat) < topk:
        order = np.argsort(-flat)
    else:
        best = np.argpartition(-flat, topk)[0:topk]
        order = best[np.argsort(-flat[best])]
    starts, ends = np.unravel_index(order, candidates.shape)[1:]
    allowed = np.asarray(undesired_tokens).nonzero()
    keep = np.isin(starts, allowed) & np.isin(ends, allowed)
    starts, ends = starts[keep], ends[keep]
    return starts, ends, candidates[0, starts, ends]


def select_starts_ends(
    start,
    end,
    p_mask,
    attention_mask,
    min_null_score: float = 1000000,
    top_k: int = 1,
    handle_impossible_answer: bool = False,
    max_answer_len: int = 15,
):
    """Softmax a window's start/end logits over the allowed tokens and return its best spans.

    ``p_mask`` is 1 where a token cannot be in an answer; ``attention_mask`` (or None) removes padding.
    Returns ``(starts, ends, scores, min_null_score)``: the null answer's score is the CLS token's
    ``p_start * p_end``, kept as the smallest seen over the windows.

    Example:
        >>> select_starts_ends(np.array([[0.0, 2.0, 1.0]]), np.array([[0.0, 1.0, 2.0]]), [0, 0, 0], None)[:2]
        (array([1]), array([2]))
    """
    allowed = np.abs(np.asarray(p_mask, dtype=np.int64) - 1)
    if attention_mask is not None:
        allowed = allowed & np.asarray(attention_mask, dtype=np.int64)
    masked = allowed == 0
    # transformers' constant: a large negative logit rather than -inf, so exp() stays finite
    start = np.where(masked, -10000.0, np.asarray(start, dtype=np.float32))
    end = np.where(masked, -10000.0, np.asarray(end, dtype=np.float32))
    if start.ndim == 1:
        start, end = start[None], end[None]
    start = np.exp(start - start.max(axis=-1, keepdims=True))
    start = start / start.sum()
    end = np.exp(end - end.max(axis=-1, keepdims=True))
    end = end / end.sum()
    if handle_impossible_answer:
        min_null_score = min(min_null_score, float(start[0, 0] * end[0, 0]))
    # the first token (CLS) stands for "no answer": never part of a span
    start[0, 0] = end[0, 0] = 0.0
    starts, ends, scores = decode_spans(start, end, top_k, max_answer_len, allowed)
    return starts, ends, scores, min_null_score


class QuestionAnsweringArgumentHandler:
    """Turns the call forms of the question-answering pipeline into a list of {question, context} dicts.

    Accepted: ``(question, context)`` strings; ``question=..., context=...`` (strings, a list of
    questions for one context, or two lists of the same length); a dict or a list/generator of dicts.

    Example:
        >>> QuestionAnsweringArgumentHandler()(question=["Who?", "Where?"], context="Ann lives in Oslo.")
        [{'question': 'Who?', 'context': 'Ann lives in Oslo.'}, {'question': 'Where?', 'context': 'Ann lives in Oslo.'}]
    """

    def normalize(self, item) -> dict:
        if not isinstance(item, dict):
            raise InvalidInputTypeError(
                f"question-answering inputs are {{'question': ..., 'context': ...}} dicts; got "
                f"{type(item).__name__}: pass question= and context= strings, or such dicts."
            )
        for key in ("question", "context"):
            if key not in item:
                raise InvalidInputError(
                    f"A question-answering input dict needs the keys 'question' and 'context'; {key!r} is missing."
                )
            value = item[key]
            if value is None or (isinstance(value, str) and not value):
                raise InvalidInputError(f"The question-answering {key!r} is empty: give a non-empty string.")
            if not isinstance(value, str):
                raise InvalidInputTypeError(
                    f"The question-answering {key!r} must be a string; got {type(value).__name__}."
                )
        return {"question": item["question"], "context": item["context"]}

    def __call__(self, *args, **kwargs):
        if args:
            if len(args) == 1:
                inputs = args[0]
            elif len(args) == 2 and all(isinstance(arg, str) for arg in args):
                inputs = [{"question": args[0], "context": args[1]}]
            else:
                inputs = list(args)
        elif "question" in kwargs and "context" in kwargs:
            question, context = kwargs["question"], kwargs["context"]
            if isinstance(question, list) and isinstance(context, str):
                inputs = [{"question": q, "context": context} for q in question]
            elif isinstance(question, list) and isinstance(context, list):
                if len(question) != len(context):
                    raise InvalidInputError(
                        f"question and context are lists of different lengths ({len(question)} and {len(context)}): "
                        "give one context per question, or one context string for all."
                    )
                inputs = [{"question": q, "context": c} for q, c in zip(question, context)]
            elif isinstance(question, str) and isinstance(context, str):
                inputs = [{"question": question, "context": context}]
            else:
                raise InvalidInputError(
                    "question= and context= must be strings, a list of questions with one context, or two lists."
                )
        else:
            raise InvalidInputError(
                "The question-answering pipeline needs question= and context= (or a {'question', 'context'} dict)."
            )
        if isinstance(inputs, dict):
            return [self.normalize(inputs)]
        if _is_lazy(inputs):
            return inputs
        return [self.normalize(item) for item in inputs]


def _is_lazy(inputs) -> bool:
    import types

    if isinstance(inputs, types.GeneratorType):
        return True
    return type(inputs).__name__ == "Dataset" and hasattr(inputs, "column_names")


@register_pipeline
class QuestionAnsweringPipeline(ChunkPipeline):
    """Extractive question answering with a ``TFAutoModelForQuestionAnswering`` model.

    Call with ``question=`` and ``context=`` (strings or lists), a ``{"question", "context"}`` dict, or a
    list of them. Options: ``top_k`` (1), ``doc_stride`` (min(max_seq_len // 2, 128)), ``max_answer_len``
    (15), ``max_seq_len`` (min(model_max_length, 384)), ``max_question_len`` (64; as transformers' fast
    path, unused with fast tokenizers), ``handle_impossible_answer`` (False), ``align_to_words`` (True).
    Returns ``{"score", "start", "end", "answer"}`` per input, a list of them when ``top_k`` > 1.

    Example:
        >>> qa = pipeline("question-answering", model="./my-bert-squad")
        >>> qa(question="Where do I live?", context="My name is Wolfgang and I live in Berlin", top_k=2)
        [{'score': 0.91, 'start': 34, 'end': 40, 'answer': 'Berlin'}, ...]
    """

    default_task = "question-answering"
    default_input_names = "question,context"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._args_parser = QuestionAnsweringArgumentHandler()

    def __call__(self, *args, batch_size=None, **kwargs):
        """Answer each question from its context (see the class docstring for the forms and options).

        Example:
            >>> qa(question=["Who?", "Where?"], context="Ann lives in Oslo.", batch_size=8)
        """
        question_keys = ("question", "context", "X", "data")
        examples = self._args_parser(*args, **{k: v for k, v in kwargs.items() if k in question_keys})
        options = {k: v for k, v in kwargs.items() if k not in question_keys}
        if isinstance(examples, list) and len(examples) == 1:
            examples = examples[0]
        return super().__call__(examples, batch_size=batch_size, **options)

    def preprocess(self, example, padding="do_not_pad", doc_stride=None, max_question_len=64, max_seq_len=None):
        """The windows of one {question, context} example (a generator of model inputs).

        Example:
            >>> len(list(qa.preprocess({"question": "Who?", "context": "Ann " * 500})))
            4
        """
        yield from self._windows(example, padding, doc_stride, max_question_len, max_seq_len)

    def _forward(self, model_inputs):
        outputs = self.run_model(model_inputs)
        return {**model_inputs, "start": outputs["start_logits"], "end": outputs["end_logits"]}

    def postprocess(
        self, model_outputs, top_k=1, handle_impossible_answer=False, max_answer_len=15, align_to_words=True
    ):
        """The answers of one example from its windows' outputs.

        Example:
            >>> qa.postprocess(windows_outputs, top_k=1)
            {'score': 0.91, 'start': 34, 'end': 40, 'answer': 'Berlin'}
        """
        return self._answers(model_outputs, top_k, handle_impossible_answer, max_answer_len, align_to_words)

    def _sanitize_parameters(
        self,
        padding=None,
        topk=None,
        top_k=None,
        doc_stride=None,
        max_answer_len=None,
        max_seq_len=None,
        max_question_len=None,
        handle_impossible_answer=None,
        align_to_words=None,
        **kwargs,
    ):
        preprocess = {}
        for name, value in (
            ("padding", padding),
            ("doc_stride", doc_stride),
            ("max_question_len", max_question_len),
            ("max_seq_len", max_seq_len),
        ):
            if value is not None:
                preprocess[name] = value
        postprocess = {}
        if topk is not None and top_k is None:
            top_k = topk
        if top_k is not None:
            if top_k < 1:
                raise InvalidInputError(f"top_k must be >= 1 (got {top_k}).")
            postprocess["top_k"] = top_k
        if max_answer_len is not None:
            if max_answer_len < 1:
                raise InvalidInputError(f"max_answer_len must be >= 1 (got {max_answer_len}).")
            postprocess["max_answer_len"] = max_answer_len
        if handle_impossible_answer is not None:
            postprocess["handle_impossible_answer"] = handle_impossible_answer
        if align_to_words is not None:
            postprocess["align_to_words"] = align_to_words
        return preprocess, {}, postprocess

    def _windows(self, example: dict, padding="do_not_pad", doc_stride=None, max_question_len=64, max_seq_len=None):
        """The model inputs of each window of one example, with what postprocessing needs."""
        tokenizer = self.tokenizer
        if max_seq_len is None:
            max_seq_len = min(tokenizer.model_max_length, 384)
        if doc_stride is None:
            doc_stride = min(max_seq_len // 2, 128)
        if doc_stride > max_seq_len:
            raise InvalidInputError(
                f"doc_stride ({doc_stride}) is larger than max_seq_len ({max_seq_len}): give a smaller doc_stride."
            )
        question_first = tokenizer.padding_side == "right"
        question, context = example["question"], example["context"]
        encoded = tokenizer(
            text=question if question_first else context,
            text_pair=context if question_first else question,
            padding=padding,
            truncation="only_second" if question_first else "only_first",
            max_length=max_seq_len,
            stride=doc_stride,
            return_token_type_ids=True,
            return_overflowing_tokens=True,
            return_offsets_mapping=True,
            return_special_tokens_mask=True,
        )
        windows = []
        count = len(encoded["input_ids"])
        for index in range(count):
            ids = encoded["input_ids"][index]
            # 1 where a token cannot start or end an answer: everything but the context (and CLS, the null answer)
            p_mask = [int(seq != 1) if question_first else 0 for seq in encoded.sequence_ids(index)]
            if tokenizer.cls_token_id is not None:
                for position in np.nonzero(np.asarray(ids) == tokenizer.cls_token_id)[0]:
                    p_mask[position] = 0
            model_inputs = {
                name: np.asarray([encoded[name][index]], dtype=np.int32)
                for name in tokenizer.model_input_names
                if name in encoded
            }
            windows.append(
                {
                    "example": example,
                    "is_last": index == count - 1,
                    "p_mask": np.asarray([p_mask], dtype=np.int32),
                    "encoding": encoded[index],
                    **model_inputs,
                }
            )
        return windows

    def _answers(self, windows, top_k=1, handle_impossible_answer=False, max_answer_len=15, align_to_words=True):
        """Gather the spans of every window of one example into its answers (see the module docstring)."""
        tokenizer = self.tokenizer
        min_null_score = 1000000.0  # large and positive: the smallest null score over the windows wins
        answers = []
        for window in windows:
            example = window["example"]
            attention_mask = window.get("attention_mask")
            # aligning to words can merge candidates: ask for more than top_k first
            pre_top_k = top_k * 2 + 10 if align_to_words else top_k
            starts, ends, scores, min_null_score = select_starts_ends(
                np.asarray(window["start"], dtype=np.float32),
                np.asarray(window["end"], dtype=np.float32),
                window["p_mask"],
                attention_mask,
                min_null_score,
                pre_top_k,
                handle_impossible_answer,
                max_answer_len,
            )
            question_first = tokenizer.padding_side == "right"
            offset = 0
            if tokenizer.padding_side == "left":
                offset = int((np.asarray(window["input_ids"]) == tokenizer.pad_token_id).sum())
            sequence_index = 1 if question_first else 0
            for s, e, score in zip(starts, ends, scores):
                start_char, end_char = _char_span(
                    window["encoding"], int(s) - offset, int(e) - offset, sequence_index, align_to_words
                )
                text = example["context"][start_char:end_char]
                same = next((a for a in answers if a["answer"].lower() == text.lower()), None)
                if same is not None:
                    same["score"] += float(score)
                else:
                    answers.append({"score": float(score), "start": start_char, "end": end_char, "answer": text})
        if handle_impossible_answer:
            answers.append({"score": min_null_score, "start": 0, "end": 0, "answer": ""})
        answers = sorted(answers, key=lambda answer: answer["score"], reverse=True)[:top_k]
        # as transformers: one answer comes back as a dict even when top_k > 1
        return answers[0] if len(answers) == 1 else answers


def _char_span(encoding, s: int, e: int, sequence_index: int, align_to_words: bool) -> tuple[int, int]:
    """The context characters of tokens s..e, widened to whole words when asked and possible."""
    if align_to_words:
        try:
            start_word = encoding.token_to_word(s)
            end_word = encoding.token_to_word(e)
            return (
                encoding.word_to_chars(start_word, sequence_index=sequence_index)[0],
                encoding.word_to_chars(end_word, sequence_index=sequence_index)[1],
            )
        except Exception:  # noqa: BLE001 -- as transformers: tokens without a word fall back to their offsets
            pass
    return encoding.offsets[s][0], encoding.offsets[e][1]
