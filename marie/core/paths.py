"""Where MarieIDE keeps its own files.

``MARIE_HOME`` (used by the tests and portable installs) puts config, data, cache and logs under one
folder; otherwise platformdirs gives the usual per-OS locations. Nothing here creates a folder in the
user's project except ``project_dir`` (``.marie/``), which is only created when something is written.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import platformdirs

APP = "MarieIDE"


def _home() -> Path | None:
    value = os.environ.get("MARIE_HOME")
    return Path(value).expanduser() if value else None


def config_dir() -> Path:
    home = _home()
    return home / "config" if home else Path(platformdirs.user_config_dir(APP, appauthor=False))


def data_dir() -> Path:
    home = _home()
    return home / "data" if home else Path(platformdirs.user_data_dir(APP, appauthor=False))


def cache_dir() -> Path:
    home = _home()
    return home / "cache" if home else Path(platformdirs.user_cache_dir(APP, appauthor=False))


def log_dir() -> Path:
    home = _home()
    return home / "logs" if home else Path(platformdirs.user_log_dir(APP, appauthor=False))


def user_settings_file() -> Path:
    return config_dir() / "settings.toml"


def policy_file() -> Path:
    """The admin policy: ``MARIE_POLICY`` if set, else the system-wide file (read-only for users)."""
    value = os.environ.get("MARIE_POLICY")
    if value:
        return Path(value)
    system = Path("/etc/marie/policy.toml")   # the documented admin location wins (marie.governance.policy)
    if system.exists():
        return system
    return Path(platformdirs.site_config_dir(APP, appauthor=False)) / "policy.toml"


def project_dir(root: Path) -> Path:
    """The per-project folder inside the workspace (``.marie/``): project settings and rules."""
    return Path(root) / ".marie"


def project_settings_file(root: Path) -> Path:
    return project_dir(root) / "settings.toml"


def workspace_key(root: Path) -> str:
    """A stable, filesystem-safe key for a workspace, used to keep per-workspace data apart."""
    resolved = str(Path(root).resolve())
    digest = hashlib.sha256(resolved.encode("utf-8", "surrogateescape")).hexdigest()[:16]
    name = "".join(c if c.isalnum() or c in "-_." else "_" for c in Path(resolved).name)[:40]
    return f"{name or 'root'}-{digest}"


def workspace_data_dir(root: Path) -> Path:
    """Per-workspace data outside the user's repository (checkpoints, hot-exit backups, sessions)."""
    return data_dir() / "workspaces" / workspace_key(root)


def protected_files(root: Path) -> list[Path]:
    """Files that no AI proposal may change: MarieIDE's policy and settings files."""
    return [project_settings_file(root), policy_file(), user_settings_file()]
