"""Checkpoint tensors <-> Keras variables.

Models are built so that their layer attribute names follow the PyTorch module names
(``encoder.layer.0.attention.self.query``). :func:`named_variables` walks the layer tree and
gives every Keras variable its Hugging Face tensor name; a model's ``weight_renames`` (data,
not code) covers the few names that differ. One loader applies them to safetensors files and
reports missing, unexpected and mismatched tensors in transformers' wording.
"""

from __future__ import annotations

import contextlib
import json
import logging
import mmap
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import keras
import ml_dtypes
import numpy as np
from safetensors import SafetensorError, safe_open
from safetensors.numpy import save_file

from kerasformers.errors import InvalidInputError, WeightsError  # noqa: F401  (re-exported)

logger = logging.getLogger("kerasformers")

SAFE_WEIGHTS_NAME = "model.safetensors"
SAFE_WEIGHTS_INDEX_NAME = "model.safetensors.index.json"
PICKLE_WEIGHTS_NAME = "pytorch_model.bin"
PICKLE_WEIGHTS_INDEX_NAME = "pytorch_model.bin.index.json"

_WEIGHTS_FILE = re.compile(
    r"(model(-\d+-of-\d+)?\.safetensors|model\.safetensors\.index\.json"
    r"|pytorch_model(-\d+-of-\d+)?\.bin|pytorch_model\.bin\.index\.json)"
)


def is_weights_file(name: str) -> bool:
    """Whether ``name`` is one of a checkpoint's weight files (single, sharded, index, pickle).

    Example:
        >>> is_weights_file("model-00001-of-00002.safetensors"), is_weights_file("config.json")
        (True, False)
    """
    return _WEIGHTS_FILE.fullmatch(name) is not None


# Keras built-in layers: (attribute, torch parameter name, transposed?); the *_scale / *_zero /
# g_idx variables exist only after model.quantize() (see kerasformers.quantization)
_KERAS_LEAF_VARIABLES: dict[type, tuple[tuple[str, str, bool], ...]] = {
    keras.layers.Dense: (
        ("kernel", "weight", True),
        ("bias", "bias", False),
        ("kernel_scale", "weight_scale", False),
        ("kernel_zero", "weight_zero", False),
        ("g_idx", "weight_g_idx", False),
    ),
    keras.layers.LayerNormalization: (("gamma", "weight", False), ("beta", "bias", False)),
    keras.layers.Embedding: (
        ("embeddings", "weight", False),
        ("embeddings_scale", "weight_scale", False),
        ("embeddings_zero", "weight_zero", False),
        ("g_idx", "weight_g_idx", False),
    ),
}

# Old checkpoints (TF-converted BERT) name LayerNorm parameters gamma / beta.
_LEGACY_RENAMES = ((re.compile(r"\.gamma$"), ".weight"), (re.compile(r"\.beta$"), ".bias"))


@dataclass
class NamedVariable:
    variable: keras.Variable
    transposed: bool  # stored as (out, in) in the checkpoint, (in, out) in Keras


def named_variables(layer: keras.layers.Layer, prefix: str = "") -> dict[str, NamedVariable]:
    """Map each Hugging Face tensor name of ``layer`` to its Keras variable.

    Example:
        >>> sorted(named_variables(model))[:2]
        ['bert.embeddings.LayerNorm.bias', 'bert.embeddings.LayerNorm.weight']
    """
    found: dict[str, NamedVariable] = {}
    seen: set[int] = set()
    _walk(layer, prefix, found, seen)
    return found


