"""Chat templates: Jinja templates that turn a conversation into the text a chat model was trained on.

They render exactly as in transformers: a sandboxed Jinja environment (chat templates from the
Hub are untrusted code) with ``trim_blocks`` / ``lstrip_blocks``, loop controls, the
``{% generation %}`` tag (which marks assistant text), and the same extras: ``raise_exception``,
``strftime_now``, a ``tojson`` filter that keeps non-ASCII text and takes ``indent``,
``separators``, ``sort_keys``, and guarded ``dict`` / ``namespace``.
:meth:`PreTrainedTokenizerFast.apply_chat_template` calls :func:`render_chat_template`.

Example:
    >>> render_chat_template([[{"role": "user", "content": "Hi"}]],
    ...                      chat_template="{% for m in messages %}{{ m.role }}: {{ m.content }}\\n{% endfor %}")
    (['user: Hi\\n'], [])
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from contextlib import contextmanager
from datetime import datetime
from functools import lru_cache
from typing import Any

import numpy as np

from kerasformers.errors import InvalidInputError, InvalidInputTypeError, MissingDependencyError

__all__ = ["compile_chat_template", "render_chat_template", "has_generation_tag"]

# Names a message's reasoning may come under; templates read the first.
_REASONING_FIELDS = ("reasoning_content", "thinking", "reasoning")
# appended to the message to continue, then cut off the rendered text with everything after it
_CONTINUE_TAG = "CONTINUE_FINAL_MESSAGE_TAG "


@lru_cache
def compile_chat_template(chat_template: str):
    """The compiled Jinja template (cached per template text), in transformers' sandboxed environment.

    Example:
        >>> compile_chat_template("{{ messages | length }}").render(messages=[1, 2])
        '2'
    """
    try:
        import jinja2
        import jinja2.ext
        from jinja2.sandbox import ImmutableSandboxedEnvironment
    except ImportError:
        raise MissingDependencyError("Chat templates need jinja2: pip install 'jinja2>=3.1.6'.") from None

    class GenerationTracker(jinja2.ext.Extension):
        """``{% generation %}...{% endgeneration %}``: records where assistant text lands in the output."""

        tags = {"generation"}

        def __init__(self, environment):
            super().__init__(environment)
            environment.extend(track_generation=self.track_generation)
            self._blocks = None
            self._spans = None

        def parse(self, parser):
            lineno = next(parser.stream).lineno
            body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
            return jinja2.nodes.CallBlock(self.call_method("_mark"), [], [], body).set_lineno(lineno)

        def _mark(self, caller):
            text = caller()
            if self._blocks is not None:
                start = len("".join(self._blocks))
                self._spans.append((start, start + len(text)))
            return text

        @contextmanager
        def track_generation(self, blocks: list, spans: list):
            self._blocks, self._spans = blocks, spans
            try:
                yield
            finally:
                self._blocks = self._spans = None

    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(value, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        # Jinja's own tojson escapes HTML characters; chat templates want the text as it is
        return json.dumps(value, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def strftime_now(format):
        return datetime.now().strftime(format)

    class TemplateDict:
        """``dict(...)`` inside templates, without access to the dict type itself."""

        def __call__(self, *args, **kwargs):
            return dict(*args, **kwargs)

        def fromkeys(self, *args, **kwargs):
            return dict.fromkeys(*args, **kwargs)

    class TemplateNamespace(jinja2.utils.Namespace):
        """``namespace(...)`` that refuses underscore names (no way to CPython internals)."""

        def __init__(*args, **kwargs):
            self, args = args[0], args[1:]
            attributes = dict(*args, **kwargs)
            for name in attributes:
                TemplateNamespace._check_name(name)
            jinja2.utils.Namespace.__init__(self, attributes)

        def __setitem__(self, name, value):
            TemplateNamespace._check_name(name)
            jinja2.utils.Namespace.__setitem__(self, name, value)

        @staticmethod
        def _check_name(name):
            if isinstance(name, str) and name.startswith("_"):
                raise jinja2.exceptions.SecurityError(
                    f"Chat templates cannot store underscore-prefixed attributes on a namespace, got {name!r}."
                )

    environment = ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=[GenerationTracker, jinja2.ext.loopcontrols]
    )
    environment.filters["tojson"] = tojson
    environment.globals.update(
        raise_exception=raise_exception, strftime_now=strftime_now, dict=TemplateDict(), namespace=TemplateNamespace
    )
    return environment.from_string(chat_template)


def render_chat_template(
    conversations: list[list[dict]],
    chat_template: str,
    tools: list[dict] | None = None,
    documents: list[dict] | None = None,
    add_generation_prompt: bool = False,
    continue_final_message: bool | str = False,
    return_assistant_tokens_mask: bool = False,
    **template_kwargs,
) -> tuple[list[str], list[list[tuple[int, int]]]]:
    """Render each conversation: (texts, for each the character spans of ``{% generation %}`` blocks).

    ``template_kwargs`` are further template variables (the tokenizer's special tokens, ``bos_token``
    and the like, come in this way). The spans are filled only with ``return_assistant_tokens_mask``.

    Example:
        >>> texts, _ = render_chat_template([[{"role": "user", "content": "Hi"}]], "{{ messages[0].content }}")
        >>> texts
        ['Hi']
    """
    compiled = compile_chat_template(chat_template)
    if tools is not None:
        for tool in tools:
            if not isinstance(tool, dict):
                raise InvalidInputTypeError(
                    f"Each tool must be a JSON schema dict ({{'type': 'function', 'function': {{'name': ..., "
                    f"'parameters': ...}}}}), got {type(tool).__name__}. kerasformers does not turn Python functions "
                    "into schemas: write the schema as a dict."
                )
    if documents is not None:
        for document in documents:
            if not isinstance(document, dict):
                raise InvalidInputTypeError("Documents must be a list of dicts with 'title' and 'text' keys.")
    tools, documents, template_kwargs = _plain(tools), _plain(documents), _plain(template_kwargs)

    rendered, all_spans = [], []
    for chat in conversations:
        chat = _plain(getattr(chat, "messages", chat))
        for message in chat:
            if not isinstance(message, dict):
                raise InvalidInputTypeError(f"Chat messages must be dicts with 'role' and 'content', got {message!r}.")
        chat = _alias_reasoning(chat)
        final_message = None
        if continue_final_message:
            final_message = _tag_final_message(chat, chat_template, continue_final_message)
        variables = dict(
            messages=chat,
            tools=tools,
            documents=documents,
            add_generation_prompt=add_generation_prompt,
            **template_kwargs,
        )
        if return_assistant_tokens_mask:
            blocks, spans = [], []
            with compiled.environment.track_generation(blocks, spans):
                for block in compiled.generate(**variables):
                    blocks.append(block)
            text = "".join(blocks)
            all_spans.append(spans)
        else:
            text = compiled.render(**variables)
        if final_message is not None:
            text = _cut_after_final_message(text, final_message)
        rendered.append(text)
    return rendered, all_spans


def _tag_final_message(chat: list[dict], chat_template: str, field: bool | str) -> str:
    """Mark the end of the message to continue; returns its text (as transformers does)."""
    if not chat:
        raise InvalidInputError("continue_final_message is set but the conversation is empty.")
    field = field if isinstance(field, str) else "content"
    final_message = chat[-1].get(field)
    if final_message is None:
        raise InvalidInputError(f'continue_final_message is set but the final message has no "{field}" to continue.')
    fields = [field]
    if field in _REASONING_FIELDS:
        fields = [name for name in _REASONING_FIELDS if chat[-1].get(name) == final_message]
    if not any(name in chat_template for name in fields):
        raise InvalidInputError(
            f'continue_final_message is set to "{field}" but the chat template never reads that field.'
        )
    if isinstance(final_message, (list, tuple)):
        for block in reversed(final_message):
            if "text" in block:
                final_message = block["text"]
                block["text"] = block["text"] + _CONTINUE_TAG
                break
        else:
            raise InvalidInputError(
                "continue_final_message is set but the final message has no text block to continue."
            )
    else:
        for name in fields:
            chat[-1][name] = chat[-1][name] + _CONTINUE_TAG
    return final_message


def _cut_after_final_message(text: str, final_message: str) -> str:
    if final_message.strip() not in text or _CONTINUE_TAG.strip() not in text:
        raise InvalidInputError(
            "continue_final_message is set but the final message does not appear in the rendered chat: the chat "
            f"template changes or drops it. Final message: {final_message.strip()!r}"
        )
    cut = text.rindex(_CONTINUE_TAG.strip())
    if text[cut : cut + len(_CONTINUE_TAG)] == _CONTINUE_TAG:
        return text[:cut]
    return text[:cut].rstrip()  # the template trimmed the message's trailing space


def _alias_reasoning(chat: list) -> list:
    """Fill ``reasoning_content`` (and ``thinking``) from whichever reasoning field a message has."""
    aliased = []
    for message in chat:
        if isinstance(message, dict):
            reasoning = next((message[key] for key in _REASONING_FIELDS if message.get(key) is not None), None)
            if reasoning is not None:
                message = {"thinking": reasoning, **message, "reasoning_content": reasoning}
        aliased.append(message)
    return aliased


def _plain(value: Any) -> Any:
    """Plain JSON-like data for the template: rich objects (arrays, tensors, images) become a
    "<TypeName>" placeholder, so the sandbox never sees their methods."""
    if value is None or type(value) in (str, int, float, bool):
        return value
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int.__int__(value)
    if isinstance(value, float):
        return float.__float__(value)
    if isinstance(value, Mapping):
        return {_plain(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, tuple):
        return tuple(_plain(item) for item in value)
    if isinstance(value, np.generic):
        return _plain(value.item())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: _plain(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if callable(getattr(value, "model_dump", None)):
        return _plain(value.model_dump())
    return f"<{type(value).__name__}>"


def has_generation_tag(chat_template: str) -> bool:
    """Whether a template marks assistant text with ``{% generation %}``."""
    return re.search(r"\{\%-?\s*generation\s*-?\%\}", chat_template) is not None
