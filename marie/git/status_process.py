"""Full ``git status`` of a large repository in a helper process.

pygit2's ``Repository.status`` holds Python's GIL for the whole libgit2 walk (about 0.4 s on a
100k-file tree), which would freeze the GUI thread even though the walk runs on the git worker. For
repositories above ``git.status_process_threshold`` index entries the walk runs in one long-lived
helper process (``python -m marie.git.status_process``, its own libgit2 repository object, nothing
shared); the git worker waits for the answer with the GIL released. ``status`` is called from the
git worker only.

Protocol (binary, compact, so that a status with 100k untracked files costs milliseconds, not a
large JSON document to build and parse):
- request: one JSON line ``{"path": ..., "untracked": ...}``;
- answer: ``OK <n>\\n`` then ``n`` bytes of ``<flags>\\0<path>\\0`` records (paths as libgit2 gives
  them, UTF-8 with surrogateescape so no byte is lost), or ``ERR <n>\\n`` then an ``n``-byte message.

The walk itself is the same libgit2 call ``git status`` maps to (index vs HEAD and workdir vs index,
untracked files as configured, no ignored files, no rename detection), measured at about the cost
of ``git status --porcelain`` without its parallel index preload.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

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


def status(path: str, untracked: str = "all") -> dict[str, int]:
    """{repository path: libgit2 status flags} computed in the helper process (started on first use)."""
    global _proc
    with _lock:
        for attempt in range(2):
            if _proc is None or _proc.poll() is not None:
                package_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
                env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")]))}
                _proc = subprocess.Popen([sys.executable, "-m", "marie.git.status_process"], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, bufsize=1 << 20, env=env)
            try:
                assert _proc.stdin and _proc.stdout
                _proc.stdin.write(json.dumps({"path": path, "untracked": untracked}).encode() + b"\n")
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


def _serve() -> None:
    import gc

    import pygit2

    gc.disable()  # the helper holds few long-lived objects; collections only add pauses to the walk
    repos: dict[str, pygit2.Repository] = {}
    out = sys.stdout.buffer
    for line in sys.stdin.buffer:
        try:
            request = json.loads(line)
            repo = repos.get(request["path"])
            if repo is None:
                repo = repos[request["path"]] = pygit2.Repository(request["path"])
            body, kind = encode(repo.status(untracked_files=request.get("untracked", "all"))), b"OK"
        except Exception as exc:  # report, keep serving
            body, kind = f"git status failed: {exc}".encode("utf-8", "replace"), b"ERR"
        out.write(kind + b" %d\n" % len(body) + body)
        out.flush()


if __name__ == "__main__":
    _serve()