def _walk(layer, prefix, found, seen):
    if id(layer) in seen:  # a layer shared by two parents keeps its first name (tied weights)
        return
    seen.add(id(layer))
    for layer_type, leaf_variables in _KERAS_LEAF_VARIABLES.items():
        if isinstance(layer, layer_type):
            for attribute, torch_name, transposed in leaf_variables:
                # the stored variable: with LoRA enabled Keras' `kernel` property is a computed sum
                variable = getattr(layer, "_" + attribute, None)
                if not isinstance(variable, keras.Variable):
                    variable = getattr(layer, attribute, None)
                if variable is not None:
                    found[prefix + torch_name] = NamedVariable(variable, transposed)
            return
    # A layer may rename attributes whose PyTorch name Keras reserves (e.g. "output").
    torch_names = getattr(type(layer), "torch_module_names", {})
    for attribute, value in list(vars(layer).items()):
        if attribute.startswith("_"):
            continue
        torch_name = torch_names.get(attribute, attribute)
        child_prefix = f"{prefix}{torch_name}." if torch_name else prefix
        if isinstance(value, keras.Variable):
            found[prefix + torch_name] = NamedVariable(value, False)
        elif isinstance(value, keras.layers.Layer):
            _walk(value, child_prefix, found, seen)
        elif isinstance(value, (list, tuple)) and value and all(isinstance(v, keras.layers.Layer) for v in value):
            for index, child in enumerate(value):
                _walk(child, f"{child_prefix}{index}.", found, seen)


# ---------------------------------------------------------------------------------------------
# reading checkpoint files


def weight_files(folder: Path, allow_pickle: bool = False) -> tuple[list[Path], str]:
    """The weight files of a checkpoint folder and their format ("safetensors" or "pickle")."""
    index = folder / SAFE_WEIGHTS_INDEX_NAME
    if index.is_file():
        return _files_from_index(index), "safetensors"
    if (folder / SAFE_WEIGHTS_NAME).is_file():
        return [folder / SAFE_WEIGHTS_NAME], "safetensors"
    pickled = [folder / PICKLE_WEIGHTS_INDEX_NAME, folder / PICKLE_WEIGHTS_NAME]
    if any(p.is_file() for p in pickled):
        if not allow_pickle:
            raise WeightsError(
                f"{folder} only has PyTorch pickle weights ({PICKLE_WEIGHTS_NAME}). Unpickling can run "
                "arbitrary code, so kerasformers refuses it by default. If you trust this checkpoint, "
                "pass allow_pickle=True (it is then read with torch.load(weights_only=True)), or "
                "convert it to safetensors."
            )
        if pickled[0].is_file():
            return _files_from_index(pickled[0]), "pickle"
        return [pickled[1]], "pickle"
    present = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
    raise WeightsError(
        f"{folder} has no model weights: expected {SAFE_WEIGHTS_NAME} or {SAFE_WEIGHTS_INDEX_NAME} "
        f"(found: {', '.join(present) or 'nothing'}). Save the model with save_pretrained() or "
        "copy its weight files into that folder."
    )


def _files_from_index(index: Path) -> list[Path]:
    try:
        weight_map = json.loads(index.read_text())["weight_map"]
    except (json.JSONDecodeError, KeyError) as error:
        raise WeightsError(f"{index} is not a valid weights index ({error!r}).") from None
    files = [index.parent / name for name in dict.fromkeys(weight_map.values())]
    missing = [f.name for f in files if not f.is_file()]
    if missing:
        raise WeightsError(f"{index} lists shard(s) that are not in the folder: {missing}.")
    return files


# Tensors are converted (dtype, transposition) in pieces of about this many bytes, so loading
# never holds a second copy of a large matrix (an embedding is ~20% of a small LLM's weights).
LOAD_CHUNK_BYTES = 2**20

# On CPU a loaded variable's memory is a numpy buffer TensorFlow adopts through DLPack (no copy):
# variables are created on untouched zero pages, then each takes its checkpoint tensor whole.
# TensorFlow's own CPU allocator (BFC, with oneDNN on) keeps 1/32 of every region it ever grew as
# bookkeeping and never gives freed pages back: weights allocated there cost ~6% more than their
# bytes. Smaller variables than this are not worth the trouble.
ADOPT_MIN_BYTES = 64 * 2**10


def _mapped_array(shape: tuple[int, ...], dtype: np.dtype, populate: bool = False) -> np.ndarray:
    """A C-contiguous array on its own anonymous memory map: zeros, page-aligned, released with
    its last view. Untouched pages take no memory; ``populate`` maps them all at once instead
    (faster than one page fault per page, for an array about to be filled)."""
    nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    flags = mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | (getattr(mmap, "MAP_POPULATE", 0) if populate else 0)
    memory = mmap.mmap(-1, max(nbytes, 1), flags=flags)
    return np.frombuffer(memory, np.uint8, count=nbytes).view(dtype).reshape(shape)


