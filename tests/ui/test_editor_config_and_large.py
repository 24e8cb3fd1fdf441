""".editorconfig in the editor (indentation, trim on save, final newline, charset/EOL for new files)
and large files (background load, Scintilla's large-document mode above editor.large_file_bytes)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt

from marie.ui.editor.view import _DEFAULTS, EditorView


class FakeSettings:
    """Only the two size limits changed (real Settings need a config folder; the view reads .get)."""

    def __init__(self, **values):
        self.values = {f"editor.{k}": v for k, v in values.items()}

    def get(self, key):
        return self.values.get(key, _DEFAULTS[key])


def open_view(qtbot, path: Path, settings=None) -> EditorView:
    view = EditorView.open(path, settings)
    qtbot.addWidget(view)
    view.resize(600, 300)
    view.show()
    if view.loading:
        qtbot.waitUntil(lambda: not view.loading, timeout=30000)
    return view


def test_editorconfig_indentation_and_trim_on_save(qtbot, tmp_path):
    (tmp_path / ".editorconfig").write_text(
        "root = true\n[*]\nindent_style = space\nindent_size = 2\ntrim_trailing_whitespace = true\n"
        "insert_final_newline = true\n[Makefile]\nindent_style = tab\ntab_width = 8\n")
    path = tmp_path / "a.py"
    path.write_bytes(b"x = 1   \r\ny = 2\t\r\nz")
    view = open_view(qtbot, path)
    assert (view.sci.useTabs(), view.sci.indent()) == (False, 2)
    assert view.indentation_label() == "Spaces: 2"
    view.goto(2, 6)
    qtbot.keyClicks(view.sci, " ")
    view.save()
    assert path.read_bytes() == b"x = 1\r\ny = 2\r\nz\r\n"           # CRLF kept, whitespace trimmed
    assert view.text() == "x = 1\r\ny = 2\r\nz\r\n" and not view.is_dirty()

    make = tmp_path / "Makefile"
    make.write_text("all:\n\techo hi\n")
    mview = open_view(qtbot, make)
    assert mview.sci.useTabs() and mview.sci.tabWidth() == 8


def test_editorconfig_charset_and_eol_for_new_files(qtbot, tmp_path):
    (tmp_path / ".editorconfig").write_text("root = true\n[*.bat]\nend_of_line = crlf\ncharset = utf-8-bom\n")
    view = EditorView.new(path=tmp_path / "run.bat")
    qtbot.addWidget(view)
    qtbot.keyClicks(view.sci, "echo a")
    qtbot.keyClick(view.sci, Qt.Key.Key_Return)
    qtbot.keyClicks(view.sci, "echo b")
    view.save()
    assert (tmp_path / "run.bat").read_bytes() == b"\xef\xbb\xbfecho a\r\necho b"


def test_no_editorconfig_leaves_whitespace_alone(qtbot, tmp_path):
    path = tmp_path / "keep.txt"
    path.write_bytes(b"a   \nb  ")
    view = open_view(qtbot, path)
    view.save()
    assert path.read_bytes() == b"a   \nb  "


def test_medium_file_loads_in_background_and_keeps_bytes(qtbot, tmp_path):
    path = tmp_path / "medium.py"
    data = "".join(f"def f{i}(x):\r\n    return x + {i}\r\n" for i in range(80_000)).encode()
    path.write_bytes(data)
    assert len(data) > 2 * 2**20
    view = EditorView.open(path)
    qtbot.addWidget(view)
    view.goto(1000, 5)                                   # asked for while loading: applied afterwards
    qtbot.waitUntil(lambda: not view.loading, timeout=30000)
    assert not view.large_file_mode and view.language == "python" and view.sci.lexer() == 2
    assert view.sci.lineCount() == 160_001 and view.cursor_position() == (1000, 5)
    assert not view.is_dirty() and view.sci.canUndo() is False
    view.save()
    assert path.read_bytes() == data


def test_large_file_mode_above_threshold(qtbot, tmp_path):
    path = tmp_path / "big.log"
    line = "2024-01-01 12:00:00 INFO something happened (x)\n"
    data = (line * (3 * 2**20 // len(line))).encode()
    path.write_bytes(data)
    settings = FakeSettings(large_file_bytes=2 * 2**20)
    view = EditorView.open(path, settings)
    qtbot.addWidget(view)
    assert view.large_file_mode and view.loading
    assert view.large_bar.isVisibleTo(view) and "Large file" in view.large_bar.label.text()
    qtbot.waitUntil(lambda: not view.loading, timeout=30000)
    sci = view.sci
    assert sci.documentOptions() & 0x100                 # SC_DOCUMENTOPTION_TEXT_LARGE
    assert sci.lexer() in (0, 1) and sci.wrapMode() == 0 and sci.marginWidthN(2) == 0
    assert sci.textLength() == len(data) and not view.is_dirty()
    view.goto(2, 1)
    qtbot.keyClicks(sci, "edited ")
    assert view.is_dirty()
    view.save()
    assert path.read_bytes() == data[:len(line)] + b"edited " + data[len(line):]

    small = tmp_path / "small.log"
    small.write_text("x\n")
    assert not open_view(qtbot, small, settings).large_file_mode
