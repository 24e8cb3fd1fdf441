"""The egress gate: the one check every AI request passes before anything leaves (``app.ai`` calls it).

In order: the policy (local-only, provider, endpoint and model allow/deny lists), the budget (when
its action is "stop"), the secret scan of every message and tool-call argument (block, redact or
warn per policy), then an audit record of what is about to be sent (durable before the request
goes). A scanner failure closes the gate: the request is refused, never sent unscanned.
A refusal is ``marie.ai.errors.Refused`` with a message saying what was found and where.
Worker thread (``AIService.complete`` runs on one).
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field, replace
from typing import Any

from marie.ai import errors
from marie.ai.types import ChatRequest, Message, ToolCall
from marie.governance.events import SecretsFound
from marie.governance.secrets import Finding, ScanError, Scanner, describe, unredact

log = logging.getLogger(__name__)

_FILE_BLOCK = re.compile(r"(?m)^([^\s`][^\n]{0,300})\n(`{3,4})\n")


@dataclass
class GateOutcome:
    """What passed the gate: the request as sent (redacted), and the map to put secrets back."""

    request: ChatRequest
    mapping: dict[str, str] = field(default_factory=dict, repr=False)
    findings: int = 0
    audit_seq: int = 0

    def restore(self, text: str) -> str:
        """A model's answer with this request's placeholders mapped back to the secrets (locally)."""
        return unredact(text, self.mapping)


def files_in(text: str) -> list[dict]:
    """The files a prompt carries (the composer's ``path`` + fence blocks) with the bytes sent of each."""
    out: list[dict] = []
    pos = 0
    while True:
        match = _FILE_BLOCK.search(text, pos)
        if match is None:
            return out
        fence = match.group(2)
        end = text.find("\n" + fence, match.end() - 1)
        body = text[match.end():end + 1] if end != -1 else text[match.end():]
        out.append({"path": match.group(1).strip(), "bytes": len(body.encode("utf-8", "surrogatepass")),
                    "span": (match.end(), match.end() + len(body))})
        pos = end + 1 + len(fence) if end != -1 else len(text)


WITHHELD = "[WITHHELD: {path} is a protected path (governance.paths.protected)]\n"


def withhold_protected(request: ChatRequest, policy: Any) -> tuple[ChatRequest, list[str]]:
    """The request with the bodies of protected files replaced by a note, and their paths."""
    if not policy.get("governance.paths.protected"):
        return request, []
    withheld: list[str] = []
    messages = []
    for message in request.messages:
        text = message.content
        for block in reversed(files_in(text)):
            if policy.path_protected(block["path"]):
                withheld.append(block["path"])
                start, end = block["span"]
                text = text[:start] + WITHHELD.format(path=block["path"]) + text[end:]
        messages.append(replace(message, content=text) if text is not message.content else message)
    return (replace(request, messages=messages), sorted(set(withheld))) if withheld else (request, [])


class EgressGate:
    def __init__(self, governance: Any) -> None:
        self.gov = governance

    def _refuse(self, message: str, provider: str, task: str, reason: str, **extra: Any) -> errors.Refused:
        self.gov.audit_decision("ai.refused", task=task, provider=provider, reason=reason, **extra)
        return errors.Refused(message, provider=provider)

    def check(self, task: str, provider: Any, model: str, request: ChatRequest, *,
              allow_redact: bool = True) -> GateOutcome:
        """Policy, budget, secret scan, audit; returns what may be sent. Raises ``Refused``.

        ``allow_redact`` False (a caller that will send its own request, not the outcome's) turns
        "redact" into "block". Worker thread."""
        policy = self.gov.policy
        name = getattr(provider, "name", "?")
        local = bool(getattr(provider, "local", False))
        endpoint = str(getattr(provider, "config", {}).get("base_url", "")) if hasattr(provider, "config") else ""
        for decision in (policy.provider_allowed(name, local),
                         policy.endpoint_allowed(endpoint) if endpoint else None,
                         policy.model_allowed(name, model)):
            if decision is not None and not decision.allowed:
                raise self._refuse(f"{decision.reason}; the prompt was not sent", name, task, decision.reason,
                                   model=model, endpoint=endpoint)
        try:   # the usage row and audit record will be sealed: no key, no request (nothing half-recorded)
            self.gov.cipher()
        except Exception as exc:
            raise self._refuse(f"encryption at rest is on but has no key ({exc}); the prompt was not sent",
                               name, task, "no encryption key") from None
        budget = "" if local else self.gov.budget_block()   # local requests cost nothing
        if budget:
            raise self._refuse(budget, name, task, budget, model=model)
        return self._pass(task, name, model, endpoint, local, request, allow_redact)

    def _pass(self, task: str, name: str, model: str, endpoint: str, local: bool, request: ChatRequest,
              allow_redact: bool) -> GateOutcome:
        """Protected files withheld, the secret scan, the audit record (after the policy checks)."""
        policy = self.gov.policy
        mapping: dict[str, str] = {}
        redactions: list[dict] = []
        sent, withheld = withhold_protected(request, policy)
        if not local or policy.get("governance.scan_local"):
            mode = policy.secrets if allow_redact or policy.secrets != "redact" else "block"
            sent, mapping, redactions = self._scan(task, name, mode, sent)
        if withheld and not allow_redact:
            raise self._refuse(f"the prompt carries protected files ({', '.join(withheld)}); the policy keeps them "
                               "on this machine, nothing was sent", name, task, "protected paths", files=withheld)
        text_bytes = sum(len(m.content.encode("utf-8", "surrogatepass")) for m in sent.messages)
        files = [{"path": f["path"], "bytes": f["bytes"]} for m in sent.messages if m.role != "system"
                 for f in files_in(m.content)]
        record = self.gov.audit_required_record(
            "ai.request", task=task, provider=name, model=model, endpoint=endpoint or ("local" if local else ""),
            local=local, messages=len(sent.messages), bytes=text_bytes, files=files, redactions=redactions,
            withheld=withheld,
            secrets_mode=policy.secrets, tools=[t.name for t in request.tools])
        return GateOutcome(sent, mapping, len(redactions), int(record.get("seq", 0)) if record else 0)

    # -- the scan --------------------------------------------------------------------------------
    def _scan(self, task: str, provider: str, mode: str, request: ChatRequest) -> tuple[ChatRequest, dict, list]:
        scanner: Scanner = self.gov.scanner()
        found: list[tuple[str, list[Finding]]] = []
        messages: list[Message] = []
        mapping: dict[str, str] = {}
        try:
            for index, message in enumerate(request.messages, 1):
                where = f"message {index} ({message.role})"
                content = message.content
                findings = scanner.scan(content)
                if findings:
                    found.append((where, findings))
                    if mode == "redact":
                        red = scanner.redact(content, findings)
                        content = red.text
                        mapping.update(red.mapping)
                calls = []
                for call in message.tool_calls:
                    args = json.dumps(call.arguments, ensure_ascii=False)
                    arg_findings = scanner.scan(args)
                    if arg_findings:
                        found.append((f"{where}, tool call {call.name}", arg_findings))
                        if mode == "redact":
                            red = scanner.redact(args, arg_findings)
                            mapping.update(red.mapping)
                            try:
                                call = ToolCall(call.id, call.name, json.loads(red.text))
                            except ValueError:   # a placeholder inside an escape: drop the arguments
                                call = ToolCall(call.id, call.name, {"redacted": red.text})
                    calls.append(call)
                messages.append(replace(message, content=content, tool_calls=tuple(calls))
                                if (content is not message.content or calls != list(message.tool_calls)) else message)
        except ScanError as exc:
            raise self._refuse(f"{exc}; the gate stays closed and the prompt was not sent", provider, task,
                               "scanner failed") from None
        if not found:
            return request, {}, []
        summary = "; ".join(describe(f, where) for where, f in found)
        kinds = tuple(sorted({f.kind for _, fs in found for f in fs}))
        places = tuple(f"{where}, {f.where}" for where, fs in found for f in fs)
        redactions = [{"kind": f.kind, "where": f"{where}, {f.where}",
                       "placeholder": scanner.placeholder(f.kind, f.secret)} for where, fs in found for f in fs]
        action = {"block": "blocked", "redact": "redacted", "warn": "warned"}[mode]
        self.gov.publish(SecretsFound(task, provider, action, kinds, places))
        if mode == "block":
            raise self._refuse(f"the prompt contains secrets ({summary}); the policy blocks it, nothing was sent",
                               provider, task, "secrets", redactions=redactions)
        if mode == "warn":
            self.gov.notice(f"sent to {provider} with secrets in it ({summary}): governance.secrets is \"warn\"",
                            "warning")
        return replace(request, messages=messages) if mode == "redact" else request, mapping, redactions


    def check_text(self, task: str, destination: str, text: str, *, local: bool = False,
                   allow_redact: bool = True) -> GateOutcome:
        """The gate for a payload that is not a chat request (an MCP tool call to a remote server, a
        fill-in-the-middle prompt): local-only and the endpoint lists, then the scan and the audit.
        Send ``outcome.request.messages[0].content``. Raises ``Refused``. Worker thread."""
        policy = self.gov.policy
        if not local:
            if policy.local_only:
                raise self._refuse(f"{destination} is not on this machine and local-only mode is on "
                                   f"(from {policy.where('ai.local_only')}); nothing was sent", destination, task,
                                   "local-only")
            decision = policy.endpoint_allowed(destination)
            if not decision.allowed:
                raise self._refuse(f"{decision.reason}; nothing was sent", destination, task, decision.reason)
        return self._pass(task, destination, "", destination, local, ChatRequest([Message("user", text)]),
                          allow_redact)
