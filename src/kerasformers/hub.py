"""Resolve a checkpoint name to a local folder of files, and publish folders.

A name is looked up, in order, as:

1. a local folder (``"./my-model"``, ``"/models/bert"``);
2. a folder under the local hub root (``KERASFORMERS_HUB`` or :func:`set_local_hub`), laid
   out as ``<root>/<org>/<name>`` or as a Hugging Face cache (``models--org--name``);
3. the Hugging Face Hub through huggingface_hub (``HF_ENDPOINT``), into the standard Hugging
   Face cache (``HF_HUB_CACHE`` or ``cache_dir``): only the files a model needs are fetched.
   With ``local_files_only=True`` or ``HF_HUB_OFFLINE=1`` only the cache is read; when the
   Hub cannot be reached, a cached snapshot still answers.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import httpx2
import huggingface_hub
import huggingface_hub.constants  # a submodule: `import huggingface_hub` alone does not load it
from huggingface_hub.errors import (
    GatedRepoError,
    HfHubHTTPError,
    LocalEntryNotFoundError,
    OfflineModeIsEnabled,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from kerasformers.errors import (  # noqa: F401  (re-exported)
    CheckpointNotFoundError,
    FolderNotWritableError,
    InvalidInputError,
    MissingFileError,
    NotAFolderError,
)

_local_hub_root: str | None = None

# What from_pretrained of a model, config, tokenizer or generation config reads; nothing else is fetched.
CHECKPOINT_FILES = (
    "config.json",
    "generation_config.json",
    "model.safetensors",
    "model.safetensors.index.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "added_tokens.json",
    "vocab.txt",
    "vocab.json",
    "merges.txt",
    "tokenizer.model",
    "spiece.model",
    "sentencepiece.bpe.model",
    "chat_template.jinja",
    "chat_template.json",
    "preprocessor_config.json",  # image processors
)
PICKLE_FILES = ("pytorch_model.bin", "pytorch_model.bin.index.json")
_INDEXES = ("model.safetensors.index.json", "pytorch_model.bin.index.json")


def cache_dir() -> Path:
    """The folder kerasformers builds into (converted checkpoints, data sets, tokenizer tables).

    ``$KERASFORMERS_CACHE`` if set, else ``~/.cache/kerasformers``; created on demand.

    Example:
        >>> cache_dir()  # doctest: +SKIP
        PosixPath('/home/me/.cache/kerasformers')
    """
    path = Path(os.environ.get("KERASFORMERS_CACHE") or Path.home() / ".cache" / "kerasformers").expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


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


# from_pretrained's arguments that say how a Hub checkpoint is fetched (beside revision and cache_dir)
DOWNLOAD_OPTIONS = ("token", "local_files_only", "force_download")


def pop_download_options(kwargs: dict) -> dict:
    """Remove :data:`DOWNLOAD_OPTIONS` from ``kwargs`` and return them, for :func:`resolve_checkpoint`.

    Example:
        >>> pop_download_options({"token": "hf_x", "num_labels": 3})
        {'token': 'hf_x'}
    """
    return {name: kwargs.pop(name) for name in DOWNLOAD_OPTIONS if name in kwargs}


def resolve_checkpoint(
    name_or_path: str | os.PathLike,
    revision: str | None = None,
    cache_dir: str | os.PathLike | None = None,
    token: str | bool | None = None,
    local_files_only: bool = False,
    force_download: bool = False,
    allow_pickle: bool = False,
) -> Path:
    """Return the local folder that holds checkpoint ``name_or_path``, downloading it if needed.

    ``revision`` is a branch, tag or commit sha; ``token`` is passed to huggingface_hub (a string,
    or True/None for the stored login); ``allow_pickle=True`` also fetches ``pytorch_model.bin``
    (shards included). Downloads go through huggingface_hub into its cache, with its progress bars.

    Example:
        >>> folder = resolve_checkpoint("sentence-transformers/all-MiniLM-L6-v2", revision="main")
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
            f"Could not find checkpoint {name!r}. Looked in:\n  - "
            + "\n  - ".join(looked)
            + "\nIt is neither an existing folder nor a hub name like 'org/name'."
        )

    root = local_hub_root()
    if root is not None:
        plain = root / name
        if plain.is_dir() and revision in (None, "main"):
            return plain
        looked.append(f"local hub folder {plain}")
        found = _from_hf_cache(name, revision, root, looked, "local hub (HF cache layout)", allow_pickle)
        if found is not None:
            return found

    offline = huggingface_hub.constants.is_offline_mode()
    if local_files_only or offline:
        found = _from_hf_cache(name, revision, cache_dir, looked, "Hugging Face cache", allow_pickle)
        if found is not None:
            return found
        why = "local_files_only=True" if local_files_only else "HF_HUB_OFFLINE=1"
        raise CheckpointNotFoundError(
            f"Could not find checkpoint {name!r}"
            + (f" at revision {revision!r}" if revision else "")
            + f" without a download ({why}). Looked in:\n  - "
            + "\n  - ".join(looked)
            + "\nDrop local_files_only / unset HF_HUB_OFFLINE to download it, pass a local folder, "
            "or set KERASFORMERS_HUB."
        )
    return _download(name, revision, cache_dir, token, force_download, allow_pickle, looked)


