"""SavedModel writing: TF Serving's layout (``<dir>/<version>/``), version numbers, atomic writes,
and :func:`export_saved_model` (the model alone, int32/int64 token ids in)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from kerasformers.errors import ExportError, TargetExistsError
from kerasformers.hub import check_writable_folder, exchange_paths, remove_stale_temps
from kerasformers.serving._tensorflow import tf
from kerasformers.serving.signatures import serving_function, serving_functions
from kerasformers.utils.backend import require_tensorflow_backend

__all__ = ["next_version", "check_export_target", "export_saved_model"]


def next_version(export_dir: str | os.PathLike) -> int:
    """The next TF Serving version number under ``export_dir``: one more than the largest there.

    Hidden folders (a ``.tmp-*`` export in progress, a ``.old-*`` version being replaced) are
    not versions.

    Example:
        >>> next_version("empty_or_missing_dir")
        1
    """
    folder = Path(export_dir)
    versions = [int(p.name) for p in folder.iterdir() if p.is_dir() and p.name.isdigit()] if folder.is_dir() else []
    return max(versions, default=0) + 1


def check_export_target(
    export_dir: str | os.PathLike, version: int | str | None = None, overwrite: bool = False
) -> None:
    """Refuse, before any work, an export that could not be written or would replace a version.

    ``export_dir`` must be a folder (or not exist yet); ``version`` (when given) a whole number
    >= 0 or a plain folder name; ``export_dir/<version>`` must not exist unless ``overwrite``.

    Example:
        >>> check_export_target("serving/bert", 1)   # FileExistsError if serving/bert/1 exists
    """
    require_tensorflow_backend("A TensorFlow SavedModel export")  # issue 20: the exporters all start here
    root = check_writable_folder(export_dir, what="export_dir")  # versions go into <folder>/<version>/
    if version is None:
        return
    name = str(version)
    if (
        isinstance(version, bool)
        or (isinstance(version, int) and version < 0)
        or not name
        or name.startswith(".")
        or "/" in name
        or os.sep in name
    ):
        raise ExportError(
            f"version={version!r} is not a version folder name: use a whole number >= 0 "
            "(TF Serving's versions) or a plain folder name not starting with '.'."
        )
    if (root / name).exists() and not overwrite:
        raise TargetExistsError(
            f"{str(root / name)!r} already exists: pass overwrite=True (kerasformers export "
            f"--overwrite) to replace it, or leave the version out to write the next free "
            f"one ({next_version(root)})."
        )


def write_saved_model(
    module,
    signatures: dict,
    export_dir: str | os.PathLike,
    version: int | str | None,
    extra_files: dict[str, str] | None = None,
    overwrite: bool = False,
) -> Path:
    """tf.saved_model.save into ``export_dir/<version>`` via a hidden temporary folder and a rename.

    The version folder appears only complete: a kill during the save leaves a hidden
    ``.tmp-<pid>-*`` folder (never a version, see :func:`next_version`; the next export removes
    it). Replacing a version (``overwrite``) swaps old and new in one atomic rename.

    Example:
        >>> write_saved_model(exportable_module(model), serving_functions(model), "serving/bert", version=1)
        PosixPath('serving/bert/1')
    """
    root = Path(export_dir)
    check_export_target(root, version, overwrite)
    root.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(root, ".tmp-")  # what exports killed mid-way left behind
    version = next_version(root) if version is None else version
    final = root / str(version)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{os.getpid()}-{version}-", dir=root))
    try:
        options = tf.saved_model.SaveOptions(experimental_custom_gradients=False)
        tf.saved_model.save(module, str(tmp), signatures=signatures, options=options)
        for name, text in (extra_files or {}).items():
            (tmp / "assets.extra").mkdir(exist_ok=True)
            (tmp / "assets.extra" / name).write_text(text, encoding="utf-8")
        tmp.chmod(0o755)
        check_export_target(root, version, overwrite)  # another writer may have taken it meanwhile
        # one atomic step: a server (or a kill) sees the old version or the new one, never neither
        if not (final.exists() and exchange_paths(tmp, final)):
            if final.exists():  # no atomic exchange on this file system: swap in two renames
                aside = Path(tempfile.mkdtemp(prefix=f".tmp-{os.getpid()}-old-", dir=root))
                os.replace(final, aside / "version")
                os.replace(tmp, final)
                shutil.rmtree(aside, ignore_errors=True)
            else:
                os.replace(tmp, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # after an exchange it holds the old version
    return final


def exportable_module(model, tokenizer=None):
    """What gets saved: the model's variables and the tokenizer (its tables).

    The plain tf.Variables are tracked (as Keras' ExportArchive does, but one level down):
    TF1-style loaders such as ``saved_model_cli run`` only restore variables saved that way.

    Example:
        >>> tf.saved_model.save(exportable_module(model, tokenizer_layer), "out")
    """
    module = tf.__internal__.tracking.AutoTrackable()
    module.variables = [getattr(v, "value", v) for v in model.variables]
    if tokenizer is not None:
        module.tokenizer = tokenizer
    return module


# ---------------------------------------------------------------------------------- model only


def export_saved_model(
    model,
    export_dir: str | os.PathLike,
    *,
    version: int | str | None = None,
    int64: bool = True,
    output_hidden_states: bool = False,
    output_attentions: bool = False,
    overwrite: bool = False,
) -> Path:
    """Write ``model`` as a SavedModel into ``export_dir/<version>/`` and return that folder.

    Signatures: ``serving_default`` (int32 inputs) and ``serving_int64``; inputs are
    ``input_ids``, ``attention_mask`` and (when the model takes them) ``token_type_ids``, with
    dynamic batch and sequence length. ``version`` defaults to one more than the largest
    existing version folder (a non-numeric ``version`` is used as the folder name); an existing
    ``version`` is replaced only with ``overwrite=True`` (else FileExistsError, before any work).
    The loaded object's ``serve({...})`` takes int32 or int64 ids (a signature takes one dtype:
    int64 ids go to ``serving_int64``). Loading it needs only TensorFlow.

    Example:
        >>> path = export_saved_model(model, "serving/bert")   # serving/bert/1
        >>> serve = tf.saved_model.load(str(path)).signatures["serving_default"]
        >>> serve(input_ids=ids, attention_mask=mask, token_type_ids=types)["logits"]
        >>> tf.saved_model.load(str(path)).serve(dict(tokenizer(texts, return_tensors="np")))
    """
    check_export_target(export_dir, version, overwrite)
    if not model.built:
        model.build_with_dummy_inputs()
    function = serving_function(model, output_hidden_states=output_hidden_states, output_attentions=output_attentions)
    signatures = serving_functions(model, int64=int64, function=function)
    module = exportable_module(model)
    module.serve = function  # both traced dtypes: tf.saved_model.load(path).serve takes int32 or int64
    return write_saved_model(
        module, signatures, export_dir, version, {"config.json": model.config.to_json_string()}, overwrite=overwrite
    )
