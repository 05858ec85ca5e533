"""kerasformers: Hugging Face transformers checkpoints as Keras 3 models, TensorFlow first.

``import kerasformers`` is light: the public names (which import Keras and TensorFlow) load on
first use, so ``kerasformers --help`` and other light entry points start at once.
"""

__version__ = "0.1.0"

import os as _os

_SUPPORTED_BACKENDS = ("tensorflow", "jax")  # jax: model math, losses, fit (issue 20)


def _check_backend(backend: str | None) -> None:
    if backend is not None and backend not in _SUPPORTED_BACKENDS:
        raise ImportError(
            f"kerasformers runs on Keras' TensorFlow and JAX backends; KERAS_BACKEND={backend} is not supported. "
            "Unset KERAS_BACKEND or set KERAS_BACKEND=tensorflow (or jax)."
        )


_check_backend(_os.environ.get("KERAS_BACKEND"))


def fill_registries() -> None:
    """Register every architecture's config and auto classes (the one place that imports them all).

    Core modules call this when a lookup misses, instead of importing ``kerasformers.models``
    themselves: the layers point one way (ARCHITECTURE.md).

    Example:
        >>> kerasformers.fill_registries()
        >>> "bert" in kerasformers.configuration.supported_model_types()
        True
    """
    import kerasformers.models  # noqa: F401  (each architecture registers itself on import)


# Modules whose ``__all__`` is public at the top level, as transformers' are (``from kerasformers
# import create_optimizer`` and ``from kerasformers.optimization_tf import create_optimizer``). The
# other TF module paths (tf_utils, modeling_tf_utils, modeling_tf_outputs) lend the top level only
# the names transformers' top level has.
_PUBLIC_MODULES = (
    "kerasformers.generation",
    "kerasformers.image_processing",
    "kerasformers.optimization_tf",
    "kerasformers.keras_callbacks",
    "kerasformers.models.auto",
    "kerasformers.pipelines",
    "kerasformers.processing_utils",
    "kerasformers.trainer",
)


def _load_public_api() -> None:
    """Import every public name into this module (and so register every architecture)."""
    import importlib
    import pkgutil

    import keras

    _check_backend(keras.backend.backend())  # also catches a backend set in ~/.keras/keras.json

    from kerasformers import models
    from kerasformers.configuration import AutoConfig, PretrainedConfig
    from kerasformers.data.collators import (
        DataCollatorForLanguageModeling,
        DataCollatorForMultipleChoice,
        DataCollatorForSeq2Seq,
        DataCollatorForTokenClassification,
        DataCollatorWithPadding,
        DefaultDataCollator,
        default_data_collator,
    )
    from kerasformers.generation import GenerationConfig, TextStreamer
    from kerasformers.hub import CheckpointNotFoundError, push_to_local_hub, set_local_hub
    from kerasformers.modeling_tf_utils import TFSequenceSummary, TFSharedEmbeddings
    from kerasformers.modeling_utils import TFPreTrainedModel
    from kerasformers.models.auto import (
        TFAutoModel,
        TFAutoModelForCausalLM,
        TFAutoModelForMaskedLM,
        TFAutoModelForMultipleChoice,
        TFAutoModelForQuestionAnswering,
        TFAutoModelForSequenceClassification,
        TFAutoModelForTokenClassification,
    )
    from kerasformers.models.bert.tokenization_bert_tf import TFBertTokenizer
    from kerasformers.outputs import ModelOutput
    from kerasformers.tf_utils import set_seed, shape_list
    from kerasformers.tokenization import (
        AutoTokenizer,
        BatchEncoding,
        PreTrainedTokenizerFast,
        TFAutoTokenizer,
        TFByteLevelBPETokenizer,
        TFSentencePieceTokenizer,
        TFWordPieceTokenizer,
    )
    from kerasformers.tokenization_utils_base import PreTrainedTokenizerBase
    from kerasformers.weights import WeightsError

    names = {k: v for k, v in locals().items() if not k.startswith("_") and k not in ("keras", "importlib", "pkgutil")}
    for module_name in _PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        names.update({n: getattr(module, n) for n in module.__all__})
    names.pop("models")
    # every architecture package, as `from kerasformers.models.<arch> import *` would
    for info in pkgutil.iter_modules(models.__path__):
        if not info.ispkg:
            continue
        module = importlib.import_module(f"kerasformers.models.{info.name}")
        public = getattr(module, "__all__", [n for n in vars(module) if not n.startswith("_")])
        names.update({n: getattr(module, n) for n in public if not isinstance(getattr(module, n), type(_os))})
    globals().update(names)
    globals()["__all__"] = sorted(names)


def __getattr__(name: str):
    if (name.startswith("__") and name != "__all__") or not name.isidentifier():
        raise AttributeError(name)
    import importlib.util

    if importlib.util.find_spec(f"{__name__}.{name}") is not None:  # `from kerasformers import losses`
        return importlib.import_module(f"{__name__}.{name}")
    if "__all__" not in globals():
        _load_public_api()
    try:
        return globals()[name]
    except KeyError:
        raise AttributeError(f"module 'kerasformers' has no attribute {name!r}") from None


def __dir__():
    if "__all__" not in globals():
        _load_public_api()
    return sorted(set(globals()) | set(globals()["__all__"]))
