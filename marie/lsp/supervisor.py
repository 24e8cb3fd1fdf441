"""Starts language servers lazily (one per language and workspace), watches them, and brings them back.

A ``ServerHandle`` owns the open documents (the master copy), so a replacement server gets the same
state: initialize, the settings (``workspace/didChangeConfiguration``) and ``didOpen`` for every open
document, replayed in that order. Crash = the process exits; hang = a request times out while the
server has sent nothing since the request was made: the server is killed and treated as crashed.
Restarts are immediate after a server that was working, exponentially backed off while it keeps
dying during start-up, and limited to ``restart_max`` within ``restart_window_s``; after that the
server is "failed" until ``restart()`` is called.

Threads: handle methods may be called from any thread; ``client()`` blocks (worker threads only).
Starts run on a private thread; state changes are reported through ``on_state`` from that thread.
"""

from __future__ import annotations

import collections
import logging
import os
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from marie.lsp.client import LspClient, ServerDown
from marie.lsp.protocol import Document, Notification, Pending, ServerRequest
from marie.lsp.servers import ServerSpec
from marie.lsp.types import path_to_uri

log = logging.getLogger(__name__)

STOPPED, STARTING, RUNNING, RESTARTING, FAILED, UNAVAILABLE = (
    "stopped", "starting", "running", "restarting", "failed", "unavailable")


@dataclass(frozen=True)
class Policy:
    start_timeout: float = 20.0
    restart_max: int = 12
    restart_window: float = 120.0
    backoff_base: float = 0.25
    backoff_max: float = 8.0
    restart_on_hang: bool = True
    hang_timeout: float = 10.0


def client_capabilities() -> dict:
    """What MarieIDE's client supports, built from ``lsprotocol``'s types (so a misspelt field fails
    at once) and sent as the JSON the ``initialize`` request carries."""
    from lsprotocol import types as t
    from lsprotocol.converters import get_converter

    markup = [t.MarkupKind.PlainText, t.MarkupKind.Markdown]
    code_action_kinds = [t.CodeActionKind.Empty, t.CodeActionKind.QuickFix, t.CodeActionKind.Refactor,
                         t.CodeActionKind.RefactorExtract, t.CodeActionKind.RefactorInline,
                         t.CodeActionKind.RefactorRewrite, t.CodeActionKind.Source,
                         t.CodeActionKind.SourceOrganizeImports]
    caps = t.ClientCapabilities(
        general=t.GeneralClientCapabilities(position_encodings=[t.PositionEncodingKind.Utf16,
                                                                t.PositionEncodingKind.Utf32]),
        workspace=t.WorkspaceClientCapabilities(
            configuration=True, workspace_folders=True, apply_edit=False,
            did_change_configuration=t.DidChangeConfigurationClientCapabilities(dynamic_registration=False),
            workspace_edit=t.WorkspaceEditClientCapabilities(document_changes=True)),
        text_document=t.TextDocumentClientCapabilities(
            synchronization=t.TextDocumentSyncClientCapabilities(did_save=True, dynamic_registration=False),
            completion=t.CompletionClientCapabilities(
                completion_item=t.ClientCompletionItemOptions(snippet_support=True, documentation_format=markup,
                                                              insert_replace_support=False),
                context_support=True),
            hover=t.HoverClientCapabilities(content_format=markup),
            signature_help=t.SignatureHelpClientCapabilities(
                signature_information=t.ClientSignatureInformationOptions(
                    documentation_format=markup,
                    parameter_information=t.ClientSignatureParameterInformationOptions(label_offset_support=True))),
            definition=t.DefinitionClientCapabilities(link_support=False),
            declaration=t.DeclarationClientCapabilities(link_support=False),
            type_definition=t.TypeDefinitionClientCapabilities(link_support=False),
            implementation=t.ImplementationClientCapabilities(link_support=False),
            references=t.ReferenceClientCapabilities(),
            document_highlight=t.DocumentHighlightClientCapabilities(),
            document_symbol=t.DocumentSymbolClientCapabilities(hierarchical_document_symbol_support=True),
            formatting=t.DocumentFormattingClientCapabilities(),
            range_formatting=t.DocumentRangeFormattingClientCapabilities(),
            rename=t.RenameClientCapabilities(prepare_support=False),
            code_action=t.CodeActionClientCapabilities(code_action_literal_support=t.ClientCodeActionLiteralOptions(
                code_action_kind=t.ClientCodeActionKindOptions(value_set=code_action_kinds))),
            publish_diagnostics=t.PublishDiagnosticsClientCapabilities(related_information=False,
                                                                       version_support=True)),
        window=t.WindowClientCapabilities(work_done_progress=False))
    return get_converter().unstructure(caps)


