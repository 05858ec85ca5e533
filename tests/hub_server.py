"""A small Hugging Face Hub-compatible HTTP server for tests (stdlib only, 127.0.0.1).

It speaks the part of the Hub protocol that huggingface_hub 2.4 uses to download
(``hf_hub_download``, ``snapshot_download``, ``HfApi.repo_info`` / ``list_repo_tree`` /
``list_repo_refs``) and to upload (``create_repo``, ``preupload`` -> always "regular" so file
content comes inline, ``create_commit`` including ``create_pr=True``, ``create_branch``,
``create_tag``, ``delete_repo``, ``whoami``). Repositories live on disk under ``root``: file
contents as content-addressed blobs, each commit as a manifest ``{path: sha256}``, refs per repo.

Use it through the session fixture ``hub_server`` and the ``use_hub`` helper of conftest.py::

    def test_download(hub_server, monkeypatch, tmp_path):
        sha = hub_server.add_commit("org/tiny", {"config.json": b"{}"})   # creates the repo
        use_hub(monkeypatch, hub_server, tmp_path / "hf-cache")          # HF_ENDPOINT, cache, token
        path = huggingface_hub.hf_hub_download("org/tiny", "config.json", revision=sha)
        assert ("GET", "org/tiny", "config.json") in hub_server.downloads()

Tokens: ``TOKENS`` maps a bearer token to a user name. A repo created private (through the API
with a token, or ``add_commit(..., private=True, owner=...)``) answers 401 without a token and 403
with another user's token; a ``gated=True`` repo answers the same with ``X-Error-Code: GatedRepo``.
Files named ``*.safetensors``, ``*.bin``, ``*.h5``, ``*.gguf`` are served as LFS files (ETag =
sha256, ``X-Linked-Etag`` / ``X-Linked-Size`` headers, ``lfs`` entry in the tree listing).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

TOKENS = {"hf_me_write": "me", "hf_other_user": "other"}
LFS_SUFFIXES = (".safetensors", ".bin", ".h5", ".gguf", ".msgpack", ".onnx")
_COMMIT_SHA = re.compile(r"^[0-9a-f]{40}$")
_API_ACTIONS = {"revision", "tree", "refs", "commits", "preupload", "commit", "branch", "tag", "settings"}


class HubError(Exception):
    def __init__(self, status: int, code: str | None, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class HubStore:
    """Repositories on disk: blobs by sha256, commits as manifests, refs per repo (thread-safe)."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        (self.root / "blobs").mkdir(parents=True, exist_ok=True)
        self.lock = threading.RLock()

    # -- storage -------------------------------------------------------------------------
    def _meta_path(self, repo_id: str) -> Path:
        return self.root / "repos" / repo_id / "repo.json"

    def meta(self, repo_id: str) -> dict | None:
        path = self._meta_path(repo_id)
        return json.loads(path.read_text()) if path.is_file() else None

    def _save(self, repo_id: str, meta: dict) -> None:
        path = self._meta_path(repo_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(meta))
        os.replace(tmp, path)

    def put_blob(self, content: bytes) -> str:
        digest = hashlib.sha256(content).hexdigest()
        path = self.root / "blobs" / digest
        if not path.exists():
            path.write_bytes(content)
        return digest

    def blob(self, digest: str) -> bytes:
        return (self.root / "blobs" / digest).read_bytes()

    # -- repositories ----------------------------------------------------------------------
    def create_repo(self, repo_id: str, owner: str | None = None, private: bool = False, gated: bool = False) -> dict:
        with self.lock:
            if self.meta(repo_id) is not None:
                raise HubError(409, None, f"You already created this model repo: {repo_id}")
            empty = self._new_commit(None, {}, "initial commit")
            meta = {
                "owner": owner,
                "private": private,
                "gated": gated,
                "branches": {"main": empty},
                "tags": {},
                "prs": [],
                "commits": {empty: {"parent": None, "files": {}, "message": "initial commit"}},
            }
            self._save(repo_id, meta)
            return meta

    def delete_repo(self, repo_id: str) -> None:
        with self.lock:
            path = self._meta_path(repo_id)
            if path.exists():
                path.unlink()

    def _new_commit(self, parent: str | None, files: dict, message: str) -> str:
        payload = json.dumps([parent, sorted(files.items()), message, time.time_ns()])
        return hashlib.sha1(payload.encode()).hexdigest()

    def resolve(self, meta: dict, revision: str) -> str | None:
        """Commit sha of a branch, tag, ``refs/pr/N`` or full commit sha; None if unknown."""
        if revision in meta["branches"]:
            return meta["branches"][revision]
        if revision in meta["tags"]:
            return meta["tags"][revision]
        match = re.fullmatch(r"refs/pr/(\d+)", revision)
        if match and 1 <= int(match.group(1)) <= len(meta["prs"]):
            return meta["prs"][int(match.group(1)) - 1]
        if _COMMIT_SHA.match(revision) and revision in meta["commits"]:
            return revision
        return None

    def commit(
        self,
        repo_id: str,
        revision: str,
        additions: dict[str, bytes],
        deletions: tuple[str, ...] = (),
        message: str = "commit",
        parent: str | None = None,
        create_pr: bool = False,
    ) -> tuple[str, str | None]:
        """Write a commit on branch ``revision`` (or open a PR from it). Returns (sha, pr ref or None)."""
        with self.lock:
            meta = self.meta(repo_id)
            head = self.resolve(meta, revision)
            if head is None or (revision not in meta["branches"] and not revision.startswith("refs/pr/")):
                raise HubError(404, "RevisionNotFound", f"Invalid rev id: {revision}")
            if parent is not None and parent != head:
                raise HubError(412, None, f"A commit has happened since. Parent {parent} is not the head {head}.")
            files = dict(meta["commits"][head]["files"])
            for path in deletions:
                files = {p: d for p, d in files.items() if p != path and not p.startswith(path.rstrip("/") + "/")}
            for path, content in additions.items():
                files[path] = self.put_blob(content)
            sha = self._new_commit(head, files, message)
            meta["commits"][sha] = {"parent": head, "files": files, "message": message}
            pr_ref = None
            if create_pr:
                meta["prs"].append(sha)
                pr_ref = f"refs/pr/{len(meta['prs'])}"
            elif revision.startswith("refs/pr/"):
                meta["prs"][int(revision.rsplit("/", 1)[1]) - 1] = sha
            else:
                meta["branches"][revision] = sha
            self._save(repo_id, meta)
            return sha, pr_ref


