"""Refuse a Keras backend kerasformers does not run on, with one clear message at import.

kerasformers' models, tokenizers and exports are written with TensorFlow ops; on the torch
backend the first model or tokenizer call would fail deep inside (BatchEncoding, tf.function),
far from the cause. ``kerasformers/__init__.py`` calls :func:`require_supported_backend` right
after importing keras, so ``import kerasformers`` fails at once and says what to change.
"""

from __future__ import annotations

SUPPORTED_BACKENDS = ("tensorflow", "jax")  # jax: for models, in a later release


def require_supported_backend(backend: str | None = None) -> str:
    """Return the Keras backend name, or raise ImportError if kerasformers cannot run on it.

    ``backend`` defaults to ``keras.backend.backend()`` (set by the KERAS_BACKEND environment
    variable or ~/.keras/keras.json before keras is first imported).

    Example:
        >>> require_supported_backend()
        'tensorflow'
        >>> require_supported_backend("torch")
        Traceback (most recent call last):
        ImportError: kerasformers runs on the tensorflow backend (...): KERAS_BACKEND=torch is not supported. ...
    """
    if backend is None:
        import keras

        backend = keras.backend.backend()
    if backend not in SUPPORTED_BACKENDS:
        raise ImportError(
            f"kerasformers runs on the tensorflow backend (and jax for models in a later release): "
            f"KERAS_BACKEND={backend} is not supported. Unset KERAS_BACKEND or set KERAS_BACKEND=tensorflow "
            f"(before keras is first imported).")
    return backend
