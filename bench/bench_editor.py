"""Editor figures: opening 8 MiB and 100 MiB files (time to editable and the longest GUI stall,
measured by a 2 ms QTimer heartbeat) against a bare ScintillaEdit given the same text,
keystroke-to-repaint in a 100,000-line Python file against a bare ScintillaEdit with the same lexer,
and the longest stall of Ctrl+End in an 8 MiB Python file, soon after opening (styling still
running in the background) and once styled, against a bare ScintillaEdit with the Python lexer
(Scintilla's default: everything up to the end lexed inside one paint).

Goals (from the issue): no stall over 50 ms opening 8 MiB; keystroke-to-repaint <= 1.5x bare;
Ctrl+End in 8 MiB of Python <= 50 ms.
Run: ``.venv/bin/python bench/run.py --only editor --out /tmp/b.json`` (offscreen when no display).
"""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def _app():
    from PySide6.QtWidgets import QApplication

    return QApplication.instance() or QApplication([])


def _dispose(*widgets) -> None:
    """Really delete widgets now (deleteLater alone waits for an event loop we never enter), so a
    100 MiB document does not linger into the next measurement."""
    from PySide6.QtCore import QCoreApplication, QEvent

    for widget in widgets:
        widget.close()
        widget.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    _app().processEvents()


def _python_text(target_bytes: int) -> str:
    block = ("class Item{n}(Base):\n"
             "    \"\"\"Docstring for item {n}.\"\"\"\n\n"
             "    def method(self, value: int = {n}) -> int:\n"
             "        # a comment with words\n"
             "        total = [v * 2 for v in range(value) if v % 3]\n"
             "        return sum(total) + len('text {n}')\n\n")
    parts, size, n = [], 0, 0
    while size < target_bytes:
        piece = block.format(n=n)
        parts.append(piece)
        size += len(piece)
        n += 1
    return "".join(parts)


class Heartbeat:
    """A 2 ms timer; the longest gap between its ticks is the longest time the GUI thread was busy."""

    def __init__(self) -> None:
        from PySide6.QtCore import QTimer

        self.timer = QTimer()
        self.timer.setInterval(2)
        self.timer.timeout.connect(self._tick)
        self.last = 0.0
        self.longest = 0.0

    def _tick(self) -> None:
        now = time.perf_counter()
        self.longest = max(self.longest, now - self.last)
        self.last = now

    def start(self) -> None:
        self.last = time.perf_counter()
        self.longest = 0.0
        self.timer.start()

    def stop(self) -> float:
        self._tick()
        self.timer.stop()
        return self.longest


def _open_figures(path: Path) -> dict:
    """Open with EditorView; then the bare peer: read, decode, setText on a plain ScintillaEdit."""
    from PySide6.QtCore import QTimer
    from pyside6_scintilla import ScintillaEdit

    from marie.ui.editor.view import EditorView

    app = _app()
    beat = Heartbeat()
    state: dict = {}

    def do_open() -> None:
        state["t0"] = time.perf_counter()
        view = EditorView.open(path)
        view.resize(900, 700)
        view.show()
        state["view"] = view
        state["returned"] = time.perf_counter() - state["t0"]

    beat.start()
    QTimer.singleShot(0, do_open)
    deadline = time.perf_counter() + 120
    while ("view" not in state or state["view"].loading) and time.perf_counter() < deadline:
        app.processEvents()
        time.sleep(0.0005)
    loaded = time.perf_counter() - state["t0"]
    # one more paint so "editable" means visible too
    state["view"].sci.viewport().repaint()
    editable = time.perf_counter() - state["t0"]
    stall = beat.stop()
    view = state["view"]
    figures = {"marie_open_returned_s": round(state["returned"], 4), "marie_loaded_s": round(loaded, 4),
               "marie_editable_s": round(editable, 4), "marie_longest_stall_ms": round(stall * 1000, 1),
               "large_file_mode": view.large_file_mode}
    _dispose(view)

    t0 = time.perf_counter()
    bare = ScintillaEdit()
    bare.setCodePage(65001)
    text = path.read_bytes().decode("utf-8")
    bare.setText(text)
    bare.resize(900, 700)
    bare.show()
    bare.viewport().repaint()
    bare_s = time.perf_counter() - t0
    figures["bare_open_s"] = round(bare_s, 4)           # all on the GUI thread: its stall = its time
    figures["open_ratio"] = round(editable / bare_s, 2) if bare_s else None
    _dispose(bare)
    return figures


