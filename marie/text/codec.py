"""Detect a file's encoding, line endings and final newline, and write it back byte for byte.

The decoded text keeps the file's own line endings (mixed ones included): nothing is normalised, so
``encode(*decode(data)) == data`` for every file we agree to open as text. Pure functions, any thread.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, replace

SNIFF_BYTES = 8192


class BinaryFileError(ValueError):
    """The file looks binary (NUL bytes or mostly non-text bytes); it is not opened as text."""


@dataclass(frozen=True)
class TextFormat:
    encoding: str = "utf-8"   # Python codec name used for the body (without BOM)
    bom: bytes = b""          # the byte-order mark written before the body, if any
    eol: str = "\n"           # the dominant line ending: "\n", "\r\n" or "\r"
    mixed_eol: bool = False   # several kinds of line ending occur (kept as they are)
    final_newline: bool = True
    fallback: bool = False    # decoded with a single-byte fallback because the bytes were not UTF-8

    @property
    def label(self) -> str:
        """What the status bar shows, e.g. ``UTF-8 with BOM`` or ``Windows-1252 (not UTF-8)``."""
        names = {"utf-8": "UTF-8", "utf-16-le": "UTF-16 LE", "utf-16-be": "UTF-16 BE",
                 "utf-32-le": "UTF-32 LE", "utf-32-be": "UTF-32 BE", "cp1252": "Windows-1252",
                 "latin-1": "ISO-8859-1"}
        name = names.get(self.encoding, self.encoding)
        if self.bom:
            name += " with BOM"
        if self.fallback:
            name += " (not UTF-8)"
        return name

    @property
    def eol_label(self) -> str:
        label = {"\n": "LF", "\r\n": "CRLF", "\r": "CR"}[self.eol]
        return f"{label} (mixed)" if self.mixed_eol else label

    def with_eol(self, eol: str) -> "TextFormat":
        return replace(self, eol=eol, mixed_eol=False)


_BOMS: list[tuple[bytes, str]] = [
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
]

# Bytes that never occur in text files (NUL excluded: it is handled separately).
_CONTROL = set(range(0x01, 0x20)) - {0x09, 0x0A, 0x0C, 0x0D, 0x1B, 0x08}


def looks_binary(data: bytes) -> bool:
    """NUL bytes, or a sample that is mostly control characters."""
    sample = data[:SNIFF_BYTES]
    if not sample:
        return False
    if b"\x00" in sample:
        return True
    controls = sum(1 for b in sample if b in _CONTROL)
    return controls / len(sample) > 0.10


def detect_eol(text: str) -> tuple[str, bool, bool]:
    """Return (dominant eol, mixed?, final newline?)."""
    crlf = text.count("\r\n")
    cr = text.count("\r") - crlf
    lf = text.count("\n") - crlf
    counts = {"\n": lf, "\r\n": crlf, "\r": cr}
    kinds = [k for k, n in counts.items() if n]
    if not kinds:
        eol = "\n"
    else:
        # Ties go to LF, then CRLF: the most common conventions.
        eol = max(("\n", "\r\n", "\r"), key=lambda k: counts[k])
    final = text.endswith(("\n", "\r"))
    return eol, len(kinds) > 1, final


def decode(data: bytes) -> tuple[str, TextFormat]:
    """Decode file bytes into text and the format needed to write them back unchanged."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                text = data[len(bom):].decode(encoding)
            except UnicodeDecodeError:
                continue
            eol, mixed, final = detect_eol(text)
            return text, TextFormat(encoding, bom, eol, mixed, final)
    if looks_binary(data):
        raise BinaryFileError("binary file (it contains NUL bytes or mostly non-text bytes)")
    try:
        text = data.decode("utf-8")
        encoding, fallback = "utf-8", False
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
            encoding = "cp1252"
        except UnicodeDecodeError:
            text = data.decode("latin-1")
            encoding = "latin-1"
        fallback = True
    eol, mixed, final = detect_eol(text)
    return text, TextFormat(encoding, b"", eol, mixed, final, fallback)


def encode(text: str, fmt: TextFormat) -> bytes:
    """Encode text for writing; raises UnicodeEncodeError naming the first unencodable character."""
    return fmt.bom + text.encode(fmt.encoding)


def convert_eol(text: str, eol: str) -> str:
    """Rewrite every line ending to ``eol`` (an explicit user action, never done implicitly)."""
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", eol)
