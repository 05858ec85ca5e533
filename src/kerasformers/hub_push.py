"""Upload to the Hugging Face Hub: ``push_to_hub`` for anything with ``save_pretrained``.

As transformers' ``PushToHubMixin.push_to_hub``: the repository is created when missing
(``HfApi.create_repo(exist_ok=True)``), the object is saved into a temporary folder and the
folder goes up as ONE commit (``HfApi.upload_folder``), on ``revision`` (a branch, created from
main when missing) or as a pull request (``create_pr=True``). The endpoint is read from
``HF_ENDPOINT`` at call time, so a test server or a mirror set after import is honoured.

Example:
    >>> commit = push_to_hub(model, "me/tiny-bert", commit_message="first version")
    >>> commit.oid  # the commit sha: from_pretrained("me/tiny-bert", revision=commit.oid)
"""

from __future__ import annotations

import contextlib
import inspect
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kerasformers.errors import HubPushError, InvalidInputError, InvalidInputTypeError

__all__ = ["push_to_hub", "HubPushError"]


def hub_api(token: str | bool | None = None):
    """An ``huggingface_hub.HfApi`` on the endpoint ``HF_ENDPOINT`` names (else huggingface.co).

    Example:
        >>> hub_api().endpoint
        'https://huggingface.co'
    """
    from huggingface_hub import HfApi, constants

    endpoint = os.environ.get("HF_ENDPOINT") or constants.ENDPOINT
    return HfApi(endpoint=endpoint.rstrip("/"), token=token)


def default_commit_message(obj: Any) -> str:
    """transformers' default commit message: "Upload tokenizer", "Upload config" or "Upload model".

    Example:
        >>> default_commit_message(tokenizer)
        'Upload tokenizer'
    """
    name = type(obj).__name__
    for part, message in (
        ("Processor", "Upload processor"),
        ("Tokenizer", "Upload tokenizer"),
        ("FeatureExtractor", "Upload feature extractor"),
        ("Config", "Upload config"),
    ):
        if part in name:
            return message
    return "Upload model"


def _check_arguments(repo_id, safe_serialization, obj) -> None:
    if not isinstance(repo_id, str) or not repo_id.strip() or repo_id.count("/") > 1:
        raise InvalidInputTypeError(
            f"push_to_hub: repo_id must be a Hub repository name like 'me/my-model', got {repo_id!r}."
        )
    if not safe_serialization:
        raise InvalidInputError(
            "push_to_hub(safe_serialization=False) is not supported: kerasformers writes only safetensors "
            "(no pickles). Leave safe_serialization=True."
        )
    if not callable(getattr(obj, "save_pretrained", None)):
        raise InvalidInputTypeError(
            f"push_to_hub needs an object with save_pretrained(folder); {type(obj).__name__} has none."
        )


def _save(obj, folder: Path, max_shard_size) -> None:
    parameters = inspect.signature(obj.save_pretrained).parameters
    takes_shard_size = "max_shard_size" in parameters or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()
    )
    if takes_shard_size:
        obj.save_pretrained(folder, max_shard_size=max_shard_size)
    else:
        obj.save_pretrained(folder)


@contextlib.contextmanager
def hub_errors(repo_id: str, endpoint: str):
    """Turn huggingface_hub's HTTP and network errors into one :class:`HubPushError` naming the fix.

    Example:
        >>> with hub_errors("me/x", api.endpoint):
        ...     api.create_repo("me/x", exist_ok=True)
    """
    from huggingface_hub.errors import HfHubHTTPError

    try:
        yield
    except HfHubHTTPError as error:
        status = getattr(getattr(error, "response", None), "status_code", None)
        hint = (
            "Log in (hf auth login) or pass token=... with write access."
            if status in (401, 403)
            else "Check the repository name, the token and the network (HF_ENDPOINT)."
        )
        raise HubPushError(f"push_to_hub to {repo_id!r} on {endpoint} failed ({status}): {hint}") from error
    except Exception as error:
        if type(error).__module__.split(".")[0] not in ("httpx", "httpx2", "requests", "urllib3"):
            raise
        raise HubPushError(
            f"push_to_hub to {repo_id!r}: cannot reach {endpoint} ({type(error).__name__}: {error}). "
            "Check the network, or HF_ENDPOINT for a mirror."
        ) from error


def lower_thread_priority(niceness: int = 10) -> None:
    """Lower the calling thread's CPU priority (Linux: per thread), so an upload yields to training.

    Used as the initializer of the background push threads; a no-op where not supported.

    Example:
        >>> ThreadPoolExecutor(max_workers=1, initializer=lower_thread_priority)
    """
    import threading

    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), niceness)
    except (AttributeError, OSError):  # not Linux, or not allowed: uploads still work
        pass


def link_or_copy(source, destination):
    """Hard-link ``source`` to ``destination`` (no copy of the weights) where the file system allows, else copy it.

    Example:
        >>> link_or_copy("out/model.safetensors", "snapshot/model.safetensors")
    """
    try:
        os.link(source, destination)
    except OSError:
        shutil.copy2(source, destination)
    return destination


def snapshot_folder(folder: str | os.PathLike, skip=None) -> Path:
    """A copy of ``folder`` (hard links where possible) that later saves cannot change mid-upload.

    ``skip(relative_path)`` leaves entries out (e.g. checkpoint folders). The caller deletes the copy.

    Example:
        >>> snapshot = snapshot_folder("out", skip=lambda rel: rel.parts[0].startswith("checkpoint-"))
    """
    folder = Path(folder)
    target = Path(tempfile.mkdtemp(prefix="kerasformers-push-"))
    for item in folder.rglob("*"):
        relative = item.relative_to(folder)
        if item.is_file() and not (skip is not None and skip(relative)):
            destination = target / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            link_or_copy(item, destination)
    return target