def _shown_view(path: Path):
    """An EditorView on ``path``, shown and fully loaded."""
    from marie.ui.editor.view import EditorView

    app = _app()
    view = EditorView.open(path)
    view.resize(900, 700)
    view.show()
    while view.loading:
        app.processEvents()
        time.sleep(0.0005)
    return view


def _bare_python(text: str):
    """A plain ScintillaEdit holding ``text`` with lexilla's Python lexer and keywords, shown."""
    import lexilla
    from pyside6_scintilla import ScintillaEdit

    from marie.ui.editor import lexers

    bare = ScintillaEdit()
    bare.setCodePage(65001)
    bare.setText(text)
    bare.setILexer(lexilla.create_lexer("python").detach())
    bare.setKeyWords(0, lexers.PY_KW)
    bare.resize(900, 700)
    bare.show()
    return bare


def _keystroke_figures(path: Path, keys: int = 200) -> dict:
    """Median time from a key press to a finished repaint, caret in the middle of the file."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    app = _app()
    view = _shown_view(path)
    bare = _bare_python(path.read_text())

    def prepare(sci, goto) -> None:
        goto()
        for _ in range(5):
            app.processEvents()
        sci.viewport().repaint()

    def burst(sci, n: int, out: list) -> None:
        for i in range(n):
            key = Qt.Key.Key_A if i % 4 else Qt.Key.Key_Return
            t0 = time.perf_counter()
            QTest.keyClick(sci, key)
            sci.viewport().repaint()     # synchronous paint of what the keystroke changed
            out.append(time.perf_counter() - t0)
            app.processEvents()

    mid = bare.lineCount() // 2
    prepare(view.sci, lambda: view.goto(mid, 9))

    def bare_goto() -> None:
        bare.setFirstVisibleLine(mid - 10)
        bare.gotoPos(bare.positionFromLine(mid - 1) + 8)

    prepare(bare, bare_goto)
    # Interleaved bursts, so load from other processes hits both sides alike.
    marie_samples: list = []
    bare_samples: list = []
    for _ in range(max(1, keys // 10)):
        burst(view.sci, 10, marie_samples)
        burst(bare, 10, bare_samples)
    marie = statistics.median(marie_samples)
    peer = statistics.median(bare_samples)
    figures = {"lines": bare.lineCount(), "marie_keystroke_ms": round(marie * 1000, 3),
               "bare_keystroke_ms": round(peer * 1000, 3),
               "keystroke_ratio": round(marie / peer, 2) if peer else None}
    _dispose(view, bare)
    return figures


def _ctrl_end_stall(sci, wait_s: float) -> tuple[float, float]:
    """Let the event loop run ``wait_s``, press Ctrl+End, and return (longest GUI stall, seconds
    until the document is styled to its end) over the next moments."""
    from PySide6.QtCore import Qt, QTimer
    from PySide6.QtTest import QTest

    app = _app()
    until = time.perf_counter() + wait_s
    while time.perf_counter() < until:
        app.processEvents()
        time.sleep(0.0005)
    beat = Heartbeat()
    beat.start()
    started = time.perf_counter()
    QTimer.singleShot(0, lambda: QTest.keyClick(sci, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier))
    styled_at = None
    while time.perf_counter() - started < 3 and (styled_at is None or time.perf_counter() - started < 0.3):
        app.processEvents()
        time.sleep(0.0005)
        if styled_at is None and sci.endStyled() >= sci.textLength() and sci.currentPos() == sci.textLength():
            styled_at = time.perf_counter() - started
    return beat.stop(), styled_at if styled_at is not None else float("nan")


def _jump_figures(path: Path, trials: int = 3, soon_s: float = 0.1) -> dict:
    """Ctrl+End ``soon_s`` after a file became editable (background styling under way) and once it
    is all styled, MarieIDE vs a bare ScintillaEdit with the same lexer; trials interleaved."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    text = path.read_text()
    soon, styled, bare_soon = [], [], []
    for _ in range(trials):
        view = _shown_view(path)
        QTest.keyClick(view.sci, Qt.Key.Key_Home, Qt.KeyboardModifier.ControlModifier)  # one-off key set-up
        soon.append(_ctrl_end_stall(view.sci, soon_s))
        view.sci.documentStart()
        styled.append(_ctrl_end_stall(view.sci, 0.1)[0])   # the first jump waited for the styling
        _dispose(view)

        bare = _bare_python(text)
        bare.viewport().repaint()
        QTest.keyClick(bare, Qt.Key.Key_Home, Qt.KeyboardModifier.ControlModifier)
        bare_soon.append(_ctrl_end_stall(bare, soon_s))
        _dispose(bare)
    med = lambda xs: round(statistics.median(xs) * 1000, 1)  # noqa: E731
    return {"marie_soon_stall_ms": med([s for s, _ in soon]), "marie_soon_styled_to_end_s":
            round(statistics.median([t for _, t in soon]), 3), "marie_styled_stall_ms": med(styled),
            "bare_soon_stall_ms": med([s for s, _ in bare_soon]),
            "marie_soon_stall_runs_ms": [round(s * 1000, 1) for s, _ in soon],
            "bare_soon_stall_runs_ms": [round(s * 1000, 1) for s, _ in bare_soon],
            "soon_after_open_s": soon_s, "trials": trials}


