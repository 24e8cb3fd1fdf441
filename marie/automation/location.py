"""Where the running MarieIDE listens: one socket per user and per display, and its token file.

The folder is ``$MARIE_ENDPOINT_DIR``, ``$MARIE_HOME/run``, ``$XDG_RUNTIME_DIR/marie`` (already private to the user on systemd systems) or
``<tmp>/marie-<uid>``, created 0700. The socket is ``<display>.sock`` (0600) and the token
``<display>.token`` (0600), where ``<display>`` names the X11/Wayland display, so two displays of
one user get two instances and two users never share one. The client refuses a folder or socket
that another user owns or that others may write, so a planted socket cannot receive its commands.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import tempfile
from pathlib import Path


class UnsafeLocation(Exception):
    """The endpoint's folder or socket is not private to this user."""


def display_name() -> str:
    """A file-name-safe name for this session's display ("x11-0", "wayland-0", "headless")."""
    for env, prefix in (("WAYLAND_DISPLAY", "wayland"), ("DISPLAY", "x11")):
        value = os.environ.get(env, "")
        if value:
            safe = re.sub(r"[^A-Za-z0-9.-]", "_", value.lstrip(":"))[:40]
            return f"{prefix}-{safe}" if safe else prefix
    return "headless"


def folder() -> Path:
    explicit = os.environ.get("MARIE_ENDPOINT_DIR")
    if explicit:
        return Path(explicit)
    home = os.environ.get("MARIE_HOME")  # tests and portable installs keep everything under it
    if home:
        return Path(home) / "run"
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and Path(runtime).is_dir():
        return Path(runtime) / "marie"
    return Path(tempfile.gettempdir()) / f"marie-{os.getuid()}"


def socket_path() -> Path:
    path = folder() / f"{display_name()}.sock"
    # AF_UNIX paths are limited to ~107 bytes: fall back to a hashed name in the temp folder.
    if len(str(path).encode()) > 100:
        digest = hashlib.sha256(str(path).encode()).hexdigest()[:16]
        path = Path(tempfile.gettempdir()) / f"marie-{os.getuid()}-{digest}.sock"
    return path


def token_path(sock: Path) -> Path:
    return sock.with_suffix(".token")


def make_private_folder(path: Path) -> None:
    """Create ``path`` 0700, or check that an existing one is ours and private."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    check_private(path, is_dir=True)


def check_private(path: Path, *, is_dir: bool = False) -> None:
    """Raise UnsafeLocation unless ``path`` belongs to this user and no one else may write it
    (folders: nor enter it). Symlinks are refused: a link could point into someone else's folder."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        raise
    if stat.S_ISLNK(info.st_mode):
        raise UnsafeLocation(f"{path} is a symbolic link")
    if info.st_uid != os.getuid():
        raise UnsafeLocation(f"{path} belongs to another user (uid {info.st_uid})")
    if info.st_mode & 0o077:
        raise UnsafeLocation(f"{path} can be used by other users (mode {stat.S_IMODE(info.st_mode):o}); "
                             "it should be private (0700 for the folder, 0600 for the socket)")
