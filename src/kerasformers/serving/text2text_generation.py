"""End-to-end text2text export (T5, BART, Marian): source strings in, generated strings out, with the
in-graph tokenizer and the XLA-compiled seq2seq generate loop inside the SavedModel graph."""

from __future__ import annotations

import json
import os
from pathlib import Path

from kerasformers.errors import ExportError, InvalidInputTypeError, NotSupportedError
from kerasformers.serving._tensorflow import tf
from kerasformers.serving.saved_model import check_export_target, exportable_module, write_saved_model
from kerasformers.serving.signatures import load_tokenizer_layer
from kerasformers.serving.text_generation import DEFAULT_MAX_NEW_TOKENS, detokenizing_tokenizer, generated_text

__all__ = ["export_text2text_generation", "DEFAULT_MAX_SOURCE_LENGTH", "SOURCE_TRUNCATION"]

DEFAULT_MAX_SOURCE_LENGTH = 512  # T5's model_max_length; BART and Marian cap it at their positions
SOURCE_TRUNCATION = ("error", "right")


def _source_buckets(max_source_length: int) -> list[int]:
    """The padded source lengths compiled for: generate()'s buckets (powers of two from 16), the last capped."""
    from kerasformers.generation.decoding import MIN_BUCKET

    buckets, bucket = [], MIN_BUCKET
    while bucket < max_source_length:
        buckets.append(bucket)
        bucket *= 2
    return buckets + [max_source_length]


def _in_graph_tokenizer(source):
    """The checkpoint's in-graph tokenizer: the layer its Python tokenizer class names (``in_graph_class``,
    e.g. Marian's), else the one TFAutoTokenizer builds."""
    from kerasformers.tokenization import AutoTokenizer

    python_tokenizer = AutoTokenizer.from_pretrained(source)
    layer_class = getattr(python_tokenizer, "in_graph_class", None)
    if layer_class is not None:
        return layer_class.from_tokenizer(python_tokenizer)
    return load_tokenizer_layer(source)


def _source_limit(model) -> int:
    """The longest source the encoder takes: learned/sinusoidal positions bound it, T5's relative ones do not."""
    limit = int(getattr(model.config, "max_position_embeddings", 0) or 0)
    return min(DEFAULT_MAX_SOURCE_LENGTH, limit) if limit else DEFAULT_MAX_SOURCE_LENGTH


