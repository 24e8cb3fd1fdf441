"""EditorView: typing, undo/redo, dirty state, save round trips of odd files, refusals, reload and
the changed-on-disk bar. Real files in tmp_path, real widgets offscreen."""

from __future__ import annotations

import codecs
import os

import pytest
from PySide6.QtCore import Qt

from marie.text.codec import BinaryFileError
from marie.text.document import FileTooLargeError
from marie.ui.editor.view import EditorView
from tests.qt_helpers import open_editor_view

ODD_FILES = {
    "crlf.py": b"def f():\r\n    return 1\r\n",
    "cr.txt": b"one\rtwo\r",
    "mixed.txt": b"a\r\nb\nc\rd\n",
    "latin1.txt": "caf\xe9 cr\xe8me br\xfbl\xe9e\n".encode("latin-1"),
    "cp1252.txt": "\u201cquoted\u201d \u20ac 5\n".encode("cp1252"),
    "bom8.py": codecs.BOM_UTF8 + "x = 'h\u00e9llo'\n".encode(),
    "bom16.txt": codecs.BOM_UTF16_LE + "h\u00e9llo\r\nw\u00f6rld\r\n".encode("utf-16-le"),
    "broken.txt": b"ok \xc3\xa9 then broken \xc3\x28 and \xff\n",
    "empty.txt": b"",
    "nofinal.md": b"# title\n\nlast line",
    "nul-later.txt": b"a" * 9000 + b"\x00tail\n",
}


def type_text(widget, text: str) -> None:
    """Type like a keyboard does, non-ASCII included (QTest.keyClicks only knows ASCII)."""
    from PySide6.QtGui import QKeyEvent
    from PySide6.QtWidgets import QApplication

    for ch in text:
        for kind in (QKeyEvent.Type.KeyPress, QKeyEvent.Type.KeyRelease):
            QApplication.sendEvent(widget, QKeyEvent(kind, 0, Qt.KeyboardModifier.NoModifier, ch))



@pytest.mark.parametrize("name", sorted(ODD_FILES))
def test_open_save_unchanged_is_byte_identical(qtbot, tmp_path, name):
    path = tmp_path / name
    path.write_bytes(ODD_FILES[name])
    view = open_editor_view(qtbot, path)
    assert not view.is_dirty()
    view.save()
    assert path.read_bytes() == ODD_FILES[name]


def test_edit_and_save_keeps_encoding_bom_and_crlf(qtbot, tmp_path):
    path = tmp_path / "w.txt"
    path.write_bytes(codecs.BOM_UTF16_LE + "h\u00e9llo\r\n".encode("utf-16-le"))
    view = open_editor_view(qtbot, path)
    view.goto(2, 1)
    type_text(view.sci, "w\u00f6rld")
    qtbot.keyClick(view.sci, Qt.Key.Key_Return)
    view.save()
    assert path.read_bytes() == codecs.BOM_UTF16_LE + "h\u00e9llo\r\nw\u00f6rld\r\n".encode("utf-16-le")
    assert view.encoding_label == "UTF-16 LE with BOM" and view.eol_label == "CRLF"

    latin = tmp_path / "l.txt"
    latin.write_bytes("caf\xe9\n".encode("cp1252"))
    view = open_editor_view(qtbot, latin)
    assert view.text() == "caf\xe9\n" and "not UTF-8" in view.encoding_label
    view.goto(1, 5)
    type_text(view.sci, " cr\xe8me")
    view.save()
    assert latin.read_bytes() == "caf\xe9 cr\xe8me\n".encode("cp1252")


def test_typing_undo_redo_and_dirty_signal(qtbot, tmp_path):
    path = tmp_path / "a.py"
    path.write_text("x = 1\n")
    view = open_editor_view(qtbot, path)
    seen: list[bool] = []
    view.dirtyChanged.connect(seen.append)
    edits: list[int] = []
    view.textEdited.connect(lambda: edits.append(1))
    qtbot.keyClicks(view.sci, "y = 2")
    qtbot.keyClick(view.sci, Qt.Key.Key_Return)
    assert view.text() == "y = 2\nx = 1\n"
    assert view.is_dirty() and seen == [True] and edits
    assert view.cursor_position() == (2, 1)
    view.sci.undo()
    view.sci.undo()
    assert view.text() == "x = 1\n" and not view.is_dirty() and seen == [True, False]
    view.sci.redo()
    assert view.text() != "x = 1\n" and view.is_dirty()
    view.save()
    assert not view.is_dirty() and path.read_text() == view.text()


