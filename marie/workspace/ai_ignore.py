"""``.marieignore``: files that never go into a prompt (gitignore syntax, via pathspec).

The defaults keep secrets out even when the user has no ``.marieignore``: ``.env*``, keys and
certificates, SSH keys, credential files. The user's file adds rules (``!pattern`` re-includes a
default). Settings add more (``composer.ai_ignore``). Every reader (composer, agent, completion)
builds its rules with ``ai_ignore_for`` so none of them forgets a source. Any thread.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pathspec

IGNORE_FILE = ".marieignore"
DEFAULT_PATTERNS = (
    ".env", ".env.*", "*.env", ".envrc", "*.pem", "*.key", "*.p12", "*.pfx", "*.keystore", "*.jks",
    "id_rsa*", "id_dsa*", "id_ecdsa*", "id_ed25519*", "*.ppk", ".netrc", ".pgpass", ".npmrc", ".pypirc",
    "credentials", "credentials.json", "*.secret", "secrets.*", ".aws/", ".ssh/", ".gnupg/", ".git/",
    ".marie/settings.toml",
)


class AiIgnore:
    """Answers ``is_ignored(rel)`` for the AI: defaults, then settings, then the workspace's file."""

    def __init__(self, root: Path, extra: tuple[str, ...] | list[str] = ()) -> None:
        self.root = Path(root)
        lines = list(DEFAULT_PATTERNS) + list(extra)
        try:
            lines += (self.root / IGNORE_FILE).read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            pass
        self.spec = pathspec.GitIgnoreSpec.from_lines(lines)

    def is_ignored(self, rel: str) -> bool:
        rel = rel.replace("\\", "/").lstrip("/")
        return bool(self.spec.match_file(rel))

    def filter(self, rels):
        return [r for r in rels if not self.is_ignored(r)]


def ai_ignore_for(root: Path, settings: Any) -> AiIgnore:
    """The rules for ``root`` now: the defaults, the ``composer.ai_ignore`` setting and the
    workspace's ``.marieignore`` (read fresh, so edits to it apply)."""
    try:
        extra = settings.get("composer.ai_ignore", []) or []
    except (KeyError, TypeError):
        extra = []
    return AiIgnore(root, tuple(extra))
