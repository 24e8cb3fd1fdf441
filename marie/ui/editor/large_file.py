"""Opening big files without freezing the window.

Files above ``ASYNC_LOAD_BYTES`` are read and decoded on a worker thread (``LoadJob``); the text then
goes into Scintilla in slices, one slice per event-loop turn (``ChunkFeeder``), so painting and input
keep running between slices. Above ``editor.large_file_bytes`` the view also switches Scintilla to its
large-document mode (SC_DOCUMENTOPTION_TEXT_LARGE) with the lexer, folding and wrapping off.
"""

from __future__ import annotations

import codecs
import threading
import time
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject, QTimer, Signal

from marie.text.codec import SNIFF_BYTES, BinaryFileError, TextFormat, decode, looks_binary
from marie.text.document import DiskState, FileTooLargeError, TextFile
from marie.text.indentation import MAX_CHARS as INDENT_SAMPLE_CHARS, Indentation, detect as detect_indentation

# Below this size the view loads synchronously (it takes a few milliseconds).
ASYNC_LOAD_BYTES = 1 << 20
# Slice size for reading and decoding on the worker: each slice holds the GIL for a few ms only.
SLICE_BYTES = 4 << 20
# Bytes of text handed to Scintilla per event-loop turn: about 5-10 ms of work each.
CHUNK_CHARS = 1 << 19


