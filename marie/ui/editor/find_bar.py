"""Find and replace inside one editor: the search functions (Scintilla's target search, literal or
C++11 regex, case, whole word) and the bar widget (Ctrl+F / Ctrl+H). GUI thread.

Positions are Scintilla byte offsets. "Replace all" is one undo step. Matches are highlighted with
the ``INDIC_FIND`` indicator (at most ``MAX_HIGHLIGHTS`` so a one-letter search in a huge file stays quick).
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QGridLayout, QLabel, QLineEdit, QPushButton, QWidget

from marie.ui.qt_names import Qt
from pyside6_scintilla import Scintilla

from marie.ui.editor.style import INDIC_FIND

MAX_HIGHLIGHTS = 10_000
S = Scintilla


@dataclass(frozen=True)
class FindOptions:
    pattern: str
    regex: bool = False
    case: bool = False
    whole_word: bool = False

    @property
    def flags(self) -> int:
        flags = 0
        if self.regex:
            flags |= int(S.FindOption.RegExp) | int(S.FindOption.Cxx11RegEx)
        if self.case:
            flags |= int(S.FindOption.MatchCase)
        if self.whole_word:
            flags |= int(S.FindOption.WholeWord)
        return flags


def _blen(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8"))


def search(sci, opts: FindOptions, start: int, end: int) -> tuple[int, int] | None:
    """The first match in [start, end) (or, when start > end, the last one searching backwards)."""
    if not opts.pattern:
        return None
    sci.setSearchFlags(opts.flags)
    sci.setTargetRange(start, end)
    found = sci.searchInTarget(_blen(opts.pattern), opts.pattern)
    if found < 0:
        return None
    return sci.targetStart(), sci.targetEnd()


def find_all(sci, opts: FindOptions, limit: int = MAX_HIGHLIGHTS) -> list[tuple[int, int]]:
    """Every match (up to ``limit``), in document order."""
    out: list[tuple[int, int]] = []
    pos, length = 0, sci.textLength()
    while pos <= length and len(out) < limit:
        hit = search(sci, opts, pos, length)
        if hit is None:
            break
        out.append(hit)
        # an empty match (e.g. ``^``) would find itself forever: step over one character
        pos = hit[1] if hit[1] > hit[0] else sci.positionAfter(hit[1]) if hit[1] < length else length + 1
    return out


def highlight(sci, matches: list[tuple[int, int]]) -> None:
    sci.setIndicatorCurrent(INDIC_FIND)
    sci.indicatorClearRange(0, sci.textLength())
    for start, end in matches:
        if end > start:
            sci.indicatorFillRange(start, end - start)


def clear_highlight(sci) -> None:
    sci.setIndicatorCurrent(INDIC_FIND)
    sci.indicatorClearRange(0, sci.textLength())


def find_next(sci, opts: FindOptions, backwards: bool = False, wrap: bool = True) -> tuple[int, int] | None:
    """Select the next (or previous) match from the selection; wraps around the end."""
    length = sci.textLength()
    if backwards:
        hit = search(sci, opts, sci.selectionStart(), 0)
        if hit is None and wrap:
            hit = search(sci, opts, length, 0)
    else:
        hit = search(sci, opts, sci.selectionEnd(), length)
        if hit is not None and hit[0] == hit[1] == sci.selectionEnd() and sci.selectionEnd() < length:
            hit = search(sci, opts, sci.positionAfter(hit[1]), length)
        if hit is None and wrap:
            hit = search(sci, opts, 0, length)
    if hit is not None:
        sci.setSelection(hit[1], hit[0])
        sci.scrollRange(hit[1], hit[0])
    return hit


def replace_current(sci, opts: FindOptions, replacement: str) -> bool:
    """Replace the selection when it is a match, then select the next match. True when replaced."""
    start, end = sci.selectionStart(), sci.selectionEnd()
    hit = search(sci, opts, start, end) if end > start or opts.regex else None
    replaced = False
    if hit is not None and hit == (start, end):
        sci.setTargetRange(start, end)
        if opts.regex:
            # searchInTarget above set the regex groups that replaceTargetRE expands (\1 ...)
            sci.replaceTargetRE(_blen(replacement), replacement)
        else:
            sci.replaceTarget(_blen(replacement), replacement)
        sci.setSelection(sci.targetEnd(), sci.targetEnd())
        replaced = True
    find_next(sci, opts)
    return replaced


def replace_all(sci, opts: FindOptions, replacement: str) -> int:
    """Replace every match as ONE undo step; returns how many were replaced."""
    if not opts.pattern:
        return 0
    count = 0
    pos = 0
    sci.beginUndoAction()
    try:
        while True:
            length = sci.textLength()
            if pos > length:
                break
            hit = search(sci, opts, pos, length)
            if hit is None:
                break
            if opts.regex:
                sci.replaceTargetRE(_blen(replacement), replacement)
            else:
                sci.replaceTarget(_blen(replacement), replacement)
            count += 1
            end = sci.targetEnd()
            if hit[0] == hit[1]:  # empty match: move on or we would match the same spot again
                if end >= sci.textLength():
                    break
                end = sci.positionAfter(end)
            pos = end
    finally:
        sci.endUndoAction()
    return count


class FindBar(QWidget):
    """The find/replace strip under the text. ``view`` is the EditorView (its ``sci`` is searched)."""

    closed = Signal()

    def __init__(self, view) -> None:
        super().__init__(view)
        self.view = view
        grid = QGridLayout(self)
        grid.setContentsMargins(6, 3, 6, 3)
        grid.setHorizontalSpacing(4)
        grid.setVerticalSpacing(2)
        self.find_edit = QLineEdit(self)
        self.find_edit.setPlaceholderText("Find")
        self.find_edit.setClearButtonEnabled(True)
        self.replace_edit = QLineEdit(self)
        self.replace_edit.setPlaceholderText("Replace")
        self.regex_box = QCheckBox(".*", self)
        self.regex_box.setToolTip("Regular expression (ECMAScript syntax, \\1 in the replacement)")
        self.case_box = QCheckBox("Aa", self)
        self.case_box.setToolTip("Match case")
        self.word_box = QCheckBox("Word", self)
        self.word_box.setToolTip("Whole word")
        self.status = QLabel(self)
        self.prev_button = QPushButton("↑", self)
        self.prev_button.setToolTip("Previous match (Shift+F3 / Shift+Enter)")
        self.next_button = QPushButton("↓", self)
        self.next_button.setToolTip("Next match (F3 / Enter)")
        self.replace_button = QPushButton("Replace", self)
        self.replace_all_button = QPushButton("Replace all", self)
        self.close_button = QPushButton("✕", self)
        self.close_button.setToolTip("Close (Escape)")
        for button in (self.prev_button, self.next_button, self.replace_button, self.replace_all_button, self.close_button):
            button.setAutoDefault(False)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        grid.addWidget(self.find_edit, 0, 0)
        grid.addWidget(self.regex_box, 0, 1)
        grid.addWidget(self.case_box, 0, 2)
        grid.addWidget(self.word_box, 0, 3)
        grid.addWidget(self.prev_button, 0, 4)
        grid.addWidget(self.next_button, 0, 5)
        grid.addWidget(self.status, 0, 6)
        grid.addWidget(self.close_button, 0, 7)
        grid.addWidget(self.replace_edit, 1, 0)
        grid.addWidget(self.replace_button, 1, 4, 1, 2)
        grid.addWidget(self.replace_all_button, 1, 6)
        grid.setColumnStretch(0, 1)

        self.find_edit.textChanged.connect(self._live_search)
        for box in (self.regex_box, self.case_box, self.word_box):
            box.toggled.connect(self._live_search)
        self.find_edit.returnPressed.connect(self.find_next)
        self.replace_edit.returnPressed.connect(self.replace)
        self.next_button.clicked.connect(self.find_next)
        self.prev_button.clicked.connect(self.find_previous)
        self.replace_button.clicked.connect(self.replace)
        self.replace_all_button.clicked.connect(self.replace_all)
        self.close_button.clicked.connect(self.close_bar)
        self.hide()

    # -- state ----------------------------------------------------------------------------------
    def options(self) -> FindOptions:
        return FindOptions(self.find_edit.text(), self.regex_box.isChecked(), self.case_box.isChecked(),
                           self.word_box.isChecked())

    def open(self, replace: bool = False, text: str | None = None) -> None:
        """Show the bar (with the replace row when ``replace``), prefilled with ``text``."""
        self.replace_edit.setVisible(replace)
        self.replace_button.setVisible(replace)
        self.replace_all_button.setVisible(replace)
        if text and "\n" not in text and "\r" not in text:
            self.find_edit.setText(text)
        self.show()
        self.find_edit.setFocus()
        self.find_edit.selectAll()
        self._live_search()

    def close_bar(self) -> None:
        clear_highlight(self.view.sci)
        self.hide()
        self.view.sci.setFocus()
        self.closed.emit()

    def keyPressEvent(self, event) -> None:  # noqa: N802 (Qt name)
        if event.key() == Qt.Key.Key_Escape:
            self.close_bar()
            return
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            self.find_previous()
            return
        super().keyPressEvent(event)

    # -- actions --------------------------------------------------------------------------------
    def _live_search(self, *_: object) -> None:
        """Highlight every match as the user types and count them."""
        opts = self.options()
        sci = self.view.sci
        if not opts.pattern:
            clear_highlight(sci)
            self.status.setText("")
            return
        matches = find_all(sci, opts)
        highlight(sci, matches)
        more = "+" if len(matches) >= MAX_HIGHLIGHTS else ""
        self.status.setText(f"{len(matches)}{more} match{'es' if len(matches) != 1 else ''}" if matches else "No results")
        self.match_count = len(matches)

    def find_next(self) -> tuple[int, int] | None:
        return find_next(self.view.sci, self.options())

    def find_previous(self) -> tuple[int, int] | None:
        return find_next(self.view.sci, self.options(), backwards=True)

    def replace(self) -> bool:
        if self.view.sci.readOnly():
            return False
        done = replace_current(self.view.sci, self.options(), self.replace_edit.text())
        self._live_search()
        return done

    def replace_all(self) -> int:
        if self.view.sci.readOnly():
            return 0
        count = replace_all(self.view.sci, self.options(), self.replace_edit.text())
        self._live_search()
        self.status.setText(f"Replaced {count}")
        return count