def export_text2text_generation(
    model,
    export_dir: str | os.PathLike,
    *,
    tokenizer=None,
    version: int | None = None,
    max_source_length: int | None = None,
    source_truncation: str = "error",
    overwrite: bool = False,
    **generate_kwargs,
) -> Path:
    """Export an encoder-decoder model as source strings in, generated strings out.

    ``serving_default`` takes ``text`` (a batch of source texts, any batch size; add a task prefix
    such as ``"translate English to German: "`` yourself, as with ``generate()``) and returns
    ``generated_text`` (special tokens skipped, as ``tokenizer.batch_decode(out,
    skip_special_tokens=True)``), ``generated_ids`` (int32 (batch, steps): the tokens after the decoder
    start token, exactly what ``model.generate`` returns after its first column, ``pad_token_id``
    after a row's eos), ``num_generated_tokens`` (per row, eos included) and ``num_source_tokens``.

    In the graph: the in-graph tokenizer (``tokenizer``, by default the checkpoint's: T5's
    SentencePiece with its ``</s>``), right padding of the source to a power-of-two bucket (as
    ``generate()`` pads it), then the seq2seq loop ``generate()`` compiles for that bucket: the
    encoder once, the decoder with a static cache. Greedy and sampling (a fresh seed per call) run
    the whole batch as one program; beam search (``num_beams > 1``, one sequence per source) runs
    that program once per source (its beams need a static batch), with the same tokens as a batched
    ``generate()``. Settings come from the checkpoint's generation_config, overridden by
    ``generate_kwargs`` (``max_new_tokens`` (default: the config's, else 20), ``num_beams``,
    ``length_penalty``, ``no_repeat_ngram_size``, ``do_sample``, ...). Sources may have up to
    ``max_source_length`` tokens (default 512, or the model's ``max_position_embeddings`` when
    smaller); a longer one fails the call with an error naming the limit, or with
    ``source_truncation="right"`` is cut to that many tokens keeping its ``</s>`` (the tokenizer's
    ``truncation=True``). Loading the export needs TensorFlow and tensorflow-text, not kerasformers.

    Example:
        >>> model = TFAutoModelForSeq2SeqLM.from_pretrained("path/to/t5")
        >>> path = export_text2text_generation(model, "serving/t5", max_new_tokens=32)
        >>> serve = tf.saved_model.load(str(path)).signatures["serving_default"]
        >>> serve(text=tf.constant(["translate English to German: How old are you?"]))["generated_text"]
    """
    from kerasformers.generation import DecodeSettings, GenerationMixin
    from kerasformers.generation.configuration_utils import generation_settings
    from kerasformers.generation.seq2seq import build_seq2seq_loop, decoder_start_token_id

    if not isinstance(model, GenerationMixin) or not getattr(model.config, "is_encoder_decoder", False):
        raise ExportError(
            f"text2text-generation needs an encoder-decoder model with generate() "
            f"(TFAutoModelForSeq2SeqLM: T5, BART, Marian), got {type(model).__name__}."
        )
    unknown = sorted(set(generate_kwargs) - set(generation_settings()))
    if unknown:
        raise InvalidInputTypeError(f"Unknown generation options {unknown}; known: {', '.join(generation_settings())}.")
    if source_truncation not in SOURCE_TRUNCATION:
        raise ExportError(f"source_truncation must be one of {SOURCE_TRUNCATION}, got {source_truncation!r}.")
    check_export_target(export_dir, version, overwrite)
    config = model.generation_config.update(**generate_kwargs)
    config.validate()
    if config.num_return_sequences > 1:
        raise NotSupportedError(
            "Exported text2text generation returns one sequence per source: pass num_return_sequences=1."
        )
    max_new = int(config.max_new_tokens or DEFAULT_MAX_NEW_TOKENS)
    config = config.update(
        max_new_tokens=max_new, return_dict_in_generate=False, output_scores=False, output_logits=False
    )
    limit = _source_limit(model)
    max_source_length = int(limit if max_source_length is None else max_source_length)
    if max_new < 1 or max_source_length < 1:
        raise ExportError(f"max_new_tokens ({max_new}) and max_source_length ({max_source_length}) must be >= 1.")
    positions = int(getattr(model.config, "max_position_embeddings", 0) or 0)
    if positions and max_source_length > positions:
        raise ExportError(
            f"max_source_length ({max_source_length}) exceeds the model's max_position_embeddings "
            f"({positions}); lower it."
        )
    tokenizer = detokenizing_tokenizer(model, tokenizer, "text2text-generation", _in_graph_tokenizer)
    if not model.built:
        model.build_with_dummy_inputs()

    # generate()'s settings for a one-token decoder prompt (the decoder start token)
    start = decoder_start_token_id(model, config)
    settings = DecodeSettings.resolve(config, 1, bucket=1)
    eos = settings.eos_token_ids
    pad = settings.pad_token_id if settings.pad_token_id is not None else 0
    beam = settings.strategy == "beam"
    buckets = _source_buckets(max_source_length)
    # beam search reshapes rows into (batch, beams): its loop needs a static batch, so one source at a time
    loops = [build_seq2seq_loop(model, settings, 1 if beam else None, bucket) for bucket in buckets]
    too_long = (
        f"A source text has more than max_source_length={max_source_length} tokens, the most this export "
        "takes: shorten it, or export again with a larger max_source_length or source_truncation='right'."
    )

    def generate_text(text):
        options = {"padding": "do_not_pad"}
        if source_truncation == "right":
            options.update(truncation="longest_first", max_length=max_source_length)
        else:
            options.update(truncation=False)
        ids = tokenizer(text, **options)["input_ids"]
        ids = tf.cast(ids if isinstance(ids, tf.RaggedTensor) else tf.RaggedTensor.from_tensor(ids), tf.int32)
        lengths = tf.cast(ids.row_lengths(), tf.int32)
        with tf.control_dependencies([tf.debugging.assert_less_equal(lengths, max_source_length, message=too_long)]):
            longest = tf.reduce_max(tf.concat([lengths, [1]], axis=0))
        if config.do_sample:
            seed = tf.random.uniform([2], maxval=2**31 - 1, dtype=tf.int32)
        else:
            seed = tf.zeros([2], tf.int32)
        rows = tf.shape(lengths)[0]
        branch = tf.reduce_sum(tf.cast(tf.constant(buckets) < longest, tf.int32))

        def run(bucket, loop):
            # right padding up to the bucket, masked, as generate() pads the source
            source = ids.to_tensor(default_value=pad, shape=[None, bucket])
            mask = tf.ones_like(ids).to_tensor(default_value=0, shape=[None, bucket])
            if not beam:
                prompt = tf.fill([rows * settings.rows, 1], start)
                sequences, steps = loop(source, mask, prompt, tf.ones_like(prompt), seed)
                return sequences[:, 1:], steps

            def one(row):
                prompt = tf.fill([settings.rows, 1], start)
                sequences, steps = loop(row[0][None], row[1][None], prompt, tf.ones_like(prompt), seed)
                return sequences[0, 1:], steps

            sequences, steps = tf.map_fn(
                one,
                (source, mask),
                fn_output_signature=(tf.TensorSpec([max_new], tf.int32), tf.TensorSpec([], tf.int32)),
            )
            return sequences, tf.reduce_max(tf.concat([steps, [0]], axis=0))

        new, steps = tf.switch_case(branch, [lambda b=b, f=f: run(b, f) for b, f in zip(buckets, loops)])
        new, count, text_out = generated_text(new, steps, eos, tokenizer)
        return {
            "generated_text": text_out,
            "generated_ids": new,
            "num_generated_tokens": count,
            "num_source_tokens": lengths,
        }

    signature = tf.function(generate_text, input_signature=[tf.TensorSpec([None], tf.string, name="text")])
    signatures = {"serving_default": signature.get_concrete_function()}
    module = exportable_module(model, tokenizer)
    export = {
        "max_new_tokens": max_new,
        "max_source_length": max_source_length,
        "source_truncation": source_truncation,
        "source_buckets": buckets,
        "decoder_start_token_id": start,
        "num_beams": settings.num_beams if beam else 1,
    }
    extra = {
        "config.json": model.config.to_json_string(),
        "task.txt": "text2text-generation",
        "generation_config.json": json.dumps(config.to_diff_dict(), indent=2, sort_keys=True, default=str),
        "export.json": json.dumps(export, indent=2),
    }
    return write_saved_model(module, signatures, export_dir, version, extra, overwrite=overwrite)
