"""How an EditorView gets its text: opening a file (small files at once, big ones read on a worker
and fed in slices), new and untitled buffers, and Scintilla's large-document mode. Mixed into
``EditorView``. GUI thread (the reading itself runs on the load worker).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QWidget
from pyside6_scintilla import Scintilla

from marie.text import editorconfig, indentation
from marie.text.codec import TextFormat
from marie.text.document import FileTooLargeError, TextFile
from marie.text.languages import language_for
from marie.ui.editor.editor_settings import _setting
from marie.ui.editor.large_file import ASYNC_LOAD_BYTES, ChunkFeeder, LoadJob, PiecewiseTextFile, check_head, pieces_of

S = Scintilla
_EOL_MODE = {"\r\n": 0, "\r": 1, "\n": 2}  # SC_EOL_CRLF, SC_EOL_CR, SC_EOL_LF
_MARGIN_FOLD = 2


class LoadingMixin:
    """Loading of ``EditorView``."""

    if TYPE_CHECKING:
        # A part of one class (see the module docstring): the host class defines the attributes and
        # methods this part uses, and mypy checks them there.
        def __getattr__(self, name: str) -> Any: ...

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
