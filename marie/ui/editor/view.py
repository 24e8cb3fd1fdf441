"""The editor widget: one file in a ScintillaEdit, with its lexer, margins, find bar, multiple
cursors, ``.editorconfig``, disk-change bar and large-file mode. GUI thread only.

``EditorView.open(path, settings)`` reads the file with ``marie.text.document.TextFile`` (encoding,
BOM, line endings kept exactly), so ``save()`` of an unchanged buffer writes the same bytes back.
Scintilla holds the text as UTF-8 whatever the file's encoding; ``text_file.format`` remembers how to
write it. Dirty state is Scintilla's save point.

The widget's jobs live in modules named for them and mixed in here: ``loading`` (open, background
load, large-file mode), ``disk_sync`` (save, reload, changes on disk), ``editor_settings``
(settings and indentation), ``keys`` (the Scintilla subclass and the editor's own shortcuts).
``clone_view()`` makes a second view of the same document (split editors).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

from marie.text import editorconfig, indentation
from marie.text.codec import BinaryFileError
from marie.text.document import FileTooLargeError, TextFile
from marie.text.languages import title as language_title
from marie.ui.editor import lexers, multicursor, style
from marie.ui.editor.disk_sync import DiskMixin
from marie.ui.editor.editor_settings import _DEFAULTS, SettingsMixin, _setting  # noqa: F401 (_DEFAULTS: tests)
from marie.ui.editor.info_bar import InfoBar
from marie.ui.editor.keys import EditorSci, KeysMixin
from marie.ui.editor.large_file import LoadJob
from marie.ui.editor.loading import LoadingMixin
from marie.ui.editor.styling import STYLE_AHEAD_MIN_BYTES, BackgroundStyler
from marie.ui.editor.large_file import ChunkFeeder

if TYPE_CHECKING:   # the find bar is imported when first shown (not on the start-up path)
    from marie.ui.editor.find_bar import FindBar

__all__ = ["EditorView", "BinaryFileError", "FileTooLargeError"]

log = logging.getLogger(__name__)

_MARGIN_LINES, _MARGIN_FOLD = 0, 2
_SC_UPDATE_CONTENT, _SC_UPDATE_SELECTION = 1, 2
_SC_MOD_INSERT, _SC_MOD_DELETE = 0x1, 0x2
_BRACES = frozenset(b"()[]{}")
_INDENT_AFTER = {"python": (":",), "yaml": (":",)}
_MAX_LEXED_LINE_BYTES = 20_000


def _quietly(fn) -> None:
    try:
        if fn is not None:
            fn()
    except (ValueError, RuntimeError):
        pass


class EditorView(LoadingMixin, DiskMixin, SettingsMixin, KeysMixin, QWidget):
    """One editor. Signals: ``dirtyChanged(bool)``, ``cursorMoved()``, ``textEdited()``,
    ``loaded()`` (a background load finished), ``loadFailed(str)``, ``compareRequested(str)`` (the
    disk text, for the window's diff view), ``languageChanged(str)``, ``indentationChanged(str)``
    (the status-bar label, when indentation detection changed it after a background load)."""

    dirtyChanged = Signal(bool)
    cursorMoved = Signal()
    textEdited = Signal()
    loaded = Signal()
    loadFailed = Signal(str)
    compareRequested = Signal(str)
    languageChanged = Signal(str)
    indentationChanged = Signal(str)

    def __init__(self, parent: QWidget | None = None, settings: Any = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.text_file: TextFile = TextFile.new(Path("untitled"))
        self._untitled = True
        self.language = "text"
        self.large_file_mode = False
        self.loading = False
        self.deleted_on_disk = False
        self.config = editorconfig.EditorConfig()
        # what the file's text shows (editor.detect_indentation); None until a file is loaded
        self.detected_indentation: indentation.Indentation | None = None
        self._spec: lexers.LexerSpec | None = None
        self._dirty = False
        self._suppress = 0          # >0 while we change the text ourselves (load/reload)
        self._pending_goto: tuple[int, int] | None = None
        self._key_actions: dict | None = None
        self._job: LoadJob | None = None
        self._feeder: ChunkFeeder | None = None
        self._styler: BackgroundStyler | None = None   # styles big files ahead of the view
        self._dark: bool | None = None  # None: follow the application theme
        self.primary: EditorView | None = None   # set on a second view of another view's document
        self.title = ""                          # an untitled buffer's tab name ("Untitled-3")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.info_bar = InfoBar(self)        # changed/deleted on disk
        self.large_bar = InfoBar(self)       # large-file notice
        self.sci = EditorSci(self)
        self._find_bar: FindBar | None = None      # built on first use (Ctrl+F), see find_bar
        self._layout = layout
        layout.addWidget(self.info_bar)
        layout.addWidget(self.large_bar)
        layout.addWidget(self.sci, 1)
        self.setFocusProxy(self.sci)

        self._setup_scintilla()
        self.sci.savePointChanged.connect(self._on_save_point)
        self.sci.updateUi.connect(self._on_update_ui)
        self.sci.modified.connect(self._on_modified)
        self.sci.charAdded.connect(self._on_char_added)
        self.sci.marginClicked.connect(self._on_margin_clicked)
        try:
            from marie.ui import themes
            self._unsubscribe_theme = themes.on_theme_changed(self._on_theme_changed)
        except ImportError:
            self._unsubscribe_theme = None
        unsubscribe = self._unsubscribe_theme
        # a tab closed without dispose(): stop listening when the C++ side goes (captures no self)
        self.destroyed.connect(lambda *_: _quietly(unsubscribe))

    @property
    def find_bar(self) -> FindBar:
        """The find/replace bar below the text, made the first time it is needed."""
        if self._find_bar is None:
            from marie.ui.editor.find_bar import FindBar

            self._find_bar = FindBar(self)
            self._layout.addWidget(self._find_bar)
        return self._find_bar


    @property
    def is_untitled(self) -> bool:
        return self._untitled

    def _setup_scintilla(self) -> None:
        sci = self.sci
        sci.setCodePage(65001)  # SC_CP_UTF8: Scintilla holds the text as UTF-8
        # Only text changes reach Python: fold-level and style notifications (one per line while
        # lexing) would cost a Python call each.
        sci.setModEventMask(_SC_MOD_INSERT | _SC_MOD_DELETE)
        sci.setBufferedDraw(False)  # Qt's backing store already double-buffers; a second pixmap costs every paint
        sci.setScrollWidthTracking(True)
        sci.setScrollWidth(1)
        sci.setEndAtLastLine(False)
        # line numbers
        sci.setMarginTypeN(_MARGIN_LINES, 1)  # SC_MARGIN_NUMBER
        sci.setMarginWidthN(1, 0)
        # folding margin
        sci.setMarginTypeN(_MARGIN_FOLD, 0)  # SC_MARGIN_SYMBOL
        sci.setMarginMaskN(_MARGIN_FOLD, int(0xFE000000))  # SC_MASK_FOLDERS
        sci.setMarginSensitiveN(_MARGIN_FOLD, True)
        for marker, symbol in ((30, 12), (31, 14), (25, 13), (24 + 3, 11), (26, 15), (29, 9), (28, 10)):
            # folder, folderopen, folderend, foldermidtail, folderopenmid, foldersub, foldertail
            # (box-tree symbols: plus/minus in boxes joined by lines)
            sci.markerDefine(marker, symbol)
        sci.setAutomaticFold(0x7)  # show + click + change
        sci.setFoldFlags(16)       # SC_FOLDFLAG_LINEAFTER_CONTRACTED
        # multiple selections: typing goes to every caret; Alt+drag is rectangular (Scintilla default)
        sci.setMultipleSelection(True)
        sci.setAdditionalSelectionTyping(True)
        sci.setMultiPaste(1)  # SC_MULTIPASTE_EACH
        sci.setMouseSelectionRectangularSwitch(True)
        sci.setVirtualSpaceOptions(1)  # rectangular selections may extend past line ends
        sci.setIndentationGuides(3 if _setting(self.settings, "editor.indent_guides") else 0)  # SC_IV_LOOKBOTH
        sci.setTabIndents(True)
        sci.setBackSpaceUnIndents(True)
        sci.setWrapMode(1 if _setting(self.settings, "editor.word_wrap") else 0)
        sci.setViewWS(1 if _setting(self.settings, "editor.show_whitespace") else 0)
        sci.setCaretWidth(2)
        # No idle styling: the Qt port's "style the rest after the visible part" runs in slices of
        # several hundred ms on a big file (measured: 370-600 ms stalls at 8 MiB). Scintilla styles
        # what is shown, on demand, which keeps typing and scrolling smooth.
        sci.setIdleStyling(0)  # SC_IDLESTYLING_NONE
        sci.setLayoutCache(1)  # SC_CACHE_CARET
        # Keys Scintilla binds that we use for other things (Ctrl+D duplicates a line by default).
        for key in (ord("D"), ord("F"), ord("H"), ord("G")):
            sci.clearCmdKey(key | (2 << 16))  # SCMOD_CTRL
        sci.setTabWidth(_setting(self.settings, "editor.tab_width"))
        sci.setUseTabs(not _setting(self.settings, "editor.insert_spaces"))
        sci.setIndent(0)  # 0 = the tab width
        self._restyle()
        self._update_margins()

    def _set_language(self, language: str, sample: str = "") -> None:
        if self.large_file_mode:
            return
        # a file with enormous lines (minified JS, one-line JSON) is shown without a lexer
        if sample and language != "text" and max((len(l) for l in sample[:2_000_000].splitlines()[:2000]), default=0) > _MAX_LEXED_LINE_BYTES:
            self._spec = lexers.install(self.sci, "text")
        else:
            self._spec = lexers.install(self.sci, language)
        changed = language != self.language
        self.language = language
        self._restyle()
        self._update_margins()
        if not self.loading:
            self._style_ahead()
        if changed:
            self.languageChanged.emit(language)

    # ================================================================ public API (contract)
    @property
    def path(self) -> Path | None:
        return None if self._untitled else self.text_file.path

    @property
    def language_title(self) -> str:
        return language_title(self.language)

    def text(self) -> str:
        """The whole buffer as a str (line endings as they are in the buffer)."""
        if self.loading and self._feeder is not None:
            # still feeding: the loaded text is the truth (joined here, once, if anyone asks)
            return self.text_file.text
        length = self.sci.textLength()
        if length == 0:
            return ""
        # characterPointer gives Scintilla's contiguous buffer: one memcpy instead of a QByteArray copy
        import ctypes   # imported here, not at module load: not needed before the first paint

        data = ctypes.string_at(self.sci.characterPointer(), length)
        return data.decode("utf-8", "surrogateescape")

    def set_text(self, text: str) -> None:
        """Replace the whole buffer as one undo step (the buffer becomes dirty if it differs)."""
        sci = self.sci
        sci.beginUndoAction()
        try:
            sci.clearAll()
            sci.appendText(len(text) if text.isascii() else len(text.encode("utf-8")), text)
        finally:
            sci.endUndoAction()

    def is_dirty(self) -> bool:
        return self._dirty

    def clone_view(self, parent: QWidget | None = None) -> "EditorView":
        """A second view of this view's document (split editors): Scintilla's shared document, so
        the text, the undo stack, markers and indicators are one; caret, scroll and folding are the
        view's own. The clone's ``primary`` is this view. Raises RuntimeError while loading."""
        if self.loading:
            raise RuntimeError("the file is still loading")
        view = type(self)(parent, self.settings)
        view.primary = self
        view.text_file = self.text_file
        view._untitled = self._untitled
        view.config = self.config
        view.detected_indentation = self.detected_indentation
        view.large_file_mode = self.large_file_mode
        view.sci.setDocPointer(self.sci.docPointer())
        view.sci.setEOLMode(self.sci.eOLMode())
        if not self.large_file_mode:
            view._spec = lexers.install(view.sci, self.language) if self._spec is not None else None
        view.language = self.language
        view._apply_indentation()
        view._restyle()
        view._update_margins()
        view._dirty = self._dirty
        return view

    # -- caret and selection --------------------------------------------------------------------
    def goto(self, line: int, column: int = 1) -> None:
        """Put the caret at 1-based (line, column) — column counts characters — and show it."""
        if self.loading:
            self._pending_goto = (line, column)
            return
        sci = self.sci
        line = max(1, min(line, sci.lineCount())) - 1
        start = sci.positionFromLine(line)
        end = sci.lineEndPosition(line)
        pos = sci.positionRelative(start, max(0, column - 1)) if column > 1 else start
        if pos <= 0 and column > 1 or pos > end:
            pos = end
        sci.ensureVisibleEnforcePolicy(line)
        sci.gotoPos(pos)
        if not self._line_on_screen(line):
            # put the target a third of the way down, with context above it
            sci.setFirstVisibleLine(max(0, sci.visibleFromDocLine(line) - sci.linesOnScreen() // 3))
        sci.chooseCaretX()

    def _line_on_screen(self, line: int) -> bool:
        first = self.sci.firstVisibleLine()
        return first <= self.sci.visibleFromDocLine(line) < first + max(1, self.sci.linesOnScreen())

    def cursor_position(self) -> tuple[int, int]:
        """1-based (line, column) of the main caret; the column counts characters."""
        sci = self.sci
        pos = sci.currentPos()
        line = sci.lineFromPosition(pos)
        return line + 1, sci.countCharacters(sci.positionFromLine(line), pos) + 1

    def selected_text(self) -> str:
        """The main selection's text."""
        sci = self.sci
        main = sci.mainSelection()
        start, end = sci.selectionNStart(main), sci.selectionNEnd(main)
        if end <= start:
            return ""
        return bytes(sci.textRange(start, end)).decode("utf-8", "replace")

    def selection_size(self) -> tuple[int, int]:
        """(characters, selections) for the status bar."""
        sci = self.sci
        chars = sum(sci.countCharacters(sci.selectionNStart(i), sci.selectionNEnd(i)) for i in range(sci.selections()))
        return chars, sci.selections()

    def indentation_label(self) -> str:
        size = self.sci.indent() or self.sci.tabWidth()
        return f"Tab size: {self.sci.tabWidth()}" if self.sci.useTabs() else f"Spaces: {size}"

    @property
    def encoding_label(self) -> str:
        return self.text_file.format.label

    @property
    def eol_label(self) -> str:
        return self.text_file.format.eol_label

    # -- commands (the window binds them too) ---------------------------------------------------
    def show_find(self, replace: bool = False) -> None:
        self.find_bar.open(replace=replace, text=self.selected_text() or None)

    def show_replace(self) -> None:
        self.show_find(replace=True)

    def find_next(self) -> None:
        if self.find_bar.find_edit.text():
            self.find_bar.find_next()
        else:
            self.show_find()

    def find_previous(self) -> None:
        if self.find_bar.find_edit.text():
            self.find_bar.find_previous()
        else:
            self.show_find()

    def add_next_occurrence(self) -> None:
        multicursor.add_next_occurrence(self.sci)

    def select_all_occurrences(self) -> None:
        multicursor.select_all_occurrences(self.sci)

    def toggle_comment(self) -> bool:
        if self.sci.readOnly():
            return False
        return multicursor.toggle_comment(self.sci, self.language)

    def goto_line_dialog(self) -> None:
        from PySide6.QtWidgets import QInputDialog   # not needed before the first paint

        line, column = self.cursor_position()
        text, ok = QInputDialog.getText(self, "Go to line", f"Line[:column] (1-{self.sci.lineCount()}):",
                                        text=f"{line}")
        if ok and text.strip():
            parts = text.replace(",", ":").split(":")
            try:
                self.goto(int(parts[0]), int(parts[1]) if len(parts) > 1 and parts[1] else 1)
            except ValueError:
                pass
        self.sci.setFocus()

    def zoom_in(self) -> None:
        self.sci.zoomIn()
        self._update_margins()

    def zoom_out(self) -> None:
        self.sci.zoomOut()
        self._update_margins()

    def zoom_reset(self) -> None:
        self.sci.setZoom(0)
        self._update_margins()

    def undo(self) -> None:
        self.sci.undo()

    def redo(self) -> None:
        self.sci.redo()

    def apply_theme(self, dark: bool | None) -> None:
        """Use the light (False) or dark (True) colours; None follows the application theme."""
        self._dark = dark
        self._restyle()

    # ================================================================ internals
    def _on_theme_changed(self, _theme: Any) -> None:
        try:
            self._restyle()
        except RuntimeError:  # the widget is already gone
            pass

    def _restyle(self) -> None:
        pal = style.palette(self._dark)
        style.apply(self.sci, pal, self._spec, _setting(self.settings, "editor.font_family"),
                    _setting(self.settings, "editor.font_size"))
        if self._spec and not self.large_file_mode and self.sci.textLength() < 2**20:
            self.sci.colourise(0, -1)

    def _style_ahead(self) -> None:
        """Style the rest of the document in the background (see styling.py), so a jump to the
        end of a big file does not lex all of it inside one paint."""
        if self._spec is None or self.large_file_mode:
            if self._styler is not None:
                self._styler.stop()
            return
        if self._styler is None:
            if self.sci.textLength() < STYLE_AHEAD_MIN_BYTES:
                return            # styled on demand in a few ms: no timer needed
            self._styler = BackgroundStyler(self.sci, self)
        self._styler.start()

    def _update_margins(self) -> None:
        sci = self.sci
        digits = max(3, len(str(sci.lineCount())))
        sci.setMarginWidthN(_MARGIN_LINES, sci.textWidth(style.STYLE_LINENUMBER, "9" * (digits + 1)))
        fold = not self.large_file_mode and self._spec is not None and self._spec.fold
        sci.setMarginWidthN(_MARGIN_FOLD, 14 if fold else 0)

    def _set_dirty(self, dirty: bool) -> None:
        dirty = dirty or self.deleted_on_disk
        if dirty != self._dirty:
            self._dirty = dirty
            self.dirtyChanged.emit(dirty)

    def _on_save_point(self, dirty: bool) -> None:
        if self._suppress:
            return
        self._set_dirty(bool(dirty))

    def _on_modified(self, mtype: int, position: int, length: int, lines_added: int, *rest: Any) -> None:
        if self._suppress or not (mtype & (_SC_MOD_INSERT | _SC_MOD_DELETE)):
            return
        if lines_added:
            self._update_margins()
        if self._styler is not None:
            self._styler.kick()
        self.textEdited.emit()

    def _on_update_ui(self, updated: int) -> None:
        if updated & (_SC_UPDATE_SELECTION | _SC_UPDATE_CONTENT):
            if not self.large_file_mode:
                self._match_brace()
            self.cursorMoved.emit()

    def _match_brace(self) -> None:
        sci = self.sci
        pos = sci.currentPos()
        brace = -1
        if pos > 0 and sci.charAt(pos - 1) in _BRACES:
            brace = pos - 1
        elif sci.charAt(pos) in _BRACES:
            brace = pos
        if brace < 0:
            sci.braceHighlight(-1, -1)
            return
        other = sci.braceMatch(brace, 0)
        if other < 0:
            sci.braceBadLight(brace)
        else:
            sci.braceHighlight(brace, other)

    def _on_char_added(self, ch: int) -> None:
        """Auto-indent: a new line starts with the previous line's indentation (one level more after
        an opening bracket, or ``:`` in Python/YAML)."""
        if ch not in (10, 13):
            return
        sci = self.sci
        eol_mode = sci.eOLMode()
        if ch == 13 and eol_mode != 1 or ch == 10 and eol_mode == 1:
            return  # the other half of CRLF, or a stray character
        line = sci.lineFromPosition(sci.currentPos())
        if line == 0 or sci.selections() > 1:
            return
        prev = bytes(sci.getLine(line - 1)).decode("utf-8", "replace").rstrip("\r\n")
        indent = sci.lineIndentation(line - 1)
        stripped = prev.rstrip()
        openers = _INDENT_AFTER.get(self.language, ("{", "[", "("))
        if stripped.endswith(openers) or (self.language not in _INDENT_AFTER and stripped.endswith(("{", "[", "("))):
            indent += sci.indent() or sci.tabWidth()
        if indent <= 0:
            return
        sci.setLineIndentation(line, indent)
        sci.gotoPos(sci.lineIndentPosition(line))

    def _on_margin_clicked(self, position: int, modifiers: int, margin: int) -> None:
        if margin == _MARGIN_FOLD:
            self.sci.toggleFold(self.sci.lineFromPosition(position))

    def closeEvent(self, event) -> None:  # noqa: N802
        self.dispose()
        super().closeEvent(event)

    def dispose(self) -> None:
        """Stop background work and theme listening (the window calls this when the tab closes)."""
        if self._feeder is not None:
            self._feeder.cancel()
            self._feeder = None
        if self._styler is not None:
            self._styler.stop()
        _quietly(self._unsubscribe_theme)
        self._unsubscribe_theme = None
