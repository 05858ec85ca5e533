"""Decoding on Keras' JAX backend: one ``jax.jit`` program, a ``jax.lax.while_loop`` over the static cache.

The TensorFlow loop (:mod:`kerasformers.generation.decoding`) is a ``tf.while_loop``; under
``KERAS_BACKEND=jax`` this module runs the same steps (prefill the prompt into a zeroed static KV
cache of ``prompt + max_new_tokens`` slots, then one token per iteration, finished rows padded)
with the model's weights passed to ``stateless_call`` so the compiled program does not bake them in.

- :func:`jax_greedy_generate`: greedy decoding of a decoder model, the simplest entry point.
- :func:`jax_decode`: what ``generate()`` runs on JAX for a resolved
  :class:`~kerasformers.generation.decoding.DecodeSettings`: greedy, sampling (temperature, top_k,
  top_p, min_p; the Gumbel-max draw of the TF loop, keyed by ``jax.random``) and beam search
  (transformers' candidates, length penalty, early stopping and finishing rules, as the TF loop),
  with the repetition-penalty, min-length, min-new-tokens and forced BOS/EOS processors as jnp ops.
  The n-gram and bad-words processors, a caller's processors and stopping criteria are TF ops:
  they raise NotSupportedError here.

Compiled programs are cached per model under ``(settings, rows, prompt length)``.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from kerasformers.errors import NotSupportedError

__all__ = ["jax_greedy_generate", "jax_decode", "jax_seq2seq_decode", "jax_seed"]

NEG_INF = -float("inf")


def _require_jax(caller: str) -> None:
    import keras

    if keras.backend.backend() != "jax":
        raise NotSupportedError(
            f"{caller} runs on Keras' JAX backend, not {keras.backend.backend()!r}. "
            "Set KERAS_BACKEND=jax before importing keras, or call model.generate() on TensorFlow."
        )


def jax_seed(seed=None) -> np.ndarray:
    """Two uint32 words for ``jax.random``: from an int, a pair ``(a, b)`` (generate's ``seed=``), a
    ``keras.random.SeedGenerator`` (its next state) or ``None`` (a fresh random pair).

    Example:
        >>> jax_seed((42, 0))
        array([42,  0], dtype=uint32)
    """
    import keras

    if seed is None:
        return np.random.randint(0, 2**31 - 1, size=2).astype(np.uint32)
    if isinstance(seed, keras.random.SeedGenerator):
        return np.asarray(seed.next()).reshape(-1)[-2:].astype(np.uint32)
    words = np.asarray(seed).reshape(-1).astype(np.int64)
    if words.size == 1:
        words = np.array([0, words[0]])
    if words.size != 2:
        raise NotSupportedError(f"seed must be an int, a pair (a, b) or a keras.random.SeedGenerator, got {seed!r}.")
    return (words % 2**32).astype(np.uint32)


# ---------------------------------------------------------------------------------- processors
def _check_processors(settings) -> None:
    unsupported = [
        name
        for name, on in (
            ("no_repeat_ngram_size", bool(settings.no_repeat_ngram_size)),
            ("bad_words_ids", settings.bad_words_ids is not None),
            ("logits_processor", bool(settings.logits_processor)),
            ("stopping_criteria / stop_strings", bool(settings.stop_criteria)),
            ("return_dict_in_generate", settings.return_dict_in_generate),
        )
        if on
    ]
    if unsupported:
        raise NotSupportedError(
            f"generate() on Keras' JAX backend does not run {', '.join(unsupported)} (their loop code is "
            "TensorFlow ops). Run this call with KERAS_BACKEND=tensorflow, or drop those settings."
        )


def _ban(jnp, scores, tokens, condition):
    """-inf at ``tokens`` of the rows where ``condition`` holds."""
    vocab = jnp.arange(scores.shape[-1])[None, :]
    hit = jnp.zeros(vocab.shape, bool)
    for token in tokens:
        hit = hit | (vocab == token)
    return jnp.where(hit & condition, NEG_INF, scores)


def _scatter_rows(jnp, sorted_values, order):
    """out[b, order[b, j]] = sorted_values[b, j] (undo a per-row sort)."""
    rows = jnp.arange(order.shape[0])[:, None]
    return jnp.zeros_like(sorted_values).at[rows, order].set(sorted_values)


def _processors(settings, prompt_length: int, limit: int):
    """``process(buffer, scores, step, first_token)``: the built-in processors then, when sampling,
    the warpers, in transformers' order (as ``build_logits_processors``), as jnp ops.

    ``buffer`` (rows, columns) holds the prompt then the tokens so far; ``step`` new tokens are written.
    """
    import jax.numpy as jnp

    eos = list(settings.eos_token_ids)

    def process(buffer, scores, step, first_token):
        cur_len = prompt_length + step  # transformers' input_ids.shape[-1]
        if settings.repetition_penalty is not None and settings.repetition_penalty != 1.0:
            columns = jnp.arange(buffer.shape[1])[None, :]
            counted = (columns >= first_token[:, None]) & (columns < cur_len)  # left padding not counted
            rows = jnp.broadcast_to(jnp.arange(buffer.shape[0])[:, None], buffer.shape)
            ids = jnp.clip(buffer, 0, scores.shape[-1] - 1)
            present = jnp.zeros(scores.shape, bool).at[rows, ids].max(counted)
            penalty = settings.repetition_penalty
            penalised = jnp.where(scores < 0, scores * penalty, scores / penalty)
            scores = jnp.where(present, penalised, scores)
        if settings.min_length is not None and eos and settings.min_length > 0:
            scores = _ban(jnp, scores, eos, cur_len < settings.min_length)
        if settings.min_new_tokens is not None and eos and settings.min_new_tokens > 0:
            scores = _ban(jnp, scores, eos, step < settings.min_new_tokens)
        if settings.forced_bos_token_id is not None:
            scores = _force(jnp, scores, [settings.forced_bos_token_id], cur_len == 1)
        if settings.forced_eos_token_id is not None:
            forced = np.atleast_1d(settings.forced_eos_token_id).tolist()
            scores = _force(jnp, scores, forced, cur_len == prompt_length + limit - 1)
        if settings.sampling:
            keep = 2 if settings.num_beams > 1 else 1
            if settings.temperature is not None and settings.temperature != 1.0:
                scores = scores / float(settings.temperature)
            if settings.top_k is not None and settings.top_k != 0:
                import jax

                k = min(max(int(settings.top_k), keep), scores.shape[-1])
                kth = jax.lax.top_k(scores, k)[0][:, -1:]
                scores = jnp.where(scores < kth, NEG_INF, scores)
            if settings.top_p is not None and settings.top_p < 1.0:
                import jax

                order = jnp.argsort(scores, axis=-1, stable=True)  # ascending, ties in index order
                sorted_scores = jnp.take_along_axis(scores, order, axis=-1)
                cumulative = jnp.cumsum(jax.nn.softmax(sorted_scores, axis=-1), axis=-1)
                remove = cumulative <= (1.0 - float(settings.top_p))
                width = scores.shape[-1]
                remove = remove & ~(jnp.arange(width)[None, :] >= width - keep)
                scores = jnp.where(_scatter_rows(jnp, remove, order), NEG_INF, scores)
            if settings.min_p is not None:
                import jax

                probs = jax.nn.softmax(scores, axis=-1)
                remove = probs < float(settings.min_p) * jnp.max(probs, axis=-1, keepdims=True)
                order = jnp.argsort(-scores, axis=-1, stable=True)
                first = jnp.broadcast_to(jnp.arange(scores.shape[-1])[None, :] < keep, order.shape)
                scores = jnp.where(remove & ~_scatter_rows(jnp, first, order), NEG_INF, scores)
        return scores

    return process


def _force(jnp, scores, tokens, condition):
    vocab = jnp.arange(scores.shape[-1])[None, :]
    hit = jnp.zeros(vocab.shape, bool)
    for token in tokens:
        hit = hit | (vocab == token)
    forced = jnp.broadcast_to(jnp.where(hit, 0.0, NEG_INF), scores.shape).astype(scores.dtype)
    return jnp.where(condition, forced, scores)


# ---------------------------------------------------------------------------------- the loops
def _forward_fn(model, trainable, non_trainable):
    import jax.numpy as jnp

    def forward(tokens, slot_mask, positions, cache, cache_position):
        out, _ = model.stateless_call(
            trainable,
            non_trainable,
            tokens,
            attention_mask=slot_mask,
            position_ids=positions,
            past_key_values=cache,
            cache_position=cache_position,
            logits_to_keep=1,
            training=False,
        )
        return out["logits"][:, -1, :].astype(jnp.float32), tuple(out["past_key_values"])

    return forward


def _prefill(init_cache, forward, ids, mask, max_new):
    import jax.numpy as jnp

    rows = ids.shape[0]
    cache = init_cache(rows, ids.shape[1] + max_new)
    slot_mask = jnp.concatenate([mask, jnp.ones((rows, max_new), jnp.int32)], axis=1)
    positions = jnp.cumsum(mask, axis=1) - 1
    positions = jnp.where(mask == 0, 0, positions)  # transformers' position ids for padding
    logits, cache = forward(ids, slot_mask, positions, cache, jnp.int32(0))
    return logits, cache, slot_mask, jnp.sum(mask, axis=1)


def _sample_loop(settings, length: int):
    """(forward, init_cache, ids, mask, key) -> (buffer, steps): greedy or sampling, traced inside a jax.jit."""
    import jax
    import jax.numpy as jnp

    max_new = settings.max_new_tokens
    eos, pad = settings.eos_token_ids, settings.pad_token_id
    process = _processors(settings, length, max_new)

    def run(forward, init_cache, ids, mask, key):
        rows = ids.shape[0]
        logits, cache, slot_mask, next_position = _prefill(init_cache, forward, ids, mask, max_new)
        first_token = jnp.argmax(mask != 0, axis=1).astype(jnp.int32)
        buffer = jnp.concatenate([ids, jnp.zeros((rows, max_new), jnp.int32)], axis=1)

        def pick(step, logits, buffer, unfinished):
            scores = process(buffer, logits, step, first_token)
            if settings.sampling:  # Gumbel-max, as the TF loop: the draw depends on the seed and the step only
                noise = jax.random.gumbel(jax.random.fold_in(key, step), scores.shape, jnp.float32)
                token = jnp.argmax(scores + noise, axis=-1).astype(jnp.int32)
            else:
                token = jnp.argmax(scores, axis=-1).astype(jnp.int32)
            if pad is not None:
                token = jnp.where(unfinished, token, pad)
            buffer = jax.lax.dynamic_update_slice(buffer, token[:, None], (0, length + step))
            for e in eos:
                unfinished = unfinished & (token != e)
            return token, buffer, unfinished

        token, buffer, unfinished = pick(jnp.int32(0), logits, buffer, jnp.ones((rows,), bool))

        def cond(state):
            step, _, _, unfinished, _ = state
            return (step < max_new) & jnp.any(unfinished)

        def body(state):
            step, token, buffer, unfinished, cache = state
            positions = (next_position + step - 1)[:, None]
            logits, cache = forward(token[:, None], slot_mask, positions, cache, length + step - 1)
            token, buffer, unfinished = pick(step, logits, buffer, unfinished)
            return step + 1, token, buffer, unfinished, cache

        step, _, buffer, _, _ = jax.lax.while_loop(cond, body, (jnp.int32(1), token, buffer, unfinished, cache))
        return buffer, step

    return run


def _gather_beams(jnp, tensor, indices):
    """tensor (batch, beams, ...) -> rows ``indices`` (batch, k) of each batch's beams."""
    extra = (1,) * (tensor.ndim - 2)
    return jnp.take_along_axis(tensor, indices.reshape(indices.shape + extra), axis=1)


def _beam_loop(settings, length: int):
    """(forward, init_cache, ids, mask, key) -> (sequences, steps): the TF beam loop's rules in jnp."""
    import jax
    import jax.numpy as jnp

    eos, pad = list(settings.eos_token_ids), settings.pad_token_id
    max_new, num_beams = settings.max_new_tokens, settings.num_beams
    length_penalty, early_stopping = settings.length_penalty, settings.early_stopping
    keep = max(2, 1 + len(eos)) * num_beams  # candidates per batch entry
    total = length + max_new
    fill = (pad if pad else eos[0]) if eos else -1
    process = _processors(settings, length, max_new)
    top_mask = jnp.arange(keep) < num_beams

    def run(forward, init_cache, ids, mask, key):
        rows = ids.shape[0]
        batch = rows // num_beams
        batch_offset = jnp.arange(batch)[:, None] * num_beams
        first_token = jnp.argmax(mask != 0, axis=1).astype(jnp.int32)
        logits, cache, slot_mask, next_position = _prefill(init_cache, forward, ids, mask, max_new)
        buffer = jnp.concatenate([ids, jnp.full((rows, max_new), fill, jnp.int32)], axis=1)
        running = buffer.reshape(batch, num_beams, total)
        state = {
            "step": jnp.int32(0),
            "going": jnp.bool_(True),
            "logits": logits,
            "cache": cache,
            "running": running,
            "running_scores": jnp.concatenate(
                [jnp.zeros((batch, 1)), jnp.full((batch, num_beams - 1), -1e9)], axis=1
            ).astype(jnp.float32),
            "sequences": running,
            "beam_scores": jnp.full((batch, num_beams), -1e9, jnp.float32),
            "finished": jnp.zeros((batch, num_beams), bool),
            "lengths": jnp.zeros((batch, num_beams), jnp.int32),
            "heuristic_open": jnp.ones((batch, 1), bool),
        }

        def cond(s):
            return (s["step"] < max_new) & s["going"]

        def body(s):
            step = s["step"]
            flat_running = s["running"].reshape(rows, total)
            log_probs = process(flat_running, jax.nn.log_softmax(s["logits"], axis=-1), step, first_token)
            vocab = log_probs.shape[-1]
            log_probs = log_probs.reshape(batch, num_beams, vocab) + s["running_scores"][:, :, None]
            top_scores, top_indices = jax.lax.top_k(log_probs.reshape(batch, num_beams * vocab), keep)
            source_beam = top_indices // vocab
            tokens = (top_indices % vocab).astype(jnp.int32)
            candidates = _gather_beams(jnp, s["running"], source_beam)
            candidates = jax.lax.dynamic_update_slice(candidates, tokens[:, :, None], (0, 0, length + step))
            hits = jnp.broadcast_to(step + 1 >= max_new, (batch, keep))
            for e in eos:
                hits = hits | (tokens == e)
            running_candidates = top_scores + hits.astype(jnp.float32) * -1e9
            next_beams = jax.lax.top_k(running_candidates, num_beams)[1]
            running = _gather_beams(jnp, candidates, next_beams)
            running_scores = _gather_beams(jnp, running_candidates, next_beams)
            just_finished = hits & top_mask[None, :]
            normalised = top_scores / (step + 1).astype(jnp.float32) ** length_penalty
            if early_stopping is True:
                full = jnp.all(s["finished"], axis=-1, keepdims=True)
                normalised = normalised + full.astype(jnp.float32) * -1e9
            normalised = normalised + (~s["heuristic_open"]).astype(jnp.float32) * -1e9
            normalised = normalised + (~just_finished).astype(jnp.float32) * -1e9
            merged_sequences = jnp.concatenate([s["sequences"], candidates], axis=1)
            merged_scores = jnp.concatenate([s["beam_scores"], normalised], axis=1)
            merged_finished = jnp.concatenate([s["finished"], just_finished], axis=1)
            merged_lengths = jnp.concatenate([s["lengths"], jnp.full((batch, keep), step + 1, jnp.int32)], axis=1)
            best = jax.lax.top_k(merged_scores, num_beams)[1]
            sequences = _gather_beams(jnp, merged_sequences, best)
            beam_scores = _gather_beams(jnp, merged_scores, best)
            finished = _gather_beams(jnp, merged_finished, best)
            lengths = _gather_beams(jnp, merged_lengths, best)
            cache_rows = (_gather_beams(jnp, source_beam, next_beams) + batch_offset).reshape(-1)
            next_tokens = _gather_beams(jnp, tokens, next_beams).reshape(-1)
            # could a running beam still beat the worst finished one?
            if early_stopping == "never" and length_penalty > 0.0:
                best_length = jnp.int32(max_new)
            else:
                best_length = step + 1
            best_running = running_scores[:, :1] / best_length.astype(jnp.float32) ** length_penalty
            worst_finished = jnp.where(finished, jnp.min(beam_scores, axis=1, keepdims=True), -1e9)
            heuristic_open = s["heuristic_open"] & jnp.any(best_running > worst_finished, axis=-1, keepdims=True)
            going = jnp.any(heuristic_open) & ~jnp.all(hits)
            if early_stopping is True:
                going = going & ~jnp.all(finished)
            cache = tuple((k[cache_rows], v[cache_rows]) for k, v in s["cache"])
            moved_mask = slot_mask[cache_rows]

            def advance(operands):
                logits, cache = operands
                positions = (next_position + step)[:, None]
                return forward(next_tokens[:, None], moved_mask, positions, cache, length + step)

            # the last step needs no forward pass
            logits, cache = jax.lax.cond(going & (step + 1 < max_new), advance, lambda o: o, (s["logits"], cache))
            return {
                "step": step + 1,
                "going": going,
                "logits": logits,
                "cache": cache,
                "running": running,
                "running_scores": running_scores,
                "sequences": sequences,
                "beam_scores": beam_scores,
                "finished": finished,
                "lengths": lengths,
                "heuristic_open": heuristic_open,
            }

        final = jax.lax.while_loop(cond, body, state)
        returned = settings.num_return_sequences
        sequences = final["sequences"][:, :returned].reshape(batch * returned, total)
        return sequences, jnp.max(final["lengths"][:, :returned])

    return run


def _decode_loop(settings, length):
    return _beam_loop(settings, length) if settings.strategy == "beam" else _sample_loop(settings, length)


def _programs(model) -> dict:
    """The model's compiled JAX programs, keyed by what they were built for."""
    programs = model.__dict__.get("_kf_jax_programs")
    if programs is None:
        programs = {}
        object.__setattr__(model, "_kf_jax_programs", programs)
    return programs


def jax_decode(model, settings, input_ids, attention_mask, seed=None) -> np.ndarray:
    """``generate()``'s decoding on the JAX backend for resolved ``settings`` (a ``DecodeSettings``).

    ``input_ids`` / ``attention_mask``: (batch, length) int arrays, prompts left-padded, each prompt
    once (this repeats it ``settings.rows`` times). ``seed``: see :func:`jax_seed` (sampling only).
    Returns int32 ``(batch * num_return_sequences, length + steps)``: the prompt then the new tokens,
    ``pad_token_id`` after a row's eos, up to the last step any returned row ran.

    Example:
        >>> # KERAS_BACKEND=jax
        >>> config = model.generation_config.update(num_beams=3, max_new_tokens=8)
        >>> settings = DecodeSettings.resolve(config, prompt_length=ids.shape[1])
        >>> jax_decode(model, settings, ids, np.ones_like(ids))
    """
    _require_jax("jax_decode")
    if not hasattr(model, "init_cache"):
        raise NotSupportedError(
            f"{type(model).__name__} has no static cache (init_cache); "
            "JAX decoding needs a decoder-only causal LM that has one (Llama, GPT-2 ...)."
        )
    _check_processors(settings)
    import jax
    import jax.numpy as jnp

    ids = np.asarray(input_ids, np.int32)
    mask = np.ones_like(ids) if attention_mask is None else np.asarray(attention_mask, np.int32)
    length = ids.shape[1]
    settings = dataclasses.replace(settings, bucket=length)  # no bucket padding: one program per length
    if settings.rows > 1:  # each prompt decoded rows times, consecutively
        ids, mask = np.repeat(ids, settings.rows, axis=0), np.repeat(mask, settings.rows, axis=0)
    programs = _programs(model)
    cache_key = (settings, ids.shape[0])
    program = programs.get(cache_key)
    if program is None:
        loop = _decode_loop(settings, length)

        def run(trainable, non_trainable, ids, mask, key):
            return loop(_forward_fn(model, trainable, non_trainable), model.init_cache, ids, mask, key)

        program = programs[cache_key] = jax.jit(run)
    key = jnp.asarray(jax_seed(seed) if settings.sampling else np.zeros(2, np.uint32))  # a raw jax.random key
    trainable = [v.value for v in model.trainable_variables]
    non_trainable = [v.value for v in model.non_trainable_variables]
    sequences, steps = program(trainable, non_trainable, ids, mask, key)
    return np.asarray(sequences)[:, : length + int(steps)]


def jax_seq2seq_decode(model, settings, source, source_mask, decoder_ids, seed=None) -> np.ndarray:
    """An encoder-decoder model's ``generate()`` on the JAX backend (generation/seq2seq.py's protocol).

    One ``jax.jit`` program per (settings, batch, source shape): the encoder runs once on ``source``
    ((batch, source_length) ids masked by ``source_mask``, or (batch, source_length, d_model) encoder
    states), its states are repeated per beam / returned sample, ``init_cache`` computes the
    cross-attention keys and values once, then the decoder runs in the same ``jax.lax.while_loop``
    as decoder-only models (:func:`jax_decode`), started from ``decoder_ids`` ((batch, prompt) ids,
    each prompt once). The model's variables are read through a ``keras.StatelessScope`` so the
    program takes the weights as inputs. Returns int32 ``(batch * num_return_sequences, prompt + steps)``.

    Example:
        >>> # KERAS_BACKEND=jax; model.generate() of T5 / BART / Marian comes here
        >>> settings = DecodeSettings.resolve(model.generation_config.update(max_new_tokens=8), 1, bucket=1)
        >>> jax_seq2seq_decode(model, settings, ids, np.ones_like(ids), np.zeros((len(ids), 1), np.int32))
    """
    _require_jax("jax_seq2seq_decode")
    _check_processors(settings)
    import jax
    import jax.numpy as jnp
    import keras

    from kerasformers.generation.seq2seq import DecoderAsCausalLM

    prompt = np.asarray(decoder_ids, np.int32)
    length = prompt.shape[1]
    settings = dataclasses.replace(settings, bucket=length)
    source = np.asarray(source)
    source_mask = np.asarray(source_mask, np.int32)
    from_states = source.ndim == 3
    rows = settings.rows
    if rows > 1:
        prompt = np.repeat(prompt, rows, axis=0)
    programs = _programs(model)
    cache_key = ("seq2seq", settings, source.shape, source.dtype.str)
    program = programs.get(cache_key)
    if program is None:
        loop = _decode_loop(settings, length)
        variables = list(model.variables)

        def run(values, source, source_mask, ids, mask, key):
            with keras.StatelessScope(state_mapping=list(zip(variables, values))):
                if from_states:
                    states = source
                else:
                    encoder = model.get_encoder()
                    states = encoder(source, attention_mask=source_mask, training=False)["last_hidden_state"]
                if rows > 1:
                    states = jnp.repeat(states, rows, axis=0)
                    source_mask = jnp.repeat(source_mask, rows, axis=0)
                decoder = DecoderAsCausalLM(model, states, source_mask)

                def forward(tokens, slot_mask, positions, cache, cache_position):
                    out = decoder(
                        tokens,
                        attention_mask=slot_mask,
                        position_ids=positions,
                        past_key_values=cache,
                        cache_position=cache_position,
                        logits_to_keep=1,
                        training=False,
                    )
                    past = tuple(tuple(layer) for layer in out.past_key_values)
                    return out.logits[:, -1, :].astype(jnp.float32), past

                def init_cache(batch, max_length):
                    return tuple(tuple(layer) for layer in decoder.init_cache(batch, max_length))

                return loop(forward, init_cache, ids, mask, key)

        program = programs[cache_key] = jax.jit(run)
    key = jnp.asarray(jax_seed(seed) if settings.sampling else np.zeros(2, np.uint32))
    values = [v.value for v in model.variables]
    sequences, steps = program(values, source, source_mask, prompt, np.ones_like(prompt), key)
    return np.asarray(sequences)[:, : length + int(steps)]


def jax_greedy_generate(
    model, input_ids, attention_mask=None, max_new_tokens: int = 20, eos_token_id=None, pad_token_id=None
) -> np.ndarray:
    """Greedy ``generate`` of a decoder model with a static cache (``init_cache``), on the JAX backend.

    Returns int32 ``(batch, prompt + steps)``: the (left-padded) prompt then the new tokens,
    ``pad_token_id`` after a row's eos (as transformers' ``generate``), up to the last step any row ran.
    ``eos_token_id`` / ``pad_token_id`` default to the model's generation config.

    Example:
        >>> # KERAS_BACKEND=jax
        >>> model = TFLlamaForCausalLM.from_pretrained(path)
        >>> jax_greedy_generate(model, np.array([[5, 6, 7]]), max_new_tokens=8)
    """
    _require_jax("jax_greedy_generate")
    from kerasformers.generation.decoding import DecodeSettings

    config = getattr(model, "generation_config", None)
    if eos_token_id is None:
        eos_token_id = getattr(config, "eos_token_id", None)
    eos = () if eos_token_id is None else tuple(np.atleast_1d(eos_token_id).tolist())
    if pad_token_id is None:
        pad_token_id = getattr(config, "pad_token_id", None)
    if pad_token_id is None and eos:
        pad_token_id = eos[0]  # transformers' fallback
    ids = np.asarray(input_ids, np.int32)
    settings = DecodeSettings(
        strategy="greedy",
        max_new_tokens=int(max_new_tokens),
        bucket=ids.shape[1],
        eos_token_ids=eos,
        pad_token_id=pad_token_id,
    )
    return jax_decode(model, settings, ids, attention_mask)
