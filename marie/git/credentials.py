"""Credentials for HTTPS remotes from the system keyring (ssh remotes use ssh-agent instead).

Store a token once with ``keyring set marie-git <host>`` (user name optional as ``<host>:user``);
the value is "user:token" or just "token" (the user then comes from the URL or is "git").
Any thread; a missing or locked keyring simply means "no credentials".
"""

from __future__ import annotations

from urllib.parse import urlsplit

SERVICE = "marie-git"


def keyring_credentials(url: str, username: str | None) -> tuple[str, str] | None:
    try:
        import keyring
    except ImportError:
        return None
    host = urlsplit(url).hostname or url
    try:
        value = keyring.get_password(SERVICE, host)
    except Exception:  # no backend, locked keyring ...: behave as "nothing stored"
        return None
    if not value:
        return None
    if ":" in value:
        user, token = value.split(":", 1)
        return user, token
    return username or "git", value
