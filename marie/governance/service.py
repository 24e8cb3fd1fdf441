"""``app.governance``: the effective policy, the egress gate, the audit log, keys and budgets.

Public API for the window (owned by the UI helper): ``problem`` is the banner text while the admin
policy is invalid ("" otherwise) and a ``PolicyProblem`` event is published whenever it changes;
``app.settings.locked(key)`` says which settings to show as locked. For the agent: ``policy``
(``agent_modes``, ``command_allowed``, ``path_protected``) and ``audit.record_tool_call``.
Any thread; the policy is re-read when settings change or the policy file's mtime does.
"""

from __future__ import annotations

import logging
import threading
import time
from functools import cached_property
from typing import Any

from marie.governance import policy as policy_mod
from marie.governance.events import BudgetAlert, PolicyProblem

log = logging.getLogger(__name__)


class Governance:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.settings = app.settings
        self._lock = threading.RLock()
        self._policy: policy_mod.Policy | None = None
        self._stamp: tuple = ()
        self._announced = ""
        self._budget_warned: set[str] = set()
        self._unsubscribe = self.settings.subscribe(lambda keys: self._refresh(force=True))
        self._refresh(force=True)

    # -- policy ----------------------------------------------------------------------------------
    def _file_stamp(self) -> tuple:
        path = policy_mod.find_policy()
        try:
            st = path.stat() if path else None
        except OSError:
            st = None
        return (str(path), st.st_mtime_ns if st else 0, st.st_size if st else 0)

    def _refresh(self, force: bool = False) -> policy_mod.Policy:
        stamp = self._file_stamp()
        with self._lock:
            if not force and self._policy is not None and stamp == self._stamp:
                return self._policy
            if not force and stamp != self._stamp:
                self.settings.reload()   # the policy file changed on disk: locked keys follow it
            policy = policy_mod.load(self.settings)
            self._policy, self._stamp = policy, stamp
            changed = policy.problem != self._announced
            self._announced = policy.problem
        if changed:
            if policy.problem:
                log.warning("admin policy invalid, strictest mode: %s", policy.problem)
            self.publish(PolicyProblem(policy.problem, policy.policy_file))
            self.audit_decision("policy.loaded", file=policy.policy_file, strict=policy.strict, reason=policy.problem)
        return policy

    @property
    def policy(self) -> policy_mod.Policy:
        """The effective policy now. Any thread."""
        return self._refresh()

    @property
    def problem(self) -> str:
        """Banner text while the admin policy is invalid and the strictest mode applies, else ""."""
        return self.policy.problem

    # -- events ----------------------------------------------------------------------------------
    def publish(self, event: object) -> None:
        publish = getattr(self.app.events, "publish", None)
        if publish is not None:
            try:
                publish(event)
            except Exception:
                log.exception("publishing %s failed", type(event).__name__)

    def notice(self, message: str, level: str = "info") -> None:
        try:
            self.app.events.notice(message, level)
        except Exception:
            log.exception("notice failed")

    # -- keys ------------------------------------------------------------------------------------
    def cipher(self):
        """The at-rest cipher when the policy or the user asks for encryption, else None.
        Raises ``crypto.KeyUnavailable`` when asked for without a usable key."""
        from marie.governance import crypto

        if not self.policy.encryption_wanted:
            return None
        return crypto.cipher_from(crypto.key_config(self.settings))

    # -- scanner ---------------------------------------------------------------------------------
    def scanner(self):
        from marie.governance.secrets import default_scanner

        return default_scanner()

    @cached_property
    def gate(self):
        from marie.governance.gate import EgressGate

        return EgressGate(self)

    # -- audit -----------------------------------------------------------------------------------
    @cached_property
    def audit(self):
        """The audit log (``Auditor``). Sealed when encryption is on; if its key is missing the log
        refuses to write (an error per record) rather than writing plaintext."""
        from marie.core import paths
        from marie.governance.audit import AuditLog

        policy = self.policy
        enabled = bool(policy.get("governance.audit.enabled") or policy.audit_required)
        cipher = None
        error = ""
        try:
            cipher = self.cipher()
        except Exception as exc:
            error = str(exc)
        audit = _SafeAudit(AuditLog(paths.data_dir() / "audit", cipher=cipher,
                                    max_bytes=int(policy.get("governance.audit.max_bytes")),
                                    retention_days=float(policy.get("governance.audit.retention_days")),
                                    enabled=enabled), self, error)
        return audit

    def audit_decision(self, kind: str, **fields: Any) -> None:
        """A policy decision on record (never raises: a refusal must still be a refusal)."""
        if "audit" not in self.__dict__ and kind == "policy.loaded" and not fields.get("strict"):
            return   # do not open the log at start-up just to say a valid policy was read
        try:
            self.audit.record(kind, **fields)
        except Exception:
            log.exception("audit record %s failed", kind)

    def audit_required_record(self, kind: str, **fields: Any) -> dict:
        """An audit record the action depends on: when audit is required and the record cannot be
        written, the action is refused (``Refused``)."""
        from marie.ai import errors

        try:
            return self.audit.log_strict(kind, **fields)
        except Exception as exc:
            if self.policy.audit_required:
                raise errors.Refused(f"the audit log cannot be written ({exc}) and the policy requires it; "
                                     "the prompt was not sent", provider=str(fields.get("provider", ""))) from None
            log.warning("audit record %s not written: %s", kind, exc)
            return {}

    # -- budgets ---------------------------------------------------------------------------------
    def budget_state(self) -> list[tuple[str, float, float]]:
        """[(period, spent, limit)] for the budgets that are set."""
        return budget_state(self.policy, self.app.ai.usage)

    def budget_block(self) -> str:
        """A refusal message when a budget with action "stop" is used up; warns once per period."""
        policy = self.policy
        action = policy.get("governance.budget.action")
        for period, spent, limit in self.budget_state():
            if spent < limit:
                continue
            stamp = f"{period}:{time.strftime('%Y-%m-%d' if period == 'day' else '%Y-%m')}"
            if stamp not in self._budget_warned:
                self._budget_warned.add(stamp)
                self.publish(BudgetAlert(period, spent, limit, action))
                if action == "warn":
                    self.notice(f"AI spending this {period} is ${spent:.2f}, over the ${limit:.2f} budget", "warning")
            if action == "stop":
                return (f"the {'daily' if period == 'day' else 'monthly'} AI budget of ${limit:.2f} is used up "
                        f"(${spent:.2f} spent); "
                        "requests that cost money are stopped until the next " + period)
        return ""

    def close(self) -> None:
        self._unsubscribe()