def _warm_up(scratch: Path) -> None:
    """Create and paint one small editor first: font loading and the first widget polish are
    one-off costs of the process, not of opening a file."""
    from marie.ui.editor.view import EditorView

    small = scratch / "warm.py"
    small.write_text("def warm():\n    return 1\n")
    view = EditorView.open(small)
    view.show()
    view.sci.viewport().repaint()
    _dispose(view)


def run(ctx) -> dict:
    _app()
    scratch = Path(ctx.scratch)
    results: dict = {}
    _warm_up(scratch)
    eight = scratch / "eight.py"
    eight.write_text(_python_text(8 * 2**20))
    results["open_8MiB"] = _open_figures(eight)
    results["ctrl_end_8MiB_python"] = _jump_figures(eight)
    big = scratch / "hundred.log"
    big.write_text(_python_text(100 * 2**20))
    results["open_100MiB"] = _open_figures(big)
    big.unlink()
    lines = scratch / "lines100k.py"
    text = _python_text(1)
    block = text
    lines.write_text(block * (100_000 // block.count("\n") + 1))
    results["keystroke_100k_lines"] = _keystroke_figures(lines)
    results["goals"] = {"open_8MiB_stall_ms_max": 50, "keystroke_ratio_max": 1.5, "ctrl_end_stall_ms_max": 50}
    return results


if __name__ == "__main__":
    import json
    import sys
    import tempfile
    from types import SimpleNamespace

    with tempfile.TemporaryDirectory() as tmp:
        if "--jump-only" in sys.argv:      # the Ctrl+End figures alone (quick)
            _app()
            _warm_up(Path(tmp))
            eight = Path(tmp) / "eight.py"
            eight.write_text(_python_text(8 * 2**20))
            print(json.dumps(_jump_figures(eight, trials=int(sys.argv[-1]) if sys.argv[-1].isdigit() else 3), indent=2))
        else:
            print(json.dumps(run(SimpleNamespace(scratch=tmp)), indent=2))
