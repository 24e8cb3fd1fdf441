"""Render the main window to PNG files, offscreen: ``python -m marie.ui.screenshots OUT_DIR``.

One picture per theme (light, dark) of the window with a Python file open, then (light theme) the
welcome view of a first run, a split editor with the terminal below, and the Settings view, so
anyone can look at the UI without a display. Uses a throw-away MARIE_HOME and workspace so no real
session is touched.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

SAMPLE = '''"""Inventory helpers: a small sample file for MarieIDE screenshots."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Item:
    name: str
    quantity: int = 0
    tags: list[str] = field(default_factory=list)

    def restock(self, amount: int) -> None:
        """Add ``amount`` units (negative amounts are refused)."""
        if amount < 0:
            raise ValueError(f"cannot restock {amount} units of {self.name}")
        self.quantity += amount


def load(path: Path) -> list[Item]:
    # One JSON object per line keeps the file easy to append to.
    items = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            items.append(Item(**json.loads(line)))
    return items


if __name__ == "__main__":
    for item in load(Path("inventory.jsonl")):
        print(f"{item.name:<20} {item.quantity:>5}")
'''


def _settle(qt_app, rounds: int = 20) -> None:
    from PySide6.QtCore import QCoreApplication, QEvent

    for _ in range(rounds):       # let docks lay out, lexers style, panels load
        qt_app.processEvents()
        # processEvents() leaves deleteLater() alone (the event loop does it), and the dock layout
        # retires its old tab bars that way: without this they stay drawn.
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def _save(window, file: Path) -> Path:
    if not window.grab().save(str(file), "PNG"):
        raise OSError(f"could not write {file}")
    return file


def _close(window, qt_app) -> None:
    window.close()
    window.deleteLater()
    window.app.close()
    qt_app.processEvents()


def render(out_dir: Path, themes_to_render: tuple[str, ...] = ("light", "dark"),
           size: tuple[int, int] = (1280, 800), extras: bool = True, ai: bool = False) -> list[Path]:
    """Write ``main-<theme>.png`` for each theme into ``out_dir`` (and, with ``extras``,
    ``welcome.png``, ``split-terminal.png`` and ``settings.png``; with ``ai``, ``composer.png`` and
    ``agent.png``: the real bundled model at work, a few minutes on two cores); returns the files."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    qt_app = QApplication.instance() or QApplication(["marie-screenshots"])
    from marie.app import App
    from marie.ui import themes
    from marie.ui.dispatcher import QtDispatcher
    from marie.ui.main_window import MainWindow

    written: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="marie-shots-") as scratch:
        old_home = os.environ.get("MARIE_HOME")
        os.environ["MARIE_HOME"] = str(Path(scratch) / "home")
        try:
            root = Path(scratch) / "inventory"
            (root / "src").mkdir(parents=True)
            sample = root / "src" / "inventory.py"
            sample.write_text(SAMPLE, encoding="utf-8")
            (root / "README.md").write_text("# Inventory\n", encoding="utf-8")
            (root / "pyproject.toml").write_text("[project]\nname = \"inventory\"\n", encoding="utf-8")

            def window_on(theme: str) -> MainWindow:
                window = MainWindow(App(root, QtDispatcher()), restore=False)
                window.resize(*size)
                themes.apply_theme(theme)
                window.show()
                return window

            for theme in themes_to_render:
                window = window_on(theme)
                editor = window.open_file(sample, 18, 9)
                if editor is not None:
                    editor.goto(18, 9)
                _settle(qt_app)
                written.append(_save(window, out_dir / f"main-{theme}.png"))
                _close(window, qt_app)
            if extras:
                # the first run: no editor open, the Files panel in front, the welcome view
                window = window_on("light")
                _settle(qt_app)
                written.append(_save(window, out_dir / "welcome.png"))
                # a split editor (one document, two views) with the terminal panel below
                editor = window.open_file(sample, 18, 9)
                window.split_editor("right")
                clone = window.current_editor()
                if clone is not None:
                    clone.goto(30, 5)
                if "terminal" in window.docks:
                    window.show_panel("terminal")
                _settle(qt_app, 40)
                written.append(_save(window, out_dir / "split-terminal.png"))
                # the Settings view, searched (in the editor area, the split closed again)
                window.close_tab()
                view = window.show_settings_view()
                view.search.setText("editor")
                _settle(qt_app)
                written.append(_save(window, out_dir / "settings.png"))
                _close(window, qt_app)
                if ai:
                    written += _ai_at_work(root, window_on, qt_app, out_dir)
        finally:
            if old_home is None:
                os.environ.pop("MARIE_HOME", None)
            else:
                os.environ["MARIE_HOME"] = old_home
    return written


def _wait(qt_app, done, seconds: float) -> None:
    """Let the event loop run until ``done()`` or ``seconds`` passed (the real model answers)."""
    import time

    deadline = time.monotonic() + seconds
    while not done() and time.monotonic() < deadline:
        qt_app.processEvents()
        time.sleep(0.05)


def _ai_at_work(root: Path, window_on, qt_app, out_dir: Path) -> list[Path]:
    """``composer.png`` and ``agent.png``: the bundled model at work, for real (no scripted answers),
    on a small ``calc.py``. Each waits a bounded time, so a slow machine shows the work in progress."""
    written: list[Path] = []
    calc = root / "calc.py"
    calc.write_text("def add(a, b):\n    return a + b\n\n\ndef mul(a, b):\n    return a * b\n", encoding="utf-8")
    window = window_on("light")
    window.open_file(calc)
    composer = window.show_panel("composer")
    if composer is not None:
        composer.instruction.setText("add a function sub(a, b) that returns a - b")
        composer.send_button.click()
        _wait(qt_app, lambda: composer.review.file_item("calc.py") is not None or composer.task is None, 240)
        _settle(qt_app)
        written.append(_save(window, out_dir / "composer.png"))
    agent = window.show_panel("agent")
    if agent is not None:
        agent.mode.setCurrentText("plan")
        # A tool call is required on each turn (read-only tools, plan mode), so the picture shows the
        # agent exploring; the small model would otherwise often answer at once.
        run = agent.service.start_run("What do the functions in calc.py do?", mode="plan", max_steps=3,
                                      tool_choice="read_file")
        agent.begin(agent.prepare_run(run))
        _wait(qt_app, lambda: agent.steps.topLevelItemCount() >= 3 or not agent.busy, 240)
        _settle(qt_app)
        written.append(_save(window, out_dir / "agent.png"))
        agent.cancel()
    _close(window, qt_app)
    return written


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    ai = "--ai" in argv
    folders = [a for a in argv if not a.startswith("--")]
    out = Path(folders[0] if folders else "screenshots")
    for file in render(out, ai=ai):
        print(file)
    return 0


if __name__ == "__main__":
    sys.exit(main())
