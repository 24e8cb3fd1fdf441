"""Opening big files without freezing the window.

Files above ``ASYNC_LOAD_BYTES`` are read and decoded on a worker thread (``LoadJob``); the text then
goes into Scintilla in slices, one slice per event-loop turn (``ChunkFeeder``), so painting and input
keep running between slices. Above ``editor.large_file_bytes`` the view also switches Scintilla to its
large-document mode (SC_DOCUMENTOPTION_TEXT_LARGE) with the lexer, folding and wrapping off.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject, QTimer, Signal

from marie.text.codec import BinaryFileError, looks_binary, SNIFF_BYTES
from marie.text.document import TextFile

# Below this size the view loads synchronously (it takes a few milliseconds).
ASYNC_LOAD_BYTES = 1 << 20
# Bytes of text handed to Scintilla per event-loop turn: about 5-10 ms of work each.
CHUNK_CHARS = 1 << 20


def check_head(path: Path) -> None:
    """Refuse a binary file before starting a background load (GUI thread; reads 8 KiB)."""
    with open(path, "rb") as fh:
        head = fh.read(SNIFF_BYTES)
    if head.startswith((b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf")):
        return  # UTF-16/UTF-8 BOM: NUL bytes are expected there
    if looks_binary(head):
        raise BinaryFileError(f"{path.name}: binary file (it contains NUL bytes or mostly non-text bytes); "
                              "it is not opened as text")


class LoadJob(QObject):
    """Read and decode a file on a Python thread; ``finished(TextFile)`` or ``failed(str)`` arrive on
    the GUI thread (queued signal delivery)."""

    finished = Signal(object)
    failed = Signal(str)

    def __init__(self, path: Path, max_bytes: int | None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.path = path
        self.max_bytes = max_bytes
        self.thread = threading.Thread(target=self._run, name=f"load {path.name}", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _run(self) -> None:
        """Worker thread."""
        try:
            tf = TextFile.load(self.path, self.max_bytes)
        except (OSError, ValueError) as exc:
            self.failed.emit(str(exc) if not isinstance(exc, OSError) else f"{self.path.name}: {exc.strerror or exc}")
            return
        except Exception as exc:  # never leave a view stuck in "loading"
            self.failed.emit(f"{self.path.name}: {exc}")
            return
        self.finished.emit(tf)


class ChunkFeeder(QObject):
    """Append ``text`` to ``sci`` in slices from a zero-delay timer; ``done()`` when complete."""

    def __init__(self, sci, text: str, done: Callable[[], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.sci = sci
        self.text = text
        self.pos = 0
        self.done = done
        self.timer = QTimer(self)
        self.timer.setInterval(0)
        self.timer.timeout.connect(self._step)

    def start(self) -> None:
        self.timer.start()

    def cancel(self) -> None:
        self.timer.stop()
        self.text = ""

    def _step(self) -> None:
        piece = self.text[self.pos:self.pos + CHUNK_CHARS]
        if piece:
            size = len(piece) if piece.isascii() else len(piece.encode("utf-8"))
            # the view stays read-only while loading so no keystroke lands in a half-loaded buffer
            self.sci.setReadOnly(False)
            self.sci.appendText(size, piece)
            self.sci.setReadOnly(True)
            self.pos += len(piece)
        if self.pos >= len(self.text):
            self.timer.stop()
            self.text = ""
            self.done()