def _tensor_over(array: np.ndarray):
    """A tf.Tensor that owns ``array``'s memory (DLPack, no copy). The caller must drop ``array``."""
    import tensorflow as tf

    if array.dtype == ml_dtypes.bfloat16:  # DLPack from numpy knows no bfloat16: same bits as uint16
        return tf.bitcast(tf.experimental.dlpack.from_dlpack(array.view(np.uint16).__dlpack__()), tf.bfloat16)
    return tf.experimental.dlpack.from_dlpack(array.__dlpack__())


def _adoptable(dtype: np.dtype, shape: tuple[int, ...]) -> bool:
    floating = dtype == ml_dtypes.bfloat16 or np.issubdtype(dtype, np.floating)
    return (
        floating
        and hasattr(mmap, "MAP_ANONYMOUS")
        and int(np.prod(shape, dtype=np.int64)) * dtype.itemsize >= ADOPT_MIN_BYTES
    )


_SAFETENSORS_DTYPES = {
    "F64": np.float64,
    "F32": np.float32,
    "F16": np.float16,
    "BF16": ml_dtypes.bfloat16,
    "I64": np.int64,
    "I32": np.int32,
    "I16": np.int16,
    "I8": np.int8,
    "U8": np.uint8,
    "BOOL": np.bool_,
}


class CheckpointTensor:
    """One tensor of a checkpoint, read on demand: whole (call it) or a range of its rows.

    Safetensors data is read straight from the file into a buffer of the requested rows only
    (no memory map whose pages would stay resident); a pickle tensor is already in memory.

    Example:
        >>> tensors = dict(iter_checkpoint_tensors([folder / "model.safetensors"], "safetensors"))
        >>> tensor = tensors["bert.pooler.dense.weight"]
        >>> tensor.shape, tensor.read_rows(0, 2).shape
        ((384, 384), (2, 384))
    """

    def __init__(self, name: str, shape, dtype, path: Path, offset: int = 0, array=None, handle=None):
        self.name, self.shape, self.dtype, self.path = name, tuple(shape), np.dtype(dtype), path
        self._offset, self._array, self._handle = offset, array, handle

    def __call__(self) -> np.ndarray:
        if self._array is None and self.dtype == object:  # a dtype this reader does not know
            return _read_tensor(self._handle, self.name, self.path)
        return self.read_rows(0, self.shape[0]) if self.shape else self.read_rows(0, 1)

    def read_rows(self, start: int, stop: int, out: np.ndarray | None = None) -> np.ndarray:
        """Rows ``start:stop`` along the first axis (a 0-d tensor: the value itself).

        ``out``: a C-contiguous array of this tensor's dtype and those rows' shape to read into.
        """
        if self._array is not None or self.dtype == object:
            rows = self._array if self._array is not None else self()
            rows = rows[start:stop] if self.shape else rows
            if out is None:
                return rows
            out[...] = rows
            return out
        row_elements = int(np.prod(self.shape[1:], dtype=np.int64))
        rows = stop - start if self.shape else 1
        out = np.empty((rows * row_elements,), self.dtype) if out is None else out.reshape(-1)
        try:
            with open(self.path, "rb", buffering=0) as file:
                file.seek(self._offset + start * row_elements * self.dtype.itemsize)
                got = file.readinto(out.view(np.uint8)) if out.nbytes else 0
        except OSError as error:
            got, reason = -1, str(error)
        else:
            reason = "the file ends early"
        if got != out.nbytes:
            raise WeightsError(
                f"Could not read tensor {self.name!r} from {self.path} ({reason}); the file is probably "
                "truncated or corrupted: download or save it again."
            )
        return out.reshape((rows, *self.shape[1:]) if self.shape else ())


def _safetensors_tensors(path: Path, handle) -> Iterator[CheckpointTensor]:
    """The tensors of a safetensors file that ``safe_open`` has validated, by its header."""
    with open(path, "rb") as file:
        header_size = int.from_bytes(file.read(8), "little")
        header = json.loads(file.read(header_size))
    for name in handle.keys():
        entry = header[name]
        dtype = _SAFETENSORS_DTYPES.get(entry["dtype"], object)
        offset = 8 + header_size + entry["data_offsets"][0]
        yield CheckpointTensor(name, entry["shape"], dtype, path, offset=offset, handle=handle)


