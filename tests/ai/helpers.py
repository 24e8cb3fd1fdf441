"""Shared helpers for the AI tests: an App with a small context, so memory and time stay low."""

from __future__ import annotations

from pathlib import Path

import tomli_w

from marie.app import App
from marie.core.settings import Settings


def make_ai_app(folder: Path, ai: dict | None = None, dispatcher=None) -> App:
    """An App on ``folder`` whose user settings are ``{"ai": ai}`` plus a 1024-token local context."""
    folder.mkdir(parents=True, exist_ok=True)
    table = {"ai": {"local": {"n_ctx": 1024, "threads": 1}}}
    for key, value in (ai or {}).items():
        if isinstance(value, dict) and isinstance(table["ai"].get(key), dict):
            table["ai"][key].update(value)
        else:
            table["ai"][key] = value
    user = folder / "user-settings.toml"
    user.write_text(tomli_w.dumps(table), encoding="utf-8")
    settings = Settings(user_file=user, project_file=None, policy_file=None)
    assert not settings.errors, settings.errors
    return App(folder, dispatcher, settings=settings)
