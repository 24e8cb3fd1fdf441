"""The effective governance policy: admin policy file over user and project settings.

Where the policy comes from: ``MARIE_POLICY`` (tests, portable installs) or else
``/etc/marie/policy.toml`` and the platformdirs site config (``/etc/xdg/MarieIDE/policy.toml`` on
Linux); the first that exists is used. The file is a settings file: ``[governance...]`` tables
(``marie/core/defaults/governance.toml`` lists the controls) and any other setting, e.g.
``[ai] local_only = true``. Every key it sets is locked (``Settings.locked``).

Precedence, per control (``effective``):
- the policy's value, when the policy sets the key;
- otherwise the user's value, which a project file (it arrives with a cloned repository, so it is
  not trusted to loosen anything) may only make stricter: a stricter secret mode, a boolean
  requirement turned on, more denied patterns; its allow lists are ignored;
- deny beats allow: deny lists of every layer add up, and a name matching both is denied;
- ``ai.local_only`` is on when any layer turns it on.

An unreadable or invalid policy (bad TOML, not UTF-8, a wrong type, an unknown value, an unknown
key) never means "no policy": the strictest mode applies (``STRICT``) and ``Policy.problem`` says
why (the window shows it as a banner). Pure functions; any thread.
"""

from __future__ import annotations

import fnmatch
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

SYSTEM_POLICY = Path("/etc/marie/policy.toml")
SECRET_MODES = ("warn", "redact", "block")         # in order of strictness
BUDGET_ACTIONS = ("warn", "stop")
KEY_SOURCES = ("keyring", "command", "file")
_ENUMS = {"governance.secrets": SECRET_MODES, "governance.budget.action": BUDGET_ACTIONS,
          "governance.encryption.key_source": KEY_SOURCES}
_DENY_UNION = ("governance.providers.deny", "governance.endpoints.deny", "governance.models.deny",
               "governance.agent.command_deny", "governance.paths.protected")
_REQUIRE_OR = ("ai.local_only", "governance.audit.required", "governance.encryption.required",
               "governance.encryption.enabled", "governance.scan_local")

# What the strictest mode fixes (an invalid policy): nothing leaves, secrets block, the agent only
# asks and runs no command, no plugin loads, everything is audited. Encryption is not forced: there
# is no key configured to force it with, and refusing every checkpoint would stop all edits.
STRICT: dict[str, Any] = {
    "ai.local_only": True,
    "governance.secrets": "block",
    "governance.scan_local": True,
    "governance.providers.allow": ["local"],
    "governance.endpoints.allow": [],
    "governance.agent.modes": ["ask", "plan"],
    "governance.agent.command_allow": [],
    "governance.agent.command_deny": ["*"],
    "governance.plugins.allow": [],
    "governance.audit.enabled": True,
    "governance.audit.required": True,
}


def policy_candidates() -> list[Path]:
    """The policy files looked for, in order (the first that exists is the policy)."""
    value = os.environ.get("MARIE_POLICY")
    if value:
        return [Path(value)]
    site = Path(platformdirs.site_config_dir("MarieIDE", appauthor=False)) / "policy.toml"
    return [SYSTEM_POLICY, site]


def find_policy() -> Path | None:
    for path in policy_candidates():
        if path.exists():
            return path
    return None


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.allowed


@dataclass(frozen=True)
class Source:
    """Where an effective value came from: layer "default" | "user" | "project" | "policy" | "strict"."""

    layer: str
    file: str = ""