class HubServer:
    """The store behind a ThreadingHTTPServer on ``host``; ``url`` is the HF_ENDPOINT to use.

    Example:
        >>> server = HubServer(tmp_path / "hub").start()
        >>> server.add_commit("org/name", {"config.json": b"{}"})
        >>> server.stop()
    """

    def __init__(self, root: str | os.PathLike, host: str = "127.0.0.1", port: int = 0):
        self.store = HubStore(root)
        self.host, self.port = host, port
        self.requests: list[tuple[str, str]] = []  # (method, raw path) of every request served
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> HubServer:
        handler = type("Handler", (_Handler,), {"hub": self})
        self._httpd = ThreadingHTTPServer((self.host, self.port), handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]  # keep the port: a restart serves the same URL
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._thread.join()
            self._httpd = self._thread = None

    # -- helpers for tests -------------------------------------------------------------------
    def add_commit(
        self,
        repo_id: str,
        files: dict[str, bytes | str | os.PathLike] | str | os.PathLike,
        branch: str = "main",
        message: str = "add files",
        private: bool = False,
        gated: bool = False,
        owner: str = "me",
    ) -> str:
        """Commit ``files`` (a dict path -> bytes/Path, or a folder) onto ``branch``, creating the repo
        (and the branch, from main) if needed. Returns the commit sha."""
        if not isinstance(files, dict):
            folder = Path(files)
            files = {p.relative_to(folder).as_posix(): p for p in sorted(folder.rglob("*")) if p.is_file()}
        contents = {k: v if isinstance(v, bytes) else Path(v).read_bytes() for k, v in files.items()}
        with self.store.lock:
            meta = self.store.meta(repo_id) or self.store.create_repo(repo_id, owner, private, gated)
            if branch not in meta["branches"]:
                meta["branches"][branch] = meta["branches"]["main"]
                self.store._save(repo_id, meta)
            return self.store.commit(repo_id, branch, contents, message=message)[0]

    def add_tag(self, repo_id: str, tag: str, revision: str = "main") -> str:
        with self.store.lock:
            meta = self.store.meta(repo_id)
            meta["tags"][tag] = self.store.resolve(meta, revision)
            self.store._save(repo_id, meta)
            return meta["tags"][tag]

    def files(self, repo_id: str, revision: str = "main") -> dict[str, bytes]:
        """The files of ``repo_id`` at ``revision`` (what a push landed), path -> content."""
        meta = self.store.meta(repo_id)
        sha = self.store.resolve(meta, revision)
        return {p: self.store.blob(d) for p, d in meta["commits"][sha]["files"].items()}

    def downloads(self) -> list[tuple[str, str, str]]:
        """(method, repo_id, path) of every file request (``/{repo}/resolve/{rev}/{path}``) so far."""
        out = []
        for method, raw in self.requests:
            parts = [unquote(p) for p in urlsplit(raw).path.strip("/").split("/")]
            if "resolve" in parts[1:3]:
                at = parts.index("resolve")
                out.append((method, "/".join(parts[:at]), "/".join(parts[at + 2 :])))
        return out


