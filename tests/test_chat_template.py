"""apply_chat_template against transformers 5.23's, string for string and id for id.

Templates: SmolLM2-Instruct's real one (the checkpoint fixture's chat_template.jinja) and a
tool-use / RAG template written here in the style of real ones (tools as JSON with tojson's
arguments, documents, namespace, loop controls, raise_exception, {% generation %} blocks).
"""

import json
import shutil

import jinja2
import numpy as np
import pytest
import tensorflow as tf
import transformers

from kerasformers.errors import InvalidInputError
from kerasformers.tokenization import AutoTokenizer

CHAT = [
    {"role": "system", "content": "You are brief."},
    {"role": "user", "content": "Hi there, what is a café? 😀"},
    {"role": "assistant", "content": "A place for coffee."},
    {"role": "user", "content": "And a naïve one?", "name": None},  # None values are dropped, as transformers does
]
SHORT_CHAT = [{"role": "user", "content": "Hello!"}]

TOOL_TEMPLATE = """{{ bos_token }}
{%- set ns = namespace(system='', tools_seen=0) %}
{%- if messages[0]['role'] == 'system' %}{% set ns.system = messages[0]['content'] %}{% endif %}
<|im_start|>system
{{ ns.system if ns.system else 'You are a helpful assistant.' }}
{%- if tools %}

# Tools
{% for tool in tools %}
{%- set ns.tools_seen = ns.tools_seen + 1 %}
{{ tool | tojson(indent=2, sort_keys=True) }}
{% endfor %}
{%- endif %}
{%- if documents %}

# Documents
{% for doc in documents %}
{%- if loop.index > 2 %}{% break %}{% endif %}
[{{ loop.index }}] {{ doc.title }}: {{ doc.text | tojson(ensure_ascii=True) }}
{% endfor %}
{%- endif %}
<|im_end|>
{% for message in messages %}
{%- if message['role'] == 'system' %}{% continue %}{% endif %}
{%- if message['role'] not in ['user', 'assistant', 'tool'] %}
{{- raise_exception('Unknown role ' + message['role']) }}{% endif %}
<|im_start|>{{ message['role'] }}
{% if message['role'] == 'assistant' %}{% generation %}{{ message['content'] }}<|im_end|>{% endgeneration %}
{% else %}{{ message['content'] }}<|im_end|>
{% endif %}
{% endfor %}
{%- if add_generation_prompt %}<|im_start|>assistant
{% endif %}"""

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather in a city, in °C",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        },
    }
]
DOCUMENTS = [
    {"title": "Cafés", "text": "A café serves coffee."},
    {"title": "Naïveté", "text": "Being naïve."},
    {"title": "Skipped", "text": "The loop breaks before this one."},
]


@pytest.fixture(scope="module")
def smollm2_pair(smollm2_path, tmp_path_factory):
    """(ours, transformers') tokenizers of SmolLM2, from a folder with only its tokenizer files."""
    folder = tmp_path_factory.mktemp("smollm2_tokenizer")
    for name in ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja"):
        if (smollm2_path / name).is_file():  # the template: in chat_template.jinja or tokenizer_config.json
            shutil.copy(smollm2_path / name, folder)
    return AutoTokenizer.from_pretrained(folder), transformers.AutoTokenizer.from_pretrained(folder)


def test_smollm2_template_is_read_from_the_checkpoint(smollm2_pair):
    ours, theirs = smollm2_pair
    assert isinstance(theirs.chat_template, str) and "<|im_start|>" in theirs.chat_template
    assert ours.chat_template == theirs.chat_template


@pytest.mark.parametrize("add_generation_prompt", [False, True])
def test_smollm2_text_and_ids_match(smollm2_pair, add_generation_prompt):
    ours, theirs = smollm2_pair
    for chat in (CHAT, SHORT_CHAT, [CHAT, SHORT_CHAT]):
        kwargs = dict(add_generation_prompt=add_generation_prompt)
        assert ours.apply_chat_template(chat, tokenize=False, **kwargs) == theirs.apply_chat_template(
            chat, tokenize=False, **kwargs
        )
        assert ours.apply_chat_template(chat, **kwargs) == theirs.apply_chat_template(chat, return_dict=False, **kwargs)
        got = ours.apply_chat_template(chat, return_dict=True, **kwargs)
        expected = theirs.apply_chat_template(chat, return_dict=True, **kwargs)
        assert dict(got) == dict(expected)


def test_smollm2_batches_and_tensors_match(smollm2_pair):
    ours, theirs = smollm2_pair
    kwargs = dict(padding=True, add_generation_prompt=True, return_dict=True)
    expected = theirs.apply_chat_template([CHAT, SHORT_CHAT], return_tensors="np", **kwargs)
    got = ours.apply_chat_template([CHAT, SHORT_CHAT], return_tensors="np", **kwargs)
    for key in expected:
        np.testing.assert_array_equal(got[key], expected[key])
    as_tf = ours.apply_chat_template([CHAT, SHORT_CHAT], return_tensors="tf", **kwargs)
    assert isinstance(as_tf["input_ids"], tf.Tensor)
    np.testing.assert_array_equal(as_tf["input_ids"].numpy(), expected["input_ids"])
    ids = ours.apply_chat_template(SHORT_CHAT, return_tensors="tf")  # ids alone, batch axis kept
    np.testing.assert_array_equal(ids.numpy(), theirs.apply_chat_template(SHORT_CHAT, return_tensors="np")["input_ids"])
    got = ours.apply_chat_template(CHAT, truncation=True, max_length=10, return_dict=True)
    assert dict(got) == dict(theirs.apply_chat_template(CHAT, truncation=True, max_length=10))
    continued = CHAT[:3]
    assert ours.apply_chat_template(continued, continue_final_message=True, tokenize=False) == (
        theirs.apply_chat_template(continued, continue_final_message=True, tokenize=False)
    )