def _torch_to_numpy(tensor) -> np.ndarray:
    import torch

    if tensor.dtype == torch.bfloat16:  # numpy has no bfloat16: the same bits as ml_dtypes'
        return tensor.view(torch.int16).numpy().view(ml_dtypes.bfloat16)
    return tensor.numpy()


def iter_checkpoint_tensors(files: list[Path], fmt: str) -> Iterator[tuple[str, CheckpointTensor]]:
    """Yield ``(name, tensor)`` pairs; ``tensor()`` reads that one tensor as numpy (see CheckpointTensor)."""
    if fmt == "pickle":
        import torch  # only on explicit opt-in

        for path in files:
            try:  # memory-mapped: tensors are read as they are assigned
                state = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
            except RuntimeError:  # the legacy (non-zip) format cannot be mapped
                state = torch.load(path, map_location="cpu", weights_only=True)
            for name, tensor in state.items():
                array = _torch_to_numpy(tensor)
                yield name, CheckpointTensor(name, array.shape, array.dtype, path, array=array)
        return
    for path in files:
        try:
            with open(path, "rb"):  # an unreadable file is a permission problem, not corruption
                pass
        except PermissionError:
            raise WeightsError(
                f"{path} cannot be read: permission denied. Give your user read access "
                f"(e.g. chmod a+r {path}) or copy the checkpoint somewhere readable."
            ) from None
        except IsADirectoryError:
            raise WeightsError(
                f"{path} is a folder, not a safetensors file. Remove it and save or download the checkpoint again."
            ) from None
        try:
            handle = safe_open(path, framework="numpy")  # validates the header against the file size
            tensors = list(_safetensors_tensors(path, handle))
        except (SafetensorError, OSError, ValueError, KeyError) as error:
            raise WeightsError(
                f"{path} is not a readable safetensors file ({error}). It is probably truncated or "
                "corrupted: download or save it again."
            ) from None
        for tensor in tensors:
            yield tensor.name, tensor


def _read_tensor(handle, name, path):
    try:
        return handle.get_tensor(name)
    except (SafetensorError, OSError, ValueError, TypeError) as error:
        raise WeightsError(
            f"Could not read tensor {name!r} from {path} ({error}); the file is probably truncated "
            "or corrupted: download or save it again."
        ) from None


def _numpy_dtype(dtype) -> np.dtype:
    name = keras.backend.standardize_dtype(dtype)
    return np.dtype(ml_dtypes.bfloat16) if name == "bfloat16" else np.dtype(name)


def _has_single_handle(resource) -> bool:
    """Whether ``resource`` is one TF resource variable (a distributed one, created inside
    ``strategy.scope()``, has no single handle outside a replica: it is assigned as a whole)."""
    try:
        return hasattr(resource, "handle")
    except ValueError:  # DistributedVariable.handle outside the replica context
        return False