def push_folder(
    folder: str | os.PathLike,
    repo_id: str,
    *,
    commit_message: str,
    commit_description: str | None = None,
    private: bool | None = None,
    token: str | bool | None = None,
    revision: str | None = None,
    create_pr: bool = False,
):
    """Create ``repo_id`` if needed and upload ``folder`` as one commit; returns the ``CommitInfo``.

    Example:
        >>> push_folder("out", "me/x", commit_message="Training in progress epoch 1").oid
    """
    from huggingface_hub import CommitOperationAdd

    api = hub_api(token)
    with hub_errors(repo_id, api.endpoint):
        repo_id = api.create_repo(repo_id, private=private, exist_ok=True).repo_id
        if revision is not None and not create_pr:
            api.create_branch(repo_id, branch=revision, exist_ok=True)
        # One create_commit of every file: upload_folder may split a large folder into several commits.
        operations = [
            CommitOperationAdd(path_in_repo=path.relative_to(folder).as_posix(), path_or_fileobj=os.fspath(path))
            for path in sorted(Path(folder).rglob("*"))
            if path.is_file()
        ]
        return api.create_commit(
            repo_id=repo_id,
            operations=operations,
            commit_message=commit_message,
            commit_description=commit_description,
            revision=revision,
            create_pr=create_pr,
        )


def push_to_hub(
    obj: Any,
    repo_id: str,
    commit_message: str | None = None,
    private: bool | None = None,
    token: str | bool | None = None,
    revision: str | None = None,
    create_pr: bool = False,
    max_shard_size: int | str = "5GB",
    safe_serialization: bool = True,
    tags: list[str] | None = None,
    *,
    commit_description: str | None = None,
    write_card: Callable[[Path, str, Any], None] | None = None,
    **kwargs: Any,
):
    """Save ``obj`` (model, tokenizer, config: anything with ``save_pretrained``) and upload it.

    ``write_card(folder, repo_id, api)`` may add a README.md to the folder before the upload
    (the models' ``push_to_hub`` passes the model card writer). Returns huggingface_hub's
    ``CommitInfo`` (``.oid`` is the commit sha, ``.pr_url`` the pull request when ``create_pr``).
    ``use_temp_dir`` and other transformers keywords are accepted: the save always goes through a
    temporary folder.

    Example:
        >>> info = push_to_hub(tokenizer, "me/tiny-bert", create_pr=True)
        >>> info.pr_revision
        'refs/pr/1'
    """
    _check_arguments(repo_id, safe_serialization, obj)
    token = _token_from_legacy_kwargs(token, kwargs)
    with tempfile.TemporaryDirectory(prefix="kerasformers-push-") as tmp:
        folder = Path(tmp) / "upload"
        folder.mkdir()  # some save_pretrained (GenerationConfig's) write into an existing folder only
        _save(obj, folder, max_shard_size)
        if write_card is not None:
            write_card(folder, repo_id, {"token": token, "revision": revision, "tags": tags})
        else:
            _write_basic_card(folder, repo_id, token=token, revision=revision, tags=tags)
        return push_folder(
            folder,
            repo_id,
            commit_message=commit_message or default_commit_message(obj),
            commit_description=commit_description,
            private=private,
            token=token,
            revision=revision,
            create_pr=create_pr,
        )


# transformers keywords that change nothing here: the save always goes through a temporary folder.
_ACCEPTED_KWARGS = {"use_temp_dir", "ignore_metadata_errors"}


def _token_from_legacy_kwargs(token, kwargs: dict):
    use_auth_token = kwargs.pop("use_auth_token", None)
    unknown = sorted(set(kwargs) - _ACCEPTED_KWARGS)
    if unknown:
        raise InvalidInputTypeError(
            f"push_to_hub got unknown keyword arguments {unknown}: see help(model.push_to_hub) for the accepted ones."
        )
    if use_auth_token is not None:
        if token is not None:
            raise InvalidInputError("push_to_hub: pass token=... only (use_auth_token is its deprecated name).")
        return use_auth_token
    return token


def download_existing_card(repo_id: str, *, token=None, revision=None) -> str | None:
    """The repository's README.md text, or None when the repository or the file does not exist yet.

    Example:
        >>> download_existing_card("me/tiny-bert") is None
        True
    """
    from huggingface_hub.errors import (
        EntryNotFoundError,
        HfHubHTTPError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    api = hub_api(token)
    with tempfile.TemporaryDirectory(prefix="kerasformers-card-") as tmp:
        try:
            path = api.hf_hub_download(repo_id, "README.md", revision=revision, local_dir=tmp)
        except (EntryNotFoundError, RepositoryNotFoundError, RevisionNotFoundError):
            return None
        except HfHubHTTPError as error:
            if getattr(getattr(error, "response", None), "status_code", None) == 404:
                return None
            raise
        return Path(path).read_text(encoding="utf-8")


def _write_basic_card(folder: Path, repo_id: str, *, token=None, revision=None, tags=None) -> None:
    """Tokenizers and configs keep the repository's card; a new repository gets a minimal one."""
    from huggingface_hub import ModelCard, ModelCardData

    existing = download_existing_card(repo_id, token=token, revision=revision)
    if existing is not None:
        card = ModelCard(existing, ignore_metadata_errors=True)
    else:
        data = ModelCardData(library_name="kerasformers")
        card = ModelCard(f"---\n{data.to_yaml()}\n---\n\n# {repo_id.split('/')[-1]}\n")
    if tags:
        card.data.tags = list(dict.fromkeys([*(card.data.tags or []), *tags]))
    card.save(folder / "README.md")
