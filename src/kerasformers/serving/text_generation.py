"""End-to-end text generation export: prompt strings in, generated strings out, with generate()'s
XLA-compiled loop inside the SavedModel graph."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

from kerasformers.errors import ExportError, InvalidInputTypeError, NotSupportedError
from kerasformers.serving._tensorflow import tf
from kerasformers.serving.saved_model import check_export_target, exportable_module, write_saved_model
from kerasformers.serving.signatures import load_tokenizer_layer

__all__ = ["export_text_generation", "DEFAULT_MAX_NEW_TOKENS", "DEFAULT_MAX_PROMPT_LENGTH", "PROMPT_TRUNCATION"]

DEFAULT_MAX_NEW_TOKENS = 20  # transformers' default max_length, when the checkpoint sets no max_new_tokens
DEFAULT_MAX_PROMPT_LENGTH = 512
PROMPT_TRUNCATION = ("error", "left")


def detokenizing_tokenizer(model, tokenizer, task: str, load):
    """The in-graph tokenizer a generation export uses: ``tokenizer``, else ``load(checkpoint)`` of the
    model's checkpoint; it must have ``detokenize(ids)`` to turn generated tokens back into text.

    Example:
        >>> layer = detokenizing_tokenizer(model, None, "text-generation", load_tokenizer_layer)
    """
    if tokenizer is None:
        source = getattr(model, "name_or_path", None)
        if not source:
            raise ExportError(
                "Pass tokenizer=... (an in-graph tokenizer layer): the model does not "
                "say which checkpoint it came from."
            )
        tokenizer = load(source)
    if not hasattr(tokenizer, "detokenize"):
        raise ExportError(
            f"The tokenizer layer {type(tokenizer).__name__} has no detokenize(ids), which "
            f"{task} needs to turn the generated tokens back into text."
        )
    return tokenizer


def generated_lengths(new_tokens, steps, eos_token_ids):
    """Per row, how many of ``new_tokens`` (batch, steps) are kept: up to and including its first eos.

    Shared by every export with a generate loop inside (text, text2text, captions, speech).

    Example:
        >>> generated_lengths(tf.constant([[5, 2, 0], [6, 7, 8]]), 3, [2]).numpy()
        array([2, 3], dtype=int32)
    """
    count = tf.fill(tf.shape(new_tokens)[:1], steps)
    if not eos_token_ids:
        return count
    hit = tf.reduce_any(new_tokens[:, :, None] == tf.constant(list(eos_token_ids), tf.int32), axis=-1)
    first = tf.argmax(tf.cast(hit, tf.int32), axis=1, output_type=tf.int32) + 1
    return tf.where(tf.reduce_any(hit, axis=1), first, count)


def generated_text(new_tokens, steps, eos_token_ids, tokenizer):
    """(new tokens cut to ``steps``, each row's kept length, their text) from a generate loop's output.

    Example:
        >>> new, count, text = generated_text(new_tokens, steps, [2], tokenizer_layer)
    """
    new = new_tokens[:, :steps]
    count = generated_lengths(new, steps, eos_token_ids)
    return new, count, tokenizer.detokenize(tf.RaggedTensor.from_tensor(new, lengths=count))


def _prompt_buckets(max_prompt_length: int) -> list[int]:
    """The padded prompt lengths compiled for: powers of two from 16, the last one capped at the limit.

    These are generate()'s buckets (``prompt_bucket(n, max_prompt_length)``), so an exported
    model runs the programs ``model.generate`` runs on the same batch (up to the last bucket,
    which generate() would not cap).
    """
    from kerasformers.generation.utils import MIN_BUCKET

    buckets, bucket = [], MIN_BUCKET
    while bucket < max_prompt_length:
        buckets.append(bucket)
        bucket *= 2
    return buckets + [max_prompt_length]


def _left_pad(ids, lengths, longest, width: int, generation_pad: int, tokenizer_pad: int):
    """Ragged prompts -> (ids, mask) of shape (batch, width), right-aligned.

    As generate() sees a left-padded batch: the tokenizer's pad id up to the longest prompt,
    the generation pad id in the bucket padding before it.
    """
    rows = tf.shape(lengths)[0]
    columns = tf.range(width)[None, :]
    fill = tf.where(columns < width - longest, generation_pad, tokenizer_pad)
    base = tf.broadcast_to(fill, [rows, width])
    starts = width - lengths
    targets = tf.ragged.range(lengths) + tf.cast(starts, tf.int32)[:, None]
    indices = tf.stack([tf.cast(targets.value_rowids(), tf.int32), targets.flat_values], axis=1)
    padded = tf.tensor_scatter_nd_update(base, indices, ids.flat_values)
    mask = tf.tensor_scatter_nd_update(tf.zeros([rows, width], tf.int32), indices, tf.ones_like(ids.flat_values))
    return padded, mask


def export_text_generation(
    model,
    export_dir: str | os.PathLike,
    *,
    tokenizer=None,
    version: int | None = None,
    max_prompt_length: int | None = None,
    prompt_truncation: str = "error",
    overwrite: bool = False,
    **generate_kwargs,
) -> Path:
    """Export prompt strings in, generated strings out: tokenizer + compiled generate loop + detokenizer.

    ``serving_default`` takes ``text`` (a batch of prompts, any batch size) and returns
    ``generated_text`` (the continuation only, special tokens skipped: transformers' pipeline
    with ``return_full_text=False``), ``generated_ids`` (int32, (batch, steps): the new tokens,
    ``pad_token_id`` after a row's eos, exactly what ``model.generate`` appends),
    ``num_generated_tokens`` (per row, eos included) and ``num_prompt_tokens`` (after truncation).

    ``tokenizer`` is an in-graph tokenizer layer, by default the one of the model's checkpoint.
    In the graph: the tokenizer (BOS as its template adds it), left padding of the
    ragged ids, then generate()'s XLA-compiled loop (greedy, or sampling with a fresh seed per
    call) for the prompt bucket that fits the longest prompt; each row stops at eos. Settings
    come from the checkpoint's generation_config, overridden by ``generate_kwargs``
    (``max_new_tokens`` (default: the config's, else 20), ``do_sample``, ``temperature``,
    ``top_k``, ``top_p``, ``min_p``, ``repetition_penalty``, ``eos_token_id``, ...); beam search
    is not exported. Prompts may have up to ``max_prompt_length`` tokens (default
    ``min(512, max_position_embeddings - max_new_tokens)``); a longer one fails the call with an
    error naming the limit, or with ``prompt_truncation="left"`` keeps its last
    ``max_prompt_length`` tokens. XLA compiles one program per (batch size, prompt bucket) on
    first use, in the serving process. An existing ``version`` is replaced only with ``overwrite=True``.

    Example:
        >>> model = TFAutoModelForCausalLM.from_pretrained("path/to/smollm2")
        >>> path = export_text_generation(model, "serving/smollm2", max_new_tokens=32)
        >>> serve = tf.saved_model.load(str(path)).signatures["serving_default"]
        >>> serve(text=tf.constant(["The capital of France is"]))["generated_text"]
    """
    from kerasformers.generation import DecodeSettings, GenerationMixin, build_decode_loop
    from kerasformers.generation.configuration_utils import generation_settings

    if not isinstance(model, GenerationMixin):
        raise ExportError(
            f"text-generation needs a decoder-only language model with generate() "
            f"(TFAutoModelForCausalLM), got {type(model).__name__}."
        )
    unknown = sorted(set(generate_kwargs) - set(generation_settings()))
    if unknown:
        raise InvalidInputTypeError(f"Unknown generation options {unknown}; known: {', '.join(generation_settings())}.")
    if prompt_truncation not in PROMPT_TRUNCATION:
        raise ExportError(f"prompt_truncation must be one of {PROMPT_TRUNCATION}, got {prompt_truncation!r}.")
    check_export_target(export_dir, version, overwrite)
    config = model.generation_config.update(**generate_kwargs)
    config.validate()
    if config.num_beams > 1 or config.num_return_sequences > 1:
        raise NotSupportedError(
            "Exported generation runs greedy decoding or sampling, one sequence per "
            "prompt: pass num_beams=1 and num_return_sequences=1."
        )
    max_new = int(config.max_new_tokens or DEFAULT_MAX_NEW_TOKENS)
    # the exported loop returns tokens only, whatever generation_config.json asks generate() for
    config = config.update(
        max_new_tokens=max_new, return_dict_in_generate=False, output_scores=False, output_logits=False
    )
    limit = int(getattr(model.config, "max_position_embeddings", 0) or 0) or None
    if max_prompt_length is None:
        max_prompt_length = min(DEFAULT_MAX_PROMPT_LENGTH, limit - max_new) if limit else DEFAULT_MAX_PROMPT_LENGTH
    max_prompt_length = int(max_prompt_length)
    if max_new < 1 or max_prompt_length < 1:
        raise ExportError(f"max_new_tokens ({max_new}) and max_prompt_length ({max_prompt_length}) must be >= 1.")
    if limit and max_prompt_length + max_new > limit:
        raise ExportError(
            f"max_prompt_length ({max_prompt_length}) + max_new_tokens ({max_new}) exceeds the "
            f"model's max_position_embeddings ({limit}); lower one of them."
        )
    tokenizer = detokenizing_tokenizer(model, tokenizer, "text-generation", load_tokenizer_layer)
    if not model.built:
        model.build_with_dummy_inputs()

    # generate()'s settings and loop builder; the loops differ only in their prompt bucket
    settings = DecodeSettings.resolve(config, prompt_length=max_prompt_length)
    eos, pad = settings.eos_token_ids, settings.pad_token_id
    buckets = _prompt_buckets(max_prompt_length)

    def loop_for(bucket):
        # batch size stays dynamic: XLA compiles per batch size when it runs
        decode = build_decode_loop(model, dataclasses.replace(settings, bucket=bucket))

        def loop(ids, mask, prompt_length, seed):
            sequences, steps = decode(ids, mask, prompt_length, seed)
            return sequences[:, bucket:], steps  # the new tokens only

        return loop

    loops = [loop_for(bucket) for bucket in buckets]
    too_long = (
        f"A prompt has more than max_prompt_length={max_prompt_length} tokens, the most this export "
        "takes: shorten it, or export again with a larger max_prompt_length or prompt_truncation='left'."
    )
    empty = (
        "A prompt has no tokens (an empty string, and this tokenizer adds no BOS token): give every prompt some text."
    )

    def generate_text(text):
        ids = tokenizer(text, padding="do_not_pad", truncation=False)["input_ids"]
        ids = tf.cast(ids if isinstance(ids, tf.RaggedTensor) else tf.RaggedTensor.from_tensor(ids), tf.int32)
        lengths = tf.cast(ids.row_lengths(), tf.int32)
        if prompt_truncation == "left":
            keep = tf.ragged.range(lengths) >= (lengths - max_prompt_length)[:, None]
            ids = tf.ragged.boolean_mask(ids, keep)
            lengths = tf.minimum(lengths, max_prompt_length)
        checks = [
            tf.debugging.assert_positive(lengths, message=empty),
            tf.debugging.assert_less_equal(lengths, max_prompt_length, message=too_long),
        ]
        with tf.control_dependencies(checks):
            longest = tf.reduce_max(tf.concat([lengths, [1]], axis=0))
        if config.do_sample:
            seed = tf.random.uniform([2], maxval=2**31 - 1, dtype=tf.int32)
        else:
            seed = tf.zeros([2], tf.int32)
        branch = tf.reduce_sum(tf.cast(tf.constant(buckets) < longest, tf.int32))

        def run(bucket, loop):
            padded, mask = _left_pad(ids, lengths, longest, bucket, pad if pad is not None else 0, tokenizer.pad_id)
            return loop(padded, mask, longest, seed)

        new, steps = tf.switch_case(branch, [lambda b=b, f=f: run(b, f) for b, f in zip(buckets, loops)])
        new, count, text_out = generated_text(new, steps, eos, tokenizer)
        return {
            "generated_text": text_out,
            "generated_ids": new,
            "num_generated_tokens": count,
            "num_prompt_tokens": lengths,
        }

    signature = tf.function(generate_text, input_signature=[tf.TensorSpec([None], tf.string, name="text")])
    signatures = {"serving_default": signature.get_concrete_function()}
    module = exportable_module(model, tokenizer)
    export = {
        "max_new_tokens": max_new,
        "max_prompt_length": max_prompt_length,
        "prompt_truncation": prompt_truncation,
        "prompt_buckets": buckets,
    }
    extra = {
        "config.json": model.config.to_json_string(),
        "task.txt": "text-generation",
        "generation_config.json": json.dumps(config.to_diff_dict(), indent=2, sort_keys=True, default=str),
        "export.json": json.dumps(export, indent=2),
    }
    return write_saved_model(module, signatures, export_dir, version, extra, overwrite=overwrite)
