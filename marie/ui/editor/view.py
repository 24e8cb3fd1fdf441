"""The editor widget: one file in a ScintillaEdit, with its lexer, margins, find bar, multiple
cursors, ``.editorconfig``, disk-change bar and large-file mode. GUI thread only.

``EditorView.open(path, settings)`` reads the file with ``marie.text.document.TextFile`` (encoding,
BOM, line endings kept exactly), so ``save()`` of an unchanged buffer writes the same bytes back.
Scintilla holds the text as UTF-8 whatever the file's encoding; ``text_file.format`` remembers how to
write it. Dirty state is Scintilla's save point.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget
from pyside6_scintilla import Scintilla, ScintillaEdit

from marie.text import editorconfig, indentation
from marie.text.codec import BinaryFileError, TextFormat, detect_eol
from marie.text.document import DiskState, FileTooLargeError, TextFile
from marie.ui.qt_names import Qt
from marie.text.languages import language_for, title as language_title
from marie.ui.editor import lexers, multicursor, style
from marie.ui.editor.info_bar import InfoBar
from marie.ui.editor.styling import STYLE_AHEAD_MIN_BYTES, BackgroundStyler
from marie.ui.editor.large_file import ASYNC_LOAD_BYTES, ChunkFeeder, LoadJob, PiecewiseTextFile, check_head, pieces_of

if TYPE_CHECKING:   # the find bar is imported when first shown (not on the start-up path)
    from marie.ui.editor.find_bar import FindBar

__all__ = ["EditorView", "BinaryFileError", "FileTooLargeError"]

log = logging.getLogger(__name__)
S = Scintilla

_DEFAULTS = {"editor.font_family": "monospace", "editor.font_size": 11, "editor.tab_width": 4,
             "editor.insert_spaces": True, "editor.word_wrap": False, "editor.show_whitespace": False,
             "editor.indent_guides": True, "editor.trim_trailing_whitespace": False,
             "editor.insert_final_newline": False, "editor.large_file_bytes": 50 * 2**20,
             "editor.max_file_bytes": 2**30, "editor.detect_indentation": True}
_EOL_MODE = {"\r\n": 0, "\r": 1, "\n": 2}  # SC_EOL_CRLF, SC_EOL_CR, SC_EOL_LF
_MARGIN_LINES, _MARGIN_FOLD = 0, 2
_SC_UPDATE_CONTENT, _SC_UPDATE_SELECTION = 1, 2
_SC_MOD_INSERT, _SC_MOD_DELETE = 0x1, 0x2
_BRACES = frozenset(b"()[]{}")
_INDENT_AFTER = {"python": (":",), "yaml": (":",)}
_MAX_LEXED_LINE_BYTES = 20_000
# (Qt.* constants are made on first use, not at import: the first use of PySide6's Qt namespace builds
# all its enums, ~30 ms, which start-up then pays after the first paint instead of before it.)
_KEYS: tuple | None = None   # (modifier mask, keys we handle without a modifier)


def _key_constants() -> tuple:
    global _KEYS
    if _KEYS is None:
        mask = (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
                | Qt.KeyboardModifier.AltModifier | Qt.KeyboardModifier.MetaModifier)
        _KEYS = (mask, frozenset((Qt.Key.Key_F3, Qt.Key.Key_Escape)))
    return _KEYS


def _quietly(fn) -> None:
    try:
        if fn is not None:
            fn()
    except (ValueError, RuntimeError):
        pass


def _project_fixes(settings: Any, key: str) -> bool:
    """True when the project settings (or the admin policy) set ``key``: a project decision, which
    wins over detection; a user-level value is only the default for files that show nothing."""
    try:
        return settings.layer_of(key) in ("project", "policy")
    except AttributeError:   # no settings, or a stand-in without layers
        return False


def _setting(settings: Any, key: str) -> Any:
    if settings is None:
        return _DEFAULTS[key]
    try:
        return settings.get(key)
    except (KeyError, AttributeError):
        return _DEFAULTS[key]


class _Sci(ScintillaEdit):
    """ScintillaEdit with the editor's own keys and Alt+click; everything else is Scintilla's."""

    def __init__(self, view: "EditorView") -> None:
        super().__init__(view)
        self._view = view
        self._alt_press: tuple[Any, list] | None = None

    def setFocus(self, *args) -> None:  # noqa: N802
        """ScintillaEdit's ``setFocus(bool)`` (SCI_SETFOCUS) hides QWidget.setFocus(); callers mean
        the widget one (``sci.setFocus()`` to give it keyboard focus), so both forms work here."""
        if len(args) == 1 and isinstance(args[0], bool):
            ScintillaEdit.setFocus(self, args[0])
        else:
            QWidget.setFocus(self, *args)

    _SHORTCUT_OVERRIDE = QEvent.Type.ShortcutOverride   # looked up once: event() runs for every event

    def event(self, event) -> bool:  # noqa: N802
        # Claim our keys before window-level shortcuts see them, so they act on this editor.
        if event.type() == self._SHORTCUT_OVERRIDE and self._view._claims(event):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event) -> None:  # noqa: N802
        if self._view._handle_key(event):
            event.accept()
            return
        super().keyPressEvent(event)

    def mousePressEvent(self, event) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.LeftButton and event.modifiers() == Qt.KeyboardModifier.AltModifier:
            self._alt_press = (event.position().toPoint(), multicursor.selections(self))
        else:
            self._alt_press = None
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        super().mouseReleaseEvent(event)
        press, self._alt_press = self._alt_press, None
        if press is None:
            return
        point, previous = press
        if (event.position().toPoint() - point).manhattanLength() <= 3:
            # a click, not a drag: Alt+drag stays Scintilla's rectangular selection
            pos = self.positionFromPoint(point.x(), point.y())
            multicursor.add_caret(self, pos, previous)


class EditorView(QWidget):
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

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.info_bar = InfoBar(self)        # changed/deleted on disk
        self.large_bar = InfoBar(self)       # large-file notice
        self.sci = _Sci(self)
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

    # ================================================================ construction
    @classmethod
    def open(cls, path: str | Path, settings: Any = None, parent: QWidget | None = None) -> "EditorView":
        """Open ``path``. Raises BinaryFileError, FileTooLargeError or OSError (clear messages).
        Files above 1 MiB are read on a worker and fed in slices (``loading`` until ``loaded``)."""
        path = Path(path).absolute()
        max_bytes = _setting(settings, "editor.max_file_bytes")
        size = path.stat().st_size
        if path.is_dir():
            raise IsADirectoryError(f"{path.name} is a folder, not a file")
        if size > max_bytes:
            raise FileTooLargeError(f"{path.name} is {size / 2**20:.0f} MiB, above the {max_bytes / 2**20:.0f} MiB "
                                    "limit (setting editor.max_file_bytes)")
        view = cls(parent, settings)
        view._prepare_path(path)
        large = size > _setting(settings, "editor.large_file_bytes")
        if size <= ASYNC_LOAD_BYTES:
            try:
                tf = TextFile.load(path, max_bytes)
            except BaseException:
                view.deleteLater()
                raise
            view._install_loaded(tf, large=large, feed=False)
        else:
            try:
                check_head(path)
            except BaseException:
                view.deleteLater()
                raise
            view._start_background_load(path, max_bytes, large)
        return view

    @classmethod
    def new(cls, settings: Any = None, path: str | Path | None = None, parent: QWidget | None = None) -> "EditorView":
        """An empty buffer (untitled, or for a file that does not exist yet); .editorconfig decides
        its charset and line ending."""
        view = cls(parent, settings)
        if path is not None:
            view._prepare_path(Path(path).absolute())
        fmt = TextFormat()
        if view.config.charset:
            fmt = TextFormat(encoding=view.config.charset[0], bom=view.config.charset[1])
        if view.config.end_of_line:
            fmt = fmt.with_eol(view.config.end_of_line)
        view.text_file = TextFile.new(view.text_file.path, fmt)
        view.sci.setEOLMode(_EOL_MODE[fmt.eol])
        view.sci.setSavePoint()
        return view

    @classmethod
    def untitled(cls, settings: Any = None, parent: QWidget | None = None) -> "EditorView":
        """A new untitled buffer (the window's File > New)."""
        return cls.new(settings, None, parent)

    @property
    def is_untitled(self) -> bool:
        return self._untitled

    def _prepare_path(self, path: Path) -> None:
        self.text_file = TextFile.new(path)
        self._untitled = False
        self.config = editorconfig.resolve(path)
        self._apply_indentation()

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

    def _apply_indentation(self) -> None:
        """Indentation from, lowest first: the editor settings, what the text shows (unless
        ``editor.detect_indentation`` is off or the project settings fix it), ``.editorconfig``."""
        cfg, sci, settings = self.config, self.sci, self.settings
        sci.setTabWidth(_setting(settings, "editor.tab_width"))
        sci.setUseTabs(not _setting(settings, "editor.insert_spaces"))
        sci.setIndent(0)
        found = self.detected_indentation
        if found is not None and self._detection_applies():
            if found.use_tabs is not None and not _project_fixes(settings, "editor.insert_spaces"):
                sci.setUseTabs(found.use_tabs)
            if found.indent_size and not _project_fixes(settings, "editor.tab_width"):
                # like VS Code: a spaces file's tab width follows its indent, so stray tabs line up
                sci.setTabWidth(found.indent_size)
        if cfg.indent_style:
            sci.setUseTabs(cfg.indent_style == "tab")
        if cfg.tab_width:
            sci.setTabWidth(cfg.tab_width)
        if cfg.indent_size:
            sci.setIndent(cfg.indent_size)

    def _detection_applies(self) -> bool:
        """Detection is for files whose .editorconfig says nothing about indentation."""
        cfg = self.config
        if cfg.indent_style or cfg.indent_size or cfg.tab_width:
            return False
        return bool(_setting(self.settings, "editor.detect_indentation"))

    def _detect_indentation(self, tf: TextFile, found: indentation.Indentation | None = None) -> None:
        """Guess the indentation of a just-loaded file (``found``: already guessed on the load
        worker) and apply it. GUI thread."""
        before = self.indentation_label()
        if found is None and self._detection_applies() and not self.large_file_mode:
            head = tf.head(indentation.MAX_CHARS) if isinstance(tf, PiecewiseTextFile) else tf.text
            found = indentation.detect(head)
        self.detected_indentation = found
        self._apply_indentation()
        if self.indentation_label() != before:
            self.indentationChanged.emit(self.indentation_label())

    # ================================================================ loading
    def _start_background_load(self, path: Path, max_bytes: int, large: bool) -> None:
        self.loading = True
        self.sci.setReadOnly(True)
        if large:
            self._enter_large_mode(path.stat().st_size)
        detect = not large and self._detection_applies()
        job = LoadJob(path, max_bytes, self, detect_indentation=detect)
        job.finished.connect(lambda tf: self._install_loaded(tf, large=large, feed=True,
                                                             found=job.indentation))
        job.failed.connect(self._on_load_failed)
        self._job = job
        job.start()

    def _on_load_failed(self, message: str) -> None:
        self.loading = False
        self._job = None
        self.info_bar.show_message("error", f"Could not open: {message}")
        self.loadFailed.emit(message)

    def _install_loaded(self, tf: TextFile, *, large: bool, feed: bool,
                        found: indentation.Indentation | None = None) -> None:
        """Put a loaded file into Scintilla (directly, or in slices when ``feed``); ``found`` is
        the indentation the load worker already guessed."""
        self._job = None
        self.text_file = tf
        self._untitled = False
        if large and not self.large_file_mode:
            self._enter_large_mode(tf.disk.size)
        self._detect_indentation(tf, found)
        self.sci.setEOLMode(_EOL_MODE[tf.format.eol])
        if not large:
            # set before the text goes in: Scintilla then only styles what becomes visible
            head = tf.head(2_000_000) if isinstance(tf, PiecewiseTextFile) else tf.text
            self._set_language(language_for(tf.path, head[:200].split("\n", 1)[0]), head)
        self._suppress += 1
        self.sci.setReadOnly(False)
        self.sci.setUndoCollection(False)
        self.sci.clearAll()
        if feed:
            self.loading = True
            self.sci.setReadOnly(True)
            self._feeder = ChunkFeeder(self.sci, pieces_of(tf), self._finish_load, self)
            self._feeder.start()
        else:
            text = tf.text
            self.sci.appendText(len(text) if text.isascii() else len(text.encode("utf-8")), text)
            self._finish_load()

    def _finish_load(self) -> None:
        self._feeder = None
        self.sci.setReadOnly(False)
        self.sci.setUndoCollection(True)
        self.sci.emptyUndoBuffer()
        self.sci.setSavePoint()
        self.sci.gotoPos(0)
        self._suppress = max(0, self._suppress - 1)
        self._update_margins()
        self._style_ahead()
        was_loading, self.loading = self.loading, False
        if self._pending_goto:
            line, column = self._pending_goto
            self._pending_goto = None
            self.goto(line, column)
        self._set_dirty(False)
        if was_loading:
            self.loaded.emit()
        self.cursorMoved.emit()

    def _enter_large_mode(self, size: int) -> None:
        """Scintilla's large-document mode: positions beyond 2 GiB, no styling, no folding, no wrap."""
        self.large_file_mode = True
        sci = self.sci
        doc = sci.createDocument(max(size, 1), int(S.DocumentOption.TextLarge) | int(S.DocumentOption.StylesNone))
        sci.setDocPointer(doc)
        sci.releaseDocument(doc)  # the view now holds the only reference
        sci.setCodePage(65001)
        sci.setILexer(0)
        self._spec = None
        self.language = language_for(self.text_file.path)
        sci.setWrapMode(0)
        sci.setMarginWidthN(_MARGIN_FOLD, 0)
        sci.setIndentationGuides(0)
        self._restyle()
        self.large_bar.show_message(
            "large", f"Large file ({size / 2**20:.0f} MiB): syntax colouring, folding and wrapping are off.",
            [("OK", self.large_bar.dismiss)])

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

    def save(self, path: str | Path | None = None) -> Path:
        """Write the buffer atomically (keeping encoding, BOM and line endings); ``path`` = save as.
        Applies .editorconfig trim_trailing_whitespace / insert_final_newline. Raises OSError or
        UnicodeEncodeError (the text holds a character the file's encoding cannot store)."""
        if self.loading:
            raise RuntimeError("the file is still loading; save when it has finished")
        if path is not None:
            new_path = Path(path).absolute()
            if new_path != self.text_file.path or self._untitled:
                self._untitled = False
                self.text_file.path = new_path
                self.config = editorconfig.resolve(new_path)
                self._apply_indentation()
                if not self.large_file_mode:
                    self._set_language(language_for(new_path))
        if self._untitled:
            raise ValueError("this buffer has no file yet: save it with a path (save as)")
        text = self.text()
        cfg = self._save_config()
        fixed = editorconfig.apply_on_save(text, cfg, self.text_file.format.eol)
        if fixed != text:
            self._replace_keeping_caret(fixed)
            text = fixed
        fmt = self.text_file.format
        if not self.text_file.disk.exists and not fmt.bom and fmt.encoding == "utf-8" and self.config.charset:
            fmt = TextFormat(encoding=self.config.charset[0], bom=self.config.charset[1], eol=fmt.eol)
        eol, mixed, final = detect_eol(text)
        fmt = TextFormat(fmt.encoding, fmt.bom, fmt.eol if not text else eol, mixed, final, fmt.fallback)
        self.text_file.save(text, fmt)
        self.sci.setSavePoint()
        self.deleted_on_disk = False
        if self.info_bar.kind in ("conflict", "deleted"):
            self.info_bar.dismiss()
        self._set_dirty(False)
        return self.text_file.path

    def _save_config(self) -> editorconfig.EditorConfig:
        """.editorconfig values, falling back to the editor settings where it says nothing."""
        cfg = self.config
        trim = cfg.trim_trailing_whitespace
        final = cfg.insert_final_newline
        if trim is None:
            trim = bool(_setting(self.settings, "editor.trim_trailing_whitespace"))
        if final is None:
            final = bool(_setting(self.settings, "editor.insert_final_newline")) or None
        return editorconfig.EditorConfig(trim_trailing_whitespace=trim, insert_final_newline=final)

    def _replace_keeping_caret(self, text: str) -> None:
        line, column = self.cursor_position()
        first = self.sci.firstVisibleLine()
        self.set_text(text)
        self.goto(line, column)
        self.sci.setFirstVisibleLine(first)

    def reload(self) -> None:
        """Read the file again (as one undo step, so Ctrl+Z brings the old text back); the caret
        stays on its line. Raises like ``open``."""
        if self._untitled:
            return
        tf = TextFile.load(self.text_file.path, _setting(self.settings, "editor.max_file_bytes"))
        line, column = self.cursor_position()
        first = self.sci.firstVisibleLine()
        self.text_file = tf
        self.sci.setEOLMode(_EOL_MODE[tf.format.eol])
        if self.text() != tf.text:
            self.set_text(tf.text)
        self.sci.setSavePoint()
        self.deleted_on_disk = False
        self.info_bar.dismiss()
        self._set_dirty(False)
        self.goto(min(line, self.sci.lineCount()), column)
        self.sci.setFirstVisibleLine(first)

    # -- disk changes ---------------------------------------------------------------------------
    def check_disk(self) -> str:
        """Compare with the disk (call when the window regains focus or the watcher reports the
        file): "unchanged", "reloaded" (the buffer was clean), "conflict" (bar shown) or "deleted"."""
        if self._untitled or self.loading:
            return "unchanged"
        path = self.text_file.path
        if self.text_file.disk.exists and not path.exists():
            self.mark_deleted_on_disk()
            return "deleted"
        if not self.text_file.changed_on_disk():
            return "unchanged"
        if not self.is_dirty():
            try:
                self.reload()
            except (OSError, ValueError) as exc:
                self.info_bar.show_message("error", f"The file changed on disk and could not be re-read: {exc}")
                return "conflict"
            return "reloaded"
        self.show_disk_conflict()
        return "conflict"

    def show_disk_conflict(self) -> None:
        """The file changed on disk while this buffer has unsaved edits: offer the choices."""
        self.info_bar.show_message(
            "conflict", "This file changed on disk, and you have unsaved changes.",
            [("Reload", self._conflict_reload), ("Keep mine", self.keep_mine), ("Compare", self._compare)])

    def _conflict_reload(self) -> None:
        try:
            self.reload()
        except (OSError, ValueError) as exc:
            self.info_bar.show_message("error", f"Could not reload: {exc}")

    def keep_mine(self) -> None:
        """Keep the buffer; the next save overwrites the disk version (we stop warning about it)."""
        self.text_file.disk = DiskState.of(self.text_file.path, self._read_disk_bytes())
        self.info_bar.dismiss()
        self._set_dirty(True)

    def _read_disk_bytes(self) -> bytes | None:
        try:
            return self.text_file.path.read_bytes()
        except OSError:
            return None

    def disk_text(self) -> str | None:
        """What is on disk now, decoded (None when unreadable) — for the compare view."""
        data = self._read_disk_bytes()
        if data is None:
            return None
        from marie.text.codec import decode
        try:
            return decode(data)[0]
        except BinaryFileError:
            return None

    def _compare(self) -> None:
        self.compareRequested.emit(self.disk_text() or "")

    def mark_deleted_on_disk(self) -> None:
        """The file is gone from disk: say so; the buffer counts as unsaved (saving recreates it)."""
        self.deleted_on_disk = True
        self.info_bar.show_message("deleted", "This file was deleted on disk. Save to create it again.",
                                   [("Save", self._save_from_bar)])
        self._set_dirty(True)

    def _save_from_bar(self) -> None:
        try:
            self.save()
        except (OSError, ValueError, UnicodeEncodeError) as exc:
            self.info_bar.show_message("error", f"Could not save: {exc}")

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

    def set_settings(self, settings: Any) -> None:
        """Re-read editor settings (after "settings.changed")."""
        self.settings = settings
        sci = self.sci
        if (self.detected_indentation is None and not self._untitled and not self.loading
                and not self.large_file_mode and self._detection_applies()):
            # detection was just turned on: guess from the buffer as it is now
            self.detected_indentation = indentation.detect(self.text()[:indentation.MAX_CHARS])
        sci.setViewWS(1 if _setting(settings, "editor.show_whitespace") else 0)
        if not self.large_file_mode:
            sci.setWrapMode(1 if _setting(settings, "editor.word_wrap") else 0)
            sci.setIndentationGuides(3 if _setting(settings, "editor.indent_guides") else 0)
        self._apply_indentation()
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

    # -- keys ---------------------------------------------------------------------------------------
    def _claims(self, event) -> bool:
        """Keys that only mean something in the editor win over window shortcuts; Ctrl+F/H/G and
        the like stay with the window's commands when it has them (they call back into us)."""
        mask, _plain = _KEYS or _key_constants()
        if not (event.modifiers() & mask):
            return False      # plain typing (every keystroke comes here first): nothing to claim
        mods = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        ctrl, shift = Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.ShiftModifier
        return (mods, event.key()) in {(ctrl, Qt.Key.Key_D), (ctrl, Qt.Key.Key_Slash), (ctrl | shift, Qt.Key.Key_L)}

    def _handle_key(self, event, dry_run: bool = False) -> bool:
        """The editor's own shortcuts. ``dry_run`` only says whether the key is ours."""
        key = event.key()
        mask, plain = _KEYS or _key_constants()
        mods = event.modifiers() & mask
        if not mods and key not in plain:
            return False  # ordinary typing: back to Scintilla as fast as possible
        actions = self._key_actions
        if actions is None:
            ctrl = Qt.KeyboardModifier.ControlModifier
            shift = Qt.KeyboardModifier.ShiftModifier
            K = Qt.Key
            actions = self._key_actions = {
                (ctrl, K.Key_D): self.add_next_occurrence,
                (ctrl | shift, K.Key_L): self.select_all_occurrences,
                (ctrl, K.Key_Slash): self.toggle_comment,
                (ctrl, K.Key_F): lambda: self.show_find(False),
                (ctrl, K.Key_H): lambda: self.show_find(True),
                (ctrl, K.Key_G): self.goto_line_dialog,
                (Qt.KeyboardModifier.NoModifier, K.Key_F3): self.find_next,
                (shift, K.Key_F3): self.find_previous,
                (ctrl, K.Key_Equal): self.zoom_in,
                (ctrl, K.Key_Plus): self.zoom_in,
                (ctrl | shift, K.Key_Plus): self.zoom_in,
                (ctrl, K.Key_Minus): self.zoom_out,
                (ctrl, K.Key_0): self.zoom_reset,
            }
        action = actions.get((mods, key))
        if action is None and key == Qt.Key.Key_Escape and not mods:
            if self._find_bar is not None and self._find_bar.isVisible():
                action = self.find_bar.close_bar
            elif self.sci.selections() > 1:
                action = lambda: self.sci.setEmptySelection(self.sci.currentPos())  # noqa: E731
        if action is None:
            return False
        if not dry_run:
            action()
        return True

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

    def shortcut_help(self) -> dict[str, str]:
        """Editor keys, for the command palette and menus."""
        from PySide6.QtGui import QKeySequence

        return {"Add next occurrence": QKeySequence("Ctrl+D").toString(), "Toggle comment": "Ctrl+/",
                "Find": "Ctrl+F", "Replace": "Ctrl+H", "Go to line": "Ctrl+G", "Zoom in": "Ctrl+=",
                "Zoom out": "Ctrl+-", "Reset zoom": "Ctrl+0", "Select all occurrences": "Ctrl+Shift+L"}
