"""token-classification / ner: a label per token, or entities grouped over words.

Word boundaries come from the fast tokenizer's offsets (a token whose text is shorter than the
characters it covers carries the ``##`` continuation prefix, so it continues a word); long
texts run as overlapping windows with ``stride``.

Example:
    >>> ner = pipeline("ner", model="path/to/checkpoint", aggregation_strategy="simple")
    >>> ner("My name is Wolfgang and I live in Berlin")
    [{'entity_group': 'PER', 'score': 0.99.., 'word': 'Wolfgang', 'start': 11, 'end': 19}, ...]
"""

from __future__ import annotations

import enum
import warnings
from typing import Any

import numpy as np

from kerasformers.errors import InvalidInputError
from kerasformers.pipelines.base import ChunkPipeline, register_pipeline

__all__ = ["TokenClassificationPipeline", "NerPipeline", "AggregationStrategy"]


class AggregationStrategy(str, enum.Enum):
    """How tokens become entities: ``none``, ``simple``, ``first``, ``average``, ``max`` (transformers' enum).

    Example:
        >>> AggregationStrategy("first")
        <AggregationStrategy.FIRST: 'first'>
    """

    NONE = "none"
    SIMPLE = "simple"
    FIRST = "first"
    AVERAGE = "average"
    MAX = "max"


_WORD_LEVEL = (AggregationStrategy.FIRST, AggregationStrategy.AVERAGE, AggregationStrategy.MAX)


