"""``LspService``: the language features for the editor, the CLI and the tests, in editor terms.

Positions are 1-based lines and 1-based code-point columns; paths are absolute. Documents are kept
in sync with ``open``/``change``/``save``/``close`` (full text in; the protocol sends incremental
changes). One server per language and workspace is started lazily (``marie.lsp.supervisor``); for
Python, jedi answers completion, hover and definition when the server is unavailable.

Threads: feature methods (``complete``, ``hover``, ``rename`` ...) BLOCK until the server answers or
times out: call them from a worker (``app.tasks.submit``) or the CLI, never the GUI thread. Document
methods (``open``, ``change``...) are quick and may be called from any thread. Events are published on
``app.events`` (so GUI handlers run on the GUI thread): ``LspDiagnostics(path, diagnostics)``,
``LspStatus(language, state, message)`` and ``LspLog(language, line)`` (``marie.core.event_types``).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from marie.core.event_types import LspDiagnostics, LspLog, LspStatus
from marie.lsp.client import RequestTimeout, ResultStale, ServerDown, ServerError
from marie.lsp.jedi_fallback import JediFallback
from marie.lsp.protocol import Notification
from marie.lsp.servers import (ServerSpec, configured_language, language_id, plugin_language, plugin_spec,
                               spec_for)
from marie.lsp.supervisor import Policy, ServerHandle
from marie.lsp.types import (CodeAction, CompletionItem, Diagnostic, Highlight, Hover, Location, Range, SignatureHelp,
                             Symbol, TextEdit, WorkspaceEdit, apply_text_edits, convert_code_actions,
                             convert_completion, convert_diagnostics, convert_highlights, convert_hover,
                             convert_locations, convert_signature_help, convert_symbols, convert_text_edits,
                             convert_workspace_edit, path_to_uri, to_lsp_range, uri_to_path)
from marie.text.positions import LineTable

if TYPE_CHECKING:
    from marie.services import Services

log = logging.getLogger(__name__)

class LspError(ServerError):
    """A language feature could not be answered (no server, bad input); message for the user."""


@dataclass(frozen=True)
class ServerStatus:
    language: str
    name: str
    state: str
    message: str
    pid: int | None
    restarts: int
    generation: int


class StampedText(str):
    """A document text with the moment it was taken (a counter shared by the editors that take
    them): requests and syncs run on several threads, so one holding an older text may reach the
    service after one holding a newer text; an older one never replaces a newer one at the server
    (which would also make the newer request's answer stale)."""

    stamp: int

    def __new__(cls, text: str, stamp: int) -> "StampedText":
        obj = super().__new__(cls, text)
        obj.stamp = stamp
        return obj


def language_of(path: Path) -> str:
    try:
        from marie.text.languages import language_for
        return language_for(path)
    except Exception:  # the language table is optional here; .py is all the fallback needs
        return "python" if path.suffix in (".py", ".pyi", ".pyw") else "text"


class LspService:
    def __init__(self, app: Services) -> None:
        self.app = app
        self.root = Path(app.root)
        self._lock = threading.RLock()
        self._handles: dict[str, ServerHandle] = {}
        self._diagnostics: dict[Path, list[Diagnostic]] = {}
        self._diag_cond = threading.Condition(self._lock)
        self._diag_seq: dict[Path, int] = {}
        self._jedi: JediFallback | None = None
        self._closed = False
        self.fallback_used = 0   # how many answers jedi gave (status bar, tests)
        self._kept: set[Path] = set()   # checked while closed: keep their diagnostics after didClose
        self._text_lock = threading.RLock()   # orders "is this text the newest? then send it"
        self._stamps: dict[Path, int] = {}    # newest StampedText sent per document
        self._unsubscribe = app.settings.subscribe(self._settings_changed)

    # -- settings -------------------------------------------------------------------------------
    def setting(self, key: str) -> Any:
        return self.app.settings.get(f"lsp.{key}")

    def _policy(self) -> Policy:
        return Policy(float(self.setting("start_timeout_s")), int(self.setting("restart_max")),
                      float(self.setting("restart_window_s")), float(self.setting("backoff_base_s")),
                      float(self.setting("backoff_max_s")), bool(self.setting("restart_on_hang")),
                      float(self.setting("hang_timeout_s")))

    def _settings_changed(self, keys: set[str]) -> None:
        if not any(k.startswith("lsp.") for k in keys):
            return
        with self._lock:
            handles = list(self._handles.items())
        for language, handle in handles:
            spec = spec_for(language, self.app.settings)
            if spec is None or spec.command != handle.spec.command:
                # a different server: start afresh on next use (documents are re-opened by callers)
                with self._lock:
                    self._handles.pop(language, None)
                threading.Thread(target=handle.close, daemon=True).start()
            else:
                handle.spec = spec
                handle.policy = self._policy()
                client = handle.current
                if client and client.ready and spec.settings:
                    client.notify("workspace/didChangeConfiguration", {"settings": spec.settings})

    # -- servers --------------------------------------------------------------------------------
    def handle(self, language: str) -> ServerHandle | None:
        """The server handle for ``language`` (created, not started), or None when none is configured."""
        with self._lock:
            if self._closed or not self.setting("enabled"):
                return None
            handle = self._handles.get(language)
            if handle is None:
                spec = self.spec(language)
                if spec is None:
                    return None
                handle = ServerHandle(spec, self.root, self._policy(), on_state=self._state_changed,
                                      on_log=self._log_line)
                handle._on_notification = lambda note, h=handle: self._notification(h, note)
                self._handles[language] = handle
            return handle

    def servers(self) -> list[ServerStatus]:
        with self._lock:
            handles = list(self._handles.values())
        return [ServerStatus(h.spec.language, h.spec.name, h.state, h.message, h.pid, len(h.restarts), h.generation)
                for h in handles]

    def restart(self, language: str) -> None:
        handle = self.handle(language)
        if handle:
            handle.restart()

    def spec(self, language: str) -> ServerSpec | None:
        """Settings first (a user's table wins), then the servers plugins contribute."""
        return spec_for(language, self.app.settings) or plugin_spec(language, self._plugin_servers())

    def _plugin_servers(self) -> list:
        # Never waits for plugins to load (the GUI thread asks this): none until they have.
        try:
            return self.app.plugins.available("lsp_servers")
        except Exception:
            log.exception("plugin language servers unavailable")
            return []

    def language_for(self, path: Path | str, hint: str | None = None) -> str:
        """The language a server is chosen by: a configured server's ``extensions`` first (file
        types MarieIDE does not know), else ``hint`` (the editor's language), else the file name."""
        configured = configured_language(path, self.app.settings) or plugin_language(path, self._plugin_servers())
        if configured:
            return configured
        return hint or language_of(Path(path))

    def _state_changed(self, handle: ServerHandle) -> None:
        self.app.events.publish(LspStatus(handle.spec.language, handle.state, handle.message))

    def _log_line(self, handle: ServerHandle, line: str) -> None:
        self.app.events.publish(LspLog(handle.spec.language, line))

    # -- documents ------------------------------------------------------------------------------
    def open(self, path: Path | str, text: str | None = None, language: str | None = None) -> None:
        """Start tracking a document (reads it from disk when ``text`` is None). Any thread."""
        path = Path(path).resolve()
        language = self.language_for(path, language)
        if text is None:
            text = self.read_document(path)
        with self._lock:
            self._kept.discard(path)
        handle = self.handle(language)
        if handle is None:
            return
        with self._text_lock:
            uri = path_to_uri(path)
            if self._older(path, text) and uri in handle.documents:
                return   # a newer text is there already
            handle.open(uri, language_id(language), text)

    def _older(self, path: Path, text: str | None) -> bool:
        """True when ``text`` is a StampedText older than one already sent (caller holds _text_lock)."""
        stamp = getattr(text, "stamp", None)
        if stamp is None:
            return False
        if stamp < self._stamps.get(path, 0):
            return True
        self._stamps[path] = stamp
        return False

    def change(self, path: Path | str, text: str) -> int | None:
        """The document's whole new text; an incremental change is sent. Returns the new version."""
        path = Path(path).resolve()
        with self._text_lock:
            handle, uri = self._find(path)
            if handle is None:
                self.open(path, text)
                return 1
            if self._older(path, text):
                return None
            return handle.change(uri, text)

    def save(self, path: Path | str) -> None:
        handle, uri = self._find(Path(path).resolve())
        if handle:
            handle.save(uri)

    def close_document(self, path: Path | str) -> None:
        path = Path(path).resolve()
        handle, uri = self._find(path)
        if handle:
            handle.close_document(uri)
        with self._text_lock:
            self._stamps.pop(path, None)
        with self._lock:
            self._diagnostics.pop(path, None)
        self.app.events.publish(LspDiagnostics(path, ()))

    def text_of(self, path: Path) -> str | None:
        """The text the server sees for an open document (None when not open)."""
        handle, uri = self._find(Path(path).resolve())
        if handle is None:
            return None
        doc = handle.documents.get(uri)
        return doc.text if doc else None

    def _find(self, path: Path) -> tuple[ServerHandle | None, str]:
        uri = path_to_uri(path)
        with self._lock:
            for handle in self._handles.values():
                if uri in handle.documents:
                    return handle, uri
        return None, uri

    @staticmethod
    def read_document(path: Path) -> str:
        """The text of ``path`` as the server will see it (decoded like the editor); ``LspError`` with
        the reason when it cannot be read. Any thread."""
        from marie.text.codec import decode

        try:
            data = path.read_bytes()
        except OSError as exc:
            raise LspError(f"cannot read {path}: {exc.strerror or exc}") from None
        try:
            return decode(data)[0]
        except ValueError as exc:
            raise LspError(f"{path.name}: {exc}") from None

    @staticmethod
    def _enc(handle: ServerHandle | None) -> str:
        return handle.encoding if handle is not None else "utf-16"

    def _lines_for(self, handle: ServerHandle | None) -> Callable[[Path], LineTable]:
        encoding = self._enc(handle)
        return lambda path: self.lines_for(path, encoding)

    def lines_for(self, path: Path, encoding: str = "utf-16") -> LineTable:
        """Line table of the text the server refers to for ``path`` (open text, else disk)."""
        text = self.text_of(path)
        if text is None:
            try:
                text = self.read_document(path)
            except LspError:
                text = ""
        return LineTable.of(text, encoding)

    # -- diagnostics ----------------------------------------------------------------------------
    def _notification(self, handle: ServerHandle, note: Notification) -> None:
        if note.method == "textDocument/publishDiagnostics":
            params = note.params or {}
            try:
                path = uri_to_path(params["uri"])
            except (KeyError, ValueError):
                return
            diagnostics = convert_diagnostics(params.get("diagnostics") or [], self.lines_for(path, handle.encoding))
            with self._diag_cond:
                if path in self._kept and not diagnostics and path_to_uri(path) not in handle.documents:
                    return   # the server clears a closed file's report; the workspace check keeps it
                self._diagnostics[path] = diagnostics
                self._diag_seq[path] = self._diag_seq.get(path, 0) + 1
                self._diag_cond.notify_all()
            self.app.events.publish(LspDiagnostics(path, tuple(diagnostics)))
        elif note.method in ("window/logMessage", "window/showMessage"):
            message = (note.params or {}).get("message", "")
            if message:
                self.app.events.publish(LspLog("", message))

    def diagnostics(self) -> dict[Path, list[Diagnostic]]:
        """Every published diagnostic, per file (files without problems are left out). Any thread."""
        with self._lock:
            return {p: list(d) for p, d in self._diagnostics.items() if d}

    def diagnostics_for(self, path: Path | str) -> list[Diagnostic]:
        with self._lock:
            return list(self._diagnostics.get(Path(path).resolve(), []))

    def diagnostics_seq(self, path: Path | str) -> int:
        """How many diagnostic reports arrived for ``path`` (wait for it to grow after an edit)."""
        with self._lock:
            return self._diag_seq.get(Path(path).resolve(), 0)

    def wait_diagnostics(self, path: Path | str, after: int = 0, timeout: float = 10.0) -> list[Diagnostic]:
        """Block until a report newer than ``after`` arrives for ``path`` (worker/CLI thread)."""
        path = Path(path).resolve()
        deadline = time.monotonic() + timeout
        with self._diag_cond:
            while self._diag_seq.get(path, 0) <= after:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise RequestTimeout(f"no diagnostics for {path.name} within {timeout:g} s")
                self._diag_cond.wait(left)
            return list(self._diagnostics.get(path, []))

    def check(self, path: Path | str, timeout: float = 15.0) -> list[Diagnostic]:
        """Open (or re-sync from disk) ``path`` and return its fresh diagnostics (blocking; CLI)."""
        path = Path(path).resolve()
        before = self.diagnostics_seq(path)
        handle, uri = self._find(path)
        if handle is None:
            self.open(path)
            handle, uri = self._find(path)
            if handle is None:
                raise LspError(f"no language server is configured for {path.name}")
        else:
            handle.change(uri, self.read_document(path))
            handle.save(uri)
        handle.client(float(self.setting("start_timeout_s")))
        return self.wait_diagnostics(path, before, timeout)

    def check_workspace(self, paths: list[Path], ctx: Any = None, batch: int = 25,
                        timeout: float = 15.0) -> dict[Path, list[Diagnostic]]:
        """Diagnostics for files that are not open: opened in batches (servers lint open documents
        only), reported, then closed again while their diagnostics are kept for the Problems panel.
        Blocking (worker); ``ctx`` (a TaskContext) gives progress and cancellation."""
        todo = [Path(p).resolve() for p in paths]
        todo = [p for p in todo if self._find(p)[0] is None and self.language_for(p) != "text"]
        done: dict[Path, list[Diagnostic]] = {}
        for start in range(0, len(todo), batch):
            if ctx is not None:
                ctx.check()
                ctx.progress(start, len(todo), "checking files")
            group = todo[start:start + batch]
            seqs = {}
            for path in group:
                seqs[path] = self.diagnostics_seq(path)
                try:
                    self.open(path)
                except LspError as exc:
                    log.info("skipped %s: %s", path, exc)
            for path in group:
                handle, uri = self._find(path)
                if handle is None:
                    continue
                try:
                    if start == 0:
                        handle.client(float(self.setting("start_timeout_s")))
                    done[path] = self.wait_diagnostics(path, seqs[path], timeout)
                except ServerError as exc:
                    log.info("no diagnostics for %s: %s", path, exc)
                finally:
                    with self._lock:
                        self._kept.add(path)
                    handle.close_document(uri)   # the diagnostics stay
        if ctx is not None:
            ctx.progress(len(todo), len(todo), "checked")
        return done

    # -- requests -------------------------------------------------------------------------------
    def _prepare(self, path: Path | str, text: str | None) -> tuple[Path, ServerHandle | None, str, str]:
        """Make sure the document is open with ``text`` (or its current/disk text)."""
        path = Path(path).resolve()
        with self._text_lock:
            handle, uri = self._find(path)
            if handle is None:
                self.open(path, text)
                handle, uri = self._find(path)
            elif text is not None and not self._older(path, text):
                handle.change(uri, text)
        current = handle.documents[uri].text if handle and uri in handle.documents else (text if text is not None else self.read_document(path))
        return path, handle, uri, current

    def _call(self, handle: ServerHandle | None, method: str, params: dict, uri: str | None,
              timeout: float | None = None) -> Any:
        if handle is None:
            raise LspError("no language server is configured for this file")
        timeout = float(timeout or self.setting("request_timeout_s"))
        if handle.state == "running":
            wait = timeout
        elif self._fallback_ok(Path(uri_to_path(uri))) if uri else False:
            # jedi can answer now: wait for a (re)starting server only as long as the request may take
            wait = timeout
        else:
            wait = float(self.setting("start_timeout_s"))
        client = handle.client(max(wait, 0.1))
        return client.call(method, params, timeout=timeout, uri=uri)

    @staticmethod
    def _pos(lines: LineTable, line: int, column: int) -> dict:
        return {"line": line - 1, "character": lines.codepoint_to_lsp(line - 1, column - 1)}

    def _doc_params(self, handle: ServerHandle | None, uri: str, current: str, line: int, column: int) -> dict:
        return {"textDocument": {"uri": uri}, "position": self._pos(LineTable.of(current, self._enc(handle)), line, column)}

    def _fallback_ok(self, path: Path) -> bool:
        return self.language_for(path) == "python" and bool(self.setting("jedi_fallback"))

    def jedi(self) -> JediFallback:
        with self._lock:
            if self._jedi is None:
                self._jedi = JediFallback(self.root)
            return self._jedi

    def _with_fallback(self, path: Path, current: str, server: Callable[[], Any], fallback: Callable[[JediFallback], Any]) -> Any:
        try:
            return server()
        except ResultStale:
            raise
        except (ServerDown, RequestTimeout, LspError) as exc:
            if not self._fallback_ok(path):
                raise
            log.info("jedi answers for %s: %s", path.name, exc)
            self.fallback_used += 1
            return fallback(self.jedi())

    def complete(self, path: Path | str, line: int, column: int, *, text: str | None = None,
                 timeout: float | None = None) -> list[CompletionItem]:
        """Completions at (line, column), 1-based. Worker thread. Raises ResultStale if the text moved on."""
        path, handle, uri, current = self._prepare(path, text)
        lines = LineTable.of(current, self._enc(handle))
        timeout = timeout or float(self.setting("completion_timeout_s"))

        def server() -> list[CompletionItem]:
            raw = self._call(handle, "textDocument/completion", self._doc_params(handle, uri, current, line, column), uri, timeout)
            return convert_completion(raw, lines)

        return self._with_fallback(path, current, server, lambda j: j.complete(path, current, line, column))

    def hover(self, path: Path | str, line: int, column: int, *, text: str | None = None) -> Hover | None:
        path, handle, uri, current = self._prepare(path, text)

        def server() -> Hover | None:
            raw = self._call(handle, "textDocument/hover", self._doc_params(handle, uri, current, line, column), uri)
            return convert_hover(raw, LineTable.of(current, self._enc(handle)))

        return self._with_fallback(path, current, server, lambda j: j.hover(path, current, line, column))

    def definition(self, path: Path | str, line: int, column: int, *, text: str | None = None,
                   kind: str = "definition") -> list[Location]:
        """kind: "definition" | "declaration" | "typeDefinition" | "implementation"."""
        path, handle, uri, current = self._prepare(path, text)

        def server() -> list[Location]:
            raw = self._call(handle, f"textDocument/{kind}", self._doc_params(handle, uri, current, line, column), uri)
            return convert_locations(raw, self._lines_for(handle))

        if kind not in ("definition", "declaration"):
            return server()
        return self._with_fallback(path, current, server, lambda j: j.definition(path, current, line, column))

    def references(self, path: Path | str, line: int, column: int, *, text: str | None = None,
                   include_declaration: bool = True) -> list[Location]:
        path, handle, uri, current = self._prepare(path, text)
        params = self._doc_params(handle, uri, current, line, column)
        params["context"] = {"includeDeclaration": include_declaration}
        return convert_locations(self._call(handle, "textDocument/references", params, uri), self._lines_for(handle))

    def signature_help(self, path: Path | str, line: int, column: int, *, text: str | None = None) -> SignatureHelp | None:
        path, handle, uri, current = self._prepare(path, text)

        def server() -> SignatureHelp | None:
            raw = self._call(handle, "textDocument/signatureHelp", self._doc_params(handle, uri, current, line, column), uri)
            return convert_signature_help(raw, self._enc(handle))

        return self._with_fallback(path, current, server, lambda j: j.signature_help(path, current, line, column))

    def document_highlight(self, path: Path | str, line: int, column: int, *, text: str | None = None) -> list[Highlight]:
        path, handle, uri, current = self._prepare(path, text)
        raw = self._call(handle, "textDocument/documentHighlight", self._doc_params(handle, uri, current, line, column), uri)
        return convert_highlights(raw, LineTable.of(current, self._enc(handle)))

    def document_symbols(self, path: Path | str, *, text: str | None = None) -> list[Symbol]:
        path, handle, uri, current = self._prepare(path, text)
        raw = self._call(handle, "textDocument/documentSymbol", {"textDocument": {"uri": uri}}, uri)
        return convert_symbols(raw, LineTable.of(current, self._enc(handle)))

    def formatting(self, path: Path | str, *, text: str | None = None, tab_size: int = 4,
                   insert_spaces: bool = True) -> list[TextEdit]:
        """Edits that format the whole document (apply with ``types.apply_text_edits``)."""
        path, handle, uri, current = self._prepare(path, text)
        params = {"textDocument": {"uri": uri}, "options": {"tabSize": tab_size, "insertSpaces": insert_spaces}}
        return convert_text_edits(self._call(handle, "textDocument/formatting", params, uri), LineTable.of(current, self._enc(handle)))

    def range_formatting(self, path: Path | str, rng: Range, *, text: str | None = None, tab_size: int = 4,
                         insert_spaces: bool = True) -> list[TextEdit]:
        path, handle, uri, current = self._prepare(path, text)
        lines = LineTable.of(current, self._enc(handle))
        params = {"textDocument": {"uri": uri}, "range": to_lsp_range(rng, lines),
                  "options": {"tabSize": tab_size, "insertSpaces": insert_spaces}}
        return convert_text_edits(self._call(handle, "textDocument/rangeFormatting", params, uri), lines)

    def code_actions(self, path: Path | str, rng: Range, *, text: str | None = None) -> list[CodeAction]:
        path, handle, uri, current = self._prepare(path, text)
        lines = LineTable.of(current, self._enc(handle))
        raw_diags = []
        for d in self.diagnostics_for(path):
            if d.line <= rng.end_line and d.end_line >= rng.line:
                raw_diags.append({"range": to_lsp_range(Range(d.line, d.column, d.end_line, d.end_column), lines),
                                  "message": d.message, "source": d.source,
                                  "severity": {"error": 1, "warning": 2, "information": 3, "hint": 4}[d.severity]})
        params = {"textDocument": {"uri": uri}, "range": to_lsp_range(rng, lines), "context": {"diagnostics": raw_diags}}
        return convert_code_actions(self._call(handle, "textDocument/codeAction", params, uri), self._lines_for(handle))

    def rename(self, path: Path | str, line: int, column: int, new_name: str, *, text: str | None = None) -> WorkspaceEdit:
        """The workspace edit renaming the symbol at (line, column); nothing is written yet."""
        if not new_name or not new_name.strip():
            raise LspError("the new name is empty")
        path, handle, uri, current = self._prepare(path, text)
        params = self._doc_params(handle, uri, current, line, column)
        params["newName"] = new_name
        return convert_workspace_edit(self._call(handle, "textDocument/rename", params, uri), self._lines_for(handle))

    def execute_command(self, path: Path | str, command: dict) -> Any:
        """Run a server command offered by a code action (the server may answer with an edit)."""
        path, handle, uri, current = self._prepare(path, None)
        params = {"command": command.get("command"), "arguments": command.get("arguments") or []}
        return self._call(handle, "workspace/executeCommand", params, None)

    # -- applying workspace edits ----------------------------------------------------------------
    def apply_workspace_edit(self, edit: WorkspaceEdit, label: str, source: str = "lsp"):
        """Write ``edit`` through the single checkpointed write path (``app.writes.apply``); open
        documents are edited from the text the server saw and re-synced. Worker thread."""
        from marie.workspace.writes import FileChange
        from marie.workspace.guard import PathRefused, relative_posix
        from marie.text.codec import TextFormat, decode, encode

        changes: list[FileChange] = []
        new_texts: dict[Path, str] = {}
        for path, edits in edit.changes.items():
            path = Path(path).resolve()
            try:
                rel = relative_posix(self.root, path)
            except (ValueError, PathRefused):
                raise LspError(f"the edit touches {path}, outside the workspace; nothing was changed") from None
            try:
                text_disk, fmt = decode(path.read_bytes())
            except FileNotFoundError:
                text_disk, fmt = "", TextFormat()
            except ValueError as exc:
                raise LspError(f"{rel}: {exc}; nothing was changed") from None
            base = self.text_of(path)
            new_text = apply_text_edits(base if base is not None else text_disk, edits)
            new_texts[path] = new_text
            changes.append(FileChange.write(rel, encode(new_text, fmt)))
        result = self.app.writes.apply(changes, label, source=source)
        for path, text in new_texts.items():
            if self.text_of(path) is not None:
                self.change(path, text)
                self.save(path)
        return result

    # -- lifetime -------------------------------------------------------------------------------
    def close(self) -> None:
        """Stop every server (politely, then killed). Called by ``app.close``."""
        with self._lock:
            self._closed = True
            handles, self._handles = list(self._handles.values()), {}
        try:
            self._unsubscribe()
        except ValueError:
            pass
        threads = [threading.Thread(target=h.close, daemon=True) for h in handles]
        for t in threads:
            t.start()
        for t in threads:
            t.join(3.0)
