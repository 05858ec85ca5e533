"""ONNX export of any kerasformers model (through tf2onnx), to run with onnxruntime.

The ONNX graph is the model's forward pass, converted from the same TensorFlow function the
SavedModel's serving signature runs. Inputs are named as there (``input_ids``,
``attention_mask`` and, where the model takes them, ``token_type_ids``: zeros where a
tokenizer gives none, as XLM-R's), int64 by default, with dynamic ``batch`` and ``sequence``
axes (``batch, num_choices, sequence`` for multiple choice). Outputs are named after the
model's output fields (``logits``, ``last_hidden_state``, ``pooler_output``, ...;
``hidden_states_0``, ... when asked for).

Exact GELU: TensorFlow computes it as ``0.5 * x * erfc(-x / sqrt(2))`` and ONNX has no Erfc
op, so the converter writes ``erfc(z)`` as ``1 - erf(z)`` (ONNX's Erf). The Keras model's
numbers are untouched.

Needs the ``onnx`` extra: ``pip install kerasformers[onnx]`` (tf2onnx, onnxruntime)::

    import onnxruntime as ort
    session = ort.InferenceSession("model.onnx")
    logits, = session.run(["logits"], dict(tokenizer(texts, return_tensors="np", padding=True)))
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from kerasformers.errors import (
    ExportError,
    InvalidInputTypeError,
    MissingDependencyError,
    NotAFolderError,
    TargetExistsError,
)
from kerasformers.utils.backend import require_tensorflow_backend

__all__ = ["export_onnx", "export_checkpoint_onnx", "DEFAULT_OPSET", "MIN_OPSET", "MAX_OPSET"]

DEFAULT_OPSET = 17
MIN_OPSET = 10  # tf2onnx converts StridedSlice (every model slices) from opset 10; some heads need
# newer opsets (Llama's last-token pooling: GatherV2 with batch_dims, 12), and are told so
MAX_OPSET = 18  # the newest opset tf2onnx 1.17 writes
# ONNX files are one protobuf message, which cannot exceed 2 GiB; tf2onnx's external-data
# path ("large_model") calls np.product, which numpy 2 removed, so larger models are refused.
MAX_WEIGHT_BYTES = 2 * 1024**3 - 64 * 1024**2
INSTALL_HINT = "pip install kerasformers[onnx]"


def _require_tf2onnx():
    try:
        import tf2onnx
        import tf2onnx.convert  # noqa: F401  (the submodules _convert uses)
        import tf2onnx.optimizer  # noqa: F401
        import tf2onnx.tf_loader  # noqa: F401
        import tf2onnx.tfonnx  # noqa: F401
    except ImportError as error:
        raise MissingDependencyError(
            f"ONNX export needs tf2onnx, which is not installed ({error}). Install it with: {INSTALL_HINT}"
        ) from error
    return tf2onnx


def _erfc_as_one_minus_erf(ctx, node, name, args):
    """tf2onnx handler: TF's Erfc (exact GELU uses it) as ``1 - Erf(x)``; ONNX has no Erfc."""
    from tf2onnx import utils

    dtype = utils.map_onnx_to_numpy_type(ctx.get_dtype(node.input[0]))
    erf = ctx.make_node("Erf", [node.input[0]], op_name_scope=node.name, name="erf")
    one = ctx.make_const(utils.make_name(f"{node.name}/one"), np.array(1, dtype=dtype))
    shapes, dtypes, output = node.output_shapes, node.output_dtypes, node.output[0]
    ctx.remove_node(node.name)
    ctx.make_node("Sub", [one.output[0], erf.output[0]], outputs=[output], name=name, shapes=shapes, dtypes=dtypes)


