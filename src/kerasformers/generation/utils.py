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
3. Compiled functions are cached per model under the key
   ``(strategy, batch, bucket, max_new_tokens, settings)``, so prompts of any length up to
   ``max_position_embeddings`` compile at most ``log2(max_position_embeddings / MIN_BUCKET) + 1``
   programs for given settings, batch size and ``max_new_tokens``.

``jit_compile=False`` runs the same code eagerly (slow; for debugging). A ``streamer`` runs the
loop from Python with a compiled prefill and a compiled single step (see streamers.py).

Models provide ``init_cache(batch, max_length)`` and accept ``attention_mask`` over cache slots,
``position_ids``, ``past_key_values``, ``cache_position`` and ``logits_to_keep``.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import tensorflow as tf
from keras import ops

from kerasformers.generation.configuration_utils import (
    GENERATION_CONFIG_NAME,
    GenerationConfig,
    check_generate_kwargs,
)
from kerasformers.input_checks import as_concrete_array
from kerasformers.generation.logits_process import DecodeContext, build_logits_processors
from kerasformers.errors import InvalidInputError, NotSupportedError

logger = logging.getLogger("kerasformers")

MIN_BUCKET = 16


def prompt_bucket(length: int, limit: int | None = None) -> int:
    """The padded prompt length used for compilation: the next power of two >= length (>= 16).

    Example:
        >>> prompt_bucket(5), prompt_bucket(17), prompt_bucket(100)
        (16, 32, 128)
    """
    bucket = MIN_BUCKET
    while bucket < length:
        bucket *= 2
    if limit is not None and length <= limit < bucket:
        bucket = limit  # never pad past what the model can attend to
    return bucket