def check_head(path: Path) -> None:
    """Refuse a binary file before starting a background load (GUI thread; reads 8 KiB)."""
    with open(path, "rb") as fh:
        head = fh.read(SNIFF_BYTES)
    if head.startswith((b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf")):
        return  # UTF-16/UTF-8 BOM: NUL bytes are expected there
    if looks_binary(head):
        raise BinaryFileError(f"{path.name}: binary file (it contains NUL bytes or mostly non-text bytes); "
                              "it is not opened as text")


def load_in_slices(path: Path, max_bytes: int | None = None) -> TextFile:
    """``TextFile.load`` for big files, friendly to the GUI thread: reading, UTF-8 decoding and
    line-ending counting go slice by slice, letting the GIL go between slices (one 100 MiB decode
    would otherwise freeze the window for a few hundred ms). The result equals ``TextFile.load``'s;
    files that are not plain UTF-8 (BOM, fallback encodings) take ``codec.decode`` as a whole.
    Worker thread."""
    size = path.stat().st_size
    if max_bytes is not None and size > max_bytes:
        raise FileTooLargeError(f"{path.name} is {size / 2**20:.0f} MiB, above the {max_bytes / 2**20:.0f} MiB "
                                "limit (setting editor.max_file_bytes)")
    chunks: list[bytes] = []
    with open(path, "rb") as fh:
        while True:
            block = fh.read(SLICE_BYTES)
            if not block:
                break
            chunks.append(block)
    data = b"".join(chunks)
    del chunks
    time.sleep(0)
    plain = not data.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) and not looks_binary(data)
    text: str | None = None
    if plain:
        decoder = codecs.getincrementaldecoder("utf-8")()
        pieces: list[str] = []
        lf = crlf = cr = 0
        previous_cr = False
        try:
            for start in range(0, len(data), SLICE_BYTES):
                raw = data[start:start + SLICE_BYTES]
                pieces.append(decoder.decode(raw, final=start + SLICE_BYTES >= len(data)))
                n_crlf = raw.count(b"\r\n")
                n_cr, n_lf = raw.count(b"\r") - n_crlf, raw.count(b"\n") - n_crlf
                if previous_cr and raw.startswith(b"\n"):  # a CRLF split across two slices
                    n_crlf, n_cr, n_lf = n_crlf + 1, n_cr, n_lf - 1
                    cr -= 1
                crlf, cr, lf = crlf + n_crlf, cr + n_cr, lf + n_lf
                previous_cr = raw.endswith(b"\r")
                time.sleep(0)
            if len(data) == 0:
                pieces.append(decoder.decode(b"", final=True))
        except UnicodeDecodeError:
            plain = False
        else:
            # no "".join here: str.join of 100 MiB holds the GIL for 50-300 ms (copying into fresh
            # pages), which froze the window; the pieces go to Scintilla as they are
            counts = {"\n": lf, "\r\n": crlf, "\r": cr}
            kinds = [k for k, n in counts.items() if n]
            eol = max(("\n", "\r\n", "\r"), key=lambda k: counts[k]) if kinds else "\n"
            fmt = TextFormat("utf-8", b"", eol, len(kinds) > 1, data.endswith((b"\n", b"\r")), False)
    if not plain:
        try:
            text, fmt = decode(data)
        except BinaryFileError as exc:
            raise BinaryFileError(f"{path.name}: {exc}; it is not opened as text") from None
        pieces = [text]
    return PiecewiseTextFile(path, pieces, fmt, DiskState.of(path, data))


class PiecewiseTextFile(TextFile):
    """A ``TextFile`` whose text is kept as the decoded slices; ``.text`` joins them on first use
    (and keeps the result). The view feeds ``pieces`` to Scintilla directly, so a big file's text is
    never joined into one str unless someone asks for it. Any thread."""

    def __init__(self, path: Path, pieces: list[str], format: TextFormat, disk: DiskState) -> None:  # noqa: A002
        self.pieces = pieces
        self._text: str | None = None
        super().__init__(path, None, format, disk)  # type: ignore[arg-type]  # None: keep the pieces

    @property  # type: ignore[override]
    def text(self) -> str:
        if self._text is None:
            self._text = "".join(self.pieces)
            self.pieces = [self._text]
        return self._text

    @text.setter
    def text(self, value: str | None) -> None:
        if value is not None:  # a new text (save, reload) replaces the pieces
            self._text = value
            self.pieces = [value]

    def head(self, chars: int) -> str:
        """The first ``chars`` characters without joining everything (GUI thread)."""
        out, n = [], 0
        for piece in self.pieces:
            if n >= chars:
                break
            out.append(piece[:chars - n])
            n += len(out[-1])
        return "".join(out)


class LoadJob(QObject):
    """Read and decode a file on a Python thread; ``finished(TextFile)`` or ``failed(str)`` arrive on
    the GUI thread (queued signal delivery). With ``detect_indentation`` the worker also guesses the
    file's indentation (``indentation``, set before ``finished``), which keeps that ~10 ms off
    the GUI thread."""

    finished = Signal(object)
    failed = Signal(str)

    def __init__(self, path: Path, max_bytes: int | None, parent: QObject | None = None, *,
                 detect_indentation: bool = False) -> None:
        super().__init__(parent)
        self.path = path
        self.max_bytes = max_bytes
        self.detect_indentation = detect_indentation
        self.indentation: Indentation | None = None
        self.thread = threading.Thread(target=self._run, name=f"load {path.name}", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _run(self) -> None:
        """Worker thread."""
        try:
            tf = load_in_slices(self.path, self.max_bytes)
            if self.detect_indentation:
                self.indentation = detect_indentation(tf.head(INDENT_SAMPLE_CHARS))
        except (OSError, ValueError) as exc:
            self.failed.emit(str(exc) if not isinstance(exc, OSError) else f"{self.path.name}: {exc.strerror or exc}")
            return
        except Exception as exc:  # never leave a view stuck in "loading"
            self.failed.emit(f"{self.path.name}: {exc}")
            return
        self.finished.emit(tf)


class ChunkFeeder(QObject):
    """Append ``pieces`` (strs, in order) to ``sci`` in slices from a zero-delay timer; ``done()``
    when complete."""

    def __init__(self, sci, pieces: list[str], done: Callable[[], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.sci = sci
        self.pieces = list(pieces)
        self.index = 0
        self.pos = 0
        self.done = done
        self.timer = QTimer(self)
        self.timer.setInterval(0)
        self.timer.timeout.connect(self._step)

    def start(self) -> None:
        self.timer.start()

    def cancel(self) -> None:
        self.timer.stop()
        self.pieces = []

    def _step(self) -> None:
        while self.index < len(self.pieces) and self.pos >= len(self.pieces[self.index]):
            self.index, self.pos = self.index + 1, 0
        if self.index >= len(self.pieces):
            self.timer.stop()
            self.pieces = []
            self.done()
            return
        piece = self.pieces[self.index][self.pos:self.pos + CHUNK_CHARS]
        if piece:
            size = len(piece) if piece.isascii() else len(piece.encode("utf-8"))
            # the view stays read-only while loading so no keystroke lands in a half-loaded buffer
            self.sci.setReadOnly(False)
            self.sci.appendText(size, piece)
            self.sci.setReadOnly(True)
            self.pos += len(piece)


def pieces_of(tf: TextFile) -> list[str]:
    """The text of ``tf`` as a list of strs, without joining a ``PiecewiseTextFile``."""
    return tf.pieces if isinstance(tf, PiecewiseTextFile) else [tf.text]