def _convert(tf2onnx, function, opset: int):
    """tf2onnx.convert.from_function's steps, with two changes.

    - tf2onnx's reshape_optimizer is left out: it rewrites the attention's
      ``reshape(x, shape(x)[:2] + [heads, head_size])`` after Dense's own reshapes were merged,
      and the result reshapes (batch * sequence, hidden) to (batch * sequence, hidden, heads,
      head_size), which onnxruntime rejects. Without it the shapes are computed at run time.
    - optimizer errors are raised, not caught: catching means a deep copy of the whole graph,
      weights included, before each optimizer pass (half the export time, twice the memory).
    """
    import tensorflow as tf

    concrete = function.get_concrete_function()
    inputs = [t.name for t in concrete.inputs if t.dtype != tf.resource]
    outputs = [t.name for t in concrete.outputs if t.dtype != tf.resource]
    frozen = tf2onnx.tf_loader.from_function(concrete, inputs, outputs)
    optimizers = {
        name: optimizer
        for name, optimizer in tf2onnx.optimizer._get_optimizers().items()
        if name != "reshape_optimizer"
    }
    with tf.device("/cpu:0"), tf.Graph().as_default() as graph:
        tf.import_graph_def(frozen, name="")
        onnx_graph = tf2onnx.tfonnx.process_tf_graph(
            graph,
            opset=opset,
            continue_on_error=True,
            input_names=inputs,
            output_names=outputs,
            tensors_to_rename=tf2onnx.convert.tensor_names_from_structed(concrete, inputs, outputs),
            custom_op_handlers={"Erfc": (_erfc_as_one_minus_erf, [])},
        )
        onnx_graph = tf2onnx.optimizer.optimize_graph(onnx_graph, catch_errors=False, optimizers=optimizers)
        return onnx_graph.make_model(f"converted from {concrete.name} by kerasformers")


def _output_path(path: str | os.PathLike) -> Path:
    """``x.onnx`` is the file; anything else is a folder that gets ``model.onnx``."""
    path = Path(path)
    return path if path.suffix == ".onnx" else path / "model.onnx"


def _check_onnx_target(final: Path, overwrite: bool) -> None:
    """Refuse, before converting, an ONNX file that exists (without ``overwrite``) or cannot be made."""
    if final.is_dir():
        raise ExportError(
            f"{str(final)!r} is a folder: give a file path ending in .onnx, or a folder to write model.onnx into."
        )
    if final.exists() and not overwrite:
        raise TargetExistsError(
            f"{str(final)!r} already exists: pass overwrite=True (kerasformers export "
            "--overwrite) to replace it, or give another path."
        )
    existing = final.parent
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise NotAFolderError(f"Cannot write {str(final)!r}: {str(existing)!r} is a file, not a folder.")


def _write_file_atomically(final: Path, data: bytes) -> None:
    """Write ``final`` via a hidden temporary file beside it and a rename: complete or absent."""
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".tmp-{final.name}-", dir=final.parent)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())  # the bytes are on disk before the name points at them
        os.chmod(tmp, 0o644)
        os.replace(tmp, final)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _unsupported_ops(model_proto) -> list[str]:
    """Node types onnxruntime will not know: TensorFlow ops tf2onnx left unconverted."""
    import onnx

    versions = {entry.domain or "ai.onnx": entry.version for entry in model_proto.opset_import}
    missing = set()
    for node in model_proto.graph.node:
        domain = node.domain or "ai.onnx"
        if domain not in ("ai.onnx", "com.microsoft"):
            missing.add(node.op_type)
        elif domain == "ai.onnx":
            try:
                onnx.defs.get_schema(node.op_type, versions["ai.onnx"], "")
            except onnx.defs.SchemaError:
                missing.add(node.op_type)
    return sorted(missing)


