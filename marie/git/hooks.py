"""Commit hooks run as git runs them, and commit-message helpers.

git runs ``<hooks dir>/pre-commit`` and ``<hooks dir>/commit-msg MSGFILE`` when they are executable
files; the hooks folder is ``core.hooksPath`` (relative paths are taken from the worktree root) or
``hooks`` in the repository's common git folder. The hook runs with the worktree as its current
folder and ``GIT_INDEX_FILE``/``GIT_DIR`` set; a non-zero exit aborts the commit. Called on the git
worker only (blocking subprocesses).
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class HookRun:
    name: str
    returncode: int
    output: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def common_dir(gitdir: Path) -> Path:
    """The shared git folder (a linked worktree's ``commondir`` file points there)."""
    pointer = gitdir / "commondir"
    if pointer.is_file():
        target = Path(pointer.read_text(encoding="utf-8").strip())
        return (gitdir / target).resolve() if not target.is_absolute() else target
    return gitdir


def hooks_dir(gitdir: Path, workdir: Path, hooks_path: str | None) -> Path:
    if hooks_path:
        path = Path(os.path.expanduser(hooks_path))
        return path if path.is_absolute() else workdir / path
    return common_dir(gitdir) / "hooks"


def run_hook(folder: Path, name: str, args: list[str], workdir: Path, gitdir: Path,
             timeout: float = 300.0) -> HookRun | None:
    """Run hook ``name`` if it exists and is executable; None when there is none."""
    hook = folder / name
    if not hook.is_file() or not os.access(hook, os.X_OK):
        return None
    env = dict(os.environ)
    env["GIT_INDEX_FILE"] = str(gitdir / "index")
    env["GIT_DIR"] = str(gitdir)
    env.pop("GIT_WORK_TREE", None)
    try:
        proc = subprocess.run([str(hook), *args], cwd=workdir, env=env, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        out = (exc.output or b"").decode("utf-8", "replace")
        return HookRun(name, 124, out + f"\n{name} hook stopped after {timeout:.0f} s")
    except OSError as exc:  # e.g. a bad #! line
        return HookRun(name, 126, f"{name} hook could not start: {exc}")
    return HookRun(name, proc.returncode, proc.stdout.decode("utf-8", "replace"))


def clean_message(message: str) -> str:
    """Like ``git commit --cleanup=strip``: drop # comment lines, trailing spaces, extra blank lines."""
    lines = [line.rstrip() for line in message.splitlines() if not line.startswith("#")]
    out: list[str] = []
    for line in lines:
        if not line and (not out or not out[-1]):
            continue
        out.append(line)
    while out and not out[-1]:
        out.pop()
    return "\n".join(out) + ("\n" if out else "")


def add_sign_off(message: str, name: str, email: str) -> str:
    """Append a ``Signed-off-by`` trailer unless the message already ends with this one."""
    trailer = f"Signed-off-by: {name} <{email}>"
    body = message.rstrip("\n")
    if body.splitlines() and body.splitlines()[-1] == trailer:
        return body + "\n"
    last_para = body.split("\n\n")[-1]
    is_trailer_block = len(body.split("\n\n")) > 1 and all(
        ":" in line and not line.startswith(" ") for line in last_para.splitlines())
    sep = "\n" if is_trailer_block else "\n\n"
    return f"{body}{sep}{trailer}\n"
