"""Multiple cursors and line-wise editing helpers on a ScintillaEdit: add the next occurrence
(Ctrl+D), select all occurrences, add a caret (Alt+click), toggle comment. GUI thread.
"""

from __future__ import annotations

from marie.text.languages import comment_tokens


def _blen(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8"))


def add_next_occurrence(sci) -> None:
    """Ctrl+D: with an empty selection select the word at the caret; otherwise add a selection at the
    next occurrence of the main selection's text (wrapping), case-sensitive like VS Code."""
    # Scintilla's own SCI_MULTIPLESELECTADDNEXT does both; the target must cover the whole document
    # and the flags say how occurrences match.
    sci.setSearchFlags(4)  # SCFIND_MATCHCASE
    sci.targetWholeDocument()
    sci.multipleSelectAddNext()
    main = sci.mainSelection()
    caret = sci.selectionNCaret(main)
    sci.scrollRange(caret, sci.selectionNAnchor(main))


def select_all_occurrences(sci) -> None:
    sci.setSearchFlags(4)
    sci.targetWholeDocument()
    sci.multipleSelectAddEach()


def selections(sci) -> list[tuple[int, int]]:
    """(caret, anchor) of every selection, main first."""
    n = sci.selections()
    main = sci.mainSelection()
    order = [main] + [i for i in range(n) if i != main]
    return [(sci.selectionNCaret(i), sci.selectionNAnchor(i)) for i in order]


def restore_selections(sci, sels: list[tuple[int, int]]) -> None:
    if not sels:
        return
    caret, anchor = sels[0]
    sci.setSelection(caret, anchor)
    for caret, anchor in sels[1:]:
        sci.addSelection(caret, anchor)


def add_caret(sci, pos: int, previous: list[tuple[int, int]]) -> None:
    """Alt+click: keep ``previous`` selections and add an empty one at ``pos`` (the new main one)."""
    # The Alt press began a rectangular selection; go back to plain (stream) selections or the next
    # keystroke would be typed into the rectangle's rows as well.
    sci.send(0xA63, 0, 0)  # SCI_CHANGESELECTIONMODE(SC_SEL_STREAM): keeps "move extends selection" off
    if any(caret == pos and anchor == pos for caret, anchor in previous):
        restore_selections(sci, previous)
        return
    restore_selections(sci, previous)
    sci.addSelection(pos, pos)


def toggle_comment(sci, language: str) -> bool:
    """Comment or uncomment the lines of the selection(s) as one undo step. False when the language
    has no comment syntax."""
    line_token, block = comment_tokens(language)
    if not line_token and not block:
        return False
    start_line = min(sci.lineFromPosition(sci.selectionNStart(i)) for i in range(sci.selections()))
    end_pos = max(sci.selectionNEnd(i) for i in range(sci.selections()))
    end_line = sci.lineFromPosition(end_pos)
    # a selection ending at column 0 of a line does not include that line
    if end_line > start_line and end_pos == sci.positionFromLine(end_line):
        end_line -= 1
    lines = []
    for line in range(start_line, end_line + 1):
        raw = bytes(sci.textRange(sci.positionFromLine(line), sci.lineEndPosition(line))).decode("utf-8", "replace")
        lines.append(raw)
    body = [l for l in lines if l.strip()]
    if not body:
        return True

    def is_commented(text: str) -> bool:
        s = text.lstrip()
        if line_token:
            return s.startswith(line_token)
        return s.startswith(block[0]) and s.rstrip().endswith(block[1])

    uncomment = all(is_commented(l) for l in body)
    indent = min(len(l) - len(l.lstrip()) for l in body)
    out = []
    for text in lines:
        if not text.strip():
            out.append(text)
            continue
        if uncomment:
            lead = text[:len(text) - len(text.lstrip())]
            s = text.lstrip()
            if line_token:
                s = s[len(line_token):]
                if s.startswith(" "):
                    s = s[1:]
            else:
                s = s.rstrip()
                s = s[len(block[0]):len(s) - len(block[1])]
                s = s[1:] if s.startswith(" ") else s
                s = s[:-1] if s.endswith(" ") else s
            out.append(lead + s)
        else:
            head, rest = text[:indent], text[indent:]
            if line_token:
                out.append(f"{head}{line_token} {rest}")
            else:
                out.append(f"{head}{block[0]} {rest} {block[1]}")
    # keep each line's own ending: rebuild only the line contents between the existing endings
    sci.beginUndoAction()
    try:
        for offset, (old, new) in reversed(list(enumerate(zip(lines, out)))):
            if old == new:
                continue
            line = start_line + offset
            ls, le = sci.positionFromLine(line), sci.lineEndPosition(line)
            sci.setTargetRange(ls, le)
            sci.replaceTarget(_blen(new), new)
    finally:
        sci.endUndoAction()
    sci.setSelection(sci.lineEndPosition(end_line), sci.positionFromLine(start_line))
    return True