def test_set_text_is_one_undo_step_and_goto_is_one_based(qtbot, tmp_path):
    path = tmp_path / "g.txt"
    path.write_text("first\nsecond \u00e9t\u00e9\nthird\n")
    view = open_editor_view(qtbot, path)
    view.goto(2, 9)
    assert view.cursor_position() == (2, 9)
    view.sci.setSelection(view.sci.currentPos() + len("t\u00e9".encode()), view.sci.currentPos())
    assert view.selected_text() == "t\u00e9"
    view.set_text("replaced\n")
    assert view.text() == "replaced\n" and view.is_dirty()
    view.sci.undo()
    assert view.text() == "first\nsecond \u00e9t\u00e9\nthird\n" and not view.is_dirty()
    view.goto(99, 99)
    assert view.cursor_position()[0] == 4


def test_binary_too_large_and_folder_are_refused(tmp_path):
    binary = tmp_path / "x.bin"
    binary.write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(300))
    with pytest.raises(BinaryFileError, match="x.bin.*binary"):
        EditorView.open(binary)
    big_binary = tmp_path / "big.bin"
    big_binary.write_bytes(bytes(3 * 2**20))
    with pytest.raises(BinaryFileError):
        EditorView.open(big_binary)

    class Small:
        def get(self, key):
            return {"editor.max_file_bytes": 1000}.get(key, EditorView_defaults(key))
    big = tmp_path / "big.txt"
    big.write_bytes(b"x\n" * 1000)
    with pytest.raises(FileTooLargeError, match="editor.max_file_bytes"):
        EditorView.open(big, Small())
    with pytest.raises(OSError):
        EditorView.open(tmp_path / "missing.txt")


def EditorView_defaults(key):  # noqa: N802 - the defaults of marie.ui.editor.view
    from marie.ui.editor.view import _DEFAULTS
    return _DEFAULTS[key]


def test_save_as_untitled_and_new_language(qtbot, tmp_path):
    view = EditorView.untitled()
    qtbot.addWidget(view)
    assert view.path is None and view.language == "text"
    qtbot.keyClicks(view.sci, "fn main() {}")
    with pytest.raises(ValueError):
        view.save()
    target = tmp_path / "sub" / "main.rs"
    view.save(target)
    assert target.read_text() == "fn main() {}" and view.path == target
    assert view.language == "rust" and not view.is_dirty()


def test_reload_keeps_caret_line_and_is_undoable(qtbot, tmp_path):
    path = tmp_path / "r.txt"
    path.write_text("".join(f"line {i}\n" for i in range(50)))
    view = open_editor_view(qtbot, path)
    view.goto(30, 3)
    path.write_text("".join(f"LINE {i}\n" for i in range(50)))
    view.reload()
    assert view.text().startswith("LINE 0\n") and view.cursor_position()[0] == 30
    assert not view.is_dirty()
    view.sci.undo()
    assert view.text().startswith("line 0\n")


def test_check_disk_clean_reloads_dirty_shows_bar(qtbot, tmp_path):
    path = tmp_path / "d.py"
    path.write_text("base = 0\n")
    view = open_editor_view(qtbot, path)
    assert view.check_disk() == "unchanged"
    path.write_text("theirs = 1\n")
    assert view.check_disk() == "reloaded" and view.text() == "theirs = 1\n"

    qtbot.keyClicks(view.sci, "mine = 2")
    qtbot.keyClick(view.sci, Qt.Key.Key_Return)
    st = path.stat()
    path.write_text("theirs = 3, longer\n")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))
    assert view.check_disk() == "conflict"
    bar = view.info_bar
    assert bar.isVisible() and set(bar.buttons) == {"Reload", "Keep mine", "Compare"}
    assert view.text().startswith("mine = 2\n")            # nothing applied behind the user's back
    compared: list[str] = []
    view.compareRequested.connect(compared.append)
    bar.buttons["Compare"].click()
    assert compared == ["theirs = 3, longer\n"]
    bar.buttons["Keep mine"].click()
    assert not bar.isVisible() and view.check_disk() == "unchanged" and view.is_dirty()
    path.write_text("theirs = 4\n")
    assert view.check_disk() == "conflict"
    view.info_bar.buttons["Reload"].click()
    assert view.text() == "theirs = 4\n" and not view.is_dirty()


def test_deleted_on_disk_is_marked_and_save_recreates(qtbot, tmp_path):
    path = tmp_path / "gone.txt"
    path.write_text("bye\n")
    view = open_editor_view(qtbot, path)
    path.unlink()
    assert view.check_disk() == "deleted"
    assert view.deleted_on_disk and view.is_dirty() and view.info_bar.kind == "deleted"
    view.info_bar.buttons["Save"].click()
    assert path.read_text() == "bye\n" and not view.is_dirty() and not view.info_bar.isVisible()
