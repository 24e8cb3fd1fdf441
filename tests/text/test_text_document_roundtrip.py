"""TextFile load/save round trips the odd files byte for byte; binary and huge files are refused."""

from __future__ import annotations

import codecs

import pytest

from marie.text.codec import BinaryFileError
from marie.text.document import FileTooLargeError, TextFile

ODD_FILES = {
    "crlf.txt": b"one\r\ntwo\r\n",
    "cr.txt": b"one\rtwo\r",
    "mixed.txt": b"a\r\nb\nc\rd\n",
    "latin1.txt": "caf\xe9 cr\xe8me\n".encode("latin-1"),
    "cp1252.txt": "\u201cquoted\u201d \u20ac\n".encode("cp1252"),
    "bom8.txt": codecs.BOM_UTF8 + "h\u00e9llo\n".encode(),
    "bom16le.txt": codecs.BOM_UTF16_LE + "h\u00e9llo\r\nw\n".encode("utf-16-le"),
    "bom16be.txt": codecs.BOM_UTF16_BE + "x\n".encode("utf-16-be"),
    "broken-utf8.txt": b"ok \xc3\xa9 then broken \xc3\x28 and \xff\n",
    "empty.txt": b"",
    "no-final-newline.txt": b"last line",
    "tabs-trailing.txt": b"\tx = 1   \n\n\n",
}


@pytest.mark.parametrize("name", sorted(ODD_FILES))
def test_load_save_unchanged_is_byte_identical(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(ODD_FILES[name])
    tf = TextFile.load(path)
    tf.save(tf.text)
    assert path.read_bytes() == ODD_FILES[name]
    assert not tf.changed_on_disk()


def test_formats_are_detected(tmp_path):
    p = tmp_path / "f.txt"
    p.write_bytes(ODD_FILES["mixed.txt"])
    assert TextFile.load(p).format.mixed_eol
    p.write_bytes(ODD_FILES["latin1.txt"])
    fmt = TextFile.load(p).format
    assert fmt.fallback and "not UTF-8" in fmt.label
    p.write_bytes(ODD_FILES["no-final-newline.txt"])
    assert TextFile.load(p).format.final_newline is False


def test_binary_and_too_large_are_refused(tmp_path):
    p = tmp_path / "img.png"
    p.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    with pytest.raises(BinaryFileError, match="img.png"):
        TextFile.load(p)
    big = tmp_path / "big.txt"
    big.write_bytes(b"x" * 2048)
    with pytest.raises(FileTooLargeError, match="editor.max_file_bytes"):
        TextFile.load(big, max_bytes=1024)


def test_outside_change_is_noticed(tmp_path):
    p = tmp_path / "a.txt"
    p.write_bytes(b"one\n")
    tf = TextFile.load(p)
    assert not tf.changed_on_disk()
    p.write_bytes(b"two, longer\n")
    assert tf.changed_on_disk()
