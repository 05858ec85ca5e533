"""LoRA adapters on any kerasformers model, saved and loaded in PEFT's adapter format.

Keras' own ``Dense.enable_lora`` does the arithmetic: the layer's kernel (``(in, out)``) becomes
``kernel + (alpha / r) * lora_kernel_a @ lora_kernel_b``. PEFT's ``nn.Linear`` LoRA adds
``(alpha / r) * B @ A`` to the ``(out, in)`` weight, so PEFT's ``lora_A.weight`` (``(r, in)``) is
``lora_kernel_a`` transposed and ``lora_B.weight`` (``(out, r)``) is ``lora_kernel_b`` transposed.
Module names are the Hugging Face ones that :func:`kerasformers.weights.named_variables` gives every
variable (the same rules that load checkpoints), so no architecture needs code here.

Files (PEFT's): ``adapter_config.json`` (``peft_type: "LORA"``, ``r``, ``lora_alpha``,
``target_modules``, ...) and ``adapter_model.safetensors`` with
``base_model.model.<module>.lora_A.weight`` / ``lora_B.weight`` (and ``<module>.weight`` /
``.bias`` for ``modules_to_save``).
"""

from __future__ import annotations

import json
import logging
import math
import re
from pathlib import Path

import keras
import numpy as np
from safetensors.numpy import load_file, save_file

from kerasformers.errors import InvalidInputError, NotSupportedError
from kerasformers.weights import named_variables

logger = logging.getLogger("kerasformers")

ADAPTER_CONFIG_NAME = "adapter_config.json"
ADAPTER_WEIGHTS_NAME = "adapter_model.safetensors"
_PEFT_PREFIX = "base_model.model."

__all__: list[str] = []  # methods live on TFPreTrainedModel


def _module_matches(module: str, target: str) -> bool:
    # PEFT: a name equal to the target or ending in ".<target>"
    return module == target or module.endswith("." + target)


def _selected(module: str, targets) -> bool:
    if isinstance(targets, str):  # PEFT: one string is a regex the whole module name must match
        return re.fullmatch(targets, module) is not None
    return any(_module_matches(module, t) for t in targets)


def dense_modules(model) -> dict[str, keras.layers.Dense]:
    """Each ``keras.layers.Dense`` of ``model`` by its Hugging Face module name (``...attention.self.query``).

    Example:
        >>> sorted(dense_modules(model))[0]
        'bert.encoder.layer.0.attention.output.dense'
    """
    kernels = {}
    for layer in model._flatten_layers(include_self=False, recursive=True):
        if isinstance(layer, keras.layers.Dense) and getattr(layer, "_kernel", None) is not None:
            kernels[id(layer._kernel)] = layer
    modules = {}
    for name, named in named_variables(model).items():
        layer = kernels.get(id(named.variable))
        if layer is not None and name.endswith(".weight"):
            modules[name[: -len(".weight")]] = layer
    return modules


def _module_variables(model, modules) -> dict[str, keras.Variable]:
    """The Hugging Face named variables (``<module>.weight`` / ``.bias``) of ``modules_to_save``."""
    found = {}
    for name, named in named_variables(model).items():
        module = name.rsplit(".", 1)[0]
        if any(_module_matches(module, m) for m in modules):
            found[name] = named
    return found


class _LoraState:
    def __init__(self, config: dict, modules: dict):
        self.config = config
        self.modules = modules
        self.merged = False
        self.deltas: dict = {}


