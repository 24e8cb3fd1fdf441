"""Line operations with VS Code's default keys (the window binds them as commands): move and copy
lines up/down, delete, join, sort, transform case, trim trailing whitespace, expand and shrink the
selection (by tree-sitter syntax nodes where a grammar is installed, else word > line > all),
toggle word wrap and whitespace, and column (rectangular) selection from the keyboard.

Each edit is one undo step. Functions take an ``EditorView`` and work on its Scintilla widget,
whose positions are UTF-8 byte offsets (tree-sitter's too). GUI thread only.
"""

from __future__ import annotations

import importlib
import weakref
from contextlib import contextmanager
from typing import Any, Iterator

from marie.text.editorconfig import trim_trailing_whitespace as _trim

# language id -> (tree-sitter grammar module, function returning the language pointer)
GRAMMARS = {"python": ("tree_sitter_python", "language"), "javascript": ("tree_sitter_javascript", "language"),
            "typescript": ("tree_sitter_typescript", "language_typescript"), "go": ("tree_sitter_go", "language"),
            "rust": ("tree_sitter_rust", "language")}
_parsers: dict[str, Any] = {}
# per editor: the selections Expand Selection grew from, so Shrink goes back the same way
_expansions: "weakref.WeakKeyDictionary[Any, list[tuple[int, int]]]" = weakref.WeakKeyDictionary()


@contextmanager
def one_undo_step(sci: Any) -> Iterator[None]:
    sci.beginUndoAction()
    try:
        yield
    finally:
        sci.endUndoAction()


def _text(sci: Any, start: int, end: int) -> str:
    return bytes(sci.textRange(start, end)).decode("utf-8", "surrogateescape")


def _replace(sci: Any, start: int, end: int, text: str) -> int:
    """Replace bytes [start, end) with ``text``; returns the byte length inserted."""
    data = text.encode("utf-8", "surrogateescape")
    sci.setTargetRange(start, end)
    sci.replaceTarget(len(data), text)
    return len(data)


def selected_lines(sci: Any) -> tuple[int, int]:
    """First and last (0-based) line of the main selection; a selection ending at a line's very
    start does not take that line (as in VS Code)."""
    start, end = sci.selectionStart(), sci.selectionEnd()
    first, last = sci.lineFromPosition(start), sci.lineFromPosition(end)
    if last > first and end == sci.positionFromLine(last):
        last -= 1
    return first, last


def _eol(sci: Any) -> str:
    return {0: "\r\n", 1: "\r", 2: "\n"}.get(sci.eOLMode(), "\n")


# -- moving, copying, deleting ------------------------------------------------------------------
def move_lines(editor: Any, direction: int) -> None:
    """Alt+Up / Alt+Down: the selected lines change places with the line above / below."""
    sci = editor.sci
    with one_undo_step(sci):
        (sci.moveSelectedLinesUp if direction < 0 else sci.moveSelectedLinesDown)()


def copy_lines(editor: Any, direction: int) -> None:
    """Shift+Alt+Up / Down: a copy of the selected lines above / below; the selection goes with
    the copy (VS Code)."""
    sci = editor.sci
    first, last = selected_lines(sci)
    anchor, caret = sci.anchor(), sci.currentPos()
    start = sci.positionFromLine(first)
    end = sci.positionFromLine(last + 1) if last + 1 < sci.lineCount() else sci.textLength()
    block = _text(sci, start, end)
    if last + 1 >= sci.lineCount():          # the last line has no line ending to copy
        block += _eol(sci)
        insert_at = start if direction < 0 else sci.textLength()
        if direction > 0:
            block = _eol(sci) + block[:-len(_eol(sci))]
    else:
        insert_at = start if direction < 0 else end
    with one_undo_step(sci):
        size = _replace(sci, insert_at, insert_at, block)
    if direction < 0:
        sci.setSelection(caret, anchor)
    else:
        sci.setSelection(caret + size, anchor + size)


def delete_lines(editor: Any) -> None:
    """Ctrl+Shift+K: delete the selected lines."""
    sci = editor.sci
    first, last = selected_lines(sci)
    start = sci.positionFromLine(first)
    if last + 1 < sci.lineCount():
        end = sci.positionFromLine(last + 1)
    else:                                  # the last line: take the line ending before it instead
        end = sci.textLength()
        if first > 0:
            start = sci.lineEndPosition(first - 1)
    with one_undo_step(sci):
        _replace(sci, start, end, "")
    sci.gotoPos(min(start if first == 0 or last + 1 < sci.lineCount() else sci.positionFromLine(max(0, first - 1)),
                    sci.textLength()))


def join_lines(editor: Any) -> None:
    """Join the selected lines (or this one and the next) with one space, dropping the indentation
    of the joined lines."""
    sci = editor.sci
    first, last = selected_lines(sci)
    if last == first:
        last = first + 1
    if last >= sci.lineCount():
        return
    start, end = sci.positionFromLine(first), sci.lineEndPosition(last)
    lines = _text(sci, start, end).splitlines()
    joined = lines[0].rstrip()
    for line in lines[1:]:
        piece = line.strip()
        if piece:
            joined = f"{joined} {piece}" if joined else piece
    with one_undo_step(sci):
        _replace(sci, start, end, joined)
    sci.gotoPos(start + len(lines[0].rstrip().encode("utf-8")))