def _strategy(value: Any) -> AggregationStrategy:
    if isinstance(value, AggregationStrategy):
        return value
    try:
        return AggregationStrategy(str(value).lower())
    except ValueError:
        raise InvalidInputError(
            f"aggregation_strategy={value!r} is not one of {', '.join(s.value for s in AggregationStrategy)}."
        ) from None


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - np.max(logits, axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def _split_tag(label: str) -> tuple[str, str]:
    """``B-PER`` -> (B, PER); ``I-PER`` and a bare ``PER`` -> (I, PER)."""
    if label.startswith(("B-", "I-")):
        return label[0], label[2:]
    return "I", label


@register_pipeline
class TokenClassificationPipeline(ChunkPipeline):
    """Label each token (``aggregation_strategy="none"``) or find entities (simple, first, average, max).

    Call arguments: ``aggregation_strategy``, ``ignore_labels`` (default ``["O"]``),
    ``stride`` (overlapping windows for texts longer than the model takes), ``is_split_into_words``
    with ``delimiter`` (pre-split words), ``offset_mapping`` (offsets for a tokenizer without
    them). Each result: ``entity`` / ``entity_group``, ``score``, ``word``, ``start``, ``end``
    and, without aggregation, ``index``.

    Example:
        >>> ner = pipeline("token-classification", model="path/to/checkpoint", aggregation_strategy="first")
        >>> ner(["Hugging Face is in New York", "I live in Berlin"])
    """

    default_task = "token-classification"

    def _sanitize_parameters(
        self,
        ignore_labels=None,
        aggregation_strategy=None,
        offset_mapping=None,
        is_split_into_words: bool = False,
        stride: int | None = None,
        delimiter: str | None = None,
    ):
        preprocess_params: dict[str, Any] = {"is_split_into_words": is_split_into_words}
        if is_split_into_words:
            preprocess_params["delimiter"] = " " if delimiter is None else delimiter
        if offset_mapping is not None:
            preprocess_params["offset_mapping"] = offset_mapping
        postprocess_params: dict[str, Any] = {}
        strategy = None
        if aggregation_strategy is not None:
            strategy = _strategy(aggregation_strategy)
            if strategy in _WORD_LEVEL and not self.tokenizer.is_fast:
                raise InvalidInputError(
                    f'aggregation_strategy="{strategy.value}" needs word boundaries from a fast tokenizer; '
                    'use "simple" or a fast tokenizer.'
                )
            postprocess_params["aggregation_strategy"] = strategy
        if ignore_labels is not None:
            postprocess_params["ignore_labels"] = ignore_labels
        if stride is not None:
            if stride >= self.tokenizer.model_max_length:
                raise InvalidInputError(
                    f"stride={stride} must be less than the tokenizer's model_max_length "
                    f"({self.tokenizer.model_max_length}), minus its special tokens."
                )
            if strategy in (None, AggregationStrategy.NONE):
                raise InvalidInputError(
                    "stride runs long texts as overlapping windows, which needs an aggregation_strategy to merge "
                    'them: pass aggregation_strategy="simple" (or first, average, max).'
                )
            preprocess_params["tokenizer_params"] = {
                "return_overflowing_tokens": True,
                "padding": True,
                "stride": stride,
            }
        return preprocess_params, {}, postprocess_params

    def __call__(self, inputs: Any, **kwargs: Any) -> Any:
        """Classify the tokens of one text (a list of results) or of several (a list of lists).

        Example:
            >>> ner("My name is Wolfgang")
        """
        if kwargs.get("is_split_into_words") and isinstance(inputs, list):
            if not all(isinstance(words, list) for words in inputs):
                inputs = [inputs]  # one pre-split text: a one-element list of results, as transformers
        return super().__call__(inputs, **kwargs)

    def preprocess(self, sentence, offset_mapping=None, **preprocess_params):
        tokenizer_params = dict(preprocess_params.pop("tokenizer_params", {}))
        truncation = bool(self.tokenizer.model_max_length and self.tokenizer.model_max_length > 0)
        word_to_chars_map = None
        if preprocess_params["is_split_into_words"]:
            if not isinstance(sentence, list):
                raise InvalidInputError("With is_split_into_words=True each input must be a list of words.")
            delimiter = preprocess_params["delimiter"]
            word_to_chars_map, position = [], 0
            for word in sentence:  # the words' places in the text they make joined by the delimiter
                word_to_chars_map.append((position, position + len(word)))
                position += len(word) + len(delimiter)
            words, sentence = sentence, delimiter.join(sentence)
            to_tokenize = words
            tokenizer_params["is_split_into_words"] = True
        else:
            if not isinstance(sentence, str):
                raise InvalidInputError(
                    f"token-classification takes strings, got {type(sentence).__name__} (pre-split words: "
                    "pass is_split_into_words=True)."
                )
            to_tokenize = sentence
        encoding = self.tokenizer(
            to_tokenize,
            return_tensors="np",
            truncation=truncation,
            return_special_tokens_mask=True,
            return_offsets_mapping=self.tokenizer.is_fast,
            **tokenizer_params,
        )
        arrays = {k: np.asarray(v) for k, v in encoding.items() if k != "overflow_to_sample_mapping"}
        windows = len(arrays["input_ids"])
        for i in range(windows):
            chunk: dict[str, Any] = {k: v[i : i + 1] for k, v in arrays.items()}
            if offset_mapping is not None:
                chunk["offset_mapping"] = offset_mapping
            chunk["sentence"] = sentence if i == 0 else None
            chunk["is_last"] = i == windows - 1
            if word_to_chars_map is not None:
                chunk["word_ids"] = encoding.word_ids(i)
                chunk["word_to_chars_map"] = word_to_chars_map
            yield chunk

    def _forward(self, model_inputs: dict[str, Any]) -> dict[str, Any]:
        outputs = self.run_model(model_inputs)
        passed_on = ("special_tokens_mask", "offset_mapping", "sentence", "is_last", "word_ids", "word_to_chars_map")
        return {
            "logits": outputs["logits"],
            "input_ids": model_inputs["input_ids"],
            **{key: model_inputs.get(key) for key in passed_on},
        }

    def postprocess(self, all_outputs, aggregation_strategy=AggregationStrategy.NONE, ignore_labels=None):
        ignore_labels = ["O"] if ignore_labels is None else ignore_labels
        sentence = all_outputs[0]["sentence"]
        word_to_chars_map = all_outputs[0].get("word_to_chars_map")
        entities = []
        for outputs in all_outputs:
            scores = _softmax(np.asarray(outputs["logits"][0], dtype=np.float32))
            offsets = outputs["offset_mapping"]
            pre_entities = self.gather_pre_entities(
                sentence,
                outputs["input_ids"][0],
                scores,
                None if offsets is None else offsets[0],
                np.asarray(outputs["special_tokens_mask"][0]),
                aggregation_strategy,
                word_ids=outputs.get("word_ids"),
                word_to_chars_map=word_to_chars_map,
            )
            entities.extend(
                entity
                for entity in self.aggregate(pre_entities, aggregation_strategy)
                if entity.get("entity") not in ignore_labels and entity.get("entity_group") not in ignore_labels
            )
        if len(all_outputs) > 1:
            entities = self.aggregate_overlapping_entities(entities)
        return entities

    # ---------------------------------------------------------------- steps (transformers' method names)
    def aggregate_overlapping_entities(self, entities: list[dict]) -> list[dict]:
        """Of entities that overlap (from overlapping windows), keep the longest, then the best scored."""
        if not entities:
            return entities
        entities = sorted(entities, key=lambda entity: entity["start"])
        kept, current = [], entities[0]
        for entity in entities:
            if current["start"] <= entity["start"] < current["end"]:
                length, current_length = entity["end"] - entity["start"], current["end"] - current["start"]
                if length > current_length or (length == current_length and entity["score"] > current["score"]):
                    current = entity
            else:
                kept.append(current)
                current = entity
        kept.append(current)
        return kept

    def gather_pre_entities(
        self,
        sentence: str,
        input_ids: np.ndarray,
        scores: np.ndarray,
        offset_mapping: Any,
        special_tokens_mask: np.ndarray,
        aggregation_strategy: AggregationStrategy,
        word_ids: list[int | None] | None = None,
        word_to_chars_map: list[tuple[int, int]] | None = None,
    ) -> list[dict]:
        """Per non-special token: its text, scores, character span and whether it continues a word."""
        continuing_prefix = getattr(self.tokenizer.backend_tokenizer.model, "continuing_subword_prefix", None)
        pre_entities = []
        for index, token_scores in enumerate(scores):
            if special_tokens_mask[index]:  # [CLS], [SEP] and per-batch padding
                continue
            word = self.tokenizer.convert_ids_to_tokens(int(input_ids[index]))
            if offset_mapping is not None:
                start, end = (int(value) for value in offset_mapping[index])
                if word_ids is not None and word_to_chars_map is not None and word_ids[index] is not None:
                    shift = word_to_chars_map[word_ids[index]][0]  # offsets are within the word
                    start, end = start + shift, end + shift
                word_ref = sentence[start:end]
                if continuing_prefix:
                    is_subword = len(word) != len(word_ref)
                else:
                    if aggregation_strategy in _WORD_LEVEL:
                        warnings.warn("Tokenizer does not support real words, using fallback heuristic", UserWarning)
                    is_subword = start > 0 and " " not in sentence[start - 1 : start + 1]
                if int(input_ids[index]) == self.tokenizer.unk_token_id:
                    word, is_subword = word_ref, False
            else:
                start = end = None
                is_subword = False
            pre_entities.append(
                {
                    "word": word,
                    "scores": token_scores,
                    "start": start,
                    "end": end,
                    "index": index,
                    "is_subword": is_subword,
                }
            )
        return pre_entities

    def aggregate(self, pre_entities: list[dict], aggregation_strategy: AggregationStrategy) -> list[dict]:
        """Tokens -> entities: per token (none, simple) or per word (first, average, max), then grouped."""
        if aggregation_strategy in (AggregationStrategy.NONE, AggregationStrategy.SIMPLE):
            entities = []
            for pre in pre_entities:
                best = pre["scores"].argmax()
                entities.append(
                    {
                        "entity": self.model.config.id2label[int(best)],
                        "score": pre["scores"][best],
                        "index": pre["index"],
                        "word": pre["word"],
                        "start": pre["start"],
                        "end": pre["end"],
                    }
                )
        else:
            entities = self.aggregate_words(pre_entities, aggregation_strategy)
        if aggregation_strategy == AggregationStrategy.NONE:
            return entities
        return self.group_entities(entities)

    def aggregate_word(self, entities: list[dict], aggregation_strategy: AggregationStrategy) -> dict:
        """One word's tokens -> one entity, labelled by its first token, its most confident, or the mean."""
        if aggregation_strategy == AggregationStrategy.FIRST:
            scores = entities[0]["scores"]
        elif aggregation_strategy == AggregationStrategy.MAX:
            scores = max(entities, key=lambda entity: entity["scores"].max())["scores"]
        elif aggregation_strategy == AggregationStrategy.AVERAGE:
            scores = np.nanmean(np.stack([entity["scores"] for entity in entities]), axis=0)
        else:
            raise InvalidInputError(f"aggregation_strategy {aggregation_strategy.value!r} does not aggregate words.")
        best = scores.argmax()
        return {
            "entity": self.model.config.id2label[int(best)],
            "score": scores[best],
            "word": self.tokenizer.convert_tokens_to_string([entity["word"] for entity in entities]),
            "start": entities[0]["start"],
            "end": entities[-1]["end"],
        }

    def aggregate_words(self, entities: list[dict], aggregation_strategy: AggregationStrategy) -> list[dict]:
        """Tokens -> words (a subword joins the word before it), each word one entity."""
        if aggregation_strategy not in _WORD_LEVEL:
            raise InvalidInputError("NONE and SIMPLE strategies are invalid for word aggregation")
        words, group = [], None
        for entity in entities:
            if group is None:
                group = [entity]
            elif entity["is_subword"]:
                group.append(entity)
            else:
                words.append(self.aggregate_word(group, aggregation_strategy))
                group = [entity]
        if group is not None:
            words.append(self.aggregate_word(group, aggregation_strategy))
        return words

    def group_sub_entities(self, entities: list[dict]) -> dict:
        """Adjacent entities of one tag -> one group (mean score, joined text, outer span)."""
        score = np.mean(np.nanmean([entity["score"] for entity in entities]))
        return {
            "entity_group": entities[0]["entity"].split("-", 1)[-1],
            "score": score,
            "word": self.tokenizer.convert_tokens_to_string([entity["word"] for entity in entities]),
            "start": entities[0]["start"],
            "end": entities[-1]["end"],
        }

    def get_tag(self, entity_name: str) -> tuple[str, str]:
        """(B or I, tag) of a label: ``B-PER`` -> (B, PER), ``O`` -> (I, O)."""
        return _split_tag(entity_name)

    def group_entities(self, entities: list[dict]) -> list[dict]:
        """Group adjacent entities of the same tag; a ``B-`` label starts a new group."""
        groups, current = [], []
        for entity in entities:
            if current:
                begin, tag = self.get_tag(entity["entity"])
                _, last_tag = self.get_tag(current[-1]["entity"])
                if tag != last_tag or begin == "B":
                    groups.append(self.group_sub_entities(current))
                    current = []
            current.append(entity)
        if current:
            groups.append(self.group_sub_entities(current))
        return groups


NerPipeline = TokenClassificationPipeline