def _fetch(name, revision, cache_dir, allow_pickle, **options) -> Path:
    """snapshot_download of the checkpoint files, then of exactly the shards its index names."""
    patterns = list(CHECKPOINT_FILES) + (list(PICKLE_FILES) if allow_pickle else [])
    download = huggingface_hub.snapshot_download
    folder = Path(download(name, revision=revision, cache_dir=cache_dir, allow_patterns=patterns, **options))
    shards = []
    for index in _INDEXES:
        if (folder / index).is_file():
            weight_map = json.loads((folder / index).read_text()).get("weight_map", {})
            shards += sorted(set(weight_map.values()))
    if shards:  # pinned to the snapshot's commit: the shards come from the same revision as the index
        download(name, revision=folder.name, cache_dir=cache_dir, allow_patterns=shards, **options)
        missing = [shard for shard in shards if not (folder / shard).is_file()]
        if missing:
            raise MissingFileError(
                f"{name!r} (revision {folder.name[:12]}) has an index naming {missing[0]!r}, which the repo "
                "does not hold. Re-upload the checkpoint with all its shards, or pick another revision."
            )
    return folder


def _download(name, revision, cache_dir, token, force_download, allow_pickle, looked) -> Path:
    at = f" at revision {revision!r}" if revision else ""
    endpoint = huggingface_hub.constants.ENDPOINT
    try:
        return _fetch(name, revision, cache_dir, allow_pickle, token=token, force_download=force_download)
    except GatedRepoError as error:
        status = error.response.status_code if error.response is not None else None
        fix = (
            "pass a token with access (token=...)" if status == 401 else "request access on its page with this account"
        )
        raise CheckpointNotFoundError(f"{name!r} on {endpoint} is a gated repo: {fix}.") from None
    except RepositoryNotFoundError as error:
        status = error.response.status_code if error.response is not None else None
        if status == 401:
            message = (
                f"{name!r} was not found on {endpoint}, or it is private and no valid token was sent: check the "
                "name, or pass token=... (or log in with `hf auth login`)."
            )
        elif status == 403:
            message = f"{name!r} on {endpoint} is private and this token has no access: pass the owner's token=...."
        else:
            message = f"{name!r} was not found on {endpoint}: check the name (org/name)."
        raise CheckpointNotFoundError(message) from None
    except RevisionNotFoundError:
        raise CheckpointNotFoundError(
            f"{name!r} has no revision {revision!r} on {endpoint}: pass an existing branch, tag or commit sha."
        ) from None
    except LocalEntryNotFoundError as error:  # the Hub could not be reached and the cache lacks the files
        cause = error.__cause__
        if isinstance(cause, (httpx2.TransportError, OfflineModeIsEnabled, ConnectionError)):
            raise CheckpointNotFoundError(
                f"Could not download {name!r}{at}: {endpoint} cannot be reached ({type(cause).__name__}) and the "
                "Hugging Face cache does not hold it. Check the network or HF_ENDPOINT, or pass a local folder. "
                "Also looked in: " + "; ".join(looked)
            ) from None
        raise CheckpointNotFoundError(
            f"Could not download {name!r}{at} from {endpoint}: {error}".splitlines()[0]
        ) from None
    except HfHubHTTPError as error:
        raise CheckpointNotFoundError(
            f"Could not download {name!r}{at} from {endpoint}: {error}".splitlines()[0]
        ) from None


def _from_hf_cache(name, revision, cache_dir, looked, label, allow_pickle=False) -> Path | None:
    where = cache_dir or huggingface_hub.constants.HF_HUB_CACHE
    try:
        return _fetch(name, revision, cache_dir, allow_pickle, local_files_only=True)
    except (LocalEntryNotFoundError, RevisionNotFoundError, MissingFileError, FileNotFoundError, ValueError) as error:
        looked.append(f"{label} {where} ({type(error).__name__})")
        return None


def atomic_folder_write(destination: str | os.PathLike, replaces: Callable[[str], bool] | None = None):
    """Context manager: yields a temporary folder whose files replace those of ``destination``.

    The new folder is assembled beside ``destination`` (a hidden ``.<name>.tmp-<pid>-*`` sibling):
    the files written into the yielded folder, plus hard links to the files already in
    ``destination`` that are kept. Then the two folders are swapped in one atomic rename, so a
    reader (or a process killed at any instant) sees either the complete old folder or the
    complete new one. ``replaces(name)`` says which existing top-level files this writer owns:
    those are dropped unless written anew (e.g. stale weight shards of an earlier save).

    Example:
        >>> with atomic_folder_write("out") as tmp:
        ...     (tmp / "config.json").write_text("{}")
    """
    return _AtomicFolder(Path(destination), replaces)


