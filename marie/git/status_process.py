"""Full ``git status`` of a large repository in a helper process.

pygit2's ``Repository.status`` holds Python's GIL for the whole libgit2 walk (about 0.7 s on a
100k-file tree), which would freeze the GUI thread even though the walk runs on the git worker. For
repositories above ``git.status_process_threshold`` index entries the walk runs in one long-lived
helper process (``python -m marie.git.status_process``, its own libgit2 repository object, nothing
shared) spoken to with one JSON line each way; the git worker waits for the answer with the GIL
released. ``status`` is called from the git worker only.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

_proc: subprocess.Popen | None = None
_lock = threading.Lock()


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
                line = _proc.stdout.readline()
                if not line:
                    raise BrokenPipeError("status helper exited")
            except OSError:
                _proc = None
                if attempt:
                    raise
                continue
            answer = json.loads(line)
            if "error" in answer:
                from marie.git.model import GitError

                raise GitError(answer["error"])
            return answer["status"]
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
    import pygit2

    repos: dict[str, pygit2.Repository] = {}
    for line in sys.stdin.buffer:
        try:
            request = json.loads(line)
            repo = repos.get(request["path"])
            if repo is None:
                repo = repos[request["path"]] = pygit2.Repository(request["path"])
            result = {p: int(f) for p, f in repo.status(untracked_files=request.get("untracked", "all")).items()}
            answer = {"status": result}
        except Exception as exc:  # report, keep serving
            answer = {"error": f"git status failed: {exc}"}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    _serve()
