"""Git change markers and blame in the editor gutter.

An editor feature (``FEATURE``, see ``marie.ui.features``): the window's feature registry
attaches a ``GitGutter`` to every EditorView it opens, whatever panels load. The gutter diffs the editor's buffer — saved or not — against the staged
version on the git worker (debounced while typing) and marks added, modified and deleted lines in a
margin of their own. A click on a marker offers to show the old lines or revert that change in the
buffer (one undo step). "Git: Toggle Blame" shows commit and author per line in a text margin, with
the date and message on hover; lines the buffer changed against HEAD (saved or not) read "Not
committed yet". GUI thread only.
"""

from __future__ import annotations

import time
import weakref
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtGui import QCursor
from PySide6.QtWidgets import QMenu

from marie.git.model import NOT_COMMITTED, FileDiff, Hunk
from marie.git.partial import apply_selected
from marie.core.event_types import GitStatusChanged
from marie.ui.features import FeatureSpec

MARGIN_CHANGES = 3
MARGIN_BLAME = 4
M_ADDED, M_MODIFIED, M_DELETED = 17, 18, 19
_MASK = (1 << M_ADDED) | (1 << M_MODIFIED) | (1 << M_DELETED)


class GitGutter:
    def __init__(self, editor: Any, app: Any) -> None:
        self.editor = editor
        self.app = app
        self.sci = editor.sci
        self.diff: FileDiff | None = None
        self.base: bytes | None = None
        self.blame_on = False
        self.blame: list = []
        self._pending = False
        sci = self.sci
        sci.setMarginTypeN(MARGIN_CHANGES, 0)  # SC_MARGIN_SYMBOL
        sci.setMarginMaskN(MARGIN_CHANGES, _MASK)
        sci.setMarginWidthN(MARGIN_CHANGES, 5)
        sci.setMarginSensitiveN(MARGIN_CHANGES, True)
        sci.markerDefine(M_ADDED, 27)      # SC_MARK_LEFTRECT
        sci.markerDefine(M_MODIFIED, 27)
        sci.markerDefine(M_DELETED, 4)     # SC_MARK_SHORTARROW: between lines
        sci.markerSetBack(M_ADDED, 0x50B24A)     # BGR: green
        sci.markerSetBack(M_MODIFIED, 0xD88A2E)  # blue
        sci.markerSetBack(M_DELETED, 0x3C3CE0)   # red
        sci.markerSetFore(M_DELETED, 0x3C3CE0)
        sci.setMarginTypeN(MARGIN_BLAME, 4)  # SC_MARGIN_TEXT
        sci.setMarginWidthN(MARGIN_BLAME, 0)
        sci.setMouseDwellTime(600)
        sci.marginClicked.connect(self._margin_clicked)
        sci.dwellStart.connect(self._dwell)
        sci.dwellEnd.connect(lambda *_: sci.callTipCancel())
        self.timer = QTimer(sci)
        self.timer.setSingleShot(True)
        self.timer.setInterval(300)
        self.timer.timeout.connect(self.update)
        self.timer.timeout.connect(self.update_blame)
        editor.textEdited.connect(self.timer.start)
        if hasattr(editor, "loaded"):
            editor.loaded.connect(self.update)
        self._unsubscribe = app.events.on(GitStatusChanged, lambda event: self.timer.start())
        sci.destroyed.connect(lambda *_: self._unsubscribe())
        self.update()

    # -- change markers ---------------------------------------------------------------------------
    def update(self) -> None:
        """Diff the buffer against the staged version (on the git worker)."""
        path = getattr(self.editor, "path", None)
        if path is None or self._pending:
            return
        self._pending = True
        data = self.editor.text().encode("utf-8", "surrogateescape")
        ref = weakref.ref(self)

        def done(result: Any) -> None:
            gutter = ref()
            if gutter is not None:
                gutter._pending = False
                gutter.show(*result)

        def failed(_exc: BaseException) -> None:  # not a repository, untracked folder...: no markers
            gutter = ref()
            if gutter is not None:
                gutter._pending = False
                gutter.show(None, None)

        self.app.git.buffer_diff(str(path), data, on_done=done, on_error=failed)

    def show(self, diff: FileDiff | None, base: bytes | None) -> None:
        try:
            sci = self.sci
            sci.markerDeleteAll(M_ADDED)
        except RuntimeError:  # the editor was closed meanwhile
            return
        sci.markerDeleteAll(M_MODIFIED)
        sci.markerDeleteAll(M_DELETED)
        self.diff, self.base = diff, base
        if diff is None or base is None or diff.binary:
            return
        for start, dels, adds in change_blocks(diff):
            if not adds:
                sci.markerAdd(max(start - 1, 0), M_DELETED)  # the line after the gap (0-based start - 1)
                continue
            marker = M_MODIFIED if dels else M_ADDED
            for line in adds:
                sci.markerAdd(line - 1, marker)

    def markers(self) -> dict[int, str]:
        """1-based line -> "added" | "modified" | "deleted" (what the user sees in the gutter)."""
        out: dict[int, str] = {}
        for line in range(self.sci.lineCount()):
            bits = self.sci.markerGet(line)
            for marker, name in ((M_ADDED, "added"), (M_MODIFIED, "modified"), (M_DELETED, "deleted")):
                if bits & (1 << marker):
                    out[line + 1] = name
        return out

    def hunk_at(self, line: int) -> Hunk | None:
        """The change (one run of changed lines, as a small hunk) covering 1-based ``line``."""
        if self.diff is None:
            return None
        for hunk in self.diff.hunks:
            run: list = []
            for item in list(hunk.lines) + [None]:
                if item is not None and item.kind in "+-":
                    run.append(item)
                    continue
                if run:
                    added = [l.new_no for l in run if l.kind == "+"]
                    after = item.new_no if item is not None else None
                    if (added and min(added) <= line <= max(added)) or (not added and after == line):
                        return Hunk(hunk.old_start, hunk.old_lines, hunk.new_start, hunk.new_lines, hunk.header,
                                    tuple(run))
                    run = []
        return None

    def old_text(self, hunk: Hunk) -> str:
        return "\n".join(l.text for l in hunk.lines if l.kind == "-") or "(only added lines)"

    def revert(self, hunk: Hunk) -> None:
        """Put the staged version of this change back into the buffer (one undo step)."""
        if self.diff is None or self.base is None:
            return
        keep = {k for h in self.diff.hunks for k in h.keys()} - hunk.keys()
        content = apply_selected(self.base, self.diff.hunks, keep)
        self.editor.set_text(content.decode("utf-8", "surrogateescape"))
        self.update()

    def _margin_clicked(self, position: int, _modifiers: int, margin: int) -> None:
        if margin != MARGIN_CHANGES:
            return
        line = self.sci.lineFromPosition(position) + 1
        hunk = self.hunk_at(line)
        if hunk is None:
            return
        menu = QMenu(self.editor)
        menu.addAction("Show Original Lines", lambda: self.sci.callTipShow(position, self.old_text(hunk)))
        menu.addAction("Revert This Change", lambda: self.revert(hunk))
        menu.popup(QCursor.pos())

    # -- blame ------------------------------------------------------------------------------------
    def toggle_blame(self) -> None:
        self.blame_on = not self.blame_on
        if not self.blame_on:
            self.sci.marginTextClearAll()
            self.sci.setMarginWidthN(MARGIN_BLAME, 0)
            return
        self.update_blame()

    def update_blame(self) -> None:
        """Blame the buffer as it is now (unsaved edits show "Not committed yet"), on the git worker."""
        path = getattr(self.editor, "path", None)
        if path is None or not self.blame_on:
            return
        data = self.editor.text().encode("utf-8", "surrogateescape")
        ref = weakref.ref(self)

        def done(lines: list) -> None:
            gutter = ref()
            if gutter is not None and gutter.blame_on:
                gutter.show_blame(lines)

        def failed(exc: BaseException) -> None:
            gutter = ref()
            if gutter is not None:
                gutter._blame_failed(exc)

        self.app.git.blame_buffer(str(path), data, on_done=done, on_error=failed)

    def _blame_failed(self, exc: BaseException) -> None:
        self.blame_on = False
        window = self.editor.window()
        if hasattr(window, "show_message"):
            window.show_message(str(exc), "warning")

    def show_blame(self, lines: list) -> None:
        self.blame = lines
        sci = self.sci
        width = 0
        try:
            sci.marginTextClearAll()
        except RuntimeError:  # the editor was closed meanwhile
            return
        for entry in lines:
            text = f"{entry.commit} {entry.author[:14]}" if entry.committed else NOT_COMMITTED
            width = max(width, len(text))
            sci.marginSetText(entry.line - 1, text)
            sci.marginSetStyle(entry.line - 1, 33)  # STYLE_LINENUMBER: the margin's look
        sci.setMarginWidthN(MARGIN_BLAME, sci.textWidth(33, "M" * (width + 1)) if lines else 0)

    def blame_tip(self, line: int) -> str | None:
        for entry in self.blame:
            if entry.line == line:
                if not entry.committed:
                    return f"{NOT_COMMITTED}: this line differs from the last commit"
                when = time.strftime("%Y-%m-%d %H:%M", time.localtime(entry.time))
                return f"{entry.commit} {entry.author}, {when}\n{entry.summary}"
        return None

    def _dwell(self, position: int, x: int, _y: int) -> None:
        if not self.blame_on or position < 0:
            return
        tip = self.blame_tip(self.sci.lineFromPosition(position) + 1)
        if tip:
            self.sci.callTipShow(position, tip)


