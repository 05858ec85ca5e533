"""image-to-text export (VisionEncoderDecoder captioners): encoded JPEG/PNG bytes in, generated text out.

:func:`export_image_to_text` (``kerasformers export CHECKPOINT DIR --task image-to-text --with-processor``).

In the graph: the image processor in TF ops
(:class:`~kerasformers.image_processing.TFImageProcessorLayer`: decode, resize, crop, rescale,
normalize), the image encoder once, its states right-padded to the bucket ``generate()`` pads them
to, the compiled decode loop of :func:`~kerasformers.generation.seq2seq.build_seq2seq_loop` over the
decoder with its static cache, and the in-graph tokenizer's ``detokenize`` (GPT-2's byte-level BPE).
Serving it needs TensorFlow and tensorflow-text only.

Example:
    >>> path = export_image_to_text("path/to/vit-gpt2-captioner", "serving/cap", max_new_tokens=16)
    >>> serve = tf.saved_model.load(str(path)).signatures["serving_default"]
    >>> serve(images=tf.constant([open("cat.jpg", "rb").read()]))["generated_text"]
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from kerasformers.errors import ExportError, InvalidInputTypeError, NotSupportedError
from kerasformers.serving._tensorflow import tf
from kerasformers.serving.saved_model import check_export_target, exportable_module, write_saved_model
from kerasformers.serving.signatures import load_tokenizer_layer
from kerasformers.serving.text_generation import detokenizing_tokenizer, generated_text

__all__ = ["export_image_to_text"]


def export_image_to_text(
    checkpoint_or_model,
    export_dir: str | os.PathLike,
    *,
    image_processor=None,
    tokenizer=None,
    version: int | str | None = None,
    overwrite: bool = False,
    **generate_kwargs,
) -> Path:
    """Export image processor + captioner + generate loop + detokenizer as one SavedModel.

    ``serving_default`` takes ``images`` (``tf.string`` ``[batch]``: encoded JPEG, PNG, BMP, GIF's
    first frame; any size) and returns ``generated_text`` (``[batch]``, special tokens skipped, as
    the image-to-text pipeline's ``generated_text``), ``generated_ids`` (int32 ``[batch, steps]``:
    the tokens after the decoder start token, what ``model.generate`` returns after its first
    column, ``pad_token_id`` after a row's eos) and ``num_generated_tokens`` (per row, eos
    included; the text is decoded from these).

    ``checkpoint_or_model``: a VisionEncoderDecoder checkpoint (loaded with
    ``TFAutoModelForVision2Seq``) or such a model. ``image_processor`` (a Python image processor
    or a ``TFImageProcessorLayer``) and ``tokenizer`` (an in-graph tokenizer layer with
    ``detokenize``) default to the checkpoint's. Generation settings are the checkpoint's
    generation_config overridden by ``generate_kwargs`` (``max_new_tokens``, ``num_beams``,
    ``do_sample``, ``no_repeat_ngram_size``, ...), with ``generate()``'s defaults (without
    ``max_new_tokens``: ``max_length - 1``, 19 tokens). Greedy and sampling (a fresh seed per call)
    run the batch as one program; beam search runs it once per image (its beams need a static
    batch) with the tokens of a batched ``generate()``. The text equals the pipeline's wherever the
    in-graph resize gives PIL's pixels (always for images already at the processor's size).

    Example:
        >>> path = export_image_to_text("path/to/captioner", "serving/cap", version=1, max_new_tokens=20)
        >>> tf.saved_model.load(str(path)).signatures["serving_default"](images=tf.constant([jpeg]))
    """
    from kerasformers.generation import DecodeSettings, GenerationMixin
    from kerasformers.generation.configuration_utils import generation_settings
    from kerasformers.generation.decoding import prompt_bucket
    from kerasformers.generation.seq2seq import build_seq2seq_loop, decoder_start_token_id
    from kerasformers.image_processing import AutoImageProcessor, TFImageProcessorLayer
    from kerasformers.models.auto import TFAutoModelForVision2Seq

    unknown = sorted(set(generate_kwargs) - set(generation_settings()))
    if unknown:
        raise InvalidInputTypeError(f"Unknown generation options {unknown}; known: {', '.join(generation_settings())}.")
    check_export_target(export_dir, version, overwrite)  # before the (slow) load and trace
    if isinstance(checkpoint_or_model, (str, os.PathLike)):
        model = TFAutoModelForVision2Seq.from_pretrained(checkpoint_or_model)
        source = checkpoint_or_model
    else:
        model = checkpoint_or_model
        source = getattr(model, "name_or_path", None)
    if not (
        isinstance(model, GenerationMixin)
        and getattr(model, "main_input_name", None) == "pixel_values"
        and hasattr(model, "get_encoder")
        and hasattr(model, "init_cache")
    ):
        raise ExportError(
            f"An image-to-text export needs an image captioner with generate() (TFVisionEncoderDecoderModel, "
            f"TFAutoModelForVision2Seq), got {type(model).__name__}."
        )
    if (image_processor is None or tokenizer is None) and not source:
        raise ExportError(
            "Pass image_processor= and tokenizer= (an in-graph tokenizer layer): the model does not say which "
            "checkpoint it came from."
        )
    if image_processor is None:
        image_processor = AutoImageProcessor.from_pretrained(source)
    processor_layer = (
        image_processor
        if isinstance(image_processor, TFImageProcessorLayer)
        else TFImageProcessorLayer.from_processor(image_processor)
    )
    tokenizer = detokenizing_tokenizer(model, tokenizer, "image-to-text", lambda _: load_tokenizer_layer(source))

    config = model.generation_config.update(**generate_kwargs)
    config.validate()
    if config.num_return_sequences > 1:
        raise NotSupportedError("An image-to-text export returns one caption per image: pass num_return_sequences=1.")
    config = config.update(return_dict_in_generate=False, output_scores=False, output_logits=False)
    start = decoder_start_token_id(model, config)
    settings = DecodeSettings.resolve(config, 1, bucket=1)  # as generate(): the decoder prompt is the start token
    max_new = settings.max_new_tokens
    positions = int(getattr(model.config.decoder, "max_position_embeddings", 0) or 0)
    if positions and max_new + 1 > positions:
        raise ExportError(
            f"max_new_tokens ({max_new}) plus the decoder start token exceeds the decoder's "
            f"max_position_embeddings ({positions}); lower max_new_tokens."
        )
    if not model.built:
        model.build_with_dummy_inputs()

    # the encoder's states for one image of the processor's size: their length is the loop's source length
    height, width = processor_layer.crop or processor_layer.size
    probe = tf.zeros([1, 3, height, width], tf.float32)
    source_length = int(model.get_encoder()(probe, training=False)["last_hidden_state"].shape[1])
    bucket = prompt_bucket(source_length)  # generate() pads the states to this bucket, masked
    eos = settings.eos_token_ids
    beam = settings.strategy == "beam"
    loop = build_seq2seq_loop(model, settings, 1 if beam else None, bucket, from_encoder_states=True)

    def caption(images):
        pixel_values = processor_layer(images)
        states = tf.cast(model.get_encoder()(pixel_values, training=False)["last_hidden_state"], tf.float32)
        rows = tf.shape(states)[0]
        states = tf.pad(states, [[0, 0], [0, bucket - source_length], [0, 0]])
        mask = tf.concat(
            [tf.ones([rows, source_length], tf.int32), tf.zeros([rows, bucket - source_length], tf.int32)], axis=1
        )
        if config.do_sample:
            seed = tf.random.uniform([2], maxval=2**31 - 1, dtype=tf.int32)
        else:
            seed = tf.zeros([2], tf.int32)
        if not beam:
            prompt = tf.fill([rows * settings.rows, 1], start)
            sequences, steps = loop(states, mask, prompt, tf.ones_like(prompt), seed)
            new = sequences[:, 1:]
        else:

            def one(row):
                prompt = tf.fill([settings.rows, 1], start)
                sequences, steps = loop(row[0][None], row[1][None], prompt, tf.ones_like(prompt), seed)
                return sequences[0, 1:], steps

            new, steps = tf.map_fn(
                one,
                (states, mask),
                fn_output_signature=(tf.TensorSpec([max_new], tf.int32), tf.TensorSpec([], tf.int32)),
            )
            steps = tf.reduce_max(tf.concat([steps, [0]], axis=0))
        new, count, text = generated_text(new, steps, eos, tokenizer)
        return {"generated_text": text, "generated_ids": new, "num_generated_tokens": count}

    signature = tf.function(caption, input_signature=[tf.TensorSpec([None], tf.string, name="images")])
    module = exportable_module(model, tokenizer)
    module.image_processor = processor_layer
    export = {
        "max_new_tokens": max_new,
        "decoder_start_token_id": start,
        "num_beams": settings.num_beams if beam else 1,
        "do_sample": bool(config.do_sample),
        "image_size": [height, width],
    }
    extra = {
        "config.json": model.config.to_json_string(),
        "task.txt": "image-to-text",
        "generation_config.json": json.dumps(config.to_diff_dict(), indent=2, sort_keys=True, default=str),
        "export.json": json.dumps(export, indent=2),
    }
    return write_saved_model(
        module, {"serving_default": signature.get_concrete_function()}, export_dir, version, extra, overwrite=overwrite
    )
