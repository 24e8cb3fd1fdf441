"""Per-tool permissions: allow / ask / deny rules with patterns, modes, and session approvals.

A rule is ``"tool"`` or ``"tool(pattern)"``. The pattern is matched against the call's *subject*:
a path glob for file tools (``edit(src/**)``, fnmatch with ``**`` across folders), a command prefix
for ``run_command``/``run_tests`` (``run_command(git status)`` matches ``git status -s`` but not
``git statusx``). The tool part may be a glob too (``docs__*`` for every tool of an MCP server).

Order of decision: a matching deny rule refuses (deny wins over everything, including the mode and
session approvals); in plan mode every tool that is not read-only is refused; a matching ask rule
asks (unless approved for the session); a matching allow rule allows; otherwise the mode decides:
read-only tools are allowed, edits ask in "ask" mode and are allowed in "edits" and "auto", commands
and other side-effecting tools ask except in "auto". Pure logic; any thread.
"""

from __future__ import annotations

import fnmatch
import re
import threading
from dataclasses import dataclass, field

MODES = ("ask", "edits", "plan", "auto")
ALLOW, ASK, DENY = "allow", "ask", "deny"


class ModeRefused(ValueError):
    """A mode the admin policy forbids (auto), or an unknown one."""


@dataclass(frozen=True)
class Rule:
    tool: str
    pattern: str | None = None

    @classmethod
    def parse(cls, text: str) -> "Rule":
        text = text.strip()
        m = re.fullmatch(r"([^()\s]+)\s*(?:\((.*)\))?", text, re.S)
        if not m:
            raise ValueError(f"not a permission rule: {text!r} (write tool or tool(pattern))")
        return cls(m.group(1), m.group(2) if m.group(2) is not None else None)

    def __str__(self) -> str:
        return self.tool if self.pattern is None else f"{self.tool}({self.pattern})"

    def matches(self, tool: str, subject: str, kind: str, role: str = ALLOW) -> bool:
        """``role`` "deny" and "ask" match a command if any part of a chain matches (``make && git
        push`` is caught by ``git push``); "allow" only if the command is one simple command that
        matches, or the pattern is the whole command as written."""
        if not fnmatch.fnmatchcase(tool, self.tool):
            return False
        if self.pattern is None or self.pattern in ("", "*"):
            return True
        if kind == "command":
            if subject.strip() == self.pattern.strip():
                return True
            parts = command_parts(subject)
            if role == ALLOW:
                return len(parts) == 1 and command_matches(self.pattern, parts[0])
            return any(command_matches(self.pattern, p) for p in parts) or command_matches(self.pattern, subject)
        return glob_matches(self.pattern, subject)


_SHELL_OPERATORS = re.compile(r"&&|\|\||;|\||&|\n|`|\$\(|\)|>|<")


def command_parts(command: str) -> list[str]:
    """The simple commands of a shell line, split at operators, redirections and substitutions."""
    return [p.strip() for p in _SHELL_OPERATORS.split(command) if p.strip()] or [""]


def command_matches(prefix: str, command: str) -> bool:
    """A command prefix matches whole words: "git status" matches "git status -s", not "git statusx"."""
    words, have = prefix.split(), command.split()
    if not words:
        return True
    if words[-1].endswith("*"):
        last = words[-1].rstrip("*")
        return have[: len(words) - 1] == words[:-1] and len(have) >= len(words) and have[len(words) - 1].startswith(last)
    return have[: len(words)] == words


def glob_matches(pattern: str, path: str) -> bool:
    """fnmatch where ``**`` spans folders and a bare ``*`` stays inside one."""
    regex = ""
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**/", i):
            regex += "(?:.*/)?"
            i += 3
            continue
        if pattern.startswith("**", i):
            regex += ".*"
            i += 2
            continue
        if c == "*":
            regex += "[^/]*"
        elif c == "?":
            regex += "[^/]"
        else:
            regex += re.escape(c)
        i += 1
    return re.fullmatch(regex, path) is not None


@dataclass
class Decision:
    action: str              # allow | ask | deny
    reason: str