def budget_state(policy: policy_mod.Policy, usage: Any) -> list[tuple[str, float, float]]:
    """[(period, spent USD, limit USD)] for the daily and monthly budgets that are set (local time)."""
    out = []
    now = time.localtime()
    day_start = time.mktime((now.tm_year, now.tm_mon, now.tm_mday, 0, 0, 0, 0, 0, -1))
    month_start = time.mktime((now.tm_year, now.tm_mon, 1, 0, 0, 0, 0, 0, -1))
    for period, key, since in (("day", "governance.budget.daily_usd", day_start),
                               ("month", "governance.budget.monthly_usd", month_start)):
        limit = float(policy.get(key) or 0)
        if limit > 0:
            out.append((period, usage.spent(since), limit))
    return out


class _SafeAudit:
    """``Auditor`` for the app: ``record`` never raises into the caller's write (a failure is logged
    and announced; the write it describes has already happened), ``log_strict`` does raise."""

    def __init__(self, log_: Any, gov: Governance, key_error: str) -> None:
        self.log = log_
        self.gov = gov
        self.key_error = key_error

    def log_strict(self, kind: str, **fields: Any) -> dict:
        if self.key_error:
            from marie.governance.crypto import KeyUnavailable

            raise KeyUnavailable(f"audit log encryption has no key: {self.key_error}")
        return self.log.record(kind, **fields)

    def record(self, kind: str, **fields: Any) -> dict:
        try:
            return self.log_strict(kind, root=str(getattr(self.gov.app, "root", "")), **fields) \
                if "root" not in fields else self.log_strict(kind, **fields)
        except Exception as exc:
            log.error("audit record %s not written: %s", kind, exc)
            self.gov.notice(f"the audit log could not record {kind}: {exc}", "error")
            return {}

    def record_write(self, record: Any) -> None:
        """``marie.workspace.writes.Auditor``: one write (or a checkpoint restore) with its checkpoint id."""
        kind = "checkpoint.restore" if str(record.label).startswith("restore checkpoint") else "files.write"
        self.record(kind, label=record.label, source=record.source, written=list(record.written),
                    deleted=list(record.deleted), checkpoint=record.checkpoint_id)

    def record_tool_call(self, tool: str, arguments: dict, *, mode: str, approved: bool | None,
                         approved_by: str = "", result_bytes: int = 0, error: str = "") -> dict:
        """An agent tool call and its approval (for marie/agent; ``approved`` None: none was needed)."""
        return self.record("agent.tool_call", tool=tool, arguments=arguments, mode=mode, approved=approved,
                           approved_by=approved_by, result_bytes=result_bytes, error=error)

    def __getattr__(self, name: str) -> Any:   # verify, entries, head, segments ...
        return getattr(self.log, name)
