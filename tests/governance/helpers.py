"""Apps with chosen user, project and admin-policy settings for the governance tests."""

from __future__ import annotations

from pathlib import Path

import tomli_w

from marie.app import App
from marie.core.settings import Settings


def make_app(folder: Path, monkeypatch, *, user: dict | None = None, project: dict | None = None,
             policy: str | dict | None = None, dispatcher=None) -> App:
    """An App on ``folder/ws``; ``policy`` is TOML text (may be invalid on purpose) or a table."""
    folder.mkdir(parents=True, exist_ok=True)
    root = folder / "ws"
    root.mkdir(exist_ok=True)
    policy_file = folder / "policy.toml"
    if policy is not None:
        policy_file.write_text(policy if isinstance(policy, str) else tomli_w.dumps(policy), encoding="utf-8")
    monkeypatch.setenv("MARIE_POLICY", str(policy_file))
    if not str(__import__("os").environ.get("MARIE_HOME", "")).startswith(str(folder.parent)):
        monkeypatch.setenv("MARIE_HOME", str(folder / "home"))   # own usage and audit files per test
    user_file = folder / "user.toml"
    user_file.write_text(tomli_w.dumps(user or {}), encoding="utf-8")
    project_file = root / ".marie" / "settings.toml"
    if project is not None:
        project_file.parent.mkdir(parents=True, exist_ok=True)
        project_file.write_text(tomli_w.dumps(project), encoding="utf-8")
    settings = Settings(user_file=user_file, project_file=project_file, policy_file=policy_file)
    return App(root, dispatcher, settings=settings)
