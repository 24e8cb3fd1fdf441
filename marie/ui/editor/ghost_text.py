"""Ghost text: the grey inline AI suggestion at the caret, and the next-edit jump hint. GUI thread.

Drawing: the suggestion's first line is an end-of-line annotation on the caret's line (Scintilla
draws it right after the line's text, where the caret is), further lines are an annotation below
that line; both in a grey italic extended style. Keys (an event filter on the editor, so nothing in
the editor's own key handling changes): Tab accepts all of it, Ctrl+Right one word, Escape
dismisses. A typed character that matches the suggestion keeps the rest; anything else drops it and
asks again (``marie.completion.engine``: debounced, cancelled by the next key, stale answers
dropped). The LSP completion popup wins: while it is open there is no ghost text and Tab is the
popup's. Several cursors or a selection: no suggestion.

Per keystroke the GUI thread does little (the goal is no stall over one frame while typing): the
buffer's text is copied at most once per change and shared by every reader (edit history, the
request, the snippets other editors read), the path's workspace form and ignore answer are
remembered, an answer's caret is checked by byte position, and annotations and styles are only
rewritten when they change (each rewrite repaints the whole view). The prompt is built on the
completion worker.

``FEATURE`` installs it through the window's feature registry (``marie.ui.features``): a
``GhostText`` per editor, a status-bar toggle and the "AI: Toggle Inline Completion" command.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QToolButton

from marie.completion.engine import CompletionEngine, DocState
from marie.completion.next_edit import EditHistory, NextEdit, NextEditEngine
from marie.completion.service import Suggestion, service_for
from marie.ui.features import FeatureSpec

log = logging.getLogger(__name__)

_WORD = re.compile(r"\s*(\w+|[^\w\s]+)|\s+")
_EOL_STANDARD, _ANNOTATION_STANDARD = 1, 1
_GREY, _BLUE = 0x909090, 0xC08040      # the suggestion; the jump hint (BGR)


def next_word(text: str) -> str:
    """The part of ``text`` Ctrl+Right accepts: leading spaces plus one word or punctuation run."""
    m = _WORD.match(text)
    return m.group(0) if m else text[:1]


class GhostText(QObject):
    """The suggestion state of one EditorView."""

    def __init__(self, editor: Any, app: Any) -> None:
        super().__init__(editor)
        self.editor, self.app, self.sci = editor, app, editor.sci
        self.service = service_for(app)
        self.engine = CompletionEngine(self.service, self._on_suggestion, self._on_skip)
        self.next_edits = NextEditEngine(self.service, self._on_next_edit)
        self.history = EditHistory()
        self.text = ""            # what is shown ("" = nothing)
        self.anchor = -1          # the byte position the suggestion starts at
        self.line = -1            # the line its annotations hang on
        self.version = 0
        self.next_edit: NextEdit | None = None
        self.last_skip = ""
        self.shown_at: float | None = None      # perf_counter when text last appeared (benchmark)
        self.edit_at: float | None = None       # perf_counter of the last edit
        self._applying = 0
        self._buffer_version = 0     # bumped by every insertion and deletion, loads included
        self._snapshot: tuple[int, str] | None = None    # (buffer version, text) read last
        self._asked: tuple[int, int, int] | None = None  # (version, caret chars, caret bytes) last asked at
        self._style_key: tuple | None = None             # the default style the grey styles were made from
        self._style = self.sci.allocateExtendedStyles(2)
        self.sci.eOLAnnotationSetStyleOffset(self._style)
        self.sci.annotationSetStyleOffset(self._style)
        path = editor.path
        # every change, also those the editor does not report as edits (loading, reloading)
        self.sci.modified.connect(self._buffer_changed)
        self._unregister = self.service.register_open(id(self), self._read_for_snippets)
        self._last_text = self._text() if not editor.loading else ""
        # the ignore rules are compiled on a worker now, not on the GUI thread at the first keystroke
        app.tasks.submit(lambda _ctx: self.service.warm(), name="completion rules", quiet=True)
        # An edit is handled once Scintilla has finished it (the caret moves after the modification
        # notification): a zero-time timer, restarted by each modification of one keystroke.
        self._after_edit = QTimer(self)
        self._after_edit.setSingleShot(True)
        self._after_edit.setInterval(0)
        self._after_edit.timeout.connect(self._edited)
        editor.textEdited.connect(self._modified)
        editor.cursorMoved.connect(self._caret_moved)
        self.sci.installEventFilter(self)
        self.destroyed.connect(lambda *_: self._unregister())
        self._path_hint = str(path) if path else ""

    # -- state read from the editor ---------------------------------------------------------------
    def _buffer_changed(self, *_args: Any) -> None:
        self._buffer_version += 1

    def _text(self) -> str:
        """The buffer's text, copied once per change: the history, the request and other editors'
        snippets share the copy (a str is immutable, so handing it to a worker is safe)."""
        snapshot = self._snapshot
        if snapshot is not None and snapshot[0] == self._buffer_version:
            return snapshot[1]
        text = self.editor.text()
        self._snapshot = (self._buffer_version, text)
        return text

    def _read_for_snippets(self) -> tuple[str, str] | None:
        path = self.editor.path
        return (str(path), self._text()) if path is not None and not self.editor.loading else None

    def _doc_path(self) -> str:
        path = self.editor.path
        if path is None:
            return "untitled"
        return self.service.relative(path) or str(path)

    def state(self) -> DocState:
        text = self._text()
        pos = self.sci.currentPos()
        caret = len(bytes(self.sci.textRange(0, pos)).decode("utf-8", "replace")) if not text.isascii() else pos
        return DocState(text, caret, self.version, self._doc_path(), self.editor.language)

    def _can_show(self) -> bool:
        sci = self.sci
        return (sci.selections() == 1 and sci.selectionEmpty() and not sci.autoCActive()
                and not sci.readOnly() and not self.editor.loading)

    def enabled(self) -> bool:
        on, reason = self.service.enabled_for(self.editor.language, self.editor.path)
        if not on:
            self.last_skip = reason
        return on

    # -- asking --------------------------------------------------------------------------------------
    def request(self, immediate: bool = False) -> None:
        """Ask for a suggestion at the caret (after the debounce unless ``immediate``)."""
        if not self._can_show() or not self.enabled():
            self.engine.cancel()
            return
        state = self.state()
        # before the engine asks: a cache hit comes back from inside request()
        self._asked = (state.version, state.caret, self.sci.currentPos())
        self.engine.request(state, self.service.others(state.path), immediate=immediate)

    def _on_suggestion(self, suggestion: Suggestion) -> None:
        if suggestion.version != self.version or not self._can_show():
            return
        asked = self._asked
        if asked is not None and asked[:2] == (suggestion.version, suggestion.caret):
            # the text is the one asked about (same version), so the caret is where it was asked
            # exactly when its byte position is: no copy of the text to count characters
            if self.sci.currentPos() != asked[2]:
                return
        elif self.state().caret != suggestion.caret:
            return
        self.show(suggestion.text, self.sci.currentPos())

    def _on_skip(self, reason: str) -> None:
        self.last_skip = reason

    # -- drawing -------------------------------------------------------------------------------------
    def _apply_style(self) -> None:
        # Checked each time (a theme change runs styleClearAll over every style, ours included),
        # written only when it differs: setting a style makes the next paint lay out every line.
        sci, base = self.sci, self._style
        font = bytes(sci.styleFont(32))
        key = (font, sci.styleSize(32), sci.styleBack(32))
        if key == self._style_key and all(
                bytes(sci.styleFont(style)) == font and sci.styleSize(style) == key[1] and sci.styleBack(style) == key[2]
                and sci.styleFore(style) == colour and sci.styleItalic(style)
                for style, colour in ((base, _GREY), (base + 1, _BLUE))):
            return
        name = font.decode("utf-8", "replace").rstrip("\0")
        for style, colour in ((base, _GREY), (base + 1, _BLUE)):   # grey text; the jump hint in blue
            sci.styleSetFont(style, name)
            sci.styleSetSize(style, key[1])
            sci.styleSetBack(style, key[2])
            sci.styleSetFore(style, colour)
            sci.styleSetItalic(style, True)
        self._style_key = key

    def show(self, text: str, anchor: int) -> None:
        """Draw ``text`` as the suggestion starting at byte position ``anchor`` (the caret)."""
        if text and text == self.text and anchor == self.anchor and 0 <= self.line == self.sci.lineFromPosition(anchor):
            # drawn already (a streamed answer's last piece, a repeated partial): writing the same
            # annotations again would repaint the whole view for nothing
            if self.shown_at is None:
                self.shown_at = time.perf_counter()
            return
        self.clear_display()
        if not text:
            self.text, self.anchor = "", -1
            return
        self.text, self.anchor = text, anchor
        self.line = self.sci.lineFromPosition(anchor)
        tab = " " * max(1, self.sci.tabWidth())
        first, _, rest = text.replace("\t", tab).partition("\n")
        self._apply_style()
        if first:
            self.sci.eOLAnnotationSetText(self.line, first)
            self.sci.eOLAnnotationSetStyle(self.line, 0)
            self.sci.eOLAnnotationSetVisible(_EOL_STANDARD)
        if rest:
            self.sci.annotationSetText(self.line, rest)
            self.sci.annotationSetStyle(self.line, 0)
            self.sci.annotationSetVisible(_ANNOTATION_STANDARD)
        if self.shown_at is None:
            self.shown_at = time.perf_counter()

    def clear_display(self) -> None:
        if self.line >= 0:
            self.sci.eOLAnnotationSetText(self.line, "")
            self.sci.annotationSetText(self.line, "")
        self.line = -1

    def dismiss(self) -> None:
        """Hide the suggestion and stop asking for this caret."""
        self.engine.cancel()
        self.clear_display()
        self.text, self.anchor = "", -1

    def visible_text(self) -> str:
        """The suggestion as the user sees it ("" when none): what the annotations show."""
        if self.line < 0:
            return ""
        first = bytes(self.sci.eOLAnnotationText(self.line)).decode("utf-8", "replace")
        rest = bytes(self.sci.annotationText(self.line)).decode("utf-8", "replace")
        return first + ("\n" + rest if rest else "")

    # -- accepting -----------------------------------------------------------------------------------
    def accept(self, part: str | None = None) -> bool:
        """Insert the whole suggestion (or ``part`` of its start) at the caret as one undo step."""
        if not self.text or self.sci.currentPos() != self.anchor:
            return False
        text = self.text if part is None else part
        remaining = self.text[len(text):]
        anchor = self.anchor
        self.clear_display()
        self.text, self.anchor = "", -1
        self._applying += 1
        try:
            self.sci.beginUndoAction()
            self.sci.insertText(anchor, text)
            self.sci.endUndoAction()
            end = anchor + len(text.encode("utf-8"))
            self.sci.gotoPos(end)
        finally:
            self._applying -= 1
        self.version += 1
        text = self._text()
        self.history.record(text, self._last_text)
        self._last_text = text
        if remaining:
            self.show(remaining, end)
        else:
            self.request(immediate=True)     # accept-then-continue: the next suggestion at once
        return True

    # -- reacting to the editor ----------------------------------------------------------------------
    def _modified(self) -> None:
        if self._applying:
            return
        self.version += 1          # answers for the text before this edit are stale from now on
        if not self._after_edit.isActive():
            self.edit_at = time.perf_counter()     # the keystroke's time (the benchmark reads it)
        self.shown_at = None
        self._after_edit.start()

    def _edited(self) -> None:
        text = self._text() if not self.editor.loading else ""
        if self.editor.path is not None:
            self.service.note_edit(str(self.editor.path), text)
        self.history.record(text, self._last_text)
        self._last_text = text
        self.next_edit = None
        self._clear_next_edit()
        kept = self._type_through()
        if kept is not None:
            self.show(kept, self.sci.currentPos()) if kept else self.dismiss()
            if kept:
                return
        else:
            self.dismiss()
        self.request()
        if self.service.settings.get("completion.next_edit"):
            self.next_edits.after_edit(self.history, text, self.version)

    def _type_through(self) -> str | None:
        """The rest of the suggestion when the edit typed its next characters, else None."""
        if not self.text or self.anchor < 0:
            return None
        pos = self.sci.currentPos()
        if pos <= self.anchor or not self._can_show():
            return None
        typed = bytes(self.sci.textRange(self.anchor, pos)).decode("utf-8", "replace")
        if self.text.startswith(typed):
            return self.text[len(typed):]
        return None

    def _caret_moved(self) -> None:
        if self._applying or self._after_edit.isActive():
            return
        if self.text and (self.sci.currentPos() != self.anchor or not self._can_show()):
            self.dismiss()

    # -- next edit -----------------------------------------------------------------------------------
    def _on_next_edit(self, edit: NextEdit) -> None:
        """Show the jump hint at the end of the target line (Tab goes there once no ghost text is shown)."""
        if edit.version != self.version:
            return
        self.next_edit = edit
        line = edit.line
        if 0 <= line < self.sci.lineCount() and line != self.line:
            self._apply_style()
            self.sci.eOLAnnotationSetText(line, f"  \u21e5 Tab: {edit.replacement.strip()}")
            self.sci.eOLAnnotationSetStyle(line, 1)
            self.sci.eOLAnnotationSetVisible(_EOL_STANDARD)

    def _clear_next_edit(self) -> None:
        edit, self.next_edit = self.next_edit, None
        if edit is not None and edit.line != self.line and 0 <= edit.line < self.sci.lineCount():
            self.sci.eOLAnnotationSetText(edit.line, "")

    def jump_to_next_edit(self) -> bool:
        """Tab with a jump hint: go to the suggested edit and apply it (one undo step)."""
        edit = self.next_edit
        if edit is None or edit.line >= self.sci.lineCount():
            return False
        self._clear_next_edit()
        sci = self.sci
        start, end = sci.positionFromLine(edit.line), sci.lineEndPosition(edit.line)
        current = bytes(sci.textRange(start, end)).decode("utf-8", "replace")
        if current != edit.original:
            return False       # the line changed since: the hint no longer applies
        self._applying += 1
        try:
            sci.beginUndoAction()
            sci.setTargetRange(start, end)
            sci.replaceTarget(len(edit.replacement.encode("utf-8")), edit.replacement)
            sci.endUndoAction()
            sci.gotoPos(start + len(edit.replacement.encode("utf-8")))
        finally:
            self._applying -= 1
        self.version += 1
        text = self._text()
        self.history.record(text, self._last_text)
        self._last_text = text
        if self.service.settings.get("completion.next_edit"):
            self.next_edits.after_edit(self.history, text, self.version)
        return True

    # -- keys ----------------------------------------------------------------------------------------
    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() != QEvent.Type.KeyPress:
            return False
        if self.sci.autoCActive():
            if self.text:
                self.dismiss()         # the LSP popup wins
            return False
        key, mods = event.key(), event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        plain = mods == Qt.KeyboardModifier.NoModifier
        if self.text:
            if key == Qt.Key.Key_Tab and plain:
                return self.accept()
            if key == Qt.Key.Key_Right and mods == Qt.KeyboardModifier.ControlModifier:
                return self.accept(next_word(self.text))
            if key == Qt.Key.Key_Escape and plain:
                self.dismiss()
                return True
        elif self.next_edit is not None:
            if key == Qt.Key.Key_Tab and plain:
                return self.jump_to_next_edit()
            if key == Qt.Key.Key_Escape and plain:
                self._clear_next_edit()
                return True
        return False

    def close(self) -> None:
        self.engine.cancel()
        self.next_edits.cancel()
        self._unregister()


def attach(editor: Any, app: Any) -> GhostText:
    """Ghost text for ``editor`` (the feature registry keeps it as long as the editor lives)."""
    return GhostText(editor, app)


class CompletionToggle(QToolButton):
    """The status-bar switch: "AI ✓" / "AI ✗"; a click turns inline completion on or off."""

    def __init__(self, app: Any, parent: Any = None) -> None:
        super().__init__(parent)
        self.app = app
        self.setObjectName("status.completion")
        self.setAutoRaise(True)
        self.clicked.connect(self.toggle)
        self.refresh()

    def refresh(self) -> None:
        on = bool(self.app.settings.get("completion.enabled"))
        self.setText("AI \u2713" if on else "AI \u2717")
        self.setToolTip("Inline AI completion is on (click to turn it off)" if on
                        else "Inline AI completion is off (click to turn it on)")

    def toggle(self) -> None:
        service_for(self.app).set_enabled(not self.app.settings.get("completion.enabled"))
        self.refresh()


class _CompletionFeature:
    """The window-level part: the status-bar toggle and the command that does the same."""

    def __init__(self, host: Any) -> None:
        self.host = host
        self.toggle = CompletionToggle(host.app)
        host.add_status_widget(self.toggle)
        from marie.ui.commands import Command

        host.commands.register(Command("completion.toggle", "AI: Toggle Inline Completion", self.toggle.toggle,
                                       None, "AI"))
        from marie.core.event_types import SettingsChanged

        # through the event bus: delivered on the GUI thread whichever thread reloaded the settings
        self._unsubscribe = host.app.events.on(SettingsChanged, self._settings_changed)

    def _settings_changed(self, event: Any) -> None:
        if "completion.enabled" in event.keys:
            try:
                self.toggle.refresh()
            except RuntimeError:     # the window is gone
                self._unsubscribe()


FEATURE = FeatureSpec("completion", "Inline AI completion", setup=_CompletionFeature,
                      attach=lambda feature, editor: attach(editor, feature.host.app),
                      detach=lambda feature, editor, ghost: ghost.close(), requires=("ai",))
