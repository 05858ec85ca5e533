"""The text-generation pipeline: continue prompts, or chats through the tokenizer's chat template.

As transformers 5.23's ``TextGenerationPipeline``: a string (or a list of strings) is tokenized as
``prefix + prompt`` without special tokens unless ``add_special_tokens=True``; a chat (a list of
``{"role", "content"}`` dicts, or a list of chats) goes through ``apply_chat_template`` with
``add_generation_prompt`` (or ``continue_final_message`` when the last message is the assistant's).
Batches are left-padded. Only the new tokens are decoded; ``return_full_text`` (default True) puts
the prompt text in front, and a chat comes back with the new assistant message appended.
Unless the model's generation config or the call says otherwise: ``max_new_tokens=256``,
``do_sample=True``, ``temperature=0.7``.

Example:
    >>> from kerasformers import pipeline
    >>> generator = pipeline("text-generation", model="./smollm2")
    >>> generator([{"role": "user", "content": "Name a planet."}], max_new_tokens=20, do_sample=False)
    [{'generated_text': [{'role': 'user', 'content': 'Name a planet.'}, {'role': 'assistant', 'content': '...'}]}]
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

import numpy as np

from kerasformers.errors import InvalidInputError
from kerasformers.pipelines.base import Pipeline, register_pipeline

__all__ = ["TextGenerationPipeline", "ReturnType", "Chat"]

# transformers 5.23's TextGenerationPipeline._default_generation_config
PIPELINE_GENERATION_DEFAULTS = {"max_new_tokens": 256, "do_sample": True, "temperature": 0.7}
# defaults that only apply when sampling (generate() would warn about them otherwise)
SAMPLING_PARAMETERS = frozenset(
    {"temperature", "top_k", "top_p", "min_p", "top_h", "typical_p", "epsilon_cutoff", "eta_cutoff"}
)


class ReturnType(enum.Enum):
    """What a text-generation record holds: token ids, the new text only, or the prompt and the new text."""

    TENSORS = 0
    NEW_TEXT = 1
    FULL_TEXT = 2


def is_message(value) -> bool:
    """True for a chat message: a mapping with "role" and "content" keys.

    Example:
        >>> is_message({"role": "user", "content": "Hi"})
        True
    """
    return isinstance(value, Mapping) and "role" in value and "content" in value


class Chat:
    """One conversation given to the pipeline (so a list of messages is not taken for a batch of prompts).

    Example:
        >>> Chat([{"role": "user", "content": "Hi"}]).messages[-1]["role"]
        'user'
    """

    def __init__(self, messages):
        messages = list(messages)
        for message in messages:
            if not is_message(message):
                raise InvalidInputError(
                    "When passing chat dicts as input, each dict must have a 'role' and a 'content' key; got "
                    f"{message!r}."
                )
        self.messages = messages

    def __repr__(self) -> str:
        return f"Chat({self.messages!r})"


def as_chats(inputs):
    """Chat inputs wrapped as :class:`Chat` (one conversation, or a list of them); other inputs unchanged.

    Example:
        >>> as_chats([{"role": "user", "content": "Hi"}])
        Chat([{'role': 'user', 'content': 'Hi'}])
    """
    if isinstance(inputs, (list, tuple)) and inputs:
        if is_message(inputs[0]):
            return Chat(inputs)
        if all(isinstance(chat, (list, tuple)) and chat and is_message(chat[0]) for chat in inputs):
            return [Chat(chat) for chat in inputs]
    return inputs


# generate() arguments the pipeline passes through (transformers 5.23 forwards every unknown kwarg)
_GENERATE_ONLY = ("streamer", "generation_config", "seed", "logits_processor", "stopping_criteria", "jit_compile")


@register_pipeline
class TextGenerationPipeline(Pipeline):
    """Text generation with a ``TFAutoModelForCausalLM`` model (see the module docstring for the behaviour).

    Inputs: a string, a list of strings, a chat (list of ``{"role", "content"}`` dicts) or a list of
    chats. Options: ``return_full_text`` (True), ``return_text`` / ``return_tensors`` (token ids as
    ``generated_token_ids``), ``prefix``, ``stop_sequence``, ``continue_final_message``,
    ``clean_up_tokenization_spaces``, ``skip_special_tokens``, ``add_special_tokens``, ``truncation``,
    ``max_length``, ``tokenizer_encode_kwargs``, ``tools``, ``documents``, ``handle_long_generation``
    ("hole"); everything else goes to ``model.generate`` (``max_new_tokens``, ``do_sample``,
    ``num_return_sequences``, ``streamer``, ...). Returns ``[{"generated_text": ...}]`` per input.

    Example:
        >>> generator = pipeline("text-generation", model="./smollm2")
        >>> generator("Once upon a time", max_new_tokens=10, do_sample=False, return_full_text=False)
        [{'generated_text': ' there was a little girl who lived in a'}]
    """

    default_task = "text-generation"

    def __init__(self, *args, **kwargs):
        self._generate_kwargs = {}
        super().__init__(*args, **kwargs)
        if self.tokenizer is not None and self.tokenizer.padding_side == "right":
            # prompts of a batch must end where generation starts
            self.tokenizer.padding_side = "left"
        self.prefix = getattr(self.model.config, "prefix", None)
        if "prefix" not in self._preprocess_params and self.prefix is not None:
            preprocess, forward, _ = self._sanitize_parameters(prefix=self.prefix)
            self._preprocess_params = {**self._preprocess_params, **preprocess}
            self._forward_params = {**self._forward_params, **forward}

    def _sanitize_parameters(
        self,
        return_full_text=None,
        return_tensors=None,
        return_text=None,
        return_type=None,
        clean_up_tokenization_spaces=None,
        prefix=None,
        handle_long_generation=None,
        stop_sequence=None,
        truncation=None,
        max_length=None,
        continue_final_message=None,
        skip_special_tokens=None,
        tokenizer_encode_kwargs=None,
        tools=None,
        documents=None,
        **generate_kwargs,
    ):
        preprocess = {}
        add_special_tokens = False
        if "add_special_tokens" in generate_kwargs:
            add_special_tokens = preprocess["add_special_tokens"] = generate_kwargs.pop("add_special_tokens")
        if "padding" in generate_kwargs:
            preprocess["padding"] = generate_kwargs.pop("padding")
        if truncation is not None:
            preprocess["truncation"] = truncation
        if max_length is not None:
            preprocess["max_length"] = max_length
            generate_kwargs["max_length"] = max_length
        for name, value in (("tools", tools), ("documents", documents), ("prefix", prefix)):
            if value is not None:
                preprocess[name] = value
        if prefix:
            prefix_ids = self.tokenizer(prefix, padding=False, add_special_tokens=add_special_tokens)["input_ids"]
            generate_kwargs["prefix_length"] = len(prefix_ids)
        if handle_long_generation is not None:
            if handle_long_generation != "hole":
                raise InvalidInputError(
                    f"handle_long_generation={handle_long_generation!r} is not supported: use None or 'hole'."
                )
            preprocess["handle_long_generation"] = handle_long_generation
        if continue_final_message is not None:
            preprocess["continue_final_message"] = continue_final_message
        if tokenizer_encode_kwargs is not None:
            preprocess["tokenizer_encode_kwargs"] = tokenizer_encode_kwargs
        # preprocessing reads max_new_tokens / max_length for "hole"; objects like a streamer stay out
        preprocess.update({k: v for k, v in generate_kwargs.items() if k not in _GENERATE_ONLY})
        if stop_sequence is not None:
            generate_kwargs["stop_strings"] = [stop_sequence] if isinstance(stop_sequence, str) else stop_sequence
            generate_kwargs["tokenizer"] = self.tokenizer
        postprocess = {}
        if return_full_text is not None and return_type is None:
            if return_text is not None:
                raise InvalidInputError("return_text and return_full_text do not go together: pass one of them.")
            if return_tensors is not None:
                raise InvalidInputError("return_full_text and return_tensors do not go together: pass one of them.")
            return_type = ReturnType.FULL_TEXT if return_full_text else ReturnType.NEW_TEXT
        if return_tensors is not None and return_type is None:
            if return_text is not None:
                raise InvalidInputError("return_text and return_tensors do not go together: pass one of them.")
            return_type = ReturnType.TENSORS
        if return_type is not None:
            postprocess["return_type"] = return_type
        if clean_up_tokenization_spaces is not None:
            postprocess["clean_up_tokenization_spaces"] = clean_up_tokenization_spaces
        if continue_final_message is not None:
            postprocess["continue_final_message"] = continue_final_message
        if skip_special_tokens is not None:
            postprocess["skip_special_tokens"] = skip_special_tokens
        return preprocess, generate_kwargs, postprocess

    def __call__(self, text_inputs, **kwargs):
        """Complete the prompt(s) or chat(s) (see the class docstring).

        Example:
            >>> generator([[{"role": "user", "content": "Hi"}], [{"role": "user", "content": "Bye"}]], batch_size=2)
        """
        return super().__call__(as_chats(text_inputs), **kwargs)

    def preprocess(
        self,
        prompt_text,
        prefix="",
        handle_long_generation=None,
        add_special_tokens=None,
        truncation=None,
        padding=None,
        max_length=None,
        continue_final_message=None,
        tokenizer_encode_kwargs=None,
        tools=None,
        documents=None,
        **generate_kwargs,
    ):
        """One prompt (string or Chat) as model inputs with a batch axis of 1, the prompt riding along.

        Example:
            >>> generator.preprocess("Hello")["input_ids"].shape
            (1, 1)
        """
        options = {
            "add_special_tokens": add_special_tokens,
            "truncation": truncation,
            "padding": padding,
            "max_length": max_length,
        }
        options = {key: value for key, value in options.items() if value is not None}
        options.update(tokenizer_encode_kwargs or {})
        if isinstance(prompt_text, Chat):
            options.pop("add_special_tokens", None)  # a chat template writes its own special tokens
            if getattr(self.tokenizer, "chat_template", None) is None:
                raise InvalidInputError(
                    "Chat input (a list of {'role', 'content'} messages) needs the tokenizer's chat template, and "
                    "this tokenizer has none. Pass a plain string prompt, or set tokenizer.chat_template "
                    "(a Jinja template, as in tokenizer_config.json / chat_template.jinja)."
                )
            if continue_final_message is None:
                continue_final_message = prompt_text.messages[-1]["role"] == "assistant"
            template_options = {k: options.pop(k) for k in ("padding", "truncation", "max_length") if k in options}
            inputs = self.tokenizer.apply_chat_template(
                prompt_text.messages,
                add_generation_prompt=not continue_final_message,
                continue_final_message=continue_final_message,
                return_dict=True,
                return_tensors="np",
                tools=tools,
                documents=documents,
                tokenizer_kwargs=options or None,
                **template_options,
            )
        else:
            if not isinstance(prompt_text, str):
                raise InvalidInputError(
                    f"text-generation inputs are strings or chats (lists of {{'role', 'content'}} dicts); got "
                    f"{type(prompt_text).__name__}."
                )
            inputs = self.tokenizer(prefix + prompt_text, return_tensors="np", **options)
        inputs = {name: np.asarray(value) for name, value in inputs.items() if name in ("input_ids", "attention_mask")}
        if handle_long_generation == "hole":
            inputs = self._cut_for_hole(inputs, generate_kwargs)
        inputs["prompt_text"] = prompt_text
        return inputs

    def _cut_for_hole(self, inputs: dict, generate_kwargs: dict) -> dict:
        """ "hole": keep the prompt's last tokens so that prompt + new tokens fit model_max_length."""
        length = inputs["input_ids"].shape[-1]
        settings = self._set_generation_params(generate_kwargs)
        new_tokens = settings.get("max_new_tokens")
        if new_tokens is None:
            new_tokens = settings.get("max_length", 20) - length
            if new_tokens < 0:
                raise InvalidInputError("handle_long_generation='hole' cannot tell how many new tokens to make.")
        if length + new_tokens > self.tokenizer.model_max_length:
            keep = self.tokenizer.model_max_length - new_tokens
            if keep <= 0:
                raise InvalidInputError(
                    f"handle_long_generation='hole': {new_tokens} new tokens exceed the model's maximum length "
                    f"({self.tokenizer.model_max_length}); ask for fewer."
                )
            inputs = {name: value[:, -keep:] for name, value in inputs.items()}
        return inputs

    def _set_generation_params(self, generate_kwargs: dict) -> dict:
        """The generation settings a call fixes: the model's generation config, the call's generation_config, kwargs."""
        params = dict(self.model.generation_config.to_diff_dict())
        if generate_kwargs.get("generation_config") is not None:
            params.update(generate_kwargs["generation_config"].to_diff_dict())
        return {**params, **generate_kwargs}

    def _generate_kwargs_for(self, generate_kwargs: dict) -> dict:
        """The call's generate() kwargs plus the pipeline's defaults for what nobody set (as transformers 5.23)."""
        settings = self._set_generation_params(generate_kwargs)
        added = {
            key: value
            for key, value in PIPELINE_GENERATION_DEFAULTS.items()
            if key not in settings and not (key == "max_new_tokens" and "max_length" in settings)
        }
        if self.tokenizer is not None and self.tokenizer.pad_token_id is not None and "pad_token_id" not in settings:
            added["pad_token_id"] = self.tokenizer.pad_token_id
        if not {**settings, **added}.get("do_sample"):
            added = {key: value for key, value in added.items() if key not in SAMPLING_PARAMETERS}
        if generate_kwargs.get("generation_config") is None:
            return {**generate_kwargs, **added}
        config = generate_kwargs["generation_config"].update(**added)
        return {**generate_kwargs, "generation_config": config}

    def _forward(self, model_inputs, **generate_kwargs):
        input_ids = model_inputs["input_ids"]
        attention_mask = model_inputs.get("attention_mask")
        prompt_text = model_inputs["prompt_text"]
        if input_ids.shape[1] == 0:
            input_ids = attention_mask = None
            batch = 1
        else:
            batch = input_ids.shape[0]
        generate_kwargs = dict(generate_kwargs)
        prefix_length = generate_kwargs.pop("prefix_length", 0)
        generate_kwargs = self._generate_kwargs_for(generate_kwargs)
        if prefix_length:  # a total length (not a number of new tokens) must count the prefix too
            settings = self._set_generation_params(generate_kwargs)
            for total, new in (("max_length", "max_new_tokens"), ("min_length", "min_new_tokens")):
                if total in settings and new not in settings:
                    generate_kwargs[total] = settings[total] + prefix_length
        output = self.model.generate(input_ids=input_ids, attention_mask=attention_mask, **generate_kwargs)
        sequences = getattr(output, "sequences", output)
        sequences = np.asarray(sequences)
        per_prompt = sequences.shape[0] // batch
        return {
            # (batch, num_return_sequences, length): one prompt's rows stay together when the batch is split
            "generated_sequence": sequences.reshape(batch, per_prompt, *sequences.shape[1:]),
            "input_ids": input_ids if input_ids is not None else np.zeros((batch, 0), np.int32),
            "prompt_text": prompt_text,
        }

    def postprocess(
        self,
        model_outputs,
        return_type=ReturnType.FULL_TEXT,
        clean_up_tokenization_spaces=None,
        continue_final_message=None,
        skip_special_tokens=None,
        tools=None,
    ):
        """One prompt's records: ``{"generated_text": ...}`` (or ``{"generated_token_ids": ...}``) per sequence.

        Example:
            >>> generator.postprocess(outputs, return_type=ReturnType.NEW_TEXT)
            [{'generated_text': ' there was'}]
        """
        sequences = np.asarray(model_outputs["generated_sequence"])[0].tolist()
        prompt_length = np.asarray(model_outputs["input_ids"]).shape[-1]
        prompt_text = model_outputs["prompt_text"]
        skip_special_tokens = True if skip_special_tokens is None else skip_special_tokens
        records = []
        for sequence in sequences:
            if return_type == ReturnType.TENSORS:
                records.append({"generated_token_ids": sequence})
                continue
            text = self.tokenizer.decode(
                sequence[prompt_length:],
                skip_special_tokens=skip_special_tokens,
                clean_up_tokenization_spaces=clean_up_tokenization_spaces,
            )
            if return_type == ReturnType.FULL_TEXT:
                if isinstance(prompt_text, str):
                    text = prompt_text + text
                elif isinstance(prompt_text, Chat):
                    messages = list(prompt_text.messages)
                    continues = continue_final_message
                    if continues is None:
                        continues = messages[-1]["role"] == "assistant"
                    if continues:
                        last = messages[-1]
                        text = messages[:-1] + [{"role": last["role"], "content": last["content"] + text}]
                    else:
                        text = messages + [{"role": "assistant", "content": text}]
            records.append({"generated_text": text})
        return records
