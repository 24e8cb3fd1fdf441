""".editorconfig in the editor (indentation, trim on save, final newline, charset/EOL for new files)
and large files (background load, Scintilla's large-document mode above editor.large_file_bytes)."""

from __future__ import annotations


from PySide6.QtCore import Qt

from marie.ui.editor.view import _DEFAULTS, EditorView
from tests.qt_helpers import open_editor_view


class FakeSettings:
    """Only the two size limits changed (real Settings need a config folder; the view reads .get)."""

    def __init__(self, **values):
        self.values = {f"editor.{k}": v for k, v in values.items()}

    def get(self, key):
        return self.values.get(key, _DEFAULTS[key])



def test_editorconfig_indentation_and_trim_on_save(qtbot, tmp_path):
    (tmp_path / ".editorconfig").write_text(
        "root = true\n[*]\nindent_style = space\nindent_size = 2\ntrim_trailing_whitespace = true\n"
        "insert_final_newline = true\n[Makefile]\nindent_style = tab\ntab_width = 8\n")
    path = tmp_path / "a.py"
    path.write_bytes(b"x = 1   \r\ny = 2\t\r\nz")
    view = open_editor_view(qtbot, path)
    assert (view.sci.useTabs(), view.sci.indent()) == (False, 2)
    assert view.indentation_label() == "Spaces: 2"
    view.goto(2, 6)
    qtbot.keyClicks(view.sci, " ")
    view.save()
    assert path.read_bytes() == b"x = 1\r\ny = 2\r\nz\r\n"           # CRLF kept, whitespace trimmed
    assert view.text() == "x = 1\r\ny = 2\r\nz\r\n" and not view.is_dirty()

    make = tmp_path / "Makefile"
    make.write_text("all:\n\techo hi\n")
    mview = open_editor_view(qtbot, make)
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
    view = open_editor_view(qtbot, path)
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
    assert not open_editor_view(qtbot, small, settings).large_file_mode


def test_sliced_loader_equals_textfile_load(tmp_path, monkeypatch):
    """The worker's slice-by-slice decode gives exactly what TextFile.load gives (CRLF split across
    slices, multi-byte characters split across slices, fallback encodings, BOMs, binary)."""
    import random

    import pytest

    from marie.text.codec import BinaryFileError
    from marie.text.document import TextFile
    from marie.ui.editor import large_file

    monkeypatch.setattr(large_file, "SLICE_BYTES", 7)
    rnd = random.Random(7)
    cases = [b"", b"a", b"a\r\nb\r\n", b"abcdef\r\nxyz", "\u00e9".encode() * 20 + b"\r\n" * 3, b"caf\xe9\n",
             b"\xef\xbb\xbfx\r\n", b"\xff\xfeh\x00i\x00", b"a\rb\rc\r", b"123456\r\n7\r\n"]
    cases += [bytes(rnd.choice(b"ab\r\n \xc3\xa9") for _ in range(rnd.randint(0, 40))) for _ in range(200)]
    path = tmp_path / "c.txt"
    for data in cases:
        path.write_bytes(data)
        expected = TextFile.load(path)
        got = large_file.load_in_slices(path)
        assert (got.text, got.format, got.disk.sha256) == (expected.text, expected.format, expected.disk.sha256), data
    path.write_bytes(b"\x00\x01\x02" * 100)
    with pytest.raises(BinaryFileError):
        large_file.load_in_slices(path)


def test_background_load_feeds_many_slices_without_joining(qtbot, tmp_path, monkeypatch):
    from marie.text.document import TextFile
    from marie.ui.editor import large_file

    # small slices so a 1.5 MiB file crosses many decode-slice and feed-chunk boundaries,
    # some of them inside multi-byte characters and CRLF pairs
    monkeypatch.setattr(large_file, "SLICE_BYTES", 65_537)
    monkeypatch.setattr(large_file, "CHUNK_CHARS", 10_007)
    path = tmp_path / "mixed.txt"
    data = "".join(f"line {i} caf\u00e9 \u2603 \U0001f600\r\n" for i in range(60_000)).encode()
    path.write_bytes(data)
    assert len(data) > large_file.ASYNC_LOAD_BYTES
    view = EditorView.open(path)
    qtbot.addWidget(view)
    qtbot.waitUntil(lambda: not view.loading, timeout=30000)
    tf = view.text_file
    assert isinstance(tf, large_file.PiecewiseTextFile) and len(tf.pieces) > 10   # never joined
    assert view.sci.textLength() == len(data) and view.text() == data.decode()
    assert (tf.format, tf.disk.sha256) == (TextFile.load(path).format, TextFile.load(path).disk.sha256)
    assert tf.text == data.decode() and not view.is_dirty()
    view.save()
    assert path.read_bytes() == data
