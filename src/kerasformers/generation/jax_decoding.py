"""Greedy decoding on Keras' JAX backend: one ``jax.jit`` program, a ``jax.lax.while_loop`` over the static cache.

The TensorFlow loop (:mod:`kerasformers.generation.decoding`) is a ``tf.while_loop``; under
``KERAS_BACKEND=jax`` this module runs the same steps (prefill the prompt into a zeroed static KV
cache of ``prompt + max_new_tokens`` slots, then one token per iteration, argmax of the float32
logits, finished rows padded) with the model's weights passed to ``stateless_call`` so the
compiled program does not bake them in. Greedy only: no logits processors, sampling or beams.
"""

from __future__ import annotations

import numpy as np

from kerasformers.errors import NotSupportedError

__all__ = ["jax_greedy_generate"]


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
    import keras

    if keras.backend.backend() != "jax":
        raise NotSupportedError(
            f"jax_greedy_generate runs on Keras' JAX backend, not {keras.backend.backend()!r}. "
            "Set KERAS_BACKEND=jax before importing keras, or call model.generate() on TensorFlow."
        )
    if not hasattr(model, "init_cache"):
        raise NotSupportedError(
            f"{type(model).__name__} has no static cache (init_cache); "
            "jax_greedy_generate needs a decoder-only causal LM that has one (Llama, GPT-2 ...)."
        )
    import jax
    import jax.numpy as jnp

    ids = np.asarray(input_ids, np.int32)
    mask = np.ones_like(ids) if attention_mask is None else np.asarray(attention_mask, np.int32)
    config = getattr(model, "generation_config", None)
    if eos_token_id is None:
        eos_token_id = getattr(config, "eos_token_id", None)
    eos = () if eos_token_id is None else tuple(np.atleast_1d(eos_token_id).tolist())
    if pad_token_id is None:
        pad_token_id = getattr(config, "pad_token_id", None)
    if pad_token_id is None and eos:
        pad_token_id = eos[0]  # transformers' fallback
    rows, length = ids.shape
    total = length + max_new_tokens

    def run(trainable, non_trainable, ids, mask):
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

        cache = model.init_cache(rows, total)
        slot_mask = jnp.concatenate([mask, jnp.ones((rows, max_new_tokens), jnp.int32)], axis=1)
        positions = jnp.cumsum(mask, axis=1) - 1
        positions = jnp.where(mask == 0, 0, positions)  # transformers' position ids for padding
        logits, cache = forward(ids, slot_mask, positions, cache, jnp.int32(0))
        next_position = jnp.sum(mask, axis=1)
        buffer = jnp.concatenate([ids, jnp.zeros((rows, max_new_tokens), jnp.int32)], axis=1)

        def pick(step, logits, buffer, unfinished):
            token = jnp.argmax(logits, axis=-1).astype(jnp.int32)
            if pad_token_id is not None:
                token = jnp.where(unfinished, token, pad_token_id)
            buffer = jax.lax.dynamic_update_slice(buffer, token[:, None], (0, length + step))
            for e in eos:
                unfinished = unfinished & (token != e)
            return token, buffer, unfinished

        token, buffer, unfinished = pick(jnp.int32(0), logits, buffer, jnp.ones((rows,), bool))

        def cond(state):
            step, _, _, unfinished, _ = state
            return (step < max_new_tokens) & jnp.any(unfinished)

        def body(state):
            step, token, buffer, unfinished, cache = state
            positions = (next_position + step - 1)[:, None]
            logits, cache = forward(token[:, None], slot_mask, positions, cache, length + step - 1)
            token, buffer, unfinished = pick(step, logits, buffer, unfinished)
            return step + 1, token, buffer, unfinished, cache

        step, _, buffer, _, _ = jax.lax.while_loop(cond, body, (jnp.int32(1), token, buffer, unfinished, cache))
        return buffer, step

    trainable = [v.value for v in model.trainable_variables]
    non_trainable = [v.value for v in model.non_trainable_variables]
    buffer, steps = jax.jit(run)(trainable, non_trainable, jnp.asarray(ids), jnp.asarray(mask))
    return np.asarray(buffer)[:, : length + int(steps)]