class ServerHandle:
    def __init__(self, spec: ServerSpec, root: Path, policy: Policy, *,
                 on_notification: Callable[[Notification], None] | None = None,
                 on_state: Callable[["ServerHandle"], None] | None = None,
                 on_log: Callable[["ServerHandle", str], None] | None = None) -> None:
        self.spec = spec
        self.root = Path(root)
        self.policy = policy
        self._on_notification = on_notification
        self._on_state = on_state
        self._on_log = on_log
        self._cond = threading.Condition(threading.RLock())
        self.documents: dict[str, Document] = {}
        self.state = STOPPED
        self.message = ""
        self.current: LspClient | None = None
        self._live: LspClient | None = None   # the client once documents were replayed to it
        self.generation = 0            # bumps on every (re)start; tests and the status bar read it
        self.restarts: collections.deque[float] = collections.deque()
        self._early_crashes = 0
        self._closing = False
        self._cwd: str | None = None
        self.log: collections.deque[str] = collections.deque(maxlen=2000)

    # -- state ----------------------------------------------------------------------------------
    def _set_state(self, state: str, message: str = "") -> None:
        with self._cond:
            self.state, self.message = state, message
            self._cond.notify_all()
        if self._on_state:
            try:
                self._on_state(self)
            except Exception:
                log.exception("state listener failed")

    def _log(self, line: str) -> None:
        self.log.append(line)
        if self._on_log:
            try:
                self._on_log(self, line)
            except Exception:
                log.exception("log listener failed")

    @property
    def encoding(self) -> str:
        """How the current server counts characters (see ``Protocol.position_encoding``)."""
        client = self.current
        return client.protocol.position_encoding if client else self.spec.position_encoding

    @property
    def pid(self) -> int | None:
        client = self.current
        return client.pid if client else None

    # -- start ----------------------------------------------------------------------------------
    def ensure_started(self) -> None:
        """Start the server in the background if it is not running or starting. Any thread."""
        with self._cond:
            if self._closing or self.state in (STARTING, RUNNING, RESTARTING, FAILED, UNAVAILABLE):
                return
            self._set_state(STARTING, "starting")
        threading.Thread(target=self._start, name=f"lsp-start-{self.spec.language}", daemon=True).start()

    def client(self, timeout: float) -> LspClient:
        """The running client, starting/awaiting it for up to ``timeout`` s (raises ServerDown)."""
        self.ensure_started()
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                client = self._live
                if self.state == RUNNING and client is not None and client.ready:
                    return client
                if self.state in (FAILED, UNAVAILABLE):
                    raise ServerDown(f"{self.spec.name} is {self.state}: {self.message}")
                if self.state == RESTARTING and self._early_crashes >= 2:
                    # it died during start-up twice in a row (a wrong command or arguments): waiting
                    # for the next try would block every request for start_timeout; fail it now
                    raise ServerDown(f"{self.spec.name} keeps failing to start ({self.message})")
                if self._closing:
                    raise ServerDown(f"{self.spec.name} is shutting down")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise ServerDown(f"{self.spec.name} is {self.state} ({self.message or 'not ready'})")
                self._cond.wait(left)

    def _workdir(self) -> str | None:
        if not self.spec.empty_cwd:
            return str(self.root)
        if self._cwd is None or not os.path.isdir(self._cwd) or os.listdir(self._cwd):
            self._cwd = tempfile.mkdtemp(prefix=f"marie-lsp-{self.spec.language}-")
        return self._cwd

    def _start(self) -> None:
        if not self.spec.available():
            self._set_state(UNAVAILABLE, f"{self.spec.command[0] if self.spec.command else '?'} is not installed")
            return
        env = dict(os.environ)
        if self.spec.empty_cwd:
            env.pop("PYTHONPATH", None)  # nothing from the user's environment may shadow the stdlib
        client = LspClient(list(self.spec.command), cwd=self._workdir(), env=env, name=self.spec.name,
                           position_encoding=self.spec.position_encoding,
                           on_notification=self._on_notification, on_server_request=self._answer,
                           on_stderr=self._log, on_exit=self._exited, on_timeout=self._timed_out)
        with self._cond:
            if self._closing:
                return
            self.current = client
        try:
            client.start(self._init_params(), self.policy.start_timeout)
        except Exception as exc:
            self._log(f"start failed: {exc}")
            client.kill(f"start failed: {exc}")
            # _exited (from the reader thread) schedules the retry; if the process never ran, do it here
            if client.pid is None:
                self._exited(client, None)
            return
        with self._cond:
            if self._closing or client is not self.current:
                return
            if self.spec.settings:
                client.notify("workspace/didChangeConfiguration", {"settings": self.spec.settings})
            for doc in self.documents.values():
                client.did_open(doc.uri, doc.language_id, doc.text, doc.version)
            count = len(self.documents)
            self.generation += 1
            self._live = client
            # RUNNING is set under the lock: no document change can slip between replay and live
            self._set_state(RUNNING, f"pid {client.pid}")
        self._log(f"started (pid {client.pid}, {count} document(s) replayed)")

    def _init_params(self) -> dict:
        uri = path_to_uri(self.root)
        return {"processId": os.getpid(), "clientInfo": {"name": "MarieIDE"},
                "rootUri": uri, "rootPath": str(self.root),
                "workspaceFolders": [{"uri": uri, "name": self.root.name}],
                "capabilities": client_capabilities(),
                "initializationOptions": self.spec.initialization_options or None,
                "trace": "off"}

    def _answer(self, request: ServerRequest) -> tuple[Any, dict | None]:
        if request.method == "workspace/configuration":
            items = (request.params or {}).get("items", [])
            return [self._section(item.get("section")) for item in items], None
        if request.method == "workspace/workspaceFolders":
            return [{"uri": path_to_uri(self.root), "name": self.root.name}], None
        if request.method in ("window/workDoneProgress/create", "client/registerCapability",
                              "client/unregisterCapability"):
            return None, None
        if request.method == "workspace/applyEdit":
            # edits reach files only through the checkpointed write path, never behind the user's back
            return {"applied": False, "failureReason": "MarieIDE applies edits itself"}, None
        if request.method == "window/showMessageRequest":
            return None, None
        return None, {"code": -32601, "message": f"unsupported: {request.method}"}

    def _section(self, section: str | None) -> Any:
        node: Any = self.spec.settings
        for part in (section or "").split(".") if section else []:
            node = node.get(part) if isinstance(node, dict) else None
        return node

    # -- crash, hang, restart -------------------------------------------------------------------
    def _exited(self, client: LspClient, code: int | None) -> None:
        with self._cond:
            if client is not self.current or self._closing:
                return
            self.current = None
            # a server that never got its documents died during start-up: back off; one that was
            # working (killed, crashed mid-session) comes back at once
            early = self._live is not client
            self._live = None
            now = time.monotonic()
            self._early_crashes = self._early_crashes + 1 if early else 0
            while self.restarts and now - self.restarts[0] > self.policy.restart_window:
                self.restarts.popleft()
            reason = client.exit_reason or f"exited with code {code}"
            if len(self.restarts) >= self.policy.restart_max:
                message = (f"stopped after {len(self.restarts)} restarts in {self.policy.restart_window:g} s "
                           f"(last: {reason}); use Restart Language Server")
                self._log(message)
                self._set_state(FAILED, message)
                return
            self.restarts.append(now)
            delay = 0.0 if self._early_crashes == 0 else min(
                self.policy.backoff_max, self.policy.backoff_base * 2 ** (self._early_crashes - 1))
        self._log(f"{reason}; restarting in {delay:g} s")
        self._set_state(RESTARTING, f"{reason}; restarting")
        timer = threading.Timer(delay, self._start)
        timer.daemon = True
        timer.start()

    def _timed_out(self, client: LspClient, request_id: int, pending: Pending) -> None:
        if not self.policy.restart_on_hang or client is not self.current:
            return
        # A timed-out request alone may just be slow work (a cold completion of a big module); the
        # server counts as hung when it has stayed silent for hang_timeout since the request.
        wait = max(0.0, pending.sent_at + self.policy.hang_timeout - time.monotonic())

        def verdict() -> None:
            if client is self.current and client.alive and client.last_received < pending.sent_at:
                self._log(f"no answer to {pending.method} and no output for {self.policy.hang_timeout:g} s: "
                          "the server is hung; restarting it")
                client.kill(f"hung on {pending.method}")

        if wait <= 0:
            verdict()
        else:
            timer = threading.Timer(wait, verdict)
            timer.daemon = True
            timer.start()

    def restart(self) -> None:
        """User-requested restart: resets the budget. Any thread."""
        with self._cond:
            self.restarts.clear()
            self._early_crashes = 0
            client, self.current, self._live = self.current, None, None
            self.state = STOPPED
        if client:
            threading.Thread(target=client.shutdown, args=(1.0,), daemon=True).start()
        self.ensure_started()

    def close(self) -> None:
        """Stop the server politely (kill after a short wait). Any non-GUI thread."""
        with self._cond:
            self._closing = True
            client, self.current, self._live = self.current, None, None
            self._cond.notify_all()
        if client:
            client.shutdown(1.0)
        self.state = STOPPED
        if self._cwd:
            shutil.rmtree(self._cwd, ignore_errors=True)

    # -- documents (master copy; forwarded to the running server) --------------------------------
    def open(self, uri: str, language_id: str, text: str) -> None:
        with self._cond:
            if uri in self.documents:
                self.change(uri, text)
                return
            self.documents[uri] = Document(uri, language_id, 1, text)
            client = self._live
            if client and client.ready:
                client.did_open(uri, language_id, text, 1)
        self.ensure_started()

    def change(self, uri: str, text: str) -> int:
        """New full text of an open document (the client sends an incremental change)."""
        with self._cond:
            doc = self.documents[uri]
            if doc.text != text:
                doc.version += 1
                doc.text = text
                client = self._live
                if client and client.ready:
                    client.did_change(uri, text)
            return doc.version

    def save(self, uri: str) -> None:
        with self._cond:
            client = self._live
            if uri in self.documents and client and client.ready:
                client.did_save(uri)

    def close_document(self, uri: str) -> None:
        with self._cond:
            if self.documents.pop(uri, None) is None:
                return
            client = self._live
            if client and client.ready:
                client.did_close(uri)