class _Handler(BaseHTTPRequestHandler):
    hub: HubServer
    protocol_version = "HTTP/1.0"  # one request per connection: nothing lingers after stop()

    def log_message(self, *args):  # quiet: tests read hub.requests instead
        pass

    # -- plumbing ------------------------------------------------------------------------------
    def _send(self, status: int, body: bytes = b"", headers: dict | None = None, head_only: bool = False):
        self.send_response(status)
        headers = {"Content-Length": str(len(body)), **(headers or {})}
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        if not head_only and body:
            self.wfile.write(body)

    def _json(self, status: int, payload, headers: dict | None = None):
        self._send(status, json.dumps(payload).encode(), {"Content-Type": "application/json", **(headers or {})})

    def _error(self, error: HubError, head_only: bool = False):
        headers = {"X-Error-Message": error.message}
        if error.code:
            headers["X-Error-Code"] = error.code
        body = json.dumps({"error": error.message}).encode()
        self._send(error.status, body, {"Content-Type": "application/json", **headers}, head_only)

    def _user(self) -> str | None:
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            return None
        token = auth[len("Bearer ") :].strip()
        if token not in TOKENS:
            raise HubError(401, None, "Invalid credentials in Authorization header")
        return TOKENS[token]

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _repo(self, repo_id: str, write: bool = False) -> dict:
        meta = self.hub.store.meta(repo_id)
        user = self._user()
        if meta is None:
            raise HubError(401 if user is None else 404, "RepoNotFound", f"Repository {repo_id} not found")
        if (meta["private"] or meta["gated"] or write) and user != meta["owner"]:
            code = "GatedRepo" if meta["gated"] and not write else "RepoNotFound"
            what = "gated" if meta["gated"] else "private"
            raise HubError(401 if user is None else 403, code, f"Access to {what} repo {repo_id} is restricted")
        return meta

    def _revision(self, meta: dict, revision: str) -> str:
        sha = self.hub.store.resolve(meta, revision)
        if sha is None:
            raise HubError(404, "RevisionNotFound", f"Invalid rev id: {revision}")
        return sha

    def _dispatch(self, method: str):
        self.hub.requests.append((method, self.path))
        split = urlsplit(self.path)
        parts = [unquote(p) for p in split.path.strip("/").split("/")]
        query = {k: v[-1] for k, v in parse_qs(split.query).items()}
        try:
            if parts[:1] == ["api"]:
                self._api(method, parts[1:], query)
            elif "resolve" in parts[1:3] and method in ("GET", "HEAD"):
                at = parts.index("resolve", 1)
                self._resolve(method, "/".join(parts[:at]), parts[at + 1], "/".join(parts[at + 2 :]))
            else:
                raise HubError(404, None, f"Not found: {split.path}")
        except HubError as error:
            self._error(error, head_only=method == "HEAD")

    do_GET = lambda self: self._dispatch("GET")  # noqa: E731
    do_HEAD = lambda self: self._dispatch("HEAD")  # noqa: E731
    do_POST = lambda self: self._dispatch("POST")  # noqa: E731
    do_PUT = lambda self: self._dispatch("PUT")  # noqa: E731
    do_DELETE = lambda self: self._dispatch("DELETE")  # noqa: E731

    # -- file downloads ----------------------------------------------------------------------
    def _resolve(self, method: str, repo_id: str, revision: str, path: str):
        meta = self._repo(repo_id)
        sha = self._revision(meta, revision)
        files = meta["commits"][sha]["files"]
        if path not in files:
            headers = {"X-Repo-Commit": sha, "X-Error-Code": "EntryNotFound", "X-Error-Message": "Entry not found"}
            self._send(404, b'{"error":"Entry not found"}', headers, head_only=method == "HEAD")
            return
        content = self.hub.store.blob(files[path])
        headers = {"X-Repo-Commit": sha, "Content-Type": "application/octet-stream"}
        if path.endswith(LFS_SUFFIXES):
            etag = files[path]
            headers.update({"X-Linked-Etag": f'"{etag}"', "X-Linked-Size": str(len(content))})
        else:
            etag = _git_blob_sha(content)
        headers["ETag"] = f'"{etag}"'
        self._send(200, content, headers, head_only=method == "HEAD")

    # -- API -----------------------------------------------------------------------------------
    def _api(self, method: str, parts: list[str], query: dict):
        if parts == ["whoami-v2"]:
            user = self._user()
            if user is None:
                raise HubError(401, None, "Invalid credentials in Authorization header")
            return self._json(200, {"type": "user", "name": user, "auth": {"accessToken": {"role": "write"}}})
        if parts == ["validate-yaml"] and method == "POST":
            # create_commit checks a README.md's metadata here first; the YAML is not checked.
            self._body()
            return self._json(200, {"errors": [], "warnings": []})
        if parts[:1] == ["repos"] and method == "POST":
            return self._repos(parts[1:], json.loads(self._body() or b"{}"))
        if not parts or parts[0] != "models":
            raise HubError(404, None, f"Not found: /api/{'/'.join(parts)}")
        rest = parts[1:]
        # "org/name/action/..." or "name/action/..." (a repo without namespace)
        one_part = len(rest) == 1 or (rest[1] in _API_ACTIONS and self.hub.store.meta(rest[0]) is not None)
        split_at = 1 if one_part else 2
        repo_id, action, args = "/".join(rest[:split_at]), (rest[split_at:] or [None])[0], rest[split_at + 1 :]
        if action in (None, "revision") and method == "GET":
            return self._repo_info(repo_id, "/".join(args) or "main")
        if action == "tree" and method == "GET":
            return self._tree(repo_id, args[0], "/".join(args[1:]), query)
        if action == "refs" and method == "GET":
            meta = self._repo(repo_id)
            ref = lambda name, sha: {"name": name, "ref": name, "targetCommit": sha}  # noqa: E731
            return self._json(
                200,
                {
                    "branches": [ref(n, s) for n, s in meta["branches"].items()],
                    "tags": [ref(n, s) for n, s in meta["tags"].items()],
                    "converts": [],
                    "pullRequests": [ref(f"refs/pr/{i + 1}", s) for i, s in enumerate(meta["prs"])],
                },
            )
        if action == "preupload" and method == "POST":
            self._repo(repo_id, write=True)
            files = json.loads(self._body())["files"]
            answer = [{"path": f["path"], "uploadMode": "regular", "shouldIgnore": False} for f in files]
            return self._json(200, {"files": answer, "commitOid": None})
        if action == "commit" and method == "POST":
            return self._commit(repo_id, "/".join(args), query)
        if action == "branch" and method == "POST":
            meta = self._repo(repo_id, write=True)
            body = json.loads(self._body() or b"{}")
            name = "/".join(args)
            if name in meta["branches"]:
                raise HubError(409, None, f"Reference already exists: {name}")
            with self.hub.store.lock:
                meta = self.hub.store.meta(repo_id)
                meta["branches"][name] = self._revision(meta, body.get("startingPoint") or "main")
                self.hub.store._save(repo_id, meta)
            return self._json(200, {})
        if action == "tag" and method == "POST":
            self._repo(repo_id, write=True)
            tag = json.loads(self._body())["tag"]
            with self.hub.store.lock:
                meta = self.hub.store.meta(repo_id)
                if tag in meta["tags"]:
                    raise HubError(409, None, f"Tag already exists: {tag}")
                meta["tags"][tag] = self._revision(meta, "/".join(args))
                self.hub.store._save(repo_id, meta)
            return self._json(200, {})
        raise HubError(404, None, f"Not found: {method} /api/models/{'/'.join(rest)}")

    def _repos(self, parts: list[str], body: dict):
        user = self._user()
        if user is None:
            raise HubError(401, None, "Invalid credentials in Authorization header")
        repo_id = "/".join(x for x in (body.get("organization") or user, body["name"]) if x)
        if parts == ["create"]:
            private = body.get("private", body.get("visibility") == "private")
            url = f"{self.hub.url}/{repo_id}"
            # The Hub's 409 names the url: create_repo(exist_ok=True) reads it.
            if self.hub.store.meta(repo_id) is not None:
                return self._json(409, {"error": f"You already created this model repo: {repo_id}", "url": url})
            self.hub.store.create_repo(repo_id, owner=user, private=bool(private))
            return self._json(200, {"url": url, "name": repo_id})
        if parts == ["delete"]:
            self._repo(repo_id, write=True)
            self.hub.store.delete_repo(repo_id)
            return self._json(200, {})
        raise HubError(404, None, f"Not found: /api/repos/{'/'.join(parts)}")

    def _repo_info(self, repo_id: str, revision: str):
        meta = self._repo(repo_id)
        sha = self._revision(meta, revision)
        files = meta["commits"][sha]["files"]
        self._json(
            200,
            {
                "id": repo_id,
                "modelId": repo_id,
                "author": repo_id.split("/")[0] if "/" in repo_id else None,
                "sha": sha,
                "private": meta["private"],
                "gated": "auto" if meta["gated"] else False,
                "disabled": False,
                "tags": [],
                "siblings": [{"rfilename": p} for p in sorted(files)],
            },
        )

    def _tree(self, repo_id: str, revision: str, prefix: str, query: dict):
        meta = self._repo(repo_id)
        sha = self._revision(meta, revision)
        recursive = query.get("recursive", "false").lower() in ("1", "true")
        entries, folders = [], set()
        base = prefix.rstrip("/") + "/" if prefix else ""
        for path, digest in sorted(meta["commits"][sha]["files"].items()):
            if not path.startswith(base):
                continue
            rest = path[len(base) :]
            if "/" in rest:
                for depth in range(1, rest.count("/") + 1 if recursive else 2):
                    folders.add(base + "/".join(rest.split("/")[:depth]))
                if not recursive:
                    continue
            content = self.hub.store.blob(digest)
            entry = {"type": "file", "path": path, "size": len(content), "oid": _git_blob_sha(content)}
            if path.endswith(LFS_SUFFIXES):
                entry["lfs"] = {"oid": digest, "size": len(content), "pointerSize": 134}
            entries.append(entry)
        entries += [{"type": "directory", "path": f, "oid": hashlib.sha1(f.encode()).hexdigest()} for f in folders]
        self._json(200, entries)

    def _commit(self, repo_id: str, revision: str, query: dict):
        self._repo(repo_id, write=True)
        header, additions, deletions = {}, {}, []
        for line in self._body().splitlines():
            if not line.strip():
                continue
            item = json.loads(line)
            key, value = item["key"], item["value"]
            if key == "header":
                header = value
            elif key == "file":
                additions[value["path"]] = base64.b64decode(value["content"])
            elif key in ("deletedFile", "deletedFolder"):
                deletions.append(value["path"])
            else:  # lfsFile: preupload never asks for LFS, so a client sending one is out of protocol
                raise HubError(400, None, f"Unsupported commit operation {key!r} (this server only takes inline files)")
        create_pr = query.get("create_pr") in ("1", "true", "True")
        message = header.get("summary", "commit")
        sha, pr_ref = self.hub.store.commit(
            repo_id, revision, additions, tuple(deletions), message, header.get("parentCommit"), create_pr
        )
        pr_url = f"{self.hub.url}/{repo_id}/discussions/{pr_ref.rsplit('/', 1)[1]}" if pr_ref else None
        self._json(
            200,
            {
                "success": True,
                "commitOid": sha,
                "commitUrl": f"{self.hub.url}/{repo_id}/commit/{sha}",
                "pullRequestUrl": pr_url,
                "hookOutput": "",
            },
        )