def assign_checkpoint_tensor(variable: keras.Variable, tensor: CheckpointTensor, transposed: bool = False) -> None:
    """Put ``tensor`` into ``variable`` without a second copy of it in memory.

    With TensorFlow on CPU, a floating variable of 64 KiB or more gets a new buffer: the file is
    read straight into it (converted or transposed ``LOAD_CHUNK_BYTES`` of rows at a time when the
    dtype or layout differs) and the variable adopts it whole. Otherwise each piece is written into
    the variable's own buffer (a strided-slice assignment). A ``transposed`` tensor (PyTorch's
    (out, in) Linear weight) fills columns. Other backends get one whole assignment.

    Example:
        >>> assign_checkpoint_tensor(model.bert.pooler.dense.kernel, tensors["bert.pooler.dense.weight"], True)
    """
    dtype = _numpy_dtype(variable.dtype)
    shape = tensor.shape
    resource = getattr(variable, "value", None)
    if (
        keras.backend.backend() != "tensorflow"
        or not _has_single_handle(resource)
        or not shape
        or (transposed and len(shape) != 2)
    ):
        array = tensor()
        variable.assign(np.asarray(array.T if transposed else array, dtype=dtype))
        return
    import tensorflow as tf

    row_bytes = max(1, tensor.dtype.itemsize * int(np.prod(shape[1:], dtype=np.int64)))
    step = max(1, LOAD_CHUNK_BYTES // row_bytes)
    if "CPU" in resource.device and _adoptable(dtype, shape):
        buffer = _mapped_array(shape[::-1] if transposed else shape, dtype, populate=True)
        if not transposed and tensor.dtype == dtype:
            tensor.read_rows(0, shape[0], out=buffer)
        else:
            for start in range(0, shape[0], step):
                rows = tensor.read_rows(start, min(shape[0], start + step))
                if transposed:
                    buffer[:, start : start + len(rows)] = rows.T
                else:
                    buffer[start : start + len(rows)] = rows
        tf.raw_ops.AssignVariableOp(resource=resource.handle, value=_tensor_over(buffer), validate_shape=True)
        return
    for start in range(0, shape[0], step):
        stop = min(shape[0], start + step)
        rows = tensor.read_rows(start, stop).astype(dtype, copy=False)
        if transposed:
            begin, end, value = [0, start], [shape[1], stop], rows.T
        else:
            begin, end, value = [start] + [0] * (len(shape) - 1), [stop, *shape[1:]], rows
        tf.raw_ops.ResourceStridedSliceAssign(
            ref=resource.handle,
            begin=begin,
            end=end,
            strides=[1] * len(shape),
            value=tf.convert_to_tensor(value, dtype=resource.dtype),
        )


class DeferredInitializers:
    """Variables created by :func:`deferred_initialization`, with the initializers they still owe."""

    def __init__(self):
        self.pending: dict[int, tuple[keras.Variable, object]] = {}

    def initialize(self, skip: set[int] = frozenset()) -> None:
        """Run the real initializer of every deferred variable whose id is not in ``skip``."""
        for key, (variable, initializer) in list(self.pending.items()):
            if key not in skip:
                variable.assign(initializer(variable.shape, dtype=variable.dtype))
            del self.pending[key]


@contextlib.contextmanager
def deferred_initialization():
    """Create floating-point variables as zeros and keep their initializers for later.

    Loading overwrites almost every variable, so drawing random values first only costs time
    (and, with the temporaries of the random ops, memory). Whoever loads runs
    ``DeferredInitializers.initialize(skip=loaded)`` afterwards, so variables the checkpoint
    lacks (a new head) get their proper initial values. Only the TensorFlow backend defers.

    Example:
        >>> with deferred_initialization() as deferred:
        ...     model = TFBertModel(config)
        ...     model.build_with_dummy_inputs()
        >>> deferred.initialize(skip=set())  # as if nothing had been loaded
    """
    deferred = DeferredInitializers()
    try:
        from keras.src.backend.tensorflow.core import Variable as BackendVariable
    except ImportError:  # another backend (or Keras moved it): initialise as usual
        yield deferred
        return
    original = BackendVariable.__dict__.get("_initialize_with_initializer")
    if keras.backend.backend() != "tensorflow" or original is None:
        yield deferred
        return
    import tensorflow as tf

    def initialize_as_zeros(variable, initializer):
        if not keras.backend.is_float_dtype(variable._dtype):
            return original(variable, initializer)
        deferred.pending[id(variable)] = (variable, initializer)
        dtype, shape = _numpy_dtype(variable._dtype), tuple(variable._shape)
        if _adoptable(dtype, shape):  # untouched zero pages: no memory until the checkpoint fills them
            variable._initialize(_tensor_over(_mapped_array(shape, dtype)))
        else:
            variable._initialize(tf.zeros(shape, dtype=variable._dtype))

    BackendVariable._initialize_with_initializer = initialize_as_zeros
    try:
        yield deferred
    finally:
        BackendVariable._initialize_with_initializer = original


_FLOAT_DTYPES = {"F32": "float32", "BF16": "bfloat16", "F16": "float16"}


def checkpoint_dtype(folder: Path, config=None) -> str | None:
    """The float dtype a checkpoint was saved in, as transformers' ``dtype="auto"`` reads it.

    The config's ``dtype`` (or the older ``torch_dtype``) when it names float32, bfloat16 or
    float16; else the first floating tensor of the safetensors files; None when neither says.

    Example:
        >>> checkpoint_dtype(Path("path/to/llama-bf16"))
        'bfloat16'
    """
    for key in ("dtype", "torch_dtype"):
        value = str(getattr(config, key, None) or "").replace("torch.", "")
        if value in _FLOAT_DTYPES.values():
            return value
    try:
        files, fmt = weight_files(folder)
    except WeightsError:
        return None
    for path in files if fmt == "safetensors" else ():
        try:
            with open(path, "rb") as file:
                header = json.loads(file.read(int.from_bytes(file.read(8), "little")))
        except (OSError, ValueError):
            return None  # the loader names the broken file
        for name, entry in header.items():
            if name != "__metadata__" and entry.get("dtype") in _FLOAT_DTYPES:
                return _FLOAT_DTYPES[entry["dtype"]]
    return None


# ---------------------------------------------------------------------------------------------
# loading


@dataclass
class LoadingInfo:
    missing_keys: list[str] = field(default_factory=list)
    unexpected_keys: list[str] = field(default_factory=list)
    mismatched_keys: list[tuple[str, tuple, tuple]] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "missing_keys": self.missing_keys,
            "unexpected_keys": self.unexpected_keys,
            "mismatched_keys": self.mismatched_keys,
        }