def change_blocks(diff: FileDiff) -> list[tuple[int, int, list[int]]]:
    """Runs of consecutive changed lines: (new line where the run starts, deleted count, added new
    line numbers). A run with both is a modification, only additions an addition, only deletions a
    deletion (shown on the line after the gap)."""
    blocks: list[tuple[int, int, list[int]]] = []
    for hunk in diff.hunks:
        dels, adds, start = 0, [], None
        next_new = hunk.new_start if hunk.new_lines else hunk.new_start + 1
        for line in list(hunk.lines) + [None]:
            if line is not None and line.kind in "+-":
                if start is None:
                    start = next_new
                if line.kind == "-":
                    dels += 1
                else:
                    adds.append(line.new_no or next_new)
                    next_new = (line.new_no or next_new) + 1
                continue
            if start is not None:
                blocks.append((start, dels, adds))
                dels, adds, start = 0, [], None
            if line is not None:
                next_new = (line.new_no or next_new) + 1
    return blocks


def attach(editor: Any, app: Any) -> GitGutter:
    """A gutter on ``editor`` (the feature registry keeps it as long as the editor lives)."""
    return GitGutter(editor, app)


class _GutterFeature:
    """The window-level part: the "Git: Toggle Blame" command."""

    def __init__(self, host: Any) -> None:
        from marie.ui.commands import Command

        self.host = host
        host.commands.register(Command("git.blame", "Git: Toggle Blame", self.toggle_blame, None, "Git"))

    def toggle_blame(self) -> None:
        editor = self.host.current_editor()
        gutter = self.host.features.get("git_gutter", editor) if editor is not None else None
        if gutter is not None:
            gutter.toggle_blame()


FEATURE = FeatureSpec("git_gutter", "Git gutter", setup=_GutterFeature,
                      attach=lambda feature, editor: attach(editor, feature.host.app) if editor.path else None,
                      requires=("git",))
