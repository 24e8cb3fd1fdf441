"""Start the GUI: ``launch(path)`` builds QApplication, the app on the folder and the main window.

A folder opens as the workspace; a file opens its folder with that file in a tab. Returns the exit
code of the Qt event loop. ``marie/cli/cmd_open.py`` calls this after checking there is a display.
When ``MARIE_STARTUP_PROBE`` is set, the line ``MARIE-READY`` is printed on stdout once the window
is shown and the event loop runs (so the editor takes keys); ``MARIE_STARTUP_PROBE=quit`` then exits
(bench/bench_startup.py measures process start to that line).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Callable

PROBE_ENV = "MARIE_STARTUP_PROBE"


def launch(path: Path | str | None = None, on_ready: Callable[[Any], None] | None = None,
           argv: list[str] | None = None) -> int:
    """Open the window on ``path`` (folder or file) and run the event loop; returns the exit code.

    ``on_ready(window)`` runs on the GUI thread once the window is shown (tests, benchmarks)."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from marie.app import App
    from marie.ui.dispatcher import QtDispatcher
    from marie.ui.main_window import MainWindow

    target = Path(path or Path.cwd()).resolve()
    root, file = (target.parent, target) if target.is_file() else (target, None)

    qt_app = QApplication.instance() or QApplication(argv or [sys.argv[0] if sys.argv else "marie"])
    qt_app.setApplicationName("MarieIDE")
    qt_app.setOrganizationName("MarieIDE")
    qt_app.setDesktopFileName("marie")
    app = App(root, QtDispatcher())
    try:
        window = MainWindow(app, defer_panels=True)
        if file is not None:
            window.open_file(file)
        window.show()

        def ready() -> None:
            probe = os.environ.get(PROBE_ENV, "")
            if probe:
                print("MARIE-READY", flush=True)
            if on_ready is not None:
                on_ready(window)
            if probe == "quit":
                qt_app.quit()
                return
            window.load_panels_later()

        QTimer.singleShot(0, ready)
        return int(qt_app.exec())
    finally:
        app.close()
