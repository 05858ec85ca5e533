"""VisionEncoderDecoder: an image encoder (ViT) feeding a text decoder with cross-attention (GPT-2).

The model holds the two models whole (``encoder``, ``decoder``) plus ``enc_to_dec_proj`` when
their hidden sizes differ, so checkpoint names are PyTorch's (``encoder.encoder.layer.0...``,
``decoder.transformer.h.0.crossattention...``). ``generate()`` runs the encoder once on
``pixel_values`` and the decoder in the encoder-decoder loop of
:mod:`kerasformers.generation.seq2seq` (greedy, sampling and beam search as for T5).
"""

from __future__ import annotations

import os
from typing import Any

import keras
import numpy as np
from keras import ops

from kerasformers import losses
from kerasformers.errors import InvalidInputError
from kerasformers.generation import GenerationMixin
from kerasformers.generation.seq2seq import seq2seq_generate
from kerasformers.modeling_utils import TFPreTrainedModel
from kerasformers.models.auto import TFAutoModel, TFAutoModelForCausalLM, registered_class
from kerasformers.models.vision_encoder_decoder.configuration_vision_encoder_decoder import VisionEncoderDecoderConfig
from kerasformers.outputs import TFBaseModelOutput, TFSeq2SeqLMOutput
from kerasformers.weights import named_variables

__all__ = ["TFVisionEncoderDecoderModel"]


def _shift_right(labels, pad_token_id, decoder_start_token_id):
    """Decoder inputs from labels: the start token first, -100 replaced by pad (transformers' shift_tokens_right)."""
    labels = ops.cast(labels, "int32")
    start = ops.full((ops.shape(labels)[0], 1), decoder_start_token_id, "int32")
    shifted = ops.concatenate([start, labels[:, :-1]], axis=1)
    return ops.where(shifted == -100, pad_token_id, shifted)


