"""The text2text-generation, summarization and translation pipelines (encoder-decoder models: T5, BART, Marian).

As transformers 4.57's ``Text2TextGenerationPipeline`` / ``SummarizationPipeline`` /
``TranslationPipeline`` (5.23 no longer has them): each text is tokenized as ``prefix + text``
(the prefix from the model config, or from ``config.task_specific_params[task]``, e.g. T5's
"translate English to German: " for ``translation_en_to_de``, whose other entries update the
generation settings); the encoder-decoder ``generate()`` runs on the right-padded batch and each
output is decoded with ``skip_special_tokens=True``. Results are ``[{"generated_text": ...}]``,
``[{"summary_text": ...}]`` or ``[{"translation_text": ...}]`` (``*_token_ids`` with
``return_tensors=True``). Unless the model's generation config or the call says otherwise:
``max_new_tokens=256``, ``num_beams=4`` (the pipelines' defaults).

Example:
    >>> from kerasformers import pipeline
    >>> translator = pipeline("translation_en_to_de", model="./t5-small")
    >>> translator("How old are you?")
    [{'translation_text': 'Wie alt sind Sie?'}]
"""

from __future__ import annotations

import enum
import re

import numpy as np

from kerasformers.errors import InvalidInputError, InvalidInputTypeError
from kerasformers.pipelines.base import Pipeline, register_pipeline

__all__ = ["Text2TextGenerationPipeline", "SummarizationPipeline", "TranslationPipeline"]

# transformers 4.57's Text2TextGenerationPipeline._default_generation_config
PIPELINE_GENERATION_DEFAULTS = {"max_new_tokens": 256, "num_beams": 4}
_TRANSLATION_TASK = re.compile(r"translation_([^_]+)_to_([^_]+)")


class ReturnType(enum.Enum):
    """What a record holds: the generated token ids, or the decoded text."""

    TENSORS = 0
    TEXT = 1


