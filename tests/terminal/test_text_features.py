"""Search in the scrollback, links in the output, and keys to bytes (screen models fed directly)."""

from __future__ import annotations

import pytest

from marie.terminal.keys import encode_key
from marie.terminal.links import find_links, resolve
from marie.terminal.screen import ScreenModel
from marie.terminal.search import search


def fed(text: str, lines: int = 5, columns: int = 40, scrollback: int = 100) -> ScreenModel:
    model = ScreenModel(columns, lines, scrollback)
    model.feed(text.replace("\n", "\r\n").encode())
    return model


def test_search_finds_rows_in_the_scrollback_and_on_the_screen():
    model = fed("".join(f"row {i} {'needle' if i % 10 == 3 else 'hay'}\n" for i in range(60)) + "Needle at the end")
    matches = search(model, "needle")
    assert len(matches) == 7                              # 6 in rows 3, 13 ... 53, one on the screen (any case)
    assert [model.row_text(m.row_id)[m.start:m.end].lower() for m in matches] == ["needle"] * 7
    assert matches[0].row_id < model.bottom_id() <= matches[-1].row_id
    assert len(search(model, "needle", case_sensitive=True)) == 6
    assert [m.row_id for m in search(model, r"row 5\d", regex=True)] == sorted(m.row_id for m in search(model, r"row 5\d", regex=True))
    assert len(search(model, r"row 5\d", regex=True)) == 10
    with pytest.raises(ValueError):
        search(model, "(", regex=True)


def test_search_after_old_rows_fell_out_of_the_scrollback():
    model = fed("".join(f"line {i}\n" for i in range(300)), scrollback=50)
    assert search(model, "line 10\n") == []
    assert search(model, "line 100") == []                # dropped
    found = search(model, "line 290")
    assert len(found) == 1 and model.row_text(found[0].row_id).startswith("line 290")


def test_links_path_line_column(tmp_path):
    (tmp_path / "src").mkdir()
    target = tmp_path / "src" / "mod.py"
    target.write_text("x\n" * 20)
    text = "src/mod.py:12:5: E501 line too long  and  ./src/mod.py:3  at 12:30:45 Error:3"
    links = find_links(text)
    assert [(l.path, l.line, l.column) for l in links] == [("src/mod.py", 12, 5), ("./src/mod.py", 3, None)]
    assert text[links[0].start:links[0].end] == "src/mod.py:12:5"
    assert resolve(links[0], tmp_path / "elsewhere", tmp_path) == target.resolve()
    assert resolve(find_links("missing.py:3")[0], tmp_path) is None
    py = find_links('  File "/abs/path/app.py", line 42, in main')
    assert [(l.path, l.line) for l in py] == [("/abs/path/app.py", 42)]


def test_keys_encode_like_xterm():
    assert encode_key("up") == b"\x1b[A"
    assert encode_key("up", app_cursor=True) == b"\x1bOA"
    assert encode_key("right", ctrl=True) == b"\x1b[1;5C"
    assert encode_key("", "c", ctrl=True) == b"\x03"
    assert encode_key("", "d", ctrl=True) == b"\x04"
    assert encode_key("", "b", alt=True) == b"\x1bb"
    assert encode_key("enter") == b"\r"
    assert encode_key("backspace") == b"\x7f"
    assert encode_key("delete") == b"\x1b[3~"
    assert encode_key("pageup", shift=True) == b"\x1b[5;2~"
    assert encode_key("f1") == b"\x1bOP" and encode_key("f12") == b"\x1b[24~"
    assert encode_key("", "é") == "é".encode()


def test_alternate_screen_leaves_the_shell_screen_and_scrollback_alone():
    model = fed("".join(f"shell {i}\n" for i in range(8)) + "$ ")
    before_screen, before_history = model.screen_text(), model.history_size()
    # what less or vim does: switch, draw (scrolling a lot), switch back
    model.feed(b"\x1b[?1049h\x1b[H\x1b[2J" + b"".join(b"pager %d\r\n" % i for i in range(50)))
    assert any(row.startswith("pager") for row in model.screen_text())
    assert model.history_size() == before_history             # nothing of the pager went to the scrollback
    model.feed(b"\x1b[?1049l")
    assert model.screen_text() == before_screen
    assert model.cursor()[:2] == (4, 2)
    assert not any("pager" in model.row_text(i) for i in range(model.first_id(), model.bottom_id()))