@pytest.mark.parametrize("add_generation_prompt", [False, True])
def test_tool_and_document_template_matches(smollm2_pair, add_generation_prompt):
    ours, theirs = smollm2_pair
    for extra in ({}, {"tools": TOOLS}, {"documents": DOCUMENTS}, {"tools": TOOLS, "documents": DOCUMENTS}):
        kwargs = dict(chat_template=TOOL_TEMPLATE, add_generation_prompt=add_generation_prompt, **extra)
        text = ours.apply_chat_template(CHAT, tokenize=False, **kwargs)
        assert text == theirs.apply_chat_template(CHAT, tokenize=False, **kwargs)
        assert ours.apply_chat_template([CHAT, CHAT[1:]], **kwargs) == theirs.apply_chat_template(
            [CHAT, CHAT[1:]], return_dict=False, **kwargs
        )
    assert '"name": "get_weather"' in text and "°C" in text and "Skipped" not in text


def test_assistant_masks_match(smollm2_pair):
    ours, theirs = smollm2_pair
    for chat in (CHAT, [CHAT, CHAT[1:3]]):
        kwargs = dict(chat_template=TOOL_TEMPLATE, return_dict=True, return_assistant_tokens_mask=True)
        got = ours.apply_chat_template(chat, **kwargs)
        expected = theirs.apply_chat_template(chat, **kwargs)
        assert got["assistant_masks"] == expected["assistant_masks"]
        assert dict(got) == dict(expected)
    assert 1 in got["assistant_masks"][0]


def test_template_errors(smollm2_pair):
    ours, theirs = smollm2_pair
    bad_role = [{"role": "robot", "content": "beep"}]
    with pytest.raises(jinja2.exceptions.TemplateError, match="Unknown role robot"):
        theirs.apply_chat_template(bad_role, chat_template=TOOL_TEMPLATE)
    with pytest.raises(jinja2.exceptions.TemplateError, match="Unknown role robot"):
        ours.apply_chat_template(bad_role, chat_template=TOOL_TEMPLATE)
    with pytest.raises(jinja2.exceptions.SecurityError):
        ours.apply_chat_template(SHORT_CHAT, chat_template="{% set ns = namespace(_x=1) %}")
    with pytest.raises(InvalidInputError, match="empty conversation"):
        ours.apply_chat_template([])
    with pytest.raises(InvalidInputError, match="add_generation_prompt"):
        ours.apply_chat_template(CHAT, continue_final_message=True, add_generation_prompt=True)


def test_missing_template_names_the_fix(minilm_path):
    tokenizer = AutoTokenizer.from_pretrained(minilm_path)
    assert tokenizer.chat_template is None
    with pytest.raises(InvalidInputError, match="chat_template="):
        tokenizer.apply_chat_template(SHORT_CHAT)
    text = tokenizer.apply_chat_template(SHORT_CHAT, chat_template="{{ messages[0].content }}", tokenize=False)
    assert text == "Hello!"


def test_named_templates_load_and_save_as_transformers(smollm2_pair, smollm2_path, tmp_path):
    folder = tmp_path / "named"
    folder.mkdir()
    shutil.copy(smollm2_path / "tokenizer.json", folder)
    config = json.loads((smollm2_path / "tokenizer_config.json").read_text())
    config.pop("chat_template", None)
    default = smollm2_pair[1].chat_template
    config["chat_template"] = [
        {"name": "default", "template": default},
        {"name": "tool_use", "template": TOOL_TEMPLATE},
    ]
    (folder / "tokenizer_config.json").write_text(json.dumps(config))
    ours = AutoTokenizer.from_pretrained(folder)
    theirs = transformers.AutoTokenizer.from_pretrained(folder)
    assert ours.chat_template == theirs.chat_template == {"default": default, "tool_use": TOOL_TEMPLATE}
    for kwargs in ({}, {"tools": TOOLS}, {"chat_template": "tool_use"}):
        assert ours.apply_chat_template(CHAT, tokenize=False, **kwargs) == theirs.apply_chat_template(
            CHAT, tokenize=False, **kwargs
        )

    ours.save_pretrained(tmp_path / "saved")
    assert (tmp_path / "saved" / "chat_template.jinja").read_text() == default
    assert (tmp_path / "saved" / "additional_chat_templates" / "tool_use.jinja").read_text() == TOOL_TEMPLATE
    assert transformers.AutoTokenizer.from_pretrained(tmp_path / "saved").chat_template == theirs.chat_template
    assert AutoTokenizer.from_pretrained(tmp_path / "saved").chat_template == theirs.chat_template

    single = AutoTokenizer.from_pretrained(smollm2_path)
    single.save_pretrained(tmp_path / "single")
    assert (tmp_path / "single" / "chat_template.jinja").read_text() == default
    assert "chat_template" not in json.loads((tmp_path / "single" / "tokenizer_config.json").read_text())
    assert transformers.AutoTokenizer.from_pretrained(tmp_path / "single").chat_template == default