def sort_lines(editor: Any, descending: bool = False) -> None:
    """Sort the selected lines (the whole file when the selection is within one line)."""
    sci = editor.sci
    first, last = selected_lines(sci)
    if first == last:
        first, last = 0, sci.lineCount() - 1
    start, end = sci.positionFromLine(first), sci.lineEndPosition(last)
    lines = _text(sci, start, end).split(_eol(sci))
    ordered = sorted(lines, reverse=descending)
    if ordered != lines:
        with one_undo_step(sci):
            _replace(sci, start, end, _eol(sci).join(ordered))


def transform_case(editor: Any, how: str) -> None:
    """Upper, lower or title case of every selection (the word at a caret without a selection)."""
    sci = editor.sci
    change = {"upper": str.upper, "lower": str.lower, "title": str.title}[how]
    spans = []
    for i in range(sci.selections()):
        start, end = sci.selectionNStart(i), sci.selectionNEnd(i)
        if start == end:
            start, end = sci.wordStartPosition(start, True), sci.wordEndPosition(start, True)
        if end > start:
            spans.append((start, end))
    if not spans:
        return
    main = (sci.selectionNCaret(sci.mainSelection()), sci.selectionNAnchor(sci.mainSelection()))
    with one_undo_step(sci):
        for start, end in sorted(spans, reverse=True):
            text = _text(sci, start, end)
            new = change(text)
            if new != text:
                _replace(sci, start, end, new)
    if len(spans) == 1 and sci.selections() == 1:
        sci.setSelection(*main)


def trim_trailing_whitespace(editor: Any) -> None:
    """Remove spaces and tabs at the ends of lines (the whole file); the caret stays on its line."""
    sci = editor.sci
    changes = []
    for line in range(sci.lineCount()):
        start, end = sci.positionFromLine(line), sci.lineEndPosition(line)
        text = _text(sci, start, end)
        trimmed = _trim(text)
        if trimmed != text:
            changes.append((start + len(trimmed.encode("utf-8", "surrogateescape")), end))
    if changes:
        with one_undo_step(sci):
            for start, end in reversed(changes):
                _replace(sci, start, end, "")


# -- selection by syntax ------------------------------------------------------------------------
def _parser(language: str) -> Any | None:
    if language in _parsers:
        return _parsers[language]
    parser = None
    spec = GRAMMARS.get(language)
    if spec is not None:
        try:
            import tree_sitter

            module = importlib.import_module(spec[0])
            parser = tree_sitter.Parser(tree_sitter.Language(getattr(module, spec[1])()))
        except (ImportError, AttributeError, ValueError, TypeError):
            parser = None
    _parsers[language] = parser
    return parser


def _syntax_ranges(editor: Any, start: int, end: int) -> list[tuple[int, int]]:
    """Byte ranges of the syntax nodes around [start, end), innermost first (empty without a grammar)."""
    parser = _parser(editor.language)
    if parser is None:
        return []
    sci = editor.sci
    data = bytes(sci.textRange(0, sci.textLength()))
    tree = parser.parse(data)
    node = tree.root_node.descendant_for_byte_range(start, end)
    out: list[tuple[int, int]] = []
    while node is not None:
        span = (node.start_byte, node.end_byte)
        if (not out or span != out[-1]) and span[1] > span[0]:
            out.append(span)
        node = node.parent
    return out


def _plain_ranges(sci: Any, start: int, end: int) -> list[tuple[int, int]]:
    """Without a grammar: the word, the line (without indentation), the whole line, everything."""
    word = (sci.wordStartPosition(start, True), sci.wordEndPosition(end, True))
    first, last = sci.lineFromPosition(start), sci.lineFromPosition(end)
    line = (sci.lineIndentPosition(first), sci.lineEndPosition(last))
    full = (sci.positionFromLine(first), sci.lineEndPosition(last))
    return [word, line, full, (0, sci.textLength())]


def expand_selection(editor: Any) -> None:
    """Shift+Alt+Right: grow the selection to the next larger syntax node."""
    sci = editor.sci
    start, end = sci.selectionStart(), sci.selectionEnd()
    ranges = _syntax_ranges(editor, start, end) or _plain_ranges(sci, start, end)
    for span in ranges:
        if span[0] <= start and span[1] >= end and span != (start, end):
            stack = _expansions.setdefault(editor, [])
            if not stack or stack[-1] != (start, end) and (start, end) != span:
                stack.append((start, end))
            sci.setSelection(span[1], span[0])
            return


def shrink_selection(editor: Any) -> None:
    """Shift+Alt+Left: back to the selection Expand Selection grew from."""
    sci = editor.sci
    stack = _expansions.get(editor) or []
    current = (sci.selectionStart(), sci.selectionEnd())
    while stack:
        start, end = stack.pop()
        if start >= current[0] and end <= current[1] and (start, end) != current:
            sci.setSelection(end, start)
            return
    sci.setEmptySelection(sci.currentPos())


# -- view toggles and column selection --------------------------------------------------------------
def toggle_word_wrap(editor: Any) -> None:
    """Alt+Z: wrap long lines in this view (the setting ``editor.word_wrap`` is the default)."""
    if editor.large_file_mode:
        return
    editor.sci.setWrapMode(0 if editor.sci.wrapMode() else 1)


def toggle_whitespace(editor: Any) -> None:
    """Show spaces and tabs in this view (``editor.show_whitespace`` is the default)."""
    editor.sci.setViewWS(0 if editor.sci.viewWS() else 1)


def column_select(editor: Any, direction: str) -> None:
    """Ctrl+Shift+Alt+arrows: grow a rectangular (column) selection."""
    sci = editor.sci
    {"up": sci.lineUpRectExtend, "down": sci.lineDownRectExtend,
     "left": sci.charLeftRectExtend, "right": sci.charRightRectExtend}[direction]()