def _gather_beams(tensor, indices):
    """tensor (batch, beams, ...) -> rows ``indices`` (batch, k) of each batch's beams."""
    return tf.gather(tensor, indices, axis=1, batch_dims=1)


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
    def generate(self, input_ids=None, attention_mask=None, generation_config: GenerationConfig | None = None,
                 seed=None, streamer=None, jit_compile: bool = True, **kwargs):
        """Generate token ids after the prompts; returns (batch * num_return_sequences, length) int32.

        Keyword arguments override ``generation_config`` (itself from generation_config.json):
        max_new_tokens / max_length, min_new_tokens / min_length, do_sample, temperature,
        top_k, top_p, min_p, num_beams, num_return_sequences, length_penalty, early_stopping,
        repetition_penalty, no_repeat_ngram_size, bad_words_ids, forced_bos_token_id,
        forced_eos_token_id, eos_token_id (an int or a list), pad_token_id. ``seed=(a, b)``
        makes sampling repeatable. Rows come back with the prompt first, left padding kept,
        and ``pad_token_id`` after a sequence ends, as transformers returns them.

        Example:
            >>> ids = model.generate(**tokenizer(["Hello"], return_tensors="np"), max_new_tokens=16)
        """
        kwargs.pop("return_dict_in_generate", None)
        kwargs.pop("token_type_ids", None)
        check_generate_kwargs(kwargs)
        config = (generation_config or self.generation_config).update(**kwargs)
        config.validate()
        if input_ids is None:
            raise InvalidInputError("generate() needs input_ids (a (batch, length) array of prompt token ids).")
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
            raise InvalidInputError("generate() got an empty prompt (input_ids of length 0). Give at least one token: "
                             "for an unconditional start pass [[bos_token_id]] "
                             f"(here {config.bos_token_id}).")
        if attention_mask is not None and np.ndim(attention_mask) == 1:
            attention_mask = np.asarray(attention_mask)[None, :]
        self.validate_inputs({"input_ids": prompt, "attention_mask": attention_mask}, caller="generate()")
        input_ids = prompt.astype(np.int32)
        batch, prompt_length = input_ids.shape
        eos = config.eos_token_ids
        pad = config.pad_token_id
        if pad is None and eos:
            pad = eos[0]  # as transformers does, with the same warning
            logger.warning(f"Setting pad_token_id to eos_token_id:{pad} for open-end generation.")
        if attention_mask is None:
            if pad is not None and pad not in eos and (input_ids == pad).any():
                attention_mask = (input_ids != pad).astype(np.int32)
            else:
                attention_mask = np.ones_like(input_ids)
        attention_mask = np.asarray(attention_mask, np.int32)
        if attention_mask.shape != input_ids.shape:
            raise InvalidInputError(f"attention_mask has shape {attention_mask.shape} but input_ids has "
                             f"{input_ids.shape}; pass the tokenizer's output for both.")
        if batch > 1 and (attention_mask[:, -1] == 0).any():
            logger.warning("A decoder-only model is being used with right padding: pass padding_side='left' "
                           "to the tokenizer for correct generation results.")
        if config.max_new_tokens is not None:
            max_new_tokens = config.max_new_tokens
            if not isinstance(max_new_tokens, (int, np.integer)) or isinstance(max_new_tokens, bool) \
                    or max_new_tokens < 1:
                raise InvalidInputError(f"max_new_tokens must be a positive integer, got {max_new_tokens!r}.")
            max_new_tokens = int(max_new_tokens)
        else:
            max_new_tokens = int(config.max_length) - prompt_length
            if max_new_tokens < 1:
                raise InvalidInputError(f"Nothing to generate: the prompt has {prompt_length} tokens and max_length is "
                                 f"{config.max_length}. Pass max_new_tokens=N (or a larger max_length).")
        limit = self.max_generation_length
        if limit is not None and prompt_length + max_new_tokens > limit:
            # the KV cache is allocated for the whole length up front: fail now, not after minutes
            raise InvalidInputError(
                f"prompt ({prompt_length} tokens) + max_new_tokens ({max_new_tokens}) = "
                f"{prompt_length + max_new_tokens} exceeds the {limit} positions {type(self).__name__} handles "
                f"(max_position_embeddings). Lower max_new_tokens to at most {max(limit - prompt_length, 0)}"
                " or shorten the prompt.")

        if config.num_beams > 1:
            if config.do_sample:
                raise NotSupportedError("Beam sampling (num_beams > 1 with do_sample=True) is not implemented.")
            if streamer is not None:
                raise InvalidInputError("Streaming is not available with beam search (num_beams > 1).")
            strategy, rows = "beam", config.num_beams
        else:
            strategy = "sample" if config.do_sample else "greedy"
            rows = config.num_return_sequences
        if rows > 1:  # each prompt is decoded rows times (beams or returned samples)
            input_ids = np.repeat(input_ids, rows, axis=0)
            attention_mask = np.repeat(attention_mask, rows, axis=0)

        bucket = prompt_bucket(prompt_length)
        extra = bucket - prompt_length
        padded_ids = np.concatenate([np.full((input_ids.shape[0], extra), pad if pad is not None else 0,
                                             np.int32), input_ids], axis=1)
        padded_mask = np.concatenate([np.zeros((input_ids.shape[0], extra), np.int32), attention_mask], axis=1)
        if seed is None:
            seed = np.random.randint(0, 2**31 - 1, size=2)
        seed = np.asarray(seed, np.int32).reshape(2)
        settings = dict(config=config, eos=tuple(eos), pad=pad, max_new_tokens=max_new_tokens, bucket=bucket)
        scalars = (tf.constant(prompt_length, tf.int32), tf.constant(seed))

        if streamer is not None:
            streamer.put(input_ids)
            sequences, steps = self._gen_stream(padded_ids, padded_mask, scalars, settings, strategy, streamer,
                                            jit_compile)
            streamer.end()
        else:
            function = self._gen_function(strategy, padded_ids.shape[0], settings, jit_compile)
            sequences, steps = function(tf.constant(padded_ids), tf.constant(padded_mask), *scalars)
        sequences = np.asarray(sequences)[:, extra:]
        return sequences[:, :prompt_length + int(steps)]

    # ------------------------------------------------------------------ compiled functions
    def _gen_function(self, strategy, rows, settings, jit_compile):
        config = settings["config"]
        signature = json.dumps({k: v for k, v in sorted(config.to_dict().items())
                                if k not in ("max_new_tokens", "max_length")}, sort_keys=True, default=str)
        key = (strategy, rows, settings["bucket"], settings["max_new_tokens"], signature, jit_compile)
        compiled = self._compiled_generate_functions()
        if key not in compiled:
            loop = self._gen_beam_search_loop if strategy == "beam" else self._gen_sample_loop

            def run(ids, mask, prompt_length, seed):
                return loop(ids, mask, prompt_length, seed, settings, strategy)

            compiled[key] = tf.function(run, jit_compile=True, reduce_retracing=True) if jit_compile else run
        return compiled[key]

    def _gen_forward(self, ids, slot_mask, positions, cache, cache_position):
        out = self(ids, attention_mask=slot_mask, position_ids=positions, past_key_values=cache,
                   cache_position=cache_position, logits_to_keep=1, training=False)
        return tf.cast(out.logits[:, -1, :], tf.float32), tuple(out.past_key_values)

    def _gen_prefill(self, ids, mask, max_new_tokens):
        """Run the prompt through the model; returns logits, cache, slot mask and next positions."""
        rows, bucket = tf.shape(ids)[0], ids.shape[1]
        # a static batch where there is one; a dynamic one in exported graphs (export.py)
        cache = self.init_cache(ids.shape[0] if ids.shape[0] is not None else rows, bucket + max_new_tokens)
        # generated slots are all real tokens; causality keeps queries off the unwritten ones
        slot_mask = tf.concat([mask, tf.ones((rows, max_new_tokens), tf.int32)], axis=1)
        positions = tf.cumsum(mask, axis=1) - 1
        positions = tf.where(mask == 0, 0, positions)  # transformers' position_ids for padding
        logits, cache = self._gen_forward(ids, slot_mask, positions, cache, tf.constant(0, tf.int32))
        next_position = tf.reduce_sum(mask, axis=1)
        return logits, cache, slot_mask, next_position

    def _gen_context(self, mask, bucket, step, prompt_length):
        offset = bucket - prompt_length
        first = offset + tf.cast(tf.argmax(tf.cast(mask[:, offset:] != 0, tf.int32), axis=1), tf.int32)
        return DecodeContext(length=bucket + step, offset=offset, first_token=first, prompt_length=prompt_length)

    def _gen_choose(self, logits, buffer, context, processors, sampling, seed, step):
        scores = processors(buffer, logits, context)
        if not sampling:
            return tf.argmax(scores, axis=-1, output_type=tf.int32)
        # Gumbel-max: argmax(scores + Gumbel noise) is a sample from softmax(scores)
        step_seed = tf.random.experimental.stateless_fold_in(seed, step)
        uniform = tf.random.stateless_uniform(tf.shape(scores), seed=step_seed, minval=1e-20, maxval=1.0)
        return tf.argmax(scores - tf.math.log(-tf.math.log(uniform)), axis=-1, output_type=tf.int32)

    def _gen_sample_loop(self, ids, mask, prompt_length, seed, settings, strategy):
        """Greedy or multinomial decoding, all inside one graph."""
        config, eos, pad = settings["config"], list(settings["eos"]), settings["pad"]
        max_new, bucket = settings["max_new_tokens"], settings["bucket"]
        sampling = strategy == "sample"
        processors = build_logits_processors(config, prompt_length, prompt_length + max_new, sampling)
        logits, cache, slot_mask, next_position = self._gen_prefill(ids, mask, max_new)
        buffer = tf.concat([ids, tf.zeros((tf.shape(ids)[0], max_new), tf.int32)], axis=1)
        unfinished = tf.ones((tf.shape(ids)[0],), tf.bool)

        def pick(step, logits, buffer, unfinished):
            context = self._gen_context(mask, bucket, step, prompt_length)
            token = self._gen_choose(logits, buffer, context, processors, sampling, seed, step)
            if pad is not None:
                token = tf.where(unfinished, token, pad)
            buffer = _write_column(buffer, token, bucket + step)
            for e in eos:
                unfinished &= token != e
            return token, buffer, unfinished

        token, buffer, unfinished = pick(tf.constant(0), logits, buffer, unfinished)

        def cond(step, token, buffer, unfinished, cache):
            return (step < max_new) & tf.reduce_any(unfinished)

        def body(step, token, buffer, unfinished, cache):
            logits, cache = self._gen_forward(token[:, None], slot_mask, (next_position + step - 1)[:, None],
                                          cache, bucket + step - 1)
            token, buffer, unfinished = pick(step, logits, buffer, unfinished)
            return step + 1, token, buffer, unfinished, cache

        step, _, buffer, _, _ = tf.while_loop(cond, body, (tf.constant(1), token, buffer, unfinished, cache))
        return buffer, step

    def _gen_stream(self, ids, mask, scalars, settings, strategy, streamer, jit_compile):
        """The greedy/sampling loop driven from Python so each token reaches the streamer at once."""
        config, eos, pad = settings["config"], list(settings["eos"]), settings["pad"]
        max_new, bucket = settings["max_new_tokens"], settings["bucket"]
        prompt_length, seed = scalars
        sampling = strategy == "sample"
        key = ("stream", strategy, ids.shape[0], bucket, max_new, jit_compile,
               json.dumps(config.to_dict(), sort_keys=True, default=str))
        compiled = self._compiled_generate_functions()
        if key not in compiled:
            processors = None

            def prefill(ids, mask):
                return self._gen_prefill(ids, mask, max_new)

            def step_fn(step, logits, buffer, unfinished, mask, prompt_length, seed):
                nonlocal processors
                processors = build_logits_processors(config, prompt_length, prompt_length + max_new, sampling)
                context = self._gen_context(mask, bucket, step, prompt_length)
                token = self._gen_choose(logits, buffer, context, processors, sampling, seed, step)
                if pad is not None:
                    token = tf.where(unfinished, token, pad)
                buffer = _write_column(buffer, token, bucket + step)
                for e in eos:
                    unfinished &= token != e
                return token, buffer, unfinished

            def forward(token, slot_mask, positions, cache, cache_position):
                return self._gen_forward(token[:, None], slot_mask, positions[:, None], cache, cache_position)

            wrap = (lambda f: tf.function(f, jit_compile=True)) if jit_compile else (lambda f: f)
            compiled[key] = (wrap(prefill), wrap(step_fn), wrap(forward))
        prefill, step_fn, forward = compiled[key]
        ids, mask = tf.constant(ids), tf.constant(mask)
        logits, cache, slot_mask, next_position = prefill(ids, mask)
        buffer = tf.concat([ids, tf.zeros((ids.shape[0], max_new), tf.int32)], axis=1)
        unfinished = tf.ones((ids.shape[0],), tf.bool)
        step = 0
        while step < max_new:
            if step > 0:
                logits, cache = forward(token, slot_mask, next_position + step - 1, cache,
                                        tf.constant(bucket + step - 1, tf.int32))
            token, buffer, unfinished = step_fn(tf.constant(step), logits, buffer, unfinished, mask,
                                                prompt_length, seed)
            streamer.put(token.numpy())
            step += 1
            if not bool(tf.reduce_any(unfinished)):
                break
        return buffer, step

    def _gen_beam_search_loop(self, ids, mask, prompt_length, seed, settings, strategy):
        """Beam search as transformers runs it (same candidates, scores, finishing and stopping rules)."""
        config, eos, pad = settings["config"], list(settings["eos"]), settings["pad"]
        max_new, bucket = settings["max_new_tokens"], settings["bucket"]
        num_beams = int(config.num_beams)
        rows = ids.shape[0]
        batch = rows // num_beams
        length_penalty = float(config.length_penalty)
        early_stopping = config.early_stopping
        keep = max(2, 1 + len(eos)) * num_beams  # candidates per batch entry
        total = bucket + max_new
        fill = ((pad if pad else eos[0]) if eos else -1)
        processors = build_logits_processors(config, prompt_length, prompt_length + max_new, False)

        logits, cache, slot_mask, next_position = self._gen_prefill(ids, mask, max_new)
        buffer = tf.concat([ids, tf.fill((rows, max_new), tf.constant(fill, tf.int32))], axis=1)
        running = tf.reshape(buffer, (batch, num_beams, total))
        sequences = running
        running_scores = tf.concat([tf.zeros((batch, 1)), tf.fill((batch, num_beams - 1), -1e9)], axis=1)
        beam_scores = tf.fill((batch, num_beams), -1e9)
        finished = tf.zeros((batch, num_beams), tf.bool)
        lengths = tf.zeros((batch, num_beams), tf.int32)  # generated tokens of each finished beam
        heuristic_open = tf.ones((batch, 1), tf.bool)
        top_mask = tf.range(keep) < num_beams
        batch_offset = tf.range(batch)[:, None] * num_beams

        def search_step(step, logits, running, running_scores, sequences, beam_scores, finished, lengths,
                        heuristic_open):
            cur_len = prompt_length + step  # transformers' cur_len before this token
            flat_running = tf.reshape(running, (rows, total))
            context = self._gen_context(mask, bucket, step, prompt_length)
            log_probs = processors(flat_running, tf.nn.log_softmax(logits, axis=-1), context)
            vocab = tf.shape(log_probs)[-1]
            log_probs = tf.reshape(log_probs, (batch, num_beams, vocab)) + running_scores[:, :, None]
            log_probs = tf.reshape(log_probs, (batch, num_beams * vocab))
            top_scores, top_indices = tf.math.top_k(log_probs, k=keep)
            source_beam = top_indices // vocab
            tokens = top_indices % vocab
            candidates = _gather_beams(running, source_beam)
            candidates = _write_column3(candidates, tokens, bucket + step)
            hits = tf.fill((batch, keep), step + 1 >= max_new)  # max_length reached
            for e in eos:
                hits |= tokens == e
            # running beams: the best candidates that did not stop
            running_candidates = top_scores + tf.cast(hits, tf.float32) * -1e9
            next_beams = tf.math.top_k(running_candidates, k=num_beams).indices
            new_running = _gather_beams(candidates, next_beams)
            new_running_scores = _gather_beams(running_candidates, next_beams)
            # finished beams: merge the top num_beams candidates that stopped into the finished set
            just_finished = hits & top_mask[None, :]
            normalised = top_scores / tf.cast(cur_len + 1 - prompt_length, tf.float32) ** length_penalty
            if early_stopping is True:
                full = tf.reduce_all(finished, axis=-1, keepdims=True)
                normalised += tf.cast(full, tf.float32) * -1e9
            normalised += tf.cast(~heuristic_open, tf.float32) * -1e9
            normalised += tf.cast(~just_finished, tf.float32) * -1e9
            merged_sequences = tf.concat([sequences, candidates], axis=1)
            merged_scores = tf.concat([beam_scores, normalised], axis=1)
            merged_finished = tf.concat([finished, just_finished], axis=1)
            merged_lengths = tf.concat([lengths, tf.fill((batch, keep), step + 1)], axis=1)
            best = tf.math.top_k(merged_scores, k=num_beams).indices
            sequences = _gather_beams(merged_sequences, best)
            beam_scores = _gather_beams(merged_scores, best)
            finished = _gather_beams(merged_finished, best)
            lengths = _gather_beams(merged_lengths, best)
            # the cache follows the beams that keep running
            cache_rows = tf.reshape(_gather_beams(source_beam, next_beams) + batch_offset, (-1,))
            next_tokens = tf.reshape(_gather_beams(tokens, next_beams), (-1,))
            # could a running beam still beat the worst finished one?
            new_len = cur_len + 1
            if early_stopping == "never" and length_penalty > 0.0:
                best_length = prompt_length + max_new - prompt_length
            else:
                best_length = new_len - prompt_length
            best_running = new_running_scores[:, :1] / tf.cast(best_length, tf.float32) ** length_penalty
            worst_finished = tf.where(finished, tf.reduce_min(beam_scores, axis=1, keepdims=True), -1e9)
            heuristic_open &= tf.reduce_any(best_running > worst_finished, axis=-1, keepdims=True)
            keep_going = tf.reduce_any(heuristic_open) & ~tf.reduce_all(hits)
            if early_stopping is True:
                keep_going &= ~tf.reduce_all(finished)
            return (new_running, new_running_scores, sequences, beam_scores, finished, lengths, heuristic_open,
                    cache_rows, next_tokens, keep_going)

        def cond(step, going, *state):
            return (step < max_new) & going

        def body(step, going, logits, cache, running, running_scores, sequences, beam_scores, finished, lengths,
                 heuristic_open):
            (running, running_scores, sequences, beam_scores, finished, lengths, heuristic_open, cache_rows,
             next_tokens, going) = search_step(step, logits, running, running_scores, sequences, beam_scores,
                                               finished, lengths, heuristic_open)
            cache = tuple((tf.gather(k, cache_rows), tf.gather(v, cache_rows)) for k, v in cache)
            moved_mask = tf.gather(slot_mask, cache_rows)

            def advance():
                return self._gen_forward(next_tokens[:, None], moved_mask, (next_position + step)[:, None], cache,
                                     bucket + step)

            # the last step needs no forward pass
            logits, cache = tf.cond(going & (step + 1 < max_new), advance, lambda: (logits, cache))
            return (step + 1, going, logits, cache, running, running_scores, sequences, beam_scores, finished,
                    lengths, heuristic_open)

        state = tf.while_loop(cond, body, (tf.constant(0), tf.constant(True), logits, cache, running,
                                           running_scores, sequences, beam_scores, finished, lengths,
                                           heuristic_open))
        sequences, lengths = state[6], state[9]
        returned = int(config.num_return_sequences)
        sequences = tf.reshape(sequences[:, :returned], (batch * returned, total))
        generated = tf.reduce_max(lengths[:, :returned])
        return sequences, generated


def _write_column(buffer, token, column):
    """buffer[:, column] = token, as a dynamic-update-slice XLA does in place."""
    return ops.slice_update(buffer, (0, column), token[:, None])


def _write_column3(tensor, token, column):
    """tensor[:, :, column] = token for a (batch, beams, columns) tensor."""
    return ops.slice_update(tensor, (0, 0, column), token[:, :, None])