@dataclass(frozen=True)
class Policy:
    """The effective controls (read-only; rebuilt when settings or the policy file change)."""

    values: dict[str, Any]
    sources: dict[str, Source] = field(default_factory=dict)
    policy_file: str = ""
    problem: str = ""          # non-empty: the policy is invalid and STRICT applies (banner text)

    # -- plain values ----------------------------------------------------------------------------
    def get(self, key: str) -> Any:
        return self.values[key]

    @property
    def strict(self) -> bool:
        return bool(self.problem)

    @property
    def local_only(self) -> bool:
        return bool(self.values["ai.local_only"])

    @property
    def secrets(self) -> str:
        return str(self.values["governance.secrets"])

    @property
    def agent_modes(self) -> list[str]:
        """Permission modes the agent may run in (first = default). For marie/agent."""
        return list(self.values["governance.agent.modes"])

    @property
    def audit_required(self) -> bool:
        return bool(self.values["governance.audit.required"])

    @property
    def encryption_wanted(self) -> bool:
        return bool(self.values["governance.encryption.enabled"] or self.values["governance.encryption.required"])

    # -- decisions -------------------------------------------------------------------------------
    def _check(self, what: str, value: str, allow_key: str, deny_key: str | None) -> Decision:
        deny = self.values.get(deny_key, []) if deny_key else []
        for pattern in deny:
            if fnmatch.fnmatchcase(value, pattern):
                return Decision(False, f"{what} {value!r} is denied by {deny_key} ({pattern!r}, from "
                                       f"{self.where(str(deny_key))})")
        allow = self.values.get(allow_key, [])
        if any(fnmatch.fnmatchcase(value, pattern) for pattern in allow):
            return Decision(True)
        return Decision(False, f"{what} {value!r} is not in {allow_key} (from {self.where(allow_key)})")

    def provider_allowed(self, name: str, local: bool) -> Decision:
        if self.local_only and not local:
            return Decision(False, f"{name} is a remote provider and local-only mode is on "
                                   f"(from {self.where('ai.local_only')}); nothing was sent")
        return self._check("provider", name, "governance.providers.allow", "governance.providers.deny")

    def endpoint_allowed(self, url: str) -> Decision:
        return self._check("endpoint", url, "governance.endpoints.allow", "governance.endpoints.deny")

    def model_allowed(self, provider: str, model: str) -> Decision:
        full = self._check("model", f"{provider}:{model}", "governance.models.allow", "governance.models.deny")
        bare = self._check("model", model, "governance.models.allow", "governance.models.deny")
        if not full.allowed and not bare.allowed:
            return full if "denied" in full.reason else bare
        denied = next((d for d in (full, bare) if not d.allowed and "denied" in d.reason), None)
        return denied or Decision(True)

    def command_allowed(self, command: str) -> Decision:
        """May the agent run this shell command line? (For marie/agent; deny beats allow.)"""
        return self._check("command", command.strip(), "governance.agent.command_allow",
                           "governance.agent.command_deny")

    def agent_mode_allowed(self, mode: str) -> Decision:
        if mode in self.agent_modes:
            return Decision(True)
        return Decision(False, f"agent mode {mode!r} is not allowed (allowed: {', '.join(self.agent_modes) or 'none'}; "
                               f"from {self.where('governance.agent.modes')})")

    def plugin_allowed(self, name: str) -> Decision:
        return self._check("plugin", name, "governance.plugins.allow", None)

    def path_protected(self, rel: str) -> bool:
        """True when a workspace path is protected: AI edits may not change it, its text is not sent."""
        rel = rel.replace(os.sep, "/").removeprefix("./")
        return any(fnmatch.fnmatchcase(rel, p) or fnmatch.fnmatchcase(rel.rsplit("/", 1)[-1], p)
                   for p in self.values["governance.paths.protected"])

    def where(self, key: str) -> str:
        source = self.sources.get(key, Source("default"))
        return f"{source.layer} {source.file}".strip()

    def rows(self) -> list[tuple[str, Any, str]]:
        """(key, value, where it came from) for every control, sorted by key: ``marie policy show``."""
        return [(key, self.values[key], self.where(key)) for key in sorted(self.values)]


# -- building the effective policy ---------------------------------------------------------------
def _stricter(a: str, b: str) -> str:
    return a if SECRET_MODES.index(a) >= SECRET_MODES.index(b) else b


