"""Background styling of big files (marie.ui.editor.styling): the document is styled ahead of the
view in slices, ends with exactly the styles a one-go lexing gives, starts again after an edit
invalidates them, and a jump to the end before it finishes still shows styled text."""

from __future__ import annotations

from pathlib import Path

import lexilla
from PySide6.QtCore import Qt
from pyside6_scintilla import ScintillaEdit

from marie.ui.editor import lexers
from marie.ui.editor.styling import STYLE_AHEAD_MIN_BYTES
from marie.ui.editor.view import EditorView

PY_KEYWORD, PY_TRIPLE_DOUBLE = 5, 7       # lexilla's Python styles (SCE_P_WORD, SCE_P_TRIPLEDOUBLE)


def _big_python(path: Path, blocks: int) -> str:
    block = ('class Item{n}(Base):\n    """Doc {n}.\n    more"""\n\n'
             '    def method(self, value=({n}, "s")):\n        return [v for v in range(value)]  # c\n\n')
    # the file ends inside a docstring opened far above the last slice: only a lexer state carried
    # through every slice styles the tail as a string
    text = "".join(block.format(n=n) for n in range(blocks)) + 'TAIL = """\n' + "words\n" * 2000 + '"""\nclass Last: pass\n'
    path.write_text(text)
    return text


def _reference_styles(text: str, start: int, end: int) -> list[int]:
    sci = ScintillaEdit()
    sci.setCodePage(65001)
    sci.setText(text)
    sci.setILexer(lexilla.create_lexer("python").detach())
    sci.setKeyWords(0, lexers.PY_KW)
    sci.colourise(0, -1)
    styles = [sci.styleAt(i) for i in range(start, end)]
    sci.deleteLater()
    return styles


def _open(qtbot, path: Path) -> EditorView:
    view = EditorView.open(path)
    qtbot.addWidget(view)
    view.resize(700, 400)
    view.show()
    qtbot.waitUntil(lambda: not view.loading, timeout=30000)
    return view


def test_big_file_is_styled_ahead_in_slices_like_one_go(qtbot, tmp_path):
    text = _big_python(tmp_path / "big.py", 12_000)
    assert len(text) > 4 * STYLE_AHEAD_MIN_BYTES
    view = _open(qtbot, tmp_path / "big.py")
    sci, styler = view.sci, view._styler
    assert styler is not None
    qtbot.waitUntil(lambda: styler.done and not styler.active, timeout=30000)
    assert styler.slices > 1
    assert sci.idleStyling() == 0                 # done: synchronous styling again
    length = sci.textLength()
    assert [sci.styleAt(i) for i in range(length - 3000, length)] == _reference_styles(text, length - 3000, length)
    assert sci.styleAt(length - 16) == PY_KEYWORD                        # "class Last"
    assert sci.styleAt(length - 40) == PY_TRIPLE_DOUBLE                  # inside TAIL = """..."""

    # an edit near the top makes Scintilla forget the styles after it; they come back after a pause
    view.goto(2, 1)
    qtbot.keyClicks(sci, "x = '''")
    assert sci.endStyled() < length // 2 and styler.active            # restarts after a typing pause
    # the view still shows the top, so only the background styler can bring the styles to the end
    qtbot.waitUntil(lambda: styler.done and not styler.active, timeout=30000)
    assert sci.firstVisibleLine() < 10
    # the unclosed ''' now swallows the rest of the file: the last line is a string, not a keyword
    assert sci.styleAt(sci.textLength() - 16) != PY_KEYWORD


def test_jump_to_the_end_before_styling_finished_shows_styled_text(qtbot, tmp_path):
    text = _big_python(tmp_path / "jump.py", 12_000)
    view = _open(qtbot, tmp_path / "jump.py")
    sci = view.sci
    assert sci.endStyled() < sci.textLength()
    qtbot.keyClick(sci, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
    assert view.cursor_position()[0] == sci.lineCount()
    qtbot.waitUntil(lambda: sci.endStyled() >= sci.textLength(), timeout=30000)
    length = sci.textLength()
    assert [sci.styleAt(i) for i in range(length - 500, length)] == _reference_styles(text, length - 500, length)


def test_small_and_plain_files_get_no_background_styler(qtbot, tmp_path):
    (tmp_path / "small.py").write_text("def f():\n    return 1\n" * 100)
    (tmp_path / "big.txt").write_text("plain words\n" * 100_000)
    assert _open(qtbot, tmp_path / "small.py")._styler is None
    assert _open(qtbot, tmp_path / "big.txt")._styler is None
