"""API keys: the OS keyring first; on a machine without a keyring backend, environment variables.

Keys are never written to settings files or logs (``redact`` hides them in any message we show).
Lookup order: keyring (service "MarieIDE", user = provider name), ``MARIE_<PROVIDER>_API_KEY``, then
the provider's usual variable (``OPENAI_API_KEY``, ``ANTHROPIC_API_KEY``). Any thread.
"""

from __future__ import annotations

import os
import re

SERVICE = "MarieIDE"
USUAL_VARIABLES = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY"}


class NoKeyringError(RuntimeError):
    """There is no usable keyring backend here (headless Linux): use an environment variable."""


def env_names(provider: str) -> list[str]:
    names = [f"MARIE_{re.sub(r'[^A-Z0-9]', '_', provider.upper())}_API_KEY"]
    if provider in USUAL_VARIABLES:
        names.append(USUAL_VARIABLES[provider])
    return names


def keyring_available() -> bool:
    """False when keyring has only its "fail" (or null) backend."""
    try:
        import keyring
        from keyring.backends import fail

        backend = keyring.get_keyring()
    except Exception:
        return False
    name = type(backend).__module__ + "." + type(backend).__name__
    if isinstance(backend, fail.Keyring) or "null" in name.lower() or "fail" in name.lower():
        return False
    priority = getattr(backend, "priority", 1)
    try:
        return float(priority) > 0
    except (TypeError, ValueError):
        return True


def get_key(provider: str) -> tuple[str | None, str]:
    """(key or None, where it came from: "keyring", the variable name, or "")."""
    if keyring_available():
        try:
            import keyring

            value = keyring.get_password(SERVICE, provider)
            if value:
                return value, "keyring"
        except Exception:
            pass  # a locked or broken keyring: fall back to the environment
    for name in env_names(provider):
        value = os.environ.get(name)
        if value:
            return value.strip(), name
    return None, ""


def where_to_put(provider: str) -> str:
    """A sentence telling the user where the key for ``provider`` must go."""
    names = " or ".join(env_names(provider))
    if keyring_available():
        return (f"Store it in the system keyring with `marie models key {provider}` (or the AI settings), "
                f"or set the environment variable {names}.")
    return (f"No system keyring is available on this machine, so set the environment variable {names} "
            f"before starting MarieIDE (keys are never written to settings files).")


def set_key(provider: str, key: str) -> None:
    """Store a key in the keyring; raises NoKeyringError (with where to put it) without a backend."""
    if not keyring_available():
        raise NoKeyringError(where_to_put(provider))
    import keyring

    keyring.set_password(SERVICE, provider, key)


def delete_key(provider: str) -> None:
    if keyring_available():
        import keyring
        from keyring.errors import PasswordDeleteError

        try:
            keyring.delete_password(SERVICE, provider)
        except PasswordDeleteError:
            pass


def redact(text: str, *secrets: str | None) -> str:
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return text