@dataclass
class Permissions:
    """The rules in force for one run. ``session`` holds approvals "for the session" (rules too)."""

    mode: str = "ask"
    allow: list[Rule] = field(default_factory=list)
    ask: list[Rule] = field(default_factory=list)
    deny: list[Rule] = field(default_factory=list)
    session: list[Rule] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def from_lists(cls, mode: str, allow=(), ask=(), deny=()) -> "Permissions":
        if mode not in MODES:
            raise ModeRefused(f"unknown agent mode {mode!r}; one of {', '.join(MODES)}")
        return cls(mode, [Rule.parse(r) for r in allow], [Rule.parse(r) for r in ask],
                   [Rule.parse(r) for r in deny])

    def decide(self, tool: str, subject: str, kind: str) -> Decision:
        """``kind``: "read" (read-only), "edit", "command" or "other" (MCP tools, side effects unknown)."""
        for rule in self.deny:
            if rule.matches(tool, subject, kind, DENY):
                return Decision(DENY, f"denied by the rule {rule}")
        if self.mode == "plan" and kind != "read":
            return Decision(DENY, "plan mode allows read-only tools only")
        with self._lock:
            session = list(self.session)
        if any(r.matches(tool, subject, kind, ALLOW) for r in session):
            return Decision(ALLOW, "approved for this session")
        for rule in self.ask:
            if rule.matches(tool, subject, kind, ASK):
                return Decision(ASK, f"the rule {rule} asks")
        for rule in self.allow:
            if rule.matches(tool, subject, kind, ALLOW):
                return Decision(ALLOW, f"allowed by the rule {rule}")
        if kind == "read" or self.mode == "auto":
            return Decision(ALLOW, f"{self.mode} mode")
        if kind == "edit" and self.mode == "edits":
            return Decision(ALLOW, "edits mode accepts edits")
        return Decision(ASK, f"{self.mode} mode asks")

    def approve_for_session(self, rule: Rule) -> None:
        with self._lock:
            self.session.append(rule)


# Programs whose second word is a subcommand: approving "git status" must not approve "git push".
_SUBCOMMANDS = {"git", "npm", "yarn", "pnpm", "cargo", "go", "docker", "kubectl", "pip", "uv", "poetry", "gh",
                "dotnet", "mvn", "gradle", "hg", "svn", "brew", "apt", "apt-get", "conda"}


def rule_for(tool: str, subject: str, kind: str) -> Rule:
    """The rule an approval "for the session" or "as a rule" records: the exact path, or the
    command's program (with its subcommand for git, npm, cargo ...) as a prefix. A command chained
    with shell operators is approved as written, whole (its later parts could be anything)."""
    if kind == "command":
        words = subject.split()
        if not words:
            return Rule(tool, None)
        if len(command_parts(subject)) > 1:
            return Rule(tool, subject.strip())
        take = 2 if words[0] in _SUBCOMMANDS and len(words) > 1 else 1
        return Rule(tool, " ".join(words[:take]))
    return Rule(tool, subject or None)


def effective_mode(settings, requested: str | None) -> str:
    """The mode to run in; raises ``ModeRefused`` for auto when the admin policy forbids it.

    Reads the governance policy when it is there (``marie.governance.policy``), else the settings:
    ``agent.allow_auto`` set false in the admin policy layer (a locked key) forbids auto.
    """
    mode = requested or str(settings.get("agent.mode"))
    if mode not in MODES:
        raise ModeRefused(f"unknown agent mode {mode!r}; one of {', '.join(MODES)}")
    if mode == "auto" and not auto_allowed(settings):
        raise ModeRefused("the auto mode is turned off by the admin policy (agent.allow_auto = false); "
                          "use --mode ask or edits")
    # A mode fixed by the policy overrides the request.
    if settings.locked("agent.mode") and requested and requested != settings.get("agent.mode"):
        raise ModeRefused(f"the admin policy fixes the agent mode to {settings.get('agent.mode')!r}")
    return mode


def auto_allowed(settings) -> bool:
    try:
        from marie.governance import policy as gov  # type: ignore[import-not-found]

        check = getattr(gov, "agent_auto_allowed", None)
        if check is not None:
            return bool(check(settings))
    except ImportError:
        pass
    return bool(settings.get("agent.allow_auto"))


def from_settings(settings, mode: str) -> Permissions:
    """The rules of the settings (user, project, admin policy merged; a locked list is the policy's)."""
    return Permissions.from_lists(mode, settings.get("agent.permissions.allow") or [],
                                  settings.get("agent.permissions.ask") or [],
                                  settings.get("agent.permissions.deny") or [])


class RuleLocked(PermissionError):
    """The admin policy fixes this list of rules; a rule cannot be saved into it."""


def save_rule(settings, action: str, rule: Rule) -> None:
    """Append ``rule`` to the user's ``agent.permissions.<action>`` list (written atomically).

    Raises ``RuleLocked`` when the admin policy locks that list. Worker thread (writes a file)."""
    key = f"agent.permissions.{action}"
    if settings.locked(key):
        raise RuleLocked(f"{key} is set by the admin policy; the rule {rule} was not saved")
    current = list(settings.get(key) or [])
    if str(rule) not in current:
        settings.set_user(key, current + [str(rule)])