@register_pipeline
class Text2TextGenerationPipeline(Pipeline):
    """Generate text from text with an encoder-decoder model (``pipeline("text2text-generation", model=...)``).

    Call arguments: ``return_tensors`` / ``return_text`` / ``return_type``,
    ``clean_up_tokenization_spaces``, ``truncation``, ``stop_sequence`` (its first token
    becomes the EOS), and any ``generate()`` argument (``num_beams``, ``max_new_tokens``,
    ``do_sample``, ``no_repeat_ngram_size``, ``generation_config``, ...).

    Example:
        >>> generator = pipeline("text2text-generation", model="./flan-t5-small")
        >>> generator(["question: What is 2 + 2?"], max_new_tokens=5)
        [{'generated_text': '4'}]
    """

    default_task = "text2text-generation"
    return_name = "generated"

    def __init__(self, model, tokenizer=None, task: str = "", **kwargs):
        task = task or self.default_task
        super().__init__(model, tokenizer, task=_table_task(task), **kwargs)
        self.task = task  # the name as given (translation_en_to_de), for its task_specific_params
        config = getattr(model, "config", None)
        self.prefix = getattr(config, "prefix", None)
        # transformers' legacy task_specific_params: a prefix and generation settings per task name
        self._task_generation_params = {}
        task_params = dict((getattr(config, "task_specific_params", None) or {}).get(task) or {})
        if "prefix" in task_params:
            self.prefix = task_params.pop("prefix")
        self._task_generation_params = task_params

    def _sanitize_parameters(
        self,
        return_tensors=None,
        return_text=None,
        return_type=None,
        clean_up_tokenization_spaces=None,
        truncation=None,
        stop_sequence=None,
        **generate_kwargs,
    ):
        preprocess_params = {}
        if truncation is not None:
            preprocess_params["truncation"] = truncation
        postprocess_params = {}
        if return_tensors is not None and return_type is None:
            return_type = ReturnType.TENSORS if return_tensors else ReturnType.TEXT
        elif return_text is not None and return_type is None:
            return_type = ReturnType.TEXT if return_text else ReturnType.TENSORS
        if return_type is not None:
            postprocess_params["return_type"] = ReturnType(return_type)
        if clean_up_tokenization_spaces is not None:
            postprocess_params["clean_up_tokenization_spaces"] = clean_up_tokenization_spaces
        if stop_sequence is not None:
            stop_ids = self.tokenizer.encode(stop_sequence, add_special_tokens=False)
            if not stop_ids:
                raise InvalidInputError(f"stop_sequence {stop_sequence!r} tokenizes to nothing.")
            generate_kwargs["eos_token_id"] = stop_ids[0]  # as transformers: the first token only
        return preprocess_params, generate_kwargs, postprocess_params

    def __call__(self, inputs=None, *args, **kwargs):
        """Generate for one text (a list of records) or a list of texts (one list of records each, or one
        record each when there is one sequence per text, as transformers).

        Example:
            >>> generator("summarize: a long text", num_beams=2)
            [{'generated_text': '...'}]
        """
        if isinstance(inputs, str) or (isinstance(inputs, list) and all(isinstance(x, str) for x in inputs)):
            pass
        elif isinstance(inputs, list) or inputs is None:
            raise InvalidInputTypeError(f"{type(self).__name__} takes a string or a list of strings, got {inputs!r}.")
        result = super().__call__(inputs, *args, **kwargs)
        if isinstance(inputs, list) and all(len(records) == 1 for records in result):
            return [records[0] for records in result]
        return result

    def preprocess(self, text, truncation=False, **_):
        if not isinstance(text, str):
            raise InvalidInputTypeError(f"{type(self).__name__} takes strings, got {type(text).__name__}.")
        encoded = self.tokenizer((self.prefix or "") + text, truncation=truncation, return_tensors="np")
        return {key: value for key, value in encoded.items() if key in ("input_ids", "attention_mask")}

    def _generate_kwargs_for(self, generate_kwargs: dict) -> dict:
        """The call's generate() kwargs over the task's params over the pipeline's defaults for what nobody set."""
        settings = dict(self.model.generation_config.to_diff_dict())
        if generate_kwargs.get("generation_config") is not None:
            settings.update(generate_kwargs["generation_config"].to_diff_dict())
        added = {k: v for k, v in self._task_generation_params.items() if k not in generate_kwargs}
        settings.update(added)
        settings.update(generate_kwargs)
        for key, value in PIPELINE_GENERATION_DEFAULTS.items():
            if key not in settings and not (key == "max_new_tokens" and "max_length" in settings):
                added[key] = value
        pad_id = getattr(self.tokenizer, "pad_token_id", None)
        if pad_id is not None and settings.get("pad_token_id") is None:
            added["pad_token_id"] = pad_id
        if generate_kwargs.get("generation_config") is None:
            return {**generate_kwargs, **added}
        config = generate_kwargs["generation_config"].update(**added)
        return {**generate_kwargs, "generation_config": config}

    def _forward(self, model_inputs, **generate_kwargs):
        input_ids = model_inputs["input_ids"]
        batch = input_ids.shape[0]
        output = self.model.generate(
            input_ids=input_ids,
            attention_mask=model_inputs.get("attention_mask"),
            **self._generate_kwargs_for(generate_kwargs),
        )
        sequences = np.asarray(getattr(output, "sequences", output))
        # (batch, num_return_sequences, length): one input's rows stay together when the batch is split
        return {"output_ids": sequences.reshape(batch, sequences.shape[0] // batch, *sequences.shape[1:])}

    def postprocess(self, model_outputs, return_type=ReturnType.TEXT, clean_up_tokenization_spaces=False):
        records = []
        for output_ids in model_outputs["output_ids"][0]:
            if return_type == ReturnType.TENSORS:
                records.append({f"{self.return_name}_token_ids": output_ids})
            else:
                text = self.tokenizer.decode(
                    output_ids.tolist(),
                    skip_special_tokens=True,
                    clean_up_tokenization_spaces=clean_up_tokenization_spaces,
                )
                records.append({f"{self.return_name}_text": text})
        return records


@register_pipeline
class SummarizationPipeline(Text2TextGenerationPipeline):
    """Summarize texts (``pipeline("summarization", model=...)``): records ``{"summary_text": ...}``.

    T5 checkpoints carry the prefix "summarize: " in ``task_specific_params``.

    Example:
        >>> summarizer = pipeline("summarization", model="./t5-small")
        >>> summarizer("A long article ...", min_length=5, max_length=20)
        [{'summary_text': '...'}]
    """

    default_task = "summarization"
    return_name = "summary"


@register_pipeline
class TranslationPipeline(Text2TextGenerationPipeline):
    """Translate texts (``pipeline("translation_en_to_de", model=...)``): records ``{"translation_text": ...}``.

    ``src_lang`` / ``tgt_lang`` (read off a ``translation_xx_to_yy`` task name when not given) are
    for multilingual tokenizers that build translation inputs themselves; T5 uses the task's prefix.

    Example:
        >>> translator = pipeline("translation_en_to_fr", model="./t5-small")
        >>> translator(["How old are you?"])
        [{'translation_text': 'Quel âge avez-vous?'}]
    """

    default_task = "translation"
    return_name = "translation"

    def _sanitize_parameters(self, src_lang=None, tgt_lang=None, **kwargs):
        preprocess_params, forward_params, postprocess_params = super()._sanitize_parameters(**kwargs)
        if src_lang is None and tgt_lang is None:
            match = _TRANSLATION_TASK.fullmatch(getattr(self, "task", "") or "")
            if match:
                src_lang, tgt_lang = match.groups()
        if src_lang is not None:
            preprocess_params["src_lang"] = src_lang
        if tgt_lang is not None:
            preprocess_params["tgt_lang"] = tgt_lang
        return preprocess_params, forward_params, postprocess_params

    def preprocess(self, text, truncation=False, src_lang=None, tgt_lang=None):
        build = getattr(self.tokenizer, "_build_translation_inputs", None)
        if build is not None:
            encoded = build(text, return_tensors="np", truncation=truncation, src_lang=src_lang, tgt_lang=tgt_lang)
            return {key: value for key, value in encoded.items() if key in ("input_ids", "attention_mask")}
        return super().preprocess(text, truncation=truncation)


def _table_task(task: str) -> str:
    """The task table's name for a pipeline task (``translation_en_to_de`` -> ``translation``)."""
    return "translation" if _TRANSLATION_TASK.fullmatch(task) else task
