"""``model.quantize("int8" | "int4")``: Keras' own weight quantization on every kerasformers model.

Keras quantizes each ``Dense`` and ``Embedding`` layer in place (int8: per-output-channel abs-max
scales; int4: two values per byte). A word-embedding matrix that a tied output head reads directly
(``embed_tokens.embeddings``) is handed out dequantized, so tied heads keep working.

Saved form (``save_pretrained`` of a quantized model): ``config.json`` gets
``"quantization_config": {"quant_method": "keras", "mode": "int8"}`` and ``model.safetensors`` holds,
under each layer's Hugging Face name, ``<module>.weight`` (the int8 kernel in PyTorch's ``(out, in)``
orientation; int4: Keras' packed bytes, likewise transposed) and Keras' own quantization variables
as ``<module>.weight_scale`` (and for int4 ``.weight_zero`` / ``.weight_g_idx``) in Keras' layout.
``from_pretrained`` reads ``quantization_config``, quantizes the freshly built model the same way and
loads those tensors. PyTorch transformers does not read this form (its quantizers are different).
"""

from __future__ import annotations

import warnings

import keras
from keras import ops

from kerasformers.errors import InvalidInputError, NotSupportedError

QUANT_METHOD = "keras"
SUPPORTED_MODES = ("int8", "int4")

__all__: list[str] = []  # the method lives on TFPreTrainedModel

_DEQUANTIZING: dict[type, type] = {}


def _dequantizing_class(cls: type) -> type:
    """``cls`` whose ``embeddings`` property gives the dequantized float table once quantized."""
    if cls not in _DEQUANTIZING:

        def embeddings(self):
            if self.quantization_mode in SUPPORTED_MODES:
                # Keras' own lookup path over every row: scales (and LoRA) applied as in call()
                rows = ops.arange(self.input_dim, dtype="int32")
                lookup = self._int8_call if self.quantization_mode == "int8" else self._int4_call
                return lookup(rows)
            return cls.embeddings.fget(self)

        _DEQUANTIZING[cls] = type(cls.__name__, (cls,), {"embeddings": property(embeddings)})
    return _DEQUANTIZING[cls]


class QuantizationMixin:
    """``quantize`` on every model, recorded in the config so that save/reload keeps it."""

    def quantize(self, mode=None, config=None, filters=None, **kwargs):
        """Quantize every Dense and Embedding layer's weights with Keras (``"int8"`` or ``"int4"``).

        Predict, ``generate`` and ``save_pretrained`` work on the result; ``from_pretrained`` of the
        saved folder gives the same quantized model. ``filters`` (Keras': layer-name regexes or a
        callable) limits which layers are quantized; it is not recorded for reloading.

        Example:
            >>> model = TFAutoModelForCausalLM.from_pretrained("HuggingFaceTB/SmolLM2-135M")
            >>> model.quantize("int8")
            >>> model.save_pretrained("smollm2-int8")   # from_pretrained("smollm2-int8") reloads it
        """
        if mode not in SUPPORTED_MODES:
            raise InvalidInputError(
                f"quantize(mode={mode!r}): kerasformers saves and reloads {SUPPORTED_MODES}; pass one of them."
            )
        if self.quantization_mode_of_model() is not None:
            raise InvalidInputError(
                f"This model is already quantized ({self.quantization_mode_of_model()}); quantize a float model."
            )
        if filters is not None:
            raise NotSupportedError(
                "quantize(filters=...) is not supported: a partly quantized model could not be reloaded "
                "from its saved config. Quantize the whole model."
            )
        if not self.built:
            self.build_with_dummy_inputs()
        with warnings.catch_warnings():  # Keras warns for every layer without weights to quantize
            warnings.filterwarnings("ignore", message=".*does not have a `quantize` method")
            super().quantize(mode, config=config, **kwargs)
        for layer in self._flatten_layers(include_self=False, recursive=True):
            # Keras skips subclasses; ours that only add properties (WordEmbeddings) run Keras' own
            # call, so its quantized path is right for them
            for base in (keras.layers.Dense, keras.layers.Embedding):
                if isinstance(layer, base) and layer.quantization_mode is None and type(layer).call is base.call:
                    layer.quantize(mode, type_check=False, config=config)
            if isinstance(layer, keras.layers.Embedding) and layer.quantization_mode == mode:
                layer.__class__ = _dequantizing_class(type(layer))
        self.config.quantization_config = {"quant_method": QUANT_METHOD, "mode": mode}
        return self

    def quantization_mode_of_model(self) -> str | None:
        """The mode this model was quantized with (``"int8"``, ``"int4"``), or None.

        Example:
            >>> model.quantize("int8"); model.quantization_mode_of_model()
            'int8'
        """
        found = getattr(self.config, "quantization_config", None)
        return found.get("mode") if isinstance(found, dict) else None


def quantize_as_config_says(model) -> None:
    """Quantize a freshly built ``model`` as its config's ``quantization_config`` records (from_pretrained).

    Example:
        >>> quantize_as_config_says(model)   # no-op for a float checkpoint
    """
    found = getattr(model.config, "quantization_config", None)
    if found is None:
        return
    if not isinstance(found, dict) or found.get("quant_method") != QUANT_METHOD:
        method = found.get("quant_method") if isinstance(found, dict) else found
        raise NotSupportedError(
            f"The checkpoint is quantized with {method!r}, which kerasformers does not read; "
            "load the float checkpoint and call model.quantize('int8') instead."
        )
    mode = found.get("mode")
    model.config.quantization_config = None
    model.quantize(mode)