class TFVisionEncoderDecoderModel(GenerationMixin, TFPreTrainedModel):
    """An image encoder and a causal text decoder with cross-attention, loaded and saved as one checkpoint.

    ``pixel_values`` is channels-first (batch, channels, height, width) as in transformers (the
    ViT encoder also accepts channels-last Keras batches). ``labels`` give the captioning loss;
    decoder inputs are then the labels shifted right after ``config.decoder_start_token_id``.

    Example:
        >>> model = TFVisionEncoderDecoderModel.from_encoder_decoder_pretrained("path/to/vit", "path/to/gpt2")
        >>> model.config.decoder_start_token_id = model.config.pad_token_id = tokenizer.bos_token_id
        >>> ids = model.generate(processor(images, return_tensors="np").pixel_values, max_new_tokens=20)
        >>> model.save_pretrained("captioner")  # one checkpoint; from_pretrained("captioner") reads it back
    """

    config_class = VisionEncoderDecoderConfig
    base_model_prefix = "vision_encoder_decoder"
    main_input_name = "pixel_values"
    main_input_rank = 4
    # the tied LM head is the decoder's token embeddings; causal-mask buffers of old GPT-2 checkpoints
    keys_to_ignore_on_load_unexpected = (r"^decoder\.lm_head\.weight$", r"\.attn\.bias$", r"\.attn\.masked_bias$")

    def __init__(self, config, encoder=None, decoder=None, **kwargs):
        super().__init__(config, **kwargs)
        if not getattr(config.decoder, "add_cross_attention", False):
            config.decoder.add_cross_attention = True
            config.decoder.is_decoder = True
        self.encoder = (
            encoder
            if encoder is not None
            else registered_class("base", config.encoder.model_type)(config.encoder, name="encoder")
        )
        self.decoder = (
            decoder
            if decoder is not None
            else registered_class("causal_lm", config.decoder.model_type)(config.decoder, name="decoder")
        )
        self.enc_to_dec_proj = None
        if (
            config.encoder.hidden_size != config.decoder.hidden_size
            and getattr(config.decoder, "cross_attention_hidden_size", None) is None
        ):
            self.enc_to_dec_proj = keras.layers.Dense(config.decoder.hidden_size, name="enc_to_dec_proj")

    # ---------------------------------------------------------------- building blocks
    @property
    def dummy_inputs(self):
        return {
            "pixel_values": self.encoder.dummy_inputs["pixel_values"],
            "decoder_input_ids": np.array([[1, 2, 3]] * len(self.encoder.dummy_inputs["pixel_values"]), np.int32),
        }

    def input_id_limits(self):
        return {"decoder_input_ids": (self.config.decoder.vocab_size, "decoder.vocab_size")}

    def validate_inputs(self, inputs, caller=None):
        if inputs.get("pixel_values") is not None and hasattr(self.encoder, "validate_inputs"):
            self.encoder.validate_inputs({"pixel_values": inputs["pixel_values"]}, caller)

    @property
    def max_input_length(self):
        return None

    def get_encoder(self):
        return self.encoder

    def get_decoder(self):
        return self.decoder

    def get_input_embeddings(self):
        return self.decoder.get_input_embeddings()

    def get_output_embeddings(self):
        return self.decoder.get_output_embeddings()

    def _project(self, states):
        return self.enc_to_dec_proj(states) if self.enc_to_dec_proj is not None else states

    def init_cache(self, batch_size: int, max_length: int, encoder_hidden_states, dtype=None):
        """Per decoder layer (self_key, self_value, cross_key, cross_value): the seq2seq generate protocol.

        Example:
            >>> cache = model.init_cache(1, 32, model.encoder(pixel_values).last_hidden_state)
        """
        states = self._project(ops.convert_to_tensor(encoder_hidden_states, self.compute_dtype))
        self_cache = self.decoder.init_cache(batch_size, max_length, dtype=dtype)
        blocks = self.decoder.transformer.h
        return tuple((*pair, *block.crossattention.key_value(states)) for pair, block in zip(self_cache, blocks))

    # ---------------------------------------------------------------- forward
    def call(
        self,
        pixel_values=None,
        decoder_input_ids=None,
        decoder_attention_mask=None,
        encoder_outputs=None,
        attention_mask=None,
        past_key_values=None,
        cache_position=None,
        decoder_inputs_embeds=None,
        labels=None,
        logits_to_keep=0,
        output_attentions=None,
        output_hidden_states=None,
        training=False,
    ):
        if encoder_outputs is None:
            if pixel_values is None:
                raise InvalidInputError("TFVisionEncoderDecoderModel needs pixel_values (or encoder_outputs).")
            encoder_outputs = self.encoder(
                pixel_values,
                output_attentions=output_attentions,
                output_hidden_states=output_hidden_states,
                training=training,
            )
        elif isinstance(encoder_outputs, (tuple, list)):
            encoder_outputs = TFBaseModelOutput(*encoder_outputs)
        if labels is not None and decoder_input_ids is None and decoder_inputs_embeds is None:
            start = self.config.decoder_start_token_id
            pad = self.config.pad_token_id
            if start is None or pad is None:
                raise InvalidInputError(
                    "Training with labels needs config.decoder_start_token_id and config.pad_token_id "
                    "(e.g. the tokenizer's bos and pad ids) to shift the labels into decoder inputs."
                )
            decoder_input_ids = _shift_right(labels, pad, start)
        states = None
        if past_key_values is None:  # with a cache, the cross keys/values already hold the encoder states
            states = self._project(encoder_outputs["last_hidden_state"])
        decoder_out = self.decoder(
            decoder_input_ids,
            attention_mask=decoder_attention_mask,
            past_key_values=past_key_values,
            cache_position=cache_position,
            inputs_embeds=decoder_inputs_embeds,
            encoder_hidden_states=states,
            encoder_attention_mask=attention_mask,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
            logits_to_keep=logits_to_keep,
            training=training,
        )
        loss = None
        if labels is not None:
            loss = losses.masked_sparse_categorical_crossentropy(labels, decoder_out.logits)
        return TFSeq2SeqLMOutput(
            loss=loss,
            logits=decoder_out.logits,
            past_key_values=decoder_out.past_key_values,
            decoder_hidden_states=decoder_out.hidden_states,
            decoder_attentions=decoder_out.attentions,
            cross_attentions=decoder_out.cross_attentions,
            encoder_last_hidden_state=encoder_outputs["last_hidden_state"],
            encoder_hidden_states=encoder_outputs.get("hidden_states"),
            encoder_attentions=encoder_outputs.get("attentions"),
        )

    def generate(self, pixel_values=None, generation_config=None, seed=None, jit_compile: bool = True, **kwargs):
        """Token ids for each image, starting with ``decoder_start_token_id`` (transformers' layout).

        The encoder runs once; the decoder runs in one compiled loop (greedy, beam search,
        sampling: the keywords of :meth:`GenerationMixin.generate`).

        Example:
            >>> ids = model.generate(pixel_values, max_new_tokens=20)
            >>> tokenizer.batch_decode(ids, skip_special_tokens=True)
        """
        encoder_outputs = kwargs.pop("encoder_outputs", None)
        if encoder_outputs is None:
            if pixel_values is None:
                raise InvalidInputError("generate() needs pixel_values (from the image processor).")
            if not self.built:
                self.build_with_dummy_inputs()
            encoder_outputs = self.encoder(pixel_values, training=False)
        states = encoder_outputs["last_hidden_state"] if isinstance(encoder_outputs, dict) else encoder_outputs[0]
        return seq2seq_generate(
            self,
            encoder_outputs=(states,),
            generation_config=generation_config,
            seed=seed,
            jit_compile=jit_compile,
            compiled_loops=self._compiled_generate_functions(),
            **kwargs,
        )

    # ---------------------------------------------------------------- composing
    @classmethod
    def from_encoder_decoder_pretrained(
        cls,
        encoder_pretrained_model_name_or_path: str | os.PathLike | None = None,
        decoder_pretrained_model_name_or_path: str | os.PathLike | None = None,
        *model_args: Any,
        **kwargs: Any,
    ) -> TFVisionEncoderDecoderModel:
        """An image encoder checkpoint and a decoder checkpoint composed into one model.

        The decoder gets cross-attention layers (``add_cross_attention=True``), newly initialised as
        in transformers. Keywords prefixed ``encoder_`` / ``decoder_`` go to that part's
        ``from_pretrained`` (e.g. ``decoder_pad_token_id``); the rest set the combined config.

        Example:
            >>> model = TFVisionEncoderDecoderModel.from_encoder_decoder_pretrained("path/to/vit", "path/to/gpt2")
        """
        if model_args:
            raise InvalidInputError("from_encoder_decoder_pretrained takes two checkpoints; give the rest by keyword.")
        encoder_kwargs = {k[len("encoder_") :]: kwargs.pop(k) for k in list(kwargs) if k.startswith("encoder_")}
        decoder_kwargs = {k[len("decoder_") :]: kwargs.pop(k) for k in list(kwargs) if k.startswith("decoder_")}
        if encoder_pretrained_model_name_or_path is None or decoder_pretrained_model_name_or_path is None:
            raise InvalidInputError("from_encoder_decoder_pretrained needs an encoder and a decoder checkpoint.")
        encoder = encoder_kwargs.pop("model", None) or TFAutoModel.from_pretrained(
            encoder_pretrained_model_name_or_path, **encoder_kwargs
        )
        decoder = decoder_kwargs.pop("model", None) or TFAutoModelForCausalLM.from_pretrained(
            decoder_pretrained_model_name_or_path, is_decoder=True, add_cross_attention=True, **decoder_kwargs
        )
        config = VisionEncoderDecoderConfig.from_encoder_decoder_configs(encoder.config, decoder.config, **kwargs)
        # rebuilt under the names "encoder" / "decoder", the loaded weights copied by checkpoint name
        model = cls(config)
        model.build_with_dummy_inputs()
        for loaded, part in ((encoder, model.encoder), (decoder, model.decoder)):
            targets = named_variables(part)
            for name, source in named_variables(loaded).items():
                targets[name].variable.assign(source.variable)
        return model
