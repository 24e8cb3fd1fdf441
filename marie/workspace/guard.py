"""What counts as "inside the workspace", and the paths MarieIDE never writes for anyone.

Every write MarieIDE makes on the user's behalf (composer, agent, replace in files, LSP rename, file
operations, restore) passes its paths through ``resolve_inside`` first. Refused:

- absolute paths, drive letters, ``..`` segments, and paths that leave the root through a symlink;
- names that some layer between the model and the disk could reinterpret: a leading ``~`` or ``$``
  (home and variable expansion), percent-encoded dot segments (``%2e%2e``), ``:`` (drive letters,
  NTFS streams, URLs), a backslash (a separator on Windows), control characters, device names;
- anything under ``.git/`` (git's own files), anything under ``.marie/`` (the project's settings and
  rules) and MarieIDE's settings and policy files.

``allow_protected=True`` (checkpoint restore only: it puts back bytes that were on disk before) lifts
the ``.marie/``, settings/policy and name rules, never the containment and ``.git/`` rules.
Pure functions, any thread.
"""

from __future__ import annotations

import os
import re
from pathlib import Path, PurePosixPath

from marie.core import paths

# Windows device names are refused everywhere so a workspace stays portable and safe to open there.
_DEVICE = re.compile(r"^(con|prn|aux|nul|com[0-9]|lpt[0-9]|conin\$|conout\$)(\..*)?$", re.IGNORECASE)
# A segment made only of dots once %2e is decoded: "%2e", "%2e%2e", ".%2E", "%2e." ...
_ENCODED_DOTS = re.compile(r"^(?:\.|%2e)+$", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
PROJECT_DIR = ".marie"


class PathRefused(ValueError):
    """A path that MarieIDE will not write for the user; the message says why."""


def relative_posix(root: Path, path: Path) -> str:
    """``path`` relative to ``root`` with forward slashes (no resolution of symlinks)."""
    return PurePosixPath(*Path(os.path.relpath(path, root)).parts).as_posix()


def _check_names(text: str, parts: list[str]) -> None:
    """The name rules (see the module docstring); raise ``PathRefused`` with the reason."""
    if "\\" in text:
        raise PathRefused(f"{text!r}: a backslash is not allowed; use '/' between folders")
    if ":" in text:
        raise PathRefused(f"{text!r}: ':' is not allowed in a path (drive letters, streams, URLs)")
    if parts[0][0] in "~$":
        raise PathRefused(f"{text!r}: a path may not start with {parts[0][0]!r} (no home or variable expansion)")
    for part in parts:
        if "%" in part and _ENCODED_DOTS.match(part):
            raise PathRefused(f"{text!r}: {part!r} is an encoded dot segment")
    if parts[0].lower() == PROJECT_DIR:
        raise PathRefused(f"{text}: files under {PROJECT_DIR}/ are the project's MarieIDE settings and rules, "
                          "never changed by the AI or bulk edits")


def resolve_inside(root: Path, rel: str | os.PathLike[str], *, allow_protected: bool = False) -> Path:
    """Return the absolute path for workspace-relative ``rel`` or raise ``PathRefused``.

    The check is done on the path as written and again after resolving symlinks of every existing
    parent, so a link inside the workspace that points outside cannot be used to escape.
    """
    text = os.fspath(rel)
    if not text.strip():
        raise PathRefused("empty path")
    if "\x00" in text:
        raise PathRefused(f"{text!r}: contains a NUL character")
    if _CONTROL.search(text) and not allow_protected:
        raise PathRefused(f"{text!r}: contains a control character")
    norm = text.replace("\\", "/")
    if norm.startswith("/") or re.match(r"^[A-Za-z]:", norm) or Path(text).is_absolute():
        raise PathRefused(f"{text}: absolute paths are not allowed; use a path relative to the workspace")
    parts = [p for p in norm.split("/") if p not in ("", ".")]
    if not parts:
        raise PathRefused(f"{text}: names the workspace folder itself, not a file")
    if ".." in parts:
        raise PathRefused(f"{text}: '..' is not allowed; the path must stay inside the workspace")
    if not allow_protected:
        _check_names(text, parts)
    for part in parts:
        if _DEVICE.match(part):
            raise PathRefused(f"{text}: {part!r} is a reserved device name")
    if any(p.lower() == ".git" for p in parts):
        raise PathRefused(f"{text}: files under .git/ belong to git and are never changed this way")
    root_real = Path(os.path.realpath(root))
    candidate = Path(root).joinpath(*parts)
    # Resolve the parent chain (and the file itself if it is a symlink) and check containment.
    real = Path(os.path.realpath(candidate))
    if real != root_real and root_real not in real.parents:
        raise PathRefused(f"{text}: leaves the workspace through a symbolic link (to {real})")
    if not allow_protected:
        project = root_real / PROJECT_DIR
        if real == project or project in real.parents:
            raise PathRefused(f"{text}: leads into {PROJECT_DIR}/ through a symbolic link")
        for protected in paths.protected_files(Path(root)):
            try:
                if real == Path(os.path.realpath(protected)):
                    raise PathRefused(f"{text}: MarieIDE's settings and policy files are never changed by the AI or bulk edits")
            except OSError:
                continue
    return candidate