def _checkpoint_name_to_model_name(model, expected: dict[str, NamedVariable], names: list[str]):
    """Return a function mapping checkpoint tensor names onto the model's names."""
    renames = [(re.compile(p), r) for p, r in getattr(model, "weight_renames", ())]
    prefix = getattr(model, "base_model_prefix", "")
    model_has_prefix = bool(prefix) and any(k.startswith(prefix + ".") for k in expected)

    def rename(name: str) -> str:
        for pattern, replacement in (*_LEGACY_RENAMES, *renames):
            name = pattern.sub(replacement, name)
        return name

    renamed = [rename(n) for n in names]
    checkpoint_has_prefix = bool(prefix) and any(n.startswith(prefix + ".") for n in renamed)

    def to_model(name: str) -> str:
        name = rename(name)
        if model_has_prefix and not checkpoint_has_prefix:
            return f"{prefix}.{name}"  # a base-model checkpoint loaded into a model with a head
        if checkpoint_has_prefix and not model_has_prefix and name.startswith(prefix + "."):
            return name[len(prefix) + 1 :]  # a checkpoint with a head loaded into the base model
        return name

    return to_model


def load_checkpoint_into_model(
    model,
    folder: Path,
    *,
    allow_pickle: bool = False,
    ignore_mismatched_sizes: bool = False,
    source: str = "",
    deferred: DeferredInitializers | None = None,
) -> LoadingInfo:
    """Assign a checkpoint folder's tensors to ``model``'s (built) variables; report the rest.

    Tensors go into the variables in place, file by file (see :func:`assign_checkpoint_tensor`).
    ``deferred``: the variables built under :func:`deferred_initialization`; those the checkpoint
    did not fill get their real initial values at the end.
    """
    files, fmt = weight_files(folder, allow_pickle)
    expected = named_variables(model)
    tensors = dict(iter_checkpoint_tensors(files, fmt))
    to_model = _checkpoint_name_to_model_name(model, expected, list(tensors))
    info = LoadingInfo()
    loaded: set[str] = set()
    for checkpoint_name, tensor in tensors.items():
        name = to_model(checkpoint_name)
        target = expected.get(name)
        if target is None:
            info.unexpected_keys.append(checkpoint_name)
            continue
        shape = tensor.shape[::-1] if target.transposed else tensor.shape
        want = tuple(target.variable.shape)
        if shape != want:
            if ignore_mismatched_sizes:
                info.mismatched_keys.append((name, shape, want))
                continue
            raise WeightsError(
                f"Tensor {checkpoint_name!r} in {source or folder} has shape {shape} but the "
                f"model expects {want} for {name!r}. The config does not match the checkpoint; if you "
                "changed it on purpose (e.g. num_labels), pass ignore_mismatched_sizes=True."
            )
        assign_checkpoint_tensor(target.variable, tensor, target.transposed)
        loaded.add(name)
    if deferred is not None:
        deferred.initialize(skip={id(expected[name].variable) for name in loaded})
    mismatched = {m[0] for m in info.mismatched_keys}
    info.missing_keys = sorted(n for n in expected if n not in loaded and n not in mismatched)

    ignore_unexpected = [re.compile(p) for p in getattr(model, "keys_to_ignore_on_load_unexpected", ())]
    info.unexpected_keys = sorted(k for k in info.unexpected_keys if not any(p.search(k) for p in ignore_unexpected))
    _report(model, info, source or str(folder))
    return info