def agent_auto_allowed(settings: Any) -> bool:
    """May the agent run in "auto" mode? (marie/agent asks this.) The governance modes list must
    allow it and ``agent.allow_auto`` must not be off. Any thread."""
    return load(settings).agent_mode_allowed("auto").allowed and bool(settings.get("agent.allow_auto", True))


def read_policy_file(path: Path | None, defaults: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """(the keys the policy sets, the problem: "" when valid). Validates types and enum values."""
    from marie.core.settings import validate

    if path is None:
        return {}, ""
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}, ""
    except PermissionError:
        return {}, f"the admin policy {path} cannot be read (permission denied)"
    except UnicodeDecodeError:
        return {}, f"the admin policy {path} is not UTF-8 text"
    except tomllib.TOMLDecodeError as exc:
        return {}, f"the admin policy {path} is not valid TOML ({exc})"
    except OSError as exc:
        return {}, f"the admin policy {path} cannot be read ({exc.strerror or exc})"
    good, errors = validate(path, table, defaults)
    if errors:
        return good, "the admin policy has errors: " + "; ".join(f"{e.key}: {e.message}" for e in errors)
    for key, allowed in _ENUMS.items():
        if key in good and good[key] not in allowed:
            return good, f"the admin policy has errors: {key}: {good[key]!r} is not one of {', '.join(allowed)}"
    return good, ""


def effective(defaults: dict[str, Any], user: dict[str, Any], project: dict[str, Any],
              policy: dict[str, Any], *, policy_file: Path | None = None, problem: str = "",
              user_file: Path | None = None, project_file: Path | None = None) -> Policy:
    """Combine the layers by the rules in the module docstring. Pure; any thread."""
    keys = [k for k in defaults if k.startswith("governance.")] + ["ai.local_only"]
    values: dict[str, Any] = {}
    sources: dict[str, Source] = {}
    files = {"user": str(user_file or ""), "project": str(project_file or ""), "policy": str(policy_file or "")}
    for key in keys:
        value: Any = defaults.get(key)
        layer = "default"
        if key in user:
            value, layer = user[key], "user"
        if key in project:
            theirs = project[key]
            if key in _DENY_UNION:
                value, layer = list(dict.fromkeys([*value, *theirs])), ("project" if theirs else layer)
            elif key == "governance.secrets" and isinstance(theirs, str) and theirs in SECRET_MODES:
                if _stricter(theirs, value) == theirs and theirs != value:
                    value, layer = theirs, "project"
            elif key in _REQUIRE_OR:
                if theirs and not value:
                    value, layer = True, "project"
            # any other project value would loosen or redirect: ignored
        if key in policy:
            theirs = policy[key]
            if key in _DENY_UNION:
                value = list(dict.fromkeys([*theirs, *value]))
            elif key == "ai.local_only":
                value = bool(theirs or value)
            else:
                value = theirs
            layer = "policy"
        values[key] = value
        sources[key] = Source(layer, files.get(layer, ""))
    if problem:
        for key, value in STRICT.items():
            values[key] = list(value) if isinstance(value, list) else value
            sources[key] = Source("strict", f"(policy invalid: {policy_file})")
    return Policy(values, sources, str(policy_file or ""), problem)


def load(settings: Any) -> Policy:
    """The effective policy for a ``marie.core.settings.Settings``. Any thread.

    The user/project layer values are read from the Settings object (its ``_layers``, under its
    lock: Settings has no public per-layer accessor yet); the policy file is re-read and validated
    here, because Settings skips a broken file, and a broken policy must mean strict, not absent.
    """
    path = find_policy()
    policy_values, problem = read_policy_file(path, settings.defaults)
    with settings._lock:
        layers = {name: dict(settings._layers.get(name, {})) for name in ("user", "project")}
    return effective(settings.defaults, layers["user"], layers["project"], policy_values,
                       policy_file=path, problem=problem, user_file=settings.files.get("user"),
                       project_file=settings.files.get("project"))
