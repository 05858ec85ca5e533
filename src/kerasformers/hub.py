"""Resolve a checkpoint name to a local folder of files, and publish folders.

A name is looked up, in order, as:

1. a local folder (``"./my-model"``, ``"/models/bert"``);
2. a folder under the local hub root (``KERASFORMERS_HUB`` or :func:`set_local_hub`), laid
   out as ``<root>/<org>/<name>`` or as a Hugging Face cache (``models--org--name``);
3. the standard Hugging Face cache (``HF_HUB_CACHE``), offline.

Nothing is downloaded: kerasformers runs without a network.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import huggingface_hub
from huggingface_hub.errors import LocalEntryNotFoundError, RevisionNotFoundError

_local_hub_root: str | None = None


class CheckpointNotFoundError(OSError):
    """A checkpoint name that no source could resolve; the message lists where we looked."""


def set_local_hub(path: str | os.PathLike | None) -> None:
    """Set the root of the local hub (overrides the ``KERASFORMERS_HUB`` environment variable).

    Example:
        >>> set_local_hub("/srv/models")   # then from_pretrained("org/name") reads /srv/models/org/name
    """
    global _local_hub_root
    _local_hub_root = None if path is None else os.fspath(path)


def local_hub_root() -> Path | None:
    """The local hub root in use, or None."""
    root = _local_hub_root or os.environ.get("KERASFORMERS_HUB")
    return Path(root).expanduser() if root else None


def _is_repo_id(name: str) -> bool:
    parts = name.split("/")
    return 1 <= len(parts) <= 2 and all(parts) and not name.startswith((".", "~"))


def resolve_checkpoint(
    name_or_path: str | os.PathLike,
    revision: str | None = None,
    cache_dir: str | os.PathLike | None = None,
) -> Path:
    """Return the local folder that holds checkpoint ``name_or_path``.

    Example:
        >>> folder = resolve_checkpoint("sentence-transformers/all-MiniLM-L6-v2")
        >>> (folder / "config.json").exists()
        True
    """
    name = os.fspath(name_or_path)
    looked: list[str] = []

    folder = Path(name).expanduser()
    if folder.is_dir():
        if revision not in (None, "main"):
            raise CheckpointNotFoundError(
                f"revision={revision!r} was asked for, but {name!r} is a plain local folder, which "
                "has no revisions. Drop the revision argument, or point at a Hugging Face cache."
            )
        return folder
    looked.append(f"local folder {folder.resolve()} (does not exist)")

    if not _is_repo_id(name):
        raise CheckpointNotFoundError(
            f"Could not find checkpoint {name!r}. Looked in:\n  - " + "\n  - ".join(looked)
            + "\nIt is neither an existing folder nor a hub name like 'org/name'."
        )

    root = local_hub_root()
    if root is not None:
        plain = root / name
        if plain.is_dir() and revision in (None, "main"):
            return plain
        looked.append(f"local hub folder {plain}")
        found = _from_hf_cache(name, revision, root, looked, "local hub (HF cache layout)")
        if found is not None:
            return found
    else:
        looked.append("local hub: not set (set KERASFORMERS_HUB or call kerasformers.set_local_hub)")

    found = _from_hf_cache(name, revision, cache_dir, looked, "Hugging Face cache")
    if found is not None:
        return found

    raise CheckpointNotFoundError(
        f"Could not find checkpoint {name!r}"
        + (f" at revision {revision!r}" if revision else "")
        + ". Looked in:\n  - " + "\n  - ".join(looked)
        + "\nkerasformers works offline: pass a local folder, put the checkpoint in the Hugging Face "
        "cache (huggingface-cli download on a machine with network), or set KERASFORMERS_HUB."
    )


def _from_hf_cache(name, revision, cache_dir, looked, label) -> Path | None:
    where = cache_dir or huggingface_hub.constants.HF_HUB_CACHE
    try:
        path = huggingface_hub.snapshot_download(
            name, revision=revision, cache_dir=cache_dir, local_files_only=True
        )
        return Path(path)
    except (LocalEntryNotFoundError, RevisionNotFoundError, FileNotFoundError, ValueError) as error:
        looked.append(f"{label} {where} ({type(error).__name__})")
        return None


def atomic_folder_write(destination: str | os.PathLike):
    """Context manager: yields a temporary folder that replaces ``destination`` files on success.

    Files are written beside the destination and moved in only when the block finishes, so a
    failure never leaves a half-written checkpoint.

    Example:
        >>> with atomic_folder_write("out") as tmp:
        ...     (tmp / "config.json").write_text("{}")
    """
    return _AtomicFolder(Path(destination))


class _AtomicFolder:
    def __init__(self, destination: Path):
        self.destination = destination

    def __enter__(self) -> Path:
        self.destination.mkdir(parents=True, exist_ok=True)
        self.tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=self.destination))
        return self.tmp

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is None:
                for item in self.tmp.iterdir():
                    target = self.destination / item.name
                    if target.is_dir() and not target.is_symlink():
                        shutil.rmtree(target)
                    os.replace(item, target)
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)
        return False


def push_to_local_hub(folder: str | os.PathLike, repo_id: str) -> Path:
    """Copy a saved checkpoint folder into the local hub as ``<root>/<repo_id>``.

    Example:
        >>> set_local_hub("/srv/models"); push_to_local_hub("out", "me/my-model")
    """
    root = local_hub_root()
    if root is None:
        raise ValueError(
            "No local hub is set: set KERASFORMERS_HUB or call kerasformers.set_local_hub(path) "
            "before pushing."
        )
    if not _is_repo_id(repo_id):
        raise ValueError(f"repo_id must look like 'org/name', got {repo_id!r}.")
    with atomic_folder_write(root / repo_id) as tmp:
        for item in Path(folder).iterdir():
            if item.is_file():
                shutil.copy2(item, tmp / item.name)
    return root / repo_id