def _report(model, info: LoadingInfo, source: str) -> None:
    name = type(model).__name__
    if info.unexpected_keys:
        logger.warning(
            f"Some weights of the model checkpoint at {source} were not used when initializing {name}: "
            f"{info.unexpected_keys}\n- This IS expected if you are initializing {name} from the "
            "checkpoint of a model trained on another task or with another architecture.\n- This IS NOT "
            f"expected if you are initializing {name} from the checkpoint of a model that you expect "
            "to be exactly identical."
        )
    if info.missing_keys:
        logger.warning(
            f"Some weights of {name} were not initialized from the model checkpoint at {source} and are "
            f"newly initialized: {info.missing_keys}\nYou should probably TRAIN this model on a "
            "down-stream task to be able to use it for predictions and inference."
        )
    if info.mismatched_keys:
        lines = "\n".join(
            f"- {k}: found shape {a} in the checkpoint and {b} in the model instantiated"
            for k, a, b in info.mismatched_keys
        )
        logger.warning(
            f"Some weights of {name} were not initialized from the model checkpoint at {source} and are "
            f"newly initialized because the shapes did not match:\n{lines}\nYou should probably TRAIN "
            "this model on a down-stream task to be able to use it for predictions and inference."
        )


# ---------------------------------------------------------------------------------------------
# saving


def _parse_size(size: int | str) -> int:
    if isinstance(size, int):
        return size
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMG]i?B)\s*", size, re.IGNORECASE)
    if not match:
        raise InvalidInputError(f"max_shard_size must be bytes or like '5GB', got {size!r}.")
    units = {"KB": 10**3, "MB": 10**6, "GB": 10**9, "KIB": 2**10, "MIB": 2**20, "GIB": 2**30}
    return int(float(match.group(1)) * units[match.group(2).upper()])


def save_model_weights(model, folder: Path, max_shard_size: int | str = "5GB") -> list[str]:
    """Write the model's variables as Hugging Face safetensors (sharded past ``max_shard_size``)."""
    limit = _parse_size(max_shard_size)
    shards: list[dict[str, np.ndarray]] = [{}]
    size = 0
    for name, target in named_variables(model).items():
        array = keras.ops.convert_to_numpy(target.variable.value)
        if target.transposed:
            array = array.T
        array = np.ascontiguousarray(array).reshape(array.shape)  # 0-d stays 0-d (CLIP's logit_scale)
        if shards[-1] and size + array.nbytes > limit:
            shards.append({})
            size = 0
        shards[-1][name] = array
        size += array.nbytes
    metadata = {"format": "pt"}  # transformers only loads files marked with a known format
    if len(shards) == 1:
        save_file(shards[0], str(folder / SAFE_WEIGHTS_NAME), metadata=metadata)
        return [SAFE_WEIGHTS_NAME]
    names = [f"model-{i + 1:05d}-of-{len(shards):05d}.safetensors" for i in range(len(shards))]
    weight_map = {}
    total = 0
    for file_name, shard in zip(names, shards):
        save_file(shard, str(folder / file_name), metadata=metadata)
        weight_map.update({k: file_name for k in shard})
        total += sum(a.nbytes for a in shard.values())
    index = {"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))}
    (folder / SAFE_WEIGHTS_INDEX_NAME).write_text(json.dumps(index, indent=2))
    return names + [SAFE_WEIGHTS_INDEX_NAME]
