"""Structured errors from model providers, with messages a user understands.

Cancellation by the user is ``marie.core.tasks.Cancelled`` (re-exported here for convenience).
"""

from __future__ import annotations

from marie.core.tasks import Cancelled

__all__ = ["AIError", "AuthError", "RateLimited", "ContextTooLong", "ServerDown", "ModelMissing",
           "ModelLoadError", "BadResponse", "Refused", "NativeCrash", "Cancelled"]


class AIError(Exception):
    """Base class: ``message`` is shown to the user as is; ``provider`` names who failed."""

    def __init__(self, message: str, *, provider: str = "", status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.status = status

    def __str__(self) -> str:
        return self.message


class AuthError(AIError):
    """The API key is missing, wrong or not allowed to use this model."""


class RateLimited(AIError):
    """The provider asked us to slow down (HTTP 429 or overloaded); ``retry_after`` in seconds if known."""

    def __init__(self, message: str, *, provider: str = "", status: int | None = 429,
                 retry_after: float | None = None) -> None:
        super().__init__(message, provider=provider, status=status)
        self.retry_after = retry_after


class ContextTooLong(AIError):
    """The prompt does not fit in the model's context window."""


class ServerDown(AIError):
    """The provider cannot be reached, timed out, or failed on its side (HTTP 5xx, worker crash)."""


class NativeCrash(ServerDown):
    """The local model worker died from a signal in native code (llama.cpp), e.g. SIGSEGV or SIGILL.

    ``signal`` is the signal's name, ``phase`` what the worker was doing ("loading" or "generating"),
    ``where`` the innermost Python frame that called into native code (from faulthandler), if known.
    """

    def __init__(self, message: str, *, provider: str = "local", signal: str = "", phase: str = "",
                 where: str = "") -> None:
        super().__init__(message, provider=provider)
        self.signal = signal
        self.phase = phase
        self.where = where


class ModelMissing(AIError):
    """The model file or the remote model name does not exist."""


class ModelLoadError(ModelMissing):
    """The model file exists but cannot be loaded (corrupt, truncated, not a GGUF)."""


class BadResponse(AIError):
    """The provider answered something we could not understand (malformed stream)."""


class Refused(AIError):
    """The gate (settings or the admin policy) refused to send this request to this provider."""
