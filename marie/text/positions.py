"""Column conversions between the three ways MarieIDE counts characters on a line.

- code points: Python ``str`` indices, and what the editor shows the user (1-based there);
- UTF-8 bytes: Scintilla positions (Scintilla stores the document as UTF-8);
- UTF-16 code units: LSP ``Position.character`` (the protocol's default encoding).

Every function works on ONE line (no line terminator inside ``line``) and takes 0-based columns.
Out-of-range columns are clamped to the line's end, and a column that falls inside a character (the
middle of a surrogate pair or of a multi-byte UTF-8 sequence) is moved back to that character's start:
servers and widgets do send such positions, and a clamped position is safer than an exception.
Pure functions, safe on any thread.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass


def _utf16_units(ch: str) -> int:
    return 2 if ord(ch) > 0xFFFF else 1


def _utf8_bytes(ch: str) -> int:
    cp = ord(ch)
    if cp < 0x80:
        return 1
    if cp < 0x800:
        return 2
    if cp < 0x10000:
        return 3
    return 4


def utf16_length(text: str) -> int:
    """Length of ``text`` in UTF-16 code units."""
    if text.isascii():
        return len(text)
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def utf8_length(text: str) -> int:
    """Length of ``text`` in UTF-8 bytes (lone surrogates count as 3, like Scintilla)."""
    if text.isascii():
        return len(text)
    return sum(_utf8_bytes(ch) for ch in text)


def codepoint_to_utf16(line: str, column: int) -> int:
    """Code-point column -> UTF-16 column."""
    column = max(0, min(column, len(line)))
    head = line[:column]
    return utf16_length(head)


def _units_to_codepoint(line: str, column: int, width) -> int:
    """A column counted in code units of ``width(ch)`` each -> code-point column (a column inside
    a character maps to the character's start)."""
    if column <= 0:
        return 0
    if line.isascii():
        return min(column, len(line))
    units = 0
    for index, ch in enumerate(line):
        step = width(ch)
        if units + step > column:
            return index
        units += step
    return len(line)


def utf16_to_codepoint(line: str, column: int) -> int:
    """UTF-16 column -> code-point column (inside a surrogate pair: the character's start)."""
    return _units_to_codepoint(line, column, _utf16_units)


def codepoint_to_utf8(line: str, column: int) -> int:
    """Code-point column -> UTF-8 byte column."""
    column = max(0, min(column, len(line)))
    return utf8_length(line[:column])


def utf8_to_codepoint(line: str, column: int) -> int:
    """UTF-8 byte column -> code-point column (inside a multi-byte character: its start)."""
    return _units_to_codepoint(line, column, _utf8_bytes)


def utf8_to_utf16(line: str, column: int) -> int:
    """Scintilla byte column -> LSP character."""
    return codepoint_to_utf16(line, utf8_to_codepoint(line, column))


def utf16_to_utf8(line: str, column: int) -> int:
    """LSP character -> Scintilla byte column."""
    return codepoint_to_utf8(line, utf16_to_codepoint(line, column))


ENCODINGS = ("utf-16", "utf-32", "utf-8")


def to_codepoint(line: str, column: int, encoding: str) -> int:
    """A column counted in ``encoding`` units ("utf-16" LSP default, "utf-32" code points, "utf-8"
    bytes) -> code-point column."""
    if encoding == "utf-16":
        return utf16_to_codepoint(line, column)
    if encoding == "utf-8":
        return utf8_to_codepoint(line, column)
    return max(0, min(column, len(line)))


def from_codepoint(line: str, column: int, encoding: str) -> int:
    """Code-point column -> a column counted in ``encoding`` units."""
    if encoding == "utf-16":
        return codepoint_to_utf16(line, column)
    if encoding == "utf-8":
        return codepoint_to_utf8(line, column)
    return max(0, min(column, len(line)))


@dataclass(frozen=True)
class LineTable:
    """Line starts of a whole text, for converting between flat offsets and (line, column).

    Lines end at ``\\n`` (a ``\\r`` before it belongs to the line's terminator, as in LSP). Offsets
    are code-point indices into the text. ``encoding`` is how the peer counts LSP characters:
    "utf-16" (the protocol default), "utf-32" (code points: what python-lsp-server really uses) or
    "utf-8". Build once per text version: O(n).
    """

    text: str
    starts: tuple[int, ...]
    encoding: str = "utf-16"

    @classmethod
    def of(cls, text: str, encoding: str = "utf-16") -> "LineTable":
        starts = [0]
        find = text.find
        index = find("\n")
        while index != -1:
            starts.append(index + 1)
            index = find("\n", index + 1)
        return cls(text, tuple(starts), encoding)

    @property
    def line_count(self) -> int:
        return len(self.starts)

    def line(self, line: int) -> str:
        """The text of 0-based ``line`` without its terminator ('' past the end)."""
        if line < 0 or line >= len(self.starts):
            return ""
        start = self.starts[line]
        if line + 1 < len(self.starts):
            end = self.starts[line + 1] - 1
            if end > start and self.text[end - 1] == "\r":  # "\r\n": the \r ends the line too
                end -= 1
        else:
            end = len(self.text)
        return self.text[start:end]

    def offset_to_position(self, offset: int) -> tuple[int, int]:
        """Code-point offset -> (0-based line, code-point column)."""
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self.starts, offset) - 1
        return line, min(offset - self.starts[line], len(self.line(line)))

    def position_to_offset(self, line: int, column: int) -> int:
        """(0-based line, code-point column) -> code-point offset, clamped into the text."""
        if line < 0:
            return 0
        if line >= len(self.starts):
            return len(self.text)
        return self.starts[line] + max(0, min(column, len(self.line(line))))

    # -- LSP positions (in this table's encoding) ----------------------------------------------
    def lsp_to_offset(self, line: int, character: int) -> int:
        """LSP Position -> code-point offset."""
        return self.position_to_offset(line, to_codepoint(self.line(line), character, self.encoding))

    def offset_to_lsp(self, offset: int) -> tuple[int, int]:
        """Code-point offset -> LSP (line, character)."""
        line, column = self.offset_to_position(offset)
        return line, from_codepoint(self.line(line), column, self.encoding)

    def lsp_to_codepoint(self, line: int, character: int) -> int:
        """LSP character on ``line`` -> code-point column."""
        return to_codepoint(self.line(line), character, self.encoding)

    def codepoint_to_lsp(self, line: int, column: int) -> int:
        """Code-point column on ``line`` -> LSP character."""
        return from_codepoint(self.line(line), column, self.encoding)