class LoraMixin:
    """``enable_lora`` / ``save_lora_adapter`` / ``load_lora_adapter`` / ``merge_lora`` on every model."""

    def enable_lora(
        self,
        rank: int = 8,
        target_modules=("q_proj", "v_proj", "query", "value"),
        alpha: float | None = None,
        dropout: float = 0.0,
        modules_to_save=None,
        use_rslora: bool = False,
    ):
        """Add LoRA adapters of ``rank`` to the Dense layers named ``target_modules``; freeze the rest.

        ``target_modules`` are PyTorch module names as PEFT takes them (a list: a module whose name
        is, or ends with, one of them; a string: a regex the whole name must match). ``alpha``
        defaults to ``rank`` (scaling ``alpha / rank``; ``alpha / sqrt(rank)`` with ``use_rslora``).
        ``modules_to_save`` (e.g. ``["classifier"]``) stay trainable and are saved with the adapter.
        ``dropout`` is recorded in the adapter config; Keras merges the adapter into the kernel, so
        it is not applied to the adapter's input during training.

        Example:
            >>> model.enable_lora(rank=8, target_modules=["q_proj", "v_proj"])
            >>> model.fit(dataset); model.save_lora_adapter("adapter/")
        """
        if getattr(self, "_lora", None) is not None:
            raise InvalidInputError("LoRA is already enabled on this model; call it once per model.")
        if not isinstance(rank, int) or rank < 1:
            raise InvalidInputError(f"rank must be a positive integer, got {rank!r}.")
        if isinstance(target_modules, str) or target_modules is None:
            targets = target_modules
        else:
            targets = list(target_modules)
        modules = dense_modules(self)
        chosen = {name: layer for name, layer in modules.items() if targets is not None and _selected(name, targets)}
        if not chosen:
            raise InvalidInputError(
                f"No Dense module of {type(self).__name__} matches target_modules={target_modules!r}. "
                f"Module names look like: {sorted(modules)[:6]}; pass names or name endings such as "
                "['query', 'value'] (BERT) or ['q_proj', 'v_proj'] (Llama)."
            )
        alpha = float(rank if alpha is None else alpha)
        keras_alpha = alpha * math.sqrt(rank) if use_rslora else alpha  # Keras scales by alpha / rank
        for variable in self.weights:
            variable.trainable = False
        for layer in chosen.values():
            layer.enable_lora(rank, lora_alpha=keras_alpha)
        saved = list(modules_to_save or [])
        for named in _module_variables(self, saved).values():
            named.variable.trainable = True
        config = {
            "peft_type": "LORA",
            "task_type": None,
            "r": rank,
            "lora_alpha": alpha,
            "lora_dropout": float(dropout),
            "target_modules": targets if isinstance(targets, str) else sorted({n.rsplit(".", 1)[-1] for n in chosen}),
            "modules_to_save": saved or None,
            "use_rslora": bool(use_rslora),
            "bias": "none",
            "fan_in_fan_out": False,
            "init_lora_weights": True,
            "inference_mode": False,
            "use_dora": False,
            "layers_to_transform": None,
            "layers_pattern": None,
            "rank_pattern": {},
            "alpha_pattern": {},
        }
        # plain Python state, kept out of Keras' tracking (a built model's tracker is locked)
        object.__setattr__(self, "_lora", _LoraState(config, chosen))
        if dropout:
            logger.warning("LoRA dropout %s is recorded in the adapter config but not applied (Keras LoRA).", dropout)
        return self

    def _require_lora(self):
        if getattr(self, "_lora", None) is None:
            raise InvalidInputError("LoRA is not enabled on this model. Call model.enable_lora(...) first.")

    def lora_state_dict(self) -> dict[str, np.ndarray]:
        """The adapter's tensors under PEFT's names (``base_model.model.<module>.lora_A.weight``, ...).

        Example:
            >>> sorted(model.lora_state_dict())[0]
            'base_model.model.bert.encoder.layer.0.attention.self.query.lora_A.weight'
        """
        self._require_lora()
        if self._lora.merged:
            raise InvalidInputError("The adapter is merged into the base weights; call model.unmerge_lora() first.")
        tensors = {}
        for name, layer in self._lora.modules.items():
            a = keras.ops.convert_to_numpy(layer.lora_kernel_a)
            b = keras.ops.convert_to_numpy(layer.lora_kernel_b)
            tensors[f"{_PEFT_PREFIX}{name}.lora_A.weight"] = np.ascontiguousarray(a.T)
            tensors[f"{_PEFT_PREFIX}{name}.lora_B.weight"] = np.ascontiguousarray(b.T)
        for name, named in _module_variables(self, self._lora.config["modules_to_save"] or []).items():
            array = keras.ops.convert_to_numpy(named.variable)
            tensors[_PEFT_PREFIX + name] = np.ascontiguousarray(array.T if named.transposed else array)
        return tensors

    def save_lora_adapter(self, save_directory, base_model_name_or_path: str | None = None) -> list[str]:
        """Write ``adapter_config.json`` and ``adapter_model.safetensors`` as PEFT does.

        PyTorch users load the folder with ``PeftModel.from_pretrained(model, folder)``.

        Example:
            >>> model.save_lora_adapter("adapter/")
            ['adapter_config.json', 'adapter_model.safetensors']
        """
        tensors = self.lora_state_dict()
        folder = Path(save_directory)
        folder.mkdir(parents=True, exist_ok=True)
        config = dict(self._lora.config)
        config["base_model_name_or_path"] = base_model_name_or_path or getattr(self.config, "_name_or_path", None)
        (folder / ADAPTER_CONFIG_NAME).write_text(json.dumps(config, indent=2, sort_keys=True))
        save_file(tensors, str(folder / ADAPTER_WEIGHTS_NAME), metadata={"format": "pt"})
        return [ADAPTER_CONFIG_NAME, ADAPTER_WEIGHTS_NAME]

    def load_lora_adapter(self, adapter_path):
        """Load a PEFT LoRA adapter folder (saved here or by PEFT on PyTorch) into this model.

        Enables LoRA with the adapter's rank, alpha and target modules if it is not enabled yet.

        Example:
            >>> model = TFAutoModelForCausalLM.from_pretrained("HuggingFaceTB/SmolLM2-135M")
            >>> model.load_lora_adapter("my-peft-adapter/")
        """
        folder = Path(adapter_path)
        config_file, weights_file = folder / ADAPTER_CONFIG_NAME, folder / ADAPTER_WEIGHTS_NAME
        if not config_file.is_file() or not weights_file.is_file():
            raise InvalidInputError(
                f"{folder} is not a LoRA adapter folder: it needs {ADAPTER_CONFIG_NAME} and {ADAPTER_WEIGHTS_NAME} "
                "(save one with model.save_lora_adapter(folder) or PEFT's save_pretrained)."
            )
        config = json.loads(config_file.read_text())
        if config.get("peft_type") != "LORA":
            raise NotSupportedError(f"{folder} holds a {config.get('peft_type')!r} adapter; only LORA is supported.")
        for key, plain in (("use_dora", False), ("bias", "none"), ("fan_in_fan_out", False)):
            if config.get(key, plain) != plain:
                raise NotSupportedError(f"LoRA adapters with {key}={config[key]!r} are not supported (only {plain!r}).")
        if config.get("rank_pattern") or config.get("alpha_pattern") or config.get("layers_to_transform"):
            raise NotSupportedError(
                "LoRA adapters with rank_pattern, alpha_pattern or layers_to_transform are not supported."
            )
        tensors = load_file(str(weights_file))
        lora_modules = sorted(
            {k[len(_PEFT_PREFIX) : -len(".lora_A.weight")] for k in tensors if k.endswith(".lora_A.weight")}
        )
        if getattr(self, "_lora", None) is None:
            # the modules the file holds, by their full names
            targets = "|".join(re.escape(m) for m in lora_modules)
            self.enable_lora(
                rank=int(config["r"]),
                target_modules=targets,
                alpha=config.get("lora_alpha", config["r"]),
                dropout=config.get("lora_dropout", 0.0),
                modules_to_save=config.get("modules_to_save"),
                use_rslora=config.get("use_rslora", False),
            )
            self._lora.config["target_modules"] = config.get("target_modules")
            self._lora.config["task_type"] = config.get("task_type")
        missing = [m for m in lora_modules if m not in self._lora.modules]
        if missing:
            raise InvalidInputError(
                f"The adapter at {folder} has LoRA weights for {missing[:4]}, which have no LoRA on this model. "
                "Load it into a model without LoRA enabled, or enable LoRA on the same target modules."
            )
        for name in lora_modules:
            layer = self._lora.modules[name]
            a = tensors[f"{_PEFT_PREFIX}{name}.lora_A.weight"].T
            b = tensors[f"{_PEFT_PREFIX}{name}.lora_B.weight"].T
            if a.shape != tuple(layer.lora_kernel_a.shape) or b.shape != tuple(layer.lora_kernel_b.shape):
                raise InvalidInputError(
                    f"LoRA weights for {name} have shapes {a.shape}/{b.shape}, the model's adapter "
                    f"{tuple(layer.lora_kernel_a.shape)}/{tuple(layer.lora_kernel_b.shape)}: rank or model differ."
                )
            layer.lora_kernel_a.assign(a)
            layer.lora_kernel_b.assign(b)
        saved = _module_variables(self, self._lora.config["modules_to_save"] or [])
        for key, array in tensors.items():
            if ".lora_" in key:
                continue
            # PEFT saves modules_to_save as <module>.weight (its "modules_to_save.<adapter>" level removed)
            name = key[len(_PEFT_PREFIX) :].replace(".modules_to_save.default.", ".")
            named = saved.get(name)
            if named is None:
                raise InvalidInputError(
                    f"The adapter at {folder} has tensor {key!r}, which matches nothing in this model."
                )
            named.variable.assign(array.T if named.transposed else array)
        return self

    def merge_lora(self):
        """Fold each adapter into its base kernel (``kernel += alpha/r * A @ B``); outputs unchanged.

        Example:
            >>> model.merge_lora()   # then save_pretrained writes a plain checkpoint
        """
        self._require_lora()
        if self._lora.merged:
            return self
        self._lora.deltas = {}
        for name, layer in self._lora.modules.items():
            if layer.quantization_mode is not None:
                raise NotSupportedError("merge_lora on a quantized layer is not supported; merge before quantize().")
            delta = (layer.lora_alpha / layer.lora_rank) * keras.ops.matmul(layer.lora_kernel_a, layer.lora_kernel_b)
            self._lora.deltas[name] = (
                keras.ops.convert_to_numpy(layer.lora_kernel_a),
                keras.ops.convert_to_numpy(layer.lora_kernel_b),
            )
            layer._kernel.assign(layer._kernel + keras.ops.cast(delta, layer._kernel.dtype))
            layer.lora_kernel_a.assign(keras.ops.zeros_like(layer.lora_kernel_a))
            layer.lora_kernel_b.assign(keras.ops.zeros_like(layer.lora_kernel_b))
        self._lora.merged = True
        return self

    def unmerge_lora(self):
        """Undo :meth:`merge_lora`: subtract each adapter from its kernel and restore the adapter.

        Example:
            >>> model.merge_lora(); model.unmerge_lora()
        """
        self._require_lora()
        if not self._lora.merged:
            return self
        for name, layer in self._lora.modules.items():
            a, b = self._lora.deltas[name]
            delta = (layer.lora_alpha / layer.lora_rank) * (a @ b)
            layer._kernel.assign(layer._kernel - keras.ops.cast(delta, layer._kernel.dtype))
            layer.lora_kernel_a.assign(a)
            layer.lora_kernel_b.assign(b)
        self._lora.merged = False
        return self
