"""Exact round trips of odd files through decode/encode and TextFile."""

import codecs

import pytest
from hypothesis import given, settings, strategies as st

from marie.text.codec import BinaryFileError, decode, encode
from marie.text.document import FileTooLargeError, TextFile

ODD_FILES = {
    "crlf": b"a\r\nb\r\n",
    "cr": b"a\rb\r",
    "mixed": b"a\r\nb\nc\rd",
    "latin1": "caf\xe9 na\xefve\n".encode("latin-1"),
    "cp1252_quotes": b"\x93quoted\x94\n",
    "bom": codecs.BOM_UTF8 + "h\u00e9llo\n".encode(),
    "utf16le_bom": codecs.BOM_UTF16_LE + "h\u00e9llo\r\n".encode("utf-16-le"),
    "utf16be_bom": codecs.BOM_UTF16_BE + "x\n".encode("utf-16-be"),
    "broken_utf8": b"ok \xc3\x28 broken\n",
    "empty": b"",
    "no_final_newline": b"last line",
    "emoji": "\U0001f600 \u4e2d\u6587\n".encode(),
}


@pytest.mark.parametrize("name", sorted(ODD_FILES))
def test_round_trip_is_byte_identical(name, tmp_path):
    data = ODD_FILES[name]
    text, fmt = decode(data)
    assert encode(text, fmt) == data
    path = tmp_path / name
    path.write_bytes(data)
    doc = TextFile.load(path)
    doc.save()
    assert path.read_bytes() == data


def test_formats_detected():
    assert decode(ODD_FILES["crlf"])[1].eol == "\r\n"
    mixed = decode(ODD_FILES["mixed"])[1]
    assert mixed.mixed_eol and mixed.eol_label.endswith("(mixed)")
    assert decode(ODD_FILES["bom"])[1].label == "UTF-8 with BOM"
    assert decode(ODD_FILES["utf16le_bom"])[1].label == "UTF-16 LE with BOM"
    assert decode(ODD_FILES["broken_utf8"])[1].fallback
    assert "not UTF-8" in decode(ODD_FILES["latin1"])[1].label
    assert decode(ODD_FILES["no_final_newline"])[1].final_newline is False


@pytest.mark.parametrize("data", [b"\x00\x01\x02binary", bytes(range(1, 32)) * 10, b"PK\x03\x04\x00\x00"])
def test_binary_refused(data, tmp_path):
    with pytest.raises(BinaryFileError):
        decode(data)
    path = tmp_path / "blob.bin"
    path.write_bytes(data)
    with pytest.raises(BinaryFileError, match="blob.bin.*not opened as text"):
        TextFile.load(path)


def test_too_large_refused(tmp_path):
    path = tmp_path / "big.txt"
    path.write_bytes(b"x" * 2048)
    with pytest.raises(FileTooLargeError):
        TextFile.load(path, max_bytes=1024)


def test_changed_on_disk_compares_content(tmp_path):
    path = tmp_path / "f.txt"
    path.write_bytes(b"one\n")
    doc = TextFile.load(path)
    assert not doc.changed_on_disk()
    path.write_bytes(b"two\n")
    assert doc.changed_on_disk()
    doc = TextFile.load(path)
    path.unlink()
    assert doc.changed_on_disk() and doc.deleted_on_disk


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_any_text_we_open_round_trips(data):
    try:
        text, fmt = decode(data)
    except BinaryFileError:
        return
    assert encode(text, fmt) == data
