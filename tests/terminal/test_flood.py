"""The flood fast path lays output out exactly as pyte does, cell by cell (no pty needed)."""

from __future__ import annotations

import pytest

from marie.terminal import flood as flood_path
from marie.terminal.flood import Flood, is_plain
from marie.terminal.screen import ScreenModel
from tests.terminal.helpers import cells

LINES = [
    b"plain line",
    b"",
    b"a line that is much longer than the twenty columns of this screen",
    b"\x1b[31mred\x1b[0m and \x1b[1;38;5;200mbold 256\x1b[0m",
    b"\x1b[38;2;10;20;30mtrue colour carried over",
    b"to the next line\x1b[0m",
    b"tab\there\tand\tthere",
    b"wide \xe4\xb8\xad\xe6\x96\x87 chars \xc3\xa9",
    b"progress 10%\rprogress 99%",
    b"back\x08\x08ck",
    b"\x1b[44mblue background on a line that wraps past the edge\x1b[m",
    b"x" * 20,
    b"y" * 40,
    b"\x1b[4munder\x1b[24m \x1b[3mitalic\x1b[23m \x1b[7mrev\x1b[27m",
]


def stream(repeat: int) -> bytes:
    body = b"".join(b"%d " % i + line + b"\r\n" for i in range(repeat) for line in LINES)
    return b"start\r\n" + body + b"prompt$ "


def reference(data: bytes, scrollback: int) -> ScreenModel:
    model = ScreenModel(20, 5, scrollback)
    model.feed(data)
    return model


def through_flood(data: bytes, scrollback: int, chunk: int) -> tuple[ScreenModel, Flood]:
    model = ScreenModel(20, 5, scrollback)
    flood = Flood(model)
    model.feed(b"before the flood\r\n" * 0)
    first, rest = data[:chunk], data[chunk:]
    flood.try_start(first)
    while rest:
        piece, rest = rest[:chunk], rest[chunk:]
        if flood.active:
            left = flood.extend(piece)
            if left is not None:
                flood.finish()
                model.feed(left)
        else:
            flood.try_start(piece)
    if flood.active:
        flood.finish()
    return model, flood


@pytest.mark.parametrize("repeat,scrollback,chunk", [(3, 1000, 97), (40, 60, 301), (40, 60, 5000)])
def test_flood_matches_pyte_cell_by_cell(monkeypatch, repeat, scrollback, chunk):
    monkeypatch.setattr(flood_path, "TRIM_BYTES", 400)     # trim often: the cut must be exact too
    data = stream(repeat)
    expected = reference(data, scrollback)
    got, flood = through_flood(data, scrollback, chunk)
    assert flood.bytes_skipped > len(data) // 2           # the fast path really ran
    assert got.history_size() == expected.history_size()
    assert cells(got) == cells(expected)
    assert got.cursor() == expected.cursor()
    assert got.screen.cursor.attrs == expected.screen.cursor.attrs


def test_output_with_cursor_moves_is_not_plain():
    assert is_plain(b"abc\r\n\x1b[31mred\x1b[0m\r\n")
    assert not is_plain(b"abc\x1b[2J\r\n")        # clear screen
    assert not is_plain(b"abc\x1b[10;1H\r\n")     # cursor position
    assert not is_plain(b"abc\n")                 # a bare line feed keeps the column
    assert not is_plain(b"a\x0eb\r\n")            # shift out (graphics charset)


def test_flood_ends_cleanly_at_a_cursor_move():
    data = b"".join(b"line %d\r\n" % i for i in range(500)) + b"\x1b[H\x1b[2Jcleared\r\n$ "
    expected = reference(data, 100)
    got, _ = through_flood(data, 100, 1000)
    assert cells(got) == cells(expected)
    assert got.screen_text()[0] == "cleared"


def test_plain_ascii_flood_matches_pyte(monkeypatch):
    # the one-comprehension path for the usual cat: printable ASCII no wider than the screen
    monkeypatch.setattr(flood_path, "TRIM_BYTES", 400)
    data = b"go\r\n" + b"".join(b"%d" % i + b"." * (i % 17) + b"\r\n" + (b"\r\n" if i % 7 == 0 else b"")
                                for i in range(300)) + b"$ "
    expected = reference(data, 50)
    got, flood = through_flood(data, 50, 700)
    assert flood.bytes_skipped > len(data) // 2
    assert cells(got) == cells(expected)
    assert got.cursor() == expected.cursor()
