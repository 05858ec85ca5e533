"""text2text-generation, summarization and translation pipelines on a tiny random T5 with the T5 tokenizer of
tests/seq2seq_data.py. Expected texts: PyTorch transformers' T5 generate() on the same weights and token ids,
decoded by transformers' tokenizer (5.23 has no text2text pipelines; their behaviour is 4.57's)."""

import warnings

import numpy as np
import pytest
import torch
import transformers
from seq2seq_data import write_t5_tokenizer

from kerasformers import pipeline
from kerasformers.errors import UnsupportedModelTypeError
from kerasformers.pipelines import SummarizationPipeline, Text2TextGenerationPipeline, TranslationPipeline

PREFIX = "translate English to German: "
TEXTS = ["The film is great fun.", "A dull and lifeless movie with no story at all."]


@pytest.fixture(scope="module")
def t5_folder(tmp_path_factory):
    folder = write_t5_tokenizer(tmp_path_factory.mktemp("t5_pipeline"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tokenizer = transformers.AutoTokenizer.from_pretrained(folder)
    config = transformers.T5Config(
        vocab_size=len(tokenizer),
        d_model=32,
        d_kv=8,
        d_ff=37,
        num_layers=2,
        num_heads=4,
        relative_attention_num_buckets=8,
        decoder_start_token_id=0,
        pad_token_id=0,
        eos_token_id=1,
        task_specific_params={"translation_en_to_de": {"prefix": PREFIX, "num_beams": 2}},
    )
    torch.manual_seed(0)
    model = transformers.T5ForConditionalGeneration(config).eval()
    model.save_pretrained(folder)
    return folder, model, tokenizer


def _expected(t5_folder, texts, **generate_kwargs):
    _, model, tokenizer = t5_folder
    out = []
    for text in texts:
        ids = tokenizer(text, return_tensors="pt")
        with torch.no_grad():
            generated = model.generate(**ids, **generate_kwargs)
        out.append(tokenizer.decode(generated[0], skip_special_tokens=True))
    return out


def test_text2text_generation_matches_transformers_generate(t5_folder):
    folder = t5_folder[0]
    generator = pipeline("text2text-generation", model=str(folder))
    assert isinstance(generator, Text2TextGenerationPipeline)
    got = generator(TEXTS, max_new_tokens=8, num_beams=1, batch_size=2)
    assert got == [{"generated_text": text} for text in _expected(t5_folder, TEXTS, max_new_tokens=8, num_beams=1)]
    records = generator(TEXTS, max_new_tokens=8, num_beams=1, batch_size=2, return_tensors=True)
    _, model, tokenizer = t5_folder
    for record, text in zip(records, TEXTS):
        with torch.no_grad():
            want = model.generate(**tokenizer(text, return_tensors="pt"), max_new_tokens=8, num_beams=1)
        np.testing.assert_array_equal(np.asarray(record["generated_token_ids"]), want[0].numpy())


def test_summarization_uses_the_pipeline_default_of_four_beams(t5_folder):
    summarizer = pipeline("summarization", model=str(t5_folder[0]))
    assert isinstance(summarizer, SummarizationPipeline)
    got = summarizer(TEXTS[1], max_new_tokens=6)
    assert got == [{"summary_text": _expected(t5_folder, TEXTS[1:], max_new_tokens=6, num_beams=4)[0]}]


def test_translation_task_name_applies_the_task_prefix_and_params(t5_folder):
    translator = pipeline("translation_en_to_de", model=str(t5_folder[0]))
    assert isinstance(translator, TranslationPipeline) and translator.prefix == PREFIX
    got = translator(TEXTS, max_new_tokens=7, batch_size=2)
    want = _expected(t5_folder, [PREFIX + text for text in TEXTS], max_new_tokens=7, num_beams=2)
    assert got == [{"translation_text": text} for text in want]
    plain = pipeline("translation", model=str(t5_folder[0]))
    assert plain.prefix is None


def test_unknown_translation_like_task_is_a_clear_error():
    with pytest.raises(UnsupportedModelTypeError, match="Unknown pipeline task 'translation_en_de'"):
        pipeline("translation_en_de", model="unused")