def _git_blob_sha(content: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


__all__ = ["HubServer", "HubStore", "TOKENS"]


def use_hub(monkeypatch, server, cache_dir, offline: bool = False):
    """Send huggingface_hub to ``server`` (HF_ENDPOINT) with an empty cache at ``cache_dir`` and no token.

    huggingface_hub reads HF_ENDPOINT / HF_HUB_CACHE / HF_HUB_OFFLINE once at import, so both the
    environment (for child processes) and its constants are patched, and undone after the test.

    Example:
        >>> use_hub(monkeypatch, hub_server, tmp_path / "hf-cache")
    """
    import huggingface_hub.constants as constants

    cache_dir = str(cache_dir)
    values = {"HF_ENDPOINT": server.url, "HF_HUB_CACHE": cache_dir, "HF_HUB_OFFLINE": "1" if offline else "0"}
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    for key in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setattr(constants, "ENDPOINT", server.url)
    monkeypatch.setattr(
        constants, "HUGGINGFACE_CO_URL_TEMPLATE", server.url + "/{repo_id}/resolve/{revision}/{filename}"
    )
    monkeypatch.setattr(constants, "HF_HUB_CACHE", cache_dir)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", offline)
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", os.path.join(cache_dir, "no-token"))
    monkeypatch.setattr(constants, "HF_STORED_TOKENS_PATH", os.path.join(cache_dir, "no-stored-tokens"))
