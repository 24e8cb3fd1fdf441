"""Full ``git status`` of a large repository in a helper process.

pygit2's ``Repository.status`` holds Python's GIL for the whole libgit2 walk (about 0.4 s on a
100k-file tree), which would freeze the GUI thread even though the walk runs on the git worker. For
repositories above ``git.status_process_threshold`` index entries the walk runs in one long-lived
helper process (``python -m marie.git.status_process``, its own libgit2 repository object, nothing
shared); the git worker waits for the answer with the GIL released. ``status`` is called from the
git worker only.

Protocol (binary, compact, so that a status with 100k untracked files costs milliseconds, not a
large JSON document to build and parse):
- request: one JSON line ``{"path": ..., "untracked": ..., "parts": n, "follow_load": bool}``;
- answer: ``OK <n>\\n`` then ``n`` bytes of ``<flags>\\0<path>\\0`` records (paths as libgit2 gives
  them, UTF-8 with surrogateescape so no byte is lost), or ``ERR <n>\\n`` then an ``n``-byte message.

The walk itself is the same libgit2 call ``git status`` maps to (index vs HEAD and workdir vs index,
untracked files as configured, no ignored files, no rename detection). One walk costs about what
``git status --porcelain`` costs without its parallel index preload; with ``parts`` > 1 (the
setting ``git.status_threads``) the walk is split by top-level entry over that many threads in the
helper (``marie.git.native_status``), which is how git itself uses the other cores.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

from marie.core.cpu_load import threads_for_load
from marie.core.python_cmd import module_command

_proc: subprocess.Popen | None = None
_lock = threading.Lock()


def encode(status: dict[str, int]) -> bytes:
    """The answer body for {path: flags} (helper side)."""
    parts: list[str] = []
    for path, flags in status.items():
        parts.append(str(int(flags)))
        parts.append(path)
    if not parts:
        return b""
    return ("\0".join(parts) + "\0").encode("utf-8", "surrogateescape")


def decode(body: bytes) -> dict[str, int]:
    """{path: flags} from an answer body (parent side)."""
    if not body:
        return {}
    fields = body.decode("utf-8", "surrogateescape").split("\0")
    fields.pop()  # the last record ends with \0
    # flags, path, flags, path, ...: pair them without a Python-level loop per field
    return dict(zip(fields[1::2], map(int, fields[0::2])))


# Set by the command line (``marie git status``), which runs one status and exits: there the same
# split walk runs in this process, since there is no window to freeze and starting a second Python
# for the helper cost more than the walk itself (0.9 s of a 1.3 s `marie git status`, bench_cli).
in_process = False
_inline_repos: dict = {}
_inline_splits: dict = {}


def status(path: str, untracked: str = "all", parts: int = 1, follow_load: bool = False) -> dict[str, int]:
    """{repository path: libgit2 status flags} computed in the helper process (started on first use),
    split over ``parts`` threads there when more than one (see ``marie.git.native_status``), fewer
    when ``follow_load`` and other programs keep the cores busy. With ``in_process`` set, the same
    walk runs here instead."""
    global _proc
    if in_process:
        with _lock:
            return _walk(_inline_repos, _inline_splits,
                         {"path": path, "untracked": untracked, "parts": parts, "follow_load": follow_load})
    with _lock:
        for attempt in range(2):
            if _proc is None or _proc.poll() is not None:
                package_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
                env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")]))}
                _proc = subprocess.Popen(module_command("marie.git.status_process"), stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, bufsize=1 << 20, env=env)
            try:
                assert _proc.stdin and _proc.stdout
                _proc.stdin.write(json.dumps({"path": path, "untracked": untracked, "parts": parts,
                                                "follow_load": follow_load}).encode() + b"\n")
                _proc.stdin.flush()
                header = _proc.stdout.readline()
                if not header:
                    raise BrokenPipeError("status helper exited")
                kind, _, size = header.decode("ascii").partition(" ")
                body = _proc.stdout.read(int(size))
                if len(body) != int(size):
                    raise BrokenPipeError("status helper exited mid-answer")
            except OSError:
                _proc = None
                if attempt:
                    raise
                continue
            if kind != "OK":
                from marie.git.model import GitError

                raise GitError(body.decode("utf-8", "replace"))
            return decode(body)
    raise RuntimeError("unreachable")


def shutdown() -> None:
    """Stop the helper (any thread)."""
    global _proc
    with _lock:
        proc, _proc = _proc, None
    if proc is not None and proc.poll() is None:
        try:
            proc.stdin.close()  # the helper exits at end of input
            proc.wait(timeout=2)
        except Exception:
            proc.kill()


def _head_names(repo) -> list[bytes]:
    """Top-level names in HEAD's tree (none for an unborn branch)."""
    import pygit2

    if repo.head_is_unborn:
        return []
    tree = repo.head.peel(pygit2.Commit).tree
    return [getattr(entry, "raw_name", None) or entry.name.encode("utf-8", "surrogateescape") for entry in tree]


def _walk(repos: dict, splits: dict, request: dict) -> dict[str, int]:
    """One request's status: split over threads when asked and possible, else pygit2's walk."""
    import pygit2

    path, untracked = request["path"], request.get("untracked", "all")
    parts = int(request.get("parts") or 1)
    repo = repos.get(path)
    if repo is None:
        repo = repos[path] = pygit2.Repository(path)
    # The split needs an index sorted by path bytes (see native_status); core.ignorecase sorts it
    # case-insensitively, so such repositories take the single walk.
    config = repo.config
    ignorecase = "core.ignorecase" in config and config.get_bool("core.ignorecase")
    if parts > 1 and not ignorecase:
        from marie.git import native_status

        split = splits.get(path)
        if path not in splits or split is not False and split.parts != parts:
            if split:
                split.close()
            try:  # handles for the most threads asked; fewer may run
                split = splits[path] = native_status.SplitStatus(path, parts)
            except (OSError, RuntimeError):
                split = splits[path] = False  # not reachable here: the single walk from now on
        wanted = threads_for_load(parts) if request.get("follow_load") else parts
        if split and wanted > 1:
            return split.status(untracked, _head_names(repo), wanted)
    return repo.status(untracked_files=untracked)


def _serve() -> None:
    import gc

    gc.disable()  # the helper holds few long-lived objects; collections only add pauses to the walk
    repos: dict = {}
    splits: dict = {}
    out = sys.stdout.buffer
    for line in sys.stdin.buffer:
        try:
            body, kind = encode(_walk(repos, splits, json.loads(line))), b"OK"
        except Exception as exc:  # report, keep serving
            body, kind = f"git status failed: {exc}".encode("utf-8", "replace"), b"ERR"
        out.write(kind + b" %d\n" % len(body) + body)
        out.flush()


if __name__ == "__main__":
    _serve()
