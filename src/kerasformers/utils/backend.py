"""Which Keras backend this process runs, and one clear error for TensorFlow-only features (issue 20).

In-graph tokenizers, SavedModel / TFLite / ONNX exports and other pieces built from TensorFlow ops
and graphs cannot run on Keras' JAX backend: they call :func:`require_tensorflow_backend` first, so
the user reads what to do instead of a trace from deep inside TensorFlow.

Example:
    >>> require_tensorflow_backend("TFWordPieceTokenizer (an in-graph tokenizer)",
    ...                            "Use the Python tokenizer (AutoTokenizer) on this backend.")
"""

from __future__ import annotations

from kerasformers.errors import NotSupportedError

__all__ = ["require_tensorflow_backend", "inside_xla"]


def require_tensorflow_backend(feature: str, fix: str = "") -> None:
    """Raise NotSupportedError naming ``feature``, the backend and the fix unless Keras runs on TensorFlow.

    Example:
        >>> require_tensorflow_backend("export_saved_model()")  # nothing on KERAS_BACKEND=tensorflow
    """
    import keras

    backend = keras.backend.backend()
    if backend == "tensorflow":
        return
    raise NotSupportedError(
        f"{feature} is built from TensorFlow ops and needs Keras' TensorFlow backend, but this process runs "
        f"KERAS_BACKEND={backend}. {fix + ' Or run' if fix else 'Run'} this step in a process started with "
        "KERAS_BACKEND=tensorflow (weights saved with save_pretrained() load on either backend)."
    )


def inside_xla() -> bool:
    """True while TensorFlow traces a function for XLA (``jit_compile=True``, or ``predict`` / ``fit`` under XLA).

    Example:
        >>> inside_xla()  # eager
        False
    """
    import keras

    if keras.backend.backend() != "tensorflow":
        return False
    from tensorflow.python.framework import ops as tf_ops
    from tensorflow.python.ops import control_flow_util

    return bool(control_flow_util.GraphOrParentsInXlaContext(tf_ops.get_default_graph()))
