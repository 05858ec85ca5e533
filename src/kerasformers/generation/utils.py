"""GenerationMixin: ``generate()`` for causal language models, XLA-compiled with a static KV cache.

How it runs:

1. The prompt batch (left-padded, as tokenizers pad for generation) is padded further on the
   left up to a *bucket* length: the next power of two, at least :data:`MIN_BUCKET`. Bucket
   padding is masked out and invisible to the logits processors, so results are those of the
   unpadded batch.
2. One ``tf.function(jit_compile=True)`` runs everything: the prefill over the prompt, then a
   ``tf.while_loop`` that picks a token, writes it, and runs the model on it, reading and writing
   a KV cache allocated once at ``bucket + max_new_tokens`` slots. The loop exits when every
   sequence has finished.
3. The loop comes from :func:`~kerasformers.generation.decoding.build_decode_loop`, built for a
   frozen :class:`~kerasformers.generation.decoding.DecodeSettings` resolved once per call (the
   text-generation export builds its loops the same way). Loops are cached per model under
   ``(settings, batch size)``; the settings hold the prompt bucket and a bucket of
   ``max_new_tokens`` (:func:`~kerasformers.generation.decoding.new_tokens_bucket`: powers of two
   from 16, then multiples of 512), and the call's own ``max_new_tokens`` is an input of the
   loop. So prompts of any length up to ``max_position_embeddings`` compile at most
   ``log2(max_position_embeddings / MIN_BUCKET) + 1`` programs for given settings, batch size and
   ``max_new_tokens`` bucket, and a second call in the same buckets (another prompt length,
   another ``max_new_tokens``) reuses the compiled program.

``jit_compile=False`` runs the same code eagerly (slow; for debugging). A ``streamer``, a Python
stopping criterion (one without ``stop_in_loop``, e.g. ``MaxTimeCriteria``) or a logits processor
with the PyTorch-side ``__call__(input_ids, scores)`` run the loop from Python, one compiled step
per token (the compiled loop's own token step), so the tokens are the same.

Inside the caller's ``tf.function`` (``xla_generate = tf.function(model.generate, jit_compile=True)``,
as transformers' TF XLA guide wrote it, or without ``jit_compile``) the same steps run as TF ops on
the static prompt length and call the same loop, so the tokens are those of an eager call; as TF
transformers did in graph mode, ``sequences`` then keep their full width, prompt + max_new_tokens,
``pad_token_id`` after the last generated column (and per-step ``scores`` / ``logits`` hold
``max_new_tokens`` entries, zeros after the last step). The prompt length must be static there
(pad with ``pad_to_multiple_of`` so that few lengths compile); streamers, Python stopping criteria
and ``(input_ids, scores)`` processors need an eager call.

Each compiled loop is built once per settings and traced once, so TensorFlow's "calls ... triggered
tf.function retracing" warning stays off them (:func:`~kerasformers.generation.decoding.compile_once`).

Return value: a ``tf.Tensor`` (int32), whatever the input type, as TF-side transformers returned
(call ``.numpy()`` for an array). With ``return_dict_in_generate=True``: a
``TFGreedySearchDecoderOnlyOutput`` / ``TFSampleDecoderOnlyOutput`` / ``TFBeamSearchDecoderOnlyOutput``
(also ``GenerateDecoderOnlyOutput`` / ``GenerateBeamDecoderOnlyOutput``, transformers 5's names)
with ``sequences``, ``scores`` (``output_scores``), ``logits`` (``output_logits``) and, for beam
search, ``sequences_scores`` and ``beam_indices``. Scores and logits are written per step inside
the compiled loop into a ``(max_new_tokens, rows, vocab)`` buffer that exists only when asked for.
``compute_transition_scores(sequences, scores, beam_indices, normalize_logits)`` picks each generated
token's score out of them, as transformers does.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from kerasformers.errors import InvalidInputError, NotSupportedError
from kerasformers.generation.configuration_utils import GENERATION_CONFIG_NAME, GenerationConfig, check_generate_kwargs
from kerasformers.generation.decoding import (  # noqa: F401  (MIN_BUCKET, prompt_bucket: public here too)
    MIN_BUCKET,
    DecodeSettings,
    build_decode_loop,
    build_stream_steps,
    new_tokens_bucket,
    prompt_bucket,
)
from kerasformers.generation.logits_process import processor_style
from kerasformers.generation.seq2seq import seq2seq_generate
from kerasformers.generation.stopping_criteria import MaxTimeCriteria, StoppingCriteriaList, StopStringCriteria
from kerasformers.input_checks import as_concrete_array
from kerasformers.outputs import ModelOutput

logger = logging.getLogger("kerasformers")

__all__ = [
    "GenerationMixin",
    "TFGenerationMixin",
    "GenerateDecoderOnlyOutput",
    "GenerateBeamDecoderOnlyOutput",
    "TFGreedySearchDecoderOnlyOutput",
    "TFSampleDecoderOnlyOutput",
    "TFBeamSearchDecoderOnlyOutput",
    "TFBeamSampleDecoderOnlyOutput",
]


class GenerateDecoderOnlyOutput(ModelOutput):
    """``generate(..., return_dict_in_generate=True)`` for greedy decoding and sampling.

    ``sequences`` (rows, length) int32; ``scores`` and ``logits``: tuples with one (rows, vocab)
    float32 tensor per generated token (processed and raw), when ``output_scores`` /
    ``output_logits`` ask for them. ``attentions``, ``hidden_states`` and ``past_key_values`` are
    never filled (see generate()).

    Example:
        >>> out = model.generate(ids, max_new_tokens=4, return_dict_in_generate=True, output_scores=True)
        >>> out.sequences.shape, len(out.scores)
    """

    fields = ("sequences", "scores", "logits", "attentions", "hidden_states", "past_key_values")


class GenerateBeamDecoderOnlyOutput(ModelOutput):
    """``generate(..., return_dict_in_generate=True)`` for beam search.

    Besides ``sequences``, ``scores`` (the processed log-probabilities of the running beams, one
    (batch * num_beams, vocab) tensor per step) and ``logits``: ``sequences_scores`` (the final
    length-penalised score of each returned sequence, with ``output_scores``) and ``beam_indices``
    (returned rows, generated length): the beam row (``batch_index * num_beams + beam``) each token
    came from, -1 past a sequence's end.

    Example:
        >>> out = model.generate(ids, num_beams=3, num_return_sequences=2, max_new_tokens=5,
        ...                      return_dict_in_generate=True, output_scores=True)
        >>> out.sequences_scores, out.beam_indices
    """

    fields = (
        "sequences",
        "sequences_scores",
        "scores",
        "logits",
        "beam_indices",
        "attentions",
        "hidden_states",
        "past_key_values",
    )


class TFGreedySearchDecoderOnlyOutput(GenerateDecoderOnlyOutput):
    """TF-side transformers' greedy output (a :class:`GenerateDecoderOnlyOutput`).

    Example:
        >>> isinstance(model.generate(ids, return_dict_in_generate=True), TFGreedySearchDecoderOnlyOutput)
        True
    """


class TFSampleDecoderOnlyOutput(GenerateDecoderOnlyOutput):
    """TF-side transformers' sampling output (a :class:`GenerateDecoderOnlyOutput`).

    Example:
        >>> out = model.generate(ids, do_sample=True, return_dict_in_generate=True)  # TFSampleDecoderOnlyOutput
    """


class TFBeamSearchDecoderOnlyOutput(GenerateBeamDecoderOnlyOutput):
    """TF-side transformers' beam search output (a :class:`GenerateBeamDecoderOnlyOutput`).

    Example:
        >>> out = model.generate(ids, num_beams=2, return_dict_in_generate=True)  # TFBeamSearchDecoderOnlyOutput
    """


class TFBeamSampleDecoderOnlyOutput(GenerateBeamDecoderOnlyOutput):
    """TF-side transformers' beam sampling output; the name exists for imports and isinstance checks
    (beam sampling itself raises NotSupportedError).

    Example:
        >>> from kerasformers import TFBeamSampleDecoderOnlyOutput
    """


class GenerationMixin:
    """Adds ``generate()`` to a causal language model (see the module docstring for the design).

    Example:
        >>> inputs = tokenizer(["TensorFlow is", "A longer prompt about Keras and"], return_tensors="np",
        ...                    padding=True)
        >>> out = model.generate(**inputs, max_new_tokens=64)
        >>> out = model.generate(**inputs, do_sample=True, seed=(42, 0), temperature=0.7, top_k=50, top_p=0.9)
        >>> out = model.generate(**inputs, num_beams=4, num_return_sequences=2, no_repeat_ngram_size=3)
        >>> tokenizer.batch_decode(out, skip_special_tokens=True)
    """

    # ------------------------------------------------------------------ configuration
    @property
    def generation_config(self) -> GenerationConfig:
        config = self.__dict__.get("_kf_generation_config")
        if config is None:
            folder = Path(str(getattr(self, "name_or_path", "") or ""))
            if folder.is_dir() and (folder / GENERATION_CONFIG_NAME).is_file():
                config = GenerationConfig.from_pretrained(folder)
            else:
                config = GenerationConfig.from_model_config(self.config)
            object.__setattr__(self, "_kf_generation_config", config)
        return config

    @generation_config.setter
    def generation_config(self, config: GenerationConfig) -> None:
        object.__setattr__(self, "_kf_generation_config", config)

    def write_pretrained_files(self, folder, **kwargs):
        """The model's files plus ``generation_config.json`` (as transformers saves), in one atomic save."""
        super().write_pretrained_files(folder, **kwargs)
        self.generation_config.save_pretrained(folder)

    def _compiled_generate_functions(self) -> dict:
        cache = self.__dict__.get("_kf_compiled")
        if cache is None:
            cache = {}
            object.__setattr__(self, "_kf_compiled", cache)
        return cache

    # ------------------------------------------------------------------ public API
    def _generate_on_jax(self, settings, input_ids, attention_mask, streamer, python_criteria, seed=None):
        """Greedy, sampling or beam search on the JAX backend (kerasformers.generation.jax_decoding);
        streamers and Python stopping criteria say they need TensorFlow."""
        from kerasformers.generation.jax_decoding import jax_decode

        if streamer is not None or python_criteria:
            raise NotSupportedError(
                "On Keras' JAX backend generate() runs as one compiled jax.lax.while_loop, so it cannot stream "
                "nor call Python stopping criteria (max_time, ...). Run this call with KERAS_BACKEND=tensorflow, "
                "or drop those settings."
            )
        sequences = jax_decode(self, settings, input_ids, attention_mask, seed=seed)
        return keras.ops.convert_to_tensor(sequences)

    # Plain Python even inside the caller's tf.function (no tensor-dependent Python control flow here):
    # autograph would only slow the trace and turn our errors into its StagingError.
    @tf.autograph.experimental.do_not_convert
    def generate(
        self,
        input_ids=None,
        attention_mask=None,
        generation_config: GenerationConfig | None = None,
        seed=None,
        streamer=None,
        jit_compile: bool = True,
        logits_processor=None,
        stopping_criteria=None,
        tokenizer=None,
        **kwargs,
    ):
        """Generate token ids after the prompts; returns a (batch * num_return_sequences, length) int32 tf.Tensor.

        Keyword arguments override ``generation_config`` (itself from generation_config.json):
        max_new_tokens / max_length, min_new_tokens / min_length, do_sample, temperature,
        top_k, top_p, min_p, num_beams, num_return_sequences, length_penalty, early_stopping,
        repetition_penalty, no_repeat_ngram_size, bad_words_ids, forced_bos_token_id,
        forced_eos_token_id, eos_token_id (an int or a list), pad_token_id, stop_strings (with
        ``tokenizer``), max_time, return_dict_in_generate, output_scores, output_logits.
        ``seed=(a, b)`` makes sampling repeatable. Rows come back with the prompt first, left padding
        kept, and ``pad_token_id`` after a sequence ends, as transformers returns them.

        ``logits_processor``: extra processors (e.g. a ``TFLogitsProcessorList``), run after the
        built-in ones and before the sampling warpers. ``stopping_criteria``: extra
        ``StoppingCriteria``; a row stops when any says so. See the module docstring for which
        of them run inside the compiled loop.

        Example:
            >>> ids = model.generate(**tokenizer(["Hello"], return_tensors="np"), max_new_tokens=16)
            >>> tokenizer.batch_decode(ids, skip_special_tokens=True)
        """
        kwargs.pop("token_type_ids", None)
        if getattr(self.config, "is_encoder_decoder", False):  # T5, BART, Marian: the encoder once, then the decoder
            return seq2seq_generate(
                self,
                input_ids,
                attention_mask,
                generation_config,
                seed,
                streamer,
                jit_compile,
                logits_processor,
                stopping_criteria,
                tokenizer,
                compiled_loops=self._compiled_generate_functions(),
                **kwargs,
            )
        check_generate_kwargs(kwargs)
        config = (generation_config or self.generation_config).update(**kwargs)
        config.validate()
        if config.return_dict_in_generate and (config.output_attentions or config.output_hidden_states):
            raise NotSupportedError(
                "generate() does not return attentions or hidden states (its compiled loop keeps only what "
                "decoding needs). Run the model on the result instead: "
                "model(out.sequences, output_attentions=True, output_hidden_states=True)."
            )
        if input_ids is None:
            raise InvalidInputError("generate() needs input_ids (a (batch, length) array of prompt token ids).")
        if tf.inside_function():  # traced by the caller's tf.function: symbolic tensors, no numpy
            return self._generate_traced(
                config,
                input_ids,
                attention_mask,
                seed,
                streamer,
                jit_compile,
                logits_processor,
                stopping_criteria,
                tokenizer,
            )
        if isinstance(input_ids, (list, tuple)) and input_ids and not isinstance(input_ids[0], (list, tuple)):
            input_ids = [input_ids]  # one prompt as a flat list of ids
        prompt = as_concrete_array(input_ids, "input_ids")
        if prompt is None:
            prompt = np.asarray(input_ids)
        if prompt.ndim == 1:
            prompt = prompt[None, :]
        if prompt.ndim != 2:
            raise InvalidInputError(f"input_ids must have shape (batch_size, sequence_length), got {prompt.shape}.")
        if prompt.shape[-1] == 0:
            raise InvalidInputError(
                "generate() got an empty prompt (input_ids of length 0). Give at least one token: "
                "for an unconditional start pass [[bos_token_id]] "
                f"(here {config.bos_token_id})."
            )
        if attention_mask is not None and np.ndim(attention_mask) == 1:
            attention_mask = np.asarray(attention_mask)[None, :]
        self.validate_inputs({"input_ids": prompt, "attention_mask": attention_mask}, caller="generate()")
        input_ids = prompt.astype(np.int32)
        batch, prompt_length = input_ids.shape
        compiled_criteria, python_criteria = self._stopping_criteria(config, stopping_criteria, tokenizer)
        processors = list(logits_processor or ())
        # every setting the loop depends on, resolved once (max_new_tokens is checked there)
        settings = DecodeSettings.resolve(
            config, prompt_length, logits_processor=processors, stop_criteria=compiled_criteria
        )
        eos, pad, max_new_tokens = settings.eos_token_ids, settings.pad_token_id, settings.max_new_tokens
        if attention_mask is None:
            if pad is not None and pad not in eos and (input_ids == pad).any():
                attention_mask = (input_ids != pad).astype(np.int32)
            else:
                attention_mask = np.ones_like(input_ids)
        attention_mask = np.asarray(attention_mask, np.int32)
        if attention_mask.shape != input_ids.shape:
            raise InvalidInputError(
                f"attention_mask has shape {attention_mask.shape} but input_ids has "
                f"{input_ids.shape}; pass the tokenizer's output for both."
            )
        if batch > 1 and (attention_mask[:, -1] == 0).any():
            logger.warning(
                "A decoder-only model is being used with right padding: pass padding_side='left' "
                "to the tokenizer for correct generation results."
            )
        self._check_generation_length(prompt_length, max_new_tokens)
        if keras.backend.backend() == "jax":  # issue 20: greedy runs as a jax.lax.while_loop
            return self._generate_on_jax(settings, input_ids, attention_mask, streamer, python_criteria, seed)
        python_processors = any(processor_style(p) == "python" for p in processors)
        stepped = streamer is not None or python_criteria or python_processors
        if stepped and settings.strategy == "beam":
            raise NotSupportedError(
                "Beam search (num_beams > 1) runs only as one compiled loop, so it cannot stream nor call "
                "Python stopping criteria or (input_ids, scores) processors: use greedy decoding or sampling, "
                "or write the processor as TF ops with __call__(input_ids, scores, cur_len)."
            )

        if settings.rows > 1:  # each prompt is decoded rows times (beams or returned samples)
            input_ids = np.repeat(input_ids, settings.rows, axis=0)
            attention_mask = np.repeat(attention_mask, settings.rows, axis=0)
        extra = settings.bucket - prompt_length
        padded_ids = np.concatenate(
            [np.full((input_ids.shape[0], extra), pad if pad is not None else 0, np.int32), input_ids], axis=1
        )
        padded_mask = np.concatenate([np.zeros((input_ids.shape[0], extra), np.int32), attention_mask], axis=1)
        if seed is None:
            seed = np.random.randint(0, 2**31 - 1, size=2)
        seed = tf.constant(np.asarray(seed, np.int32).reshape(2))
        prompt_length_t = tf.constant(prompt_length, tf.int32)

        if stepped:
            if streamer is not None:
                streamer.put(input_ids)
            out = self._stepped(
                settings,
                padded_ids,
                padded_mask,
                prompt_length_t,
                seed,
                streamer,
                python_criteria,
                jit_compile,
                compile_step=not python_processors,
            )
            if streamer is not None:
                streamer.end()
        else:
            # one program per bucket of max_new_tokens: the call's own count is an input of the loop
            loop = self._decode_loop(self._bucketed_settings(settings), padded_ids.shape[0], jit_compile)
            max_new_tokens_t = tf.constant(max_new_tokens, tf.int32)
            out = loop(tf.constant(padded_ids), tf.constant(padded_mask), prompt_length_t, seed, max_new_tokens_t)
            if not settings.return_dict_in_generate:
                out = {"sequences": out[0], "steps": out[1]}
        steps = int(out["steps"])
        sequences = tf.convert_to_tensor(out["sequences"])[:, extra : extra + prompt_length + steps]
        if not settings.return_dict_in_generate:
            return sequences
        return self._generate_output(settings, out, sequences, steps)

    def _check_generation_length(self, prompt_length: int, max_new_tokens: int) -> None:
        limit = self.max_generation_length
        if limit is not None and prompt_length + max_new_tokens > limit:
            # the KV cache is allocated for the whole length up front: fail now, not after minutes
            raise InvalidInputError(
                f"prompt ({prompt_length} tokens) + max_new_tokens ({max_new_tokens}) = "
                f"{prompt_length + max_new_tokens} exceeds the {limit} positions {type(self).__name__} handles "
                f"(max_position_embeddings). Lower max_new_tokens to at most {max(limit - prompt_length, 0)}"
                " or shorten the prompt."
            )

    def _generate_traced(
        self,
        config,
        input_ids,
        attention_mask,
        seed,
        streamer,
        jit_compile,
        logits_processor,
        stopping_criteria,
        tokenizer,
    ):
        """generate() while the caller's ``tf.function`` traces it (``tf.function(model.generate, jit_compile=True)``,
        as transformers' TF XLA guide wrote it): the prompt preparation of the eager path in TF ops on the
        static prompt length, then the same decode loop, so the tokens are the same. As transformers' TF
        generate did in graph mode, ``sequences`` keep their full static width, prompt + max_new_tokens,
        with ``pad_token_id`` after the last generated column (eager calls cut that tail off).
        """
        if streamer is not None:
            raise NotSupportedError(
                "generate() inside tf.function cannot stream: a streamer needs each token in Python as it "
                "is made. Call model.generate(..., streamer=streamer) eagerly (outside tf.function)."
            )
        ids = tf.convert_to_tensor(input_ids)
        if not ids.dtype.is_integer:
            raise InvalidInputError(f"input_ids must hold integer token ids, got dtype {ids.dtype.name}.")
        if ids.shape.rank == 1:
            ids = ids[None, :]
        if ids.shape.rank != 2:
            raise InvalidInputError(f"input_ids must have shape (batch_size, sequence_length), got {ids.shape}.")
        prompt_length = ids.shape[1]
        if prompt_length is None:
            raise InvalidInputError(
                "generate() inside tf.function needs a static prompt length (input_ids.shape[1] is None here): "
                "the compiled loop allocates its KV cache from it. Pad the prompts to a fixed length "
                "(tokenizer(..., padding=True, pad_to_multiple_of=8)) and do not give the function an "
                "input_signature or reduce_retracing=True that leaves the length unknown."
            )
        if prompt_length == 0:
            raise InvalidInputError(
                "generate() got an empty prompt (input_ids of length 0). Give at least one token: "
                f"for an unconditional start pass [[bos_token_id]] (here {config.bos_token_id})."
            )
        ids = tf.cast(ids, tf.int32)
        compiled_criteria, python_criteria = self._stopping_criteria(config, stopping_criteria, tokenizer)
        processors = list(logits_processor or ())
        if python_criteria or any(processor_style(p) == "python" for p in processors):
            raise NotSupportedError(
                "generate() inside tf.function runs as one compiled loop, so it cannot call Python stopping "
                "criteria (e.g. max_time) or (input_ids, scores) logits processors: call generate() eagerly, "
                "or write the processor as TF ops with __call__(input_ids, scores, cur_len)."
            )
        settings = DecodeSettings.resolve(
            config, prompt_length, logits_processor=processors, stop_criteria=compiled_criteria
        )
        eos, pad, max_new_tokens = settings.eos_token_ids, settings.pad_token_id, settings.max_new_tokens
        self._check_generation_length(prompt_length, max_new_tokens)
        if attention_mask is None:
            if pad is not None and pad not in eos:
                attention_mask = tf.cast(ids != pad, tf.int32)  # all ones when the prompts hold no pad id
            else:
                attention_mask = tf.ones_like(ids)
        attention_mask = tf.cast(tf.convert_to_tensor(attention_mask), tf.int32)
        if attention_mask.shape.rank == 1:
            attention_mask = attention_mask[None, :]
        if not attention_mask.shape.is_compatible_with(ids.shape):
            raise InvalidInputError(
                f"attention_mask has shape {attention_mask.shape} but input_ids has "
                f"{ids.shape}; pass the tokenizer's output for both."
            )
        batch = ids.shape[0]
        if batch is None and settings.strategy == "beam":
            raise InvalidInputError(
                "Beam search inside tf.function needs a static batch size (input_ids.shape[0] is None here). "
                "Call the function with concrete tensors, without an input_signature that leaves the batch open."
            )
        if settings.rows > 1:
            ids = tf.repeat(ids, settings.rows, axis=0)
            attention_mask = tf.repeat(attention_mask, settings.rows, axis=0)
        extra = settings.bucket - prompt_length
        rows = tf.shape(ids)[0]
        padded_ids = tf.concat([tf.fill((rows, extra), pad if pad is not None else 0), ids], axis=1)
        padded_mask = tf.concat([tf.zeros((rows, extra), tf.int32), attention_mask], axis=1)
        if seed is None:  # a fresh draw per call of the caller's function, not one frozen into its graph
            seed = tf.random.uniform((2,), 0, 2**31 - 1, dtype=tf.int32)
        seed = tf.reshape(tf.cast(seed, tf.int32), (2,))
        loop = self._decode_loop(settings, None if batch is None else batch * settings.rows, jit_compile)
        out = loop(padded_ids, padded_mask, tf.constant(prompt_length, tf.int32), seed)
        if not settings.return_dict_in_generate:
            out = {"sequences": out[0], "steps": out[1]}
        width = prompt_length + max_new_tokens
        generated = tf.range(width)[None, :] < prompt_length + out["steps"]
        sequences = tf.where(generated, out["sequences"][:, extra:], pad if pad is not None else 0)
        if not settings.return_dict_in_generate:
            return sequences
        return self._generate_output(settings, out, sequences, max_new_tokens, iterations=max_new_tokens)

    def compute_transition_scores(self, sequences, scores, beam_indices=None, normalize_logits: bool = False):
        """The score of each generated token: a (rows, generated tokens) float32 tf.Tensor.

        ``sequences``, ``scores`` (one (rows or rows * beams, vocab) tensor per step) and, for beam
        search, ``beam_indices`` come from ``generate(..., return_dict_in_generate=True,
        output_scores=True)``. Each entry is the step's score of the token the sequence holds at that
        step, taken from the beam row it came from; steps after a beam finished score 0.
        ``normalize_logits=True`` applies log-softmax over the vocabulary first. The generated tokens
        are the last columns of ``sequences``, as transformers reads them.

        Example:
            >>> out = model.generate(**inputs, max_new_tokens=5, return_dict_in_generate=True, output_scores=True)
            >>> scores = model.compute_transition_scores(out.sequences, out.scores, normalize_logits=True)
            >>> probabilities = np.exp(scores.numpy())  # of each generated token
            >>> out = model.generate(**inputs, max_new_tokens=5, num_beams=4, return_dict_in_generate=True,
            ...                      output_scores=True)
            >>> scores = model.compute_transition_scores(out.sequences, out.scores, out.beam_indices)
            >>> lengths = np.sum(scores.numpy() < 0, axis=1)
            >>> sequences_scores = np.sum(scores, axis=1) / lengths ** model.generation_config.length_penalty
        """
        if scores is None or len(scores) == 0:
            raise InvalidInputError(
                "compute_transition_scores() got no scores: generate with return_dict_in_generate=True and "
                "output_scores=True, then pass out.sequences, out.scores (and out.beam_indices for beam search)."
            )
        sequences = tf.convert_to_tensor(sequences)
        if sequences.shape.rank != 2:
            raise InvalidInputError(f"sequences must have shape (rows, length), got {sequences.shape}.")
        # (rows, steps, vocab): the scores each step's token was chosen from
        stacked = tf.stack([tf.cast(step, tf.float32) for step in scores], axis=1)
        if normalize_logits:
            stacked = tf.nn.log_softmax(stacked, axis=-1)
        steps = len(scores)
        if beam_indices is None:  # greedy or sampling: each row's tokens come from that row's scores
            beam_indices = tf.tile(tf.range(tf.shape(stacked)[0])[:, None], [1, steps])
        beam_indices = tf.cast(tf.convert_to_tensor(beam_indices), tf.int32)[:, :steps]
        finished = beam_indices < 0  # beam search marks the steps after a beam ended with -1
        length = tf.reduce_max(tf.reduce_sum(tf.cast(~finished, tf.int32), axis=-1))
        if sequences.shape[-1] is not None and sequences.shape[-1] < steps:
            raise InvalidInputError(
                f"sequences have {sequences.shape[-1]} columns but scores cover {steps} generated steps: pass "
                "the sequences and scores of the same generate() call."
            )
        beam_indices = tf.where(finished, 0, beam_indices)[:, :length]
        finished = finished[:, :length]
        tokens = tf.cast(sequences[:, tf.shape(sequences)[-1] - length :], tf.int32)
        step_index = tf.broadcast_to(tf.range(length)[None, :], tf.shape(tokens))
        picked = tf.gather_nd(stacked, tf.stack([beam_indices, step_index, tokens], axis=-1))
        return tf.where(finished, tf.zeros_like(picked), picked)

    @staticmethod
    def _stopping_criteria(config, stopping_criteria, tokenizer):
        """The criteria beyond length and eos: (compiled into the loop, called from Python)."""
        criteria = list(stopping_criteria or ())
        if config.stop_strings is not None:
            if tokenizer is None:
                raise InvalidInputError(
                    "generate() got stop_strings but no tokenizer: pass tokenizer=<the model's tokenizer> "
                    "so the stop strings can be matched against its tokens."
                )
            criteria.append(StopStringCriteria(tokenizer, config.stop_strings))
        if config.max_time is not None:
            criteria.append(MaxTimeCriteria(config.max_time))
        compiled = [c for c in criteria if hasattr(c, "stop_in_loop")]
        return compiled, StoppingCriteriaList(c for c in criteria if not hasattr(c, "stop_in_loop"))

    @staticmethod
    def _generate_output(settings: DecodeSettings, out: dict, sequences, steps: int, iterations=None):
        """The ModelOutput ``return_dict_in_generate=True`` asks for, per-step buffers cut to the steps run."""
        if iterations is None:
            iterations = int(out["iterations"])
        per_step = {}
        for name in ("scores", "logits"):
            if name in out:
                values = out[name]
                per_step[name] = tuple(tf.convert_to_tensor(values[i]) for i in range(iterations))
        if settings.strategy == "beam":
            return TFBeamSearchDecoderOnlyOutput(
                sequences=sequences,
                sequences_scores=tf.convert_to_tensor(out["sequences_scores"]) if settings.output_scores else None,
                beam_indices=tf.convert_to_tensor(out["beam_indices"])[:, :steps],
                **per_step,
            )
        output_class = TFSampleDecoderOnlyOutput if settings.sampling else TFGreedySearchDecoderOnlyOutput
        return output_class(sequences=sequences, **per_step)

    # ------------------------------------------------------------------ compiled functions
    def _bucketed_settings(self, settings: DecodeSettings) -> DecodeSettings:
        """``settings`` for the loop of its max_new_tokens bucket, which takes the count as an input."""
        limit = self.max_generation_length
        free = None if limit is None else limit - settings.bucket
        capacity = new_tokens_bucket(settings.max_new_tokens, free)
        return dataclasses.replace(settings, max_new_tokens=capacity, max_new_tokens_as_input=True)

    def _decode_loop(self, settings: DecodeSettings, batch_size: int, jit_compile: bool):
        """build_decode_loop's function for these settings and batch size, built once per model."""
        compiled = self._compiled_generate_functions()
        key = ("loop", settings, batch_size, jit_compile)
        if key not in compiled:
            compiled[key] = build_decode_loop(self, settings, batch_size=batch_size, jit_compile=jit_compile)
        return compiled[key]

    def _stepped(
        self, settings, ids, mask, prompt_length, seed, streamer, python_criteria, jit_compile, compile_step=True
    ):
        """The greedy/sampling loop driven from Python, one compiled step per token: each token reaches
        the streamer at once, and Python stopping criteria see the real tokens after each step."""
        max_new, bucket = settings.max_new_tokens, settings.bucket
        offset = bucket - int(prompt_length)
        compiled = self._compiled_generate_functions()
        key = ("stream", settings, ids.shape[0], jit_compile, compile_step)
        if key not in compiled:
            compiled[key] = build_stream_steps(self, settings, jit_compile, compile_step=compile_step)
        prefill, step_fn, forward = compiled[key]
        ids, mask = tf.constant(ids), tf.constant(mask)
        logits, cache, slot_mask, next_position = prefill(ids, mask)
        buffer = tf.concat([ids, tf.zeros((ids.shape[0], max_new), tf.int32)], axis=1)
        unfinished = tf.ones((ids.shape[0],), tf.bool)
        scores, raw_logits = [], []
        step, token = 0, None  # the first step runs on the prefill's logits, so needs no token
        while step < max_new:
            if step > 0:
                logits, cache = forward(
                    token, slot_mask, next_position + step - 1, cache, tf.constant(bucket + step - 1, tf.int32)
                )
            token, buffer, unfinished, processed = step_fn(
                tf.constant(step), logits, buffer, unfinished, mask, prompt_length, seed
            )
            scores.append(processed)
            raw_logits.append(logits)
            if streamer is not None:
                streamer.put(token.numpy())
            step += 1
            if python_criteria:
                so_far = tuple(scores) if settings.output_scores else None
                unfinished &= ~python_criteria(buffer[:, offset : bucket + step], so_far)
            if not bool(tf.reduce_any(unfinished)):
                break
        out = {"sequences": buffer, "steps": step, "iterations": step}
        if settings.output_scores:
            out["scores"] = scores
        if settings.output_logits:
            out["logits"] = raw_logits
        return out


TFGenerationMixin = GenerationMixin  # TF-side transformers' name