def export_onnx(
    model,
    path: str | os.PathLike,
    *,
    opset: int = DEFAULT_OPSET,
    input_dtype: str = "int64",
    output_hidden_states: bool = False,
    output_attentions: bool = False,
    overwrite: bool = False,
) -> Path:
    """Write ``model``'s forward pass as an ONNX file and return its path.

    ``path`` ending in ``.onnx`` is the file; otherwise it is a folder and the file is
    ``path/model.onnx``. Inputs: ``input_ids``, ``attention_mask`` and (when the model takes
    them) ``token_type_ids``, of ``input_dtype`` (``"int64"``, as tokenizers return them, or
    ``"int32"``), with dynamic batch and sequence axes. Outputs: the model's named outputs.
    ``opset`` between :data:`MIN_OPSET` and :data:`MAX_OPSET`. The file is complete or absent;
    an existing file is replaced only with ``overwrite=True`` (else FileExistsError, before converting).

    Example:
        >>> path = export_onnx(TFBertForSequenceClassification.from_pretrained(ckpt), "out/model.onnx")
        >>> session = onnxruntime.InferenceSession(str(path))
        >>> session.run(["logits"], {"input_ids": ids, "attention_mask": mask, "token_type_ids": types})
    """
    require_tensorflow_backend("export_onnx() (tf2onnx on a traced TensorFlow graph)")
    from kerasformers.modeling_utils import TFPreTrainedModel

    if not isinstance(model, TFPreTrainedModel):
        raise InvalidInputTypeError(
            f"export_onnx takes a kerasformers model (TFPreTrainedModel), got "
            f"{type(model).__name__}. Load one with TFAutoModel*.from_pretrained(...); for "
            f"other Keras models use keras.Model.export(path, format='onnx')."
        )
    if not isinstance(opset, int) or not MIN_OPSET <= opset <= MAX_OPSET:
        raise ExportError(
            f"opset={opset!r} is not supported: choose an ONNX opset from {MIN_OPSET} to "
            f"{MAX_OPSET} (tf2onnx 1.17 writes up to {MAX_OPSET}; default {DEFAULT_OPSET})."
        )
    if input_dtype not in ("int32", "int64"):
        raise ExportError(f"input_dtype={input_dtype!r}: token ids are 'int64' (as tokenizers return them) or 'int32'.")
    final = _output_path(path)
    _check_onnx_target(final, overwrite)
    tf2onnx = _require_tf2onnx()
    import tensorflow as tf

    from kerasformers.serving.signatures import call_model, input_rank, named_outputs, serving_input_names

    if not model.built:
        model.build_with_dummy_inputs()
    weight_bytes = sum(int(np.prod(v.shape)) * tf.as_dtype(v.dtype).size for v in model.weights)
    if weight_bytes > MAX_WEIGHT_BYTES:
        raise ExportError(
            f"{type(model).__name__} has {weight_bytes / 1024**3:.1f} GiB of weights; an ONNX "
            f"file holds at most 2 GiB and tf2onnx's external-data path does not run with "
            f"numpy 2. Export a SavedModel instead (model.export(dir)), or load the model in "
            f"float16 (dtype='float16') if that brings it under 2 GiB."
        )

    names = serving_input_names(model)
    rank = input_rank(model)
    specs = [tf.TensorSpec([None] * rank, tf.as_dtype(input_dtype), name=name) for name in names]
    options = {"output_hidden_states": output_hidden_states, "output_attentions": output_attentions}

    # Positional arguments, so the ONNX inputs take the TensorSpec names.
    def forward(*tensors):
        inputs = {name: tf.cast(t, tf.int32) for name, t in zip(names, tensors)}
        return named_outputs(call_model(model, inputs, **options))

    model_proto = _convert(tf2onnx, tf.function(forward, input_signature=specs), opset)
    missing = _unsupported_ops(model_proto)
    if missing:
        raise ExportError(
            f"ONNX export of {type(model).__name__} failed: tf2onnx has no conversion for "
            f"the TensorFlow op(s) {', '.join(missing)} at opset {opset}. Try a higher opset "
            f"(up to {MAX_OPSET}), or export a SavedModel with model.export(dir)."
        )

    axes = ["batch", "num_choices", "sequence"] if rank == 3 else ["batch", "sequence"]
    for graph_input in model_proto.graph.input:
        for dim, axis in zip(graph_input.type.tensor_type.shape.dim, axes):
            dim.dim_param = axis
    for key, value in (("kerasformers_class", type(model).__name__), ("config.json", model.config.to_json_string())):
        entry = model_proto.metadata_props.add()
        entry.key, entry.value = key, value

    _check_onnx_target(final, overwrite)  # again: another writer may have made it meanwhile
    _write_file_atomically(final, model_proto.SerializeToString())
    return final


def export_checkpoint_onnx(
    checkpoint: str | os.PathLike,
    output_dir: str | os.PathLike,
    *,
    task: str = "feature-extraction",
    opset: int = DEFAULT_OPSET,
    overwrite: bool = False,
) -> Path:
    """Load ``checkpoint`` with the model class of ``task`` and write ``output_dir/model.onnx``
    (with the checkpoint's ``config.json`` beside it, as ONNX Runtime loaders expect). An
    existing ``model.onnx`` is replaced only with ``overwrite=True``.

    Example:
        >>> export_checkpoint_onnx("path/to/minilm", "onnx/minilm")   # onnx/minilm/model.onnx
    """
    from kerasformers.serving.pipeline_export import auto_class_for, normalize_task

    root = Path(output_dir)
    if root.exists() and not root.is_dir():
        raise NotAFolderError(
            f"The output folder {str(output_dir)!r} is an existing file: give a folder "
            "path (model.onnx and config.json go into it)."
        )
    _check_onnx_target(root / "model.onnx", overwrite)  # before the (slow) load and conversion
    task = normalize_task(task)
    _require_tf2onnx()
    model = auto_class_for(task).from_pretrained(checkpoint)
    path = export_onnx(model, root / "model.onnx", opset=opset, overwrite=overwrite)
    # config.json after model.onnx, each written whole: a kill between leaves the model without
    # its config (the export's file, model.onnx, is complete), never a half-written file
    _write_file_atomically(root / "config.json", model.config.to_json_string().encode("utf-8"))
    return path
