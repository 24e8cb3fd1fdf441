"""Typed events published by governance (frozen dataclasses, ``app.events.publish(...)``).

The UI subscribes with ``app.events.on(PolicyProblem, handler)``; handlers run on the dispatcher's
thread (the GUI thread in the window).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PolicyProblem:
    """The admin policy cannot be used as written, so the strictest mode applies.

    ``reason`` is the banner text ("" when the problem is gone: hide the banner); ``path`` the policy
    file concerned.
    """

    reason: str
    path: str


@dataclass(frozen=True)
class SecretsFound:
    """The egress gate found secrets in a request: ``action`` is "redacted", "blocked" or "warned";
    ``kinds`` the kinds found (never the values); ``where`` e.g. "message 2, line 14"."""

    task: str
    provider: str
    action: str
    kinds: tuple[str, ...]
    where: tuple[str, ...]


@dataclass(frozen=True)
class BudgetAlert:
    """Spending passed a budget: ``period`` "day" or "month", ``action`` "warn" or "stop"."""

    period: str
    spent_usd: float
    limit_usd: float
    action: str