def check_writable_folder(path: str | os.PathLike, what: str = "save_directory") -> Path:
    """Raise one clear error now if ``path`` cannot become a folder we write into.

    ``what`` names the argument in the message (``save_directory``, ``--output-dir``, ...).

    Example:
        >>> check_writable_folder("out")
        PosixPath('out')
    """
    path = Path(path).expanduser()
    named = f"{what} {os.fspath(path)!r}" if what.startswith("-") else f"{what}={os.fspath(path)!r}"
    if path.exists() and not path.is_dir():
        raise NotAFolderError(
            f"{named} is an existing file, not a folder. Pass a folder path (it is created if missing)."
        )
    parent = next((p for p in (path, *path.parents) if p.exists()), Path("."))
    if not parent.is_dir():
        raise NotAFolderError(f"{named} cannot be created: {parent} is a file, not a folder. Pass another path.")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise FolderNotWritableError(f"{named}: {parent} is not writable. Pass a folder you can write to.")
    return path


_TMP_MARK = ".tmp-"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temps(folder: Path, prefix: str) -> None:
    """Delete ``<prefix><pid>-*`` entries of ``folder`` that a writer killed mid-way left behind.

    Writers name their temporary folders with their process id; entries of a live process
    (another writer at work) are kept, as are names without a pid.

    Example:
        >>> remove_stale_temps(Path("serving/bert"), ".tmp-")
    """
    for path in folder.glob(f"{prefix}*") if folder.is_dir() else ():
        pid = path.name[len(prefix) :].split("-", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and _pid_alive(int(pid)):
            continue  # another process is writing right now
        shutil.rmtree(path, ignore_errors=True)


def _remove_stale_temps(destination: Path) -> None:
    """Temp folders that killed saves left beside ``destination`` (or, in older releases, inside it)."""
    remove_stale_temps(destination.parent, f".{destination.name}{_TMP_MARK}")
    for path in destination.glob(f"{_TMP_MARK}*") if destination.is_dir() else ():
        if path.is_dir() and not path.name[len(_TMP_MARK) :].split("-", 1)[0].isdigit():
            shutil.rmtree(path, ignore_errors=True)  # the older layout: random names, no pid


def _link_or_copy(item: Path, target: Path) -> None:
    """Recreate ``item`` at ``target``: files as hard links (no copy of large data), folders recursively."""
    if item.is_symlink():
        os.symlink(os.readlink(item), target)
    elif item.is_dir():
        target.mkdir()
        for child in item.iterdir():
            _link_or_copy(child, target / child.name)
        shutil.copystat(item, target)
    else:
        try:
            os.link(item, target)
        except OSError:  # a file system without hard links
            shutil.copy2(item, target)


def exchange_paths(a: Path, b: Path) -> bool:
    """Swap two paths in one atomic step (Linux renameat2 RENAME_EXCHANGE); False if unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    errno = ctypes.get_errno()
    if errno in (22, 38, 95):  # EINVAL, ENOSYS, EOPNOTSUPP: the file system cannot exchange
        return False
    raise OSError(errno, os.strerror(errno), os.fspath(b))


class _AtomicFolder:
    def __init__(self, destination: Path, replaces: Callable[[str], bool] | None):
        self.destination = check_writable_folder(destination).resolve()
        self.replaces = replaces or (lambda name: False)

    def __enter__(self) -> Path:
        self.destination.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale_temps(self.destination)
        self.tmp = Path(
            tempfile.mkdtemp(prefix=f".{self.destination.name}{_TMP_MARK}{os.getpid()}-", dir=self.destination.parent)
        )
        return self.tmp

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is None:
                self._commit()
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)
        return False

    def _commit(self) -> None:
        self.tmp.chmod(0o755)  # mkdtemp makes it private; the result is an ordinary folder
        if not self.destination.exists():
            os.replace(self.tmp, self.destination)
            return
        for item in self.destination.iterdir():  # keep what this writer does not own
            owned = item.is_file() and self.replaces(item.name)
            if not owned and not item.name.startswith(_TMP_MARK) and not (self.tmp / item.name).exists():
                _link_or_copy(item, self.tmp / item.name)
        shutil.copystat(self.destination, self.tmp)
        if not exchange_paths(self.tmp, self.destination):
            # No atomic swap here: move the old folder aside, then the new one in (a short window).
            aside = self.tmp.with_name(self.tmp.name + "-old")
            os.replace(self.destination, aside)
            os.replace(self.tmp, self.destination)
            self.tmp = aside  # removed by __exit__


def push_to_local_hub(folder: str | os.PathLike, repo_id: str) -> Path:
    """Copy a saved checkpoint folder into the local hub as ``<root>/<repo_id>``.

    Example:
        >>> set_local_hub("/srv/models"); push_to_local_hub("out", "me/my-model")
    """
    root = local_hub_root()
    if root is None:
        raise InvalidInputError(
            "No local hub is set: set KERASFORMERS_HUB or call kerasformers.set_local_hub(path) before pushing."
        )
    if not _is_repo_id(repo_id):
        raise InvalidInputError(f"repo_id must look like 'org/name', got {repo_id!r}.")
    with atomic_folder_write(root / repo_id) as tmp:
        for item in Path(folder).iterdir():
            if item.is_file():
                shutil.copy2(item, tmp / item.name)
    return root / repo_id
