"""Start the GUI: ``launch(path)`` builds QApplication, the app on the folder and the main window.

A folder opens as the workspace; a file opens its folder with that file in a tab. Returns the exit
code of the Qt event loop. ``marie/cli/cmd_open.py`` calls this after checking there is a display.
When ``MARIE_STARTUP_PROBE`` is set, the line ``MARIE-READY`` is printed on stdout once the window
is shown and the event loop runs (so the editor takes keys); ``MARIE_STARTUP_PROBE=quit`` then exits
(bench/bench_startup.py measures process start to that line).
"""

from __future__ import annotations

import gc
import os
import sys
from pathlib import Path
from typing import Any, Callable

PROBE_ENV = "MARIE_STARTUP_PROBE"


def launch(path: Path | str | None = None, on_ready: Callable[[Any], None] | None = None,
           argv: list[str] | None = None, line: int | None = None, column: int | None = None) -> int:
    """Open the window on ``path`` (folder or file) and run the event loop; returns the exit code.

    Start-up is split at the first paint: before it only the window shell and the editor of the file
    asked for (or the session's current tab) are built; menus, commands, hot exit, the other session
    tabs and the panels follow once the window is on screen and takes keys.
    ``on_ready(window)`` runs on the GUI thread once the window is shown and started (tests)."""
    # No cyclic garbage collection until the window is up: start-up allocates hundreds of thousands
    # of objects (modules, classes, PySide6's enums) and almost none become garbage, yet the collector
    # would walk them again and again (measured: about 7% of start-up CPU). ready() then freezes
    # what exists (moved out of the collector's sight: re-enabling alone would make the very next
    # collection walk all of it) and turns collection back on.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    # The plain-Python side first: modules imported before PySide6 are not scanned by its import hook.
    from marie.app import App

    _speed_up_feature_scan()
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from marie.ui.dispatcher import QtDispatcher
    from marie.ui.main_window import MainWindow

    target = Path(path or Path.cwd()).resolve()
    root, file = (target.parent, target) if target.is_file() else (target, None)

    qt_app = QApplication.instance() or QApplication(argv or [sys.argv[0] if sys.argv else "marie"])
    qt_app.setApplicationName("MarieIDE")
    qt_app.setOrganizationName("MarieIDE")
    qt_app.setDesktopFileName("marie")
    app = App(root, QtDispatcher())
    window = None
    endpoint: list[Any] = [None]
    previous_hook = sys.excepthook
    sys.excepthook = SlotErrorHook(previous_hook)
    try:
        window = MainWindow(app, defer_panels=True, fast_start=True)
        if file is not None:
            window.open_file(file, line, column)
        else:
            window.open_session_current()
        window.show()

        def ready() -> None:
            probe = os.environ.get(PROBE_ENV, "")
            if probe:
                import time   # the process's CPU time so far: the bench's load-proof figure

                print(f"MARIE-READY cpu={time.process_time():.4f}", flush=True)
            _collect_again(gc_was_enabled)
            if probe == "quit":
                qt_app.quit()
                return
            window.finish_startup()
            # The automation endpoint (marie remote, single instance); None if another window has it.
            from marie.ui import automation_host

            endpoint[0] = automation_host.install(window)
            if on_ready is not None:
                on_ready(window)
            window.load_panels_later()

        QTimer.singleShot(0, ready)
        return int(qt_app.exec())
    finally:
        # The window closes (editorClosed, closing, its timers stopped) before the services do.
        if endpoint[0] is not None:
            endpoint[0].close()
        if window is not None:
            try:
                window.close()
            except Exception:
                pass
        from marie.ui import projects   # windows opened since (Open Folder, New Window) and their apps

        for other in projects.open_windows():
            try:
                other.close()
            except Exception:
                pass
            other.app.close()
        app.close()
        sys.excepthook = previous_hook
        _collect_again(gc_was_enabled)


def _collect_again(was_enabled: bool) -> None:
    """End of start-up: the objects made so far (modules, classes, widgets; garbage among them is
    rare and small) go to the permanent generation, and cyclic collection resumes for the rest."""
    if was_enabled and not gc.isenabled():
        gc.freeze()
        gc.enable()


def _speed_up_feature_scan() -> None:
    """Make PySide6's per-module "does this module use PySide6?" test cheap (about 25 ms at start).

    Once PySide6 is loaded, every module named in an ``import`` statement is checked once by
    ``shibokensupport.feature._mod_uses_pyside``, which calls ``inspect.getsource`` (module lookup,
    linecache, tokenising) just to search the text for "PySide6". For a module with a ``.py`` file we
    read the file and search its bytes: the same answer. Anything else goes to PySide6's own test.
    If a PySide6 release renames these internals, nothing is changed. GUI thread, before any window."""
    import PySide6  # noqa: F401  (loads shiboken and its feature module)

    feature = sys.modules.get("shibokensupport.feature")
    original = getattr(feature, "_mod_uses_pyside", None)
    if original is None or getattr(original, "_marie_fast", False):
        return

    def mod_uses_pyside(module: Any) -> bool:
        file = getattr(module, "__file__", None)
        if isinstance(file, str) and file.endswith(".py"):
            try:
                with open(file, "rb") as handle:
                    return b"PySide6" in handle.read()
            except OSError:
                pass
        return original(module)

    mod_uses_pyside._marie_fast = True  # type: ignore[attr-defined]
    feature._mod_uses_pyside = mod_uses_pyside


class SlotErrorHook:
    """``sys.excepthook`` while the window runs. PySide6 hands exceptions raised in slots and timer
    callbacks to it; they are logged with their traceback, and a repeat of the same error (same type,
    file and line) is counted instead of printed again, so a panel failing on a timer cannot flood the
    log. The window keeps running."""

    def __init__(self, previous: Callable[..., Any] | None = None, repeat_limit: int = 3) -> None:
        self.previous = previous
        self.repeat_limit = repeat_limit
        self.counts: dict[tuple, int] = {}

    def __call__(self, exc_type: type, exc: BaseException, tb: Any) -> None:
        import logging
        import traceback

        if issubclass(exc_type, KeyboardInterrupt) and self.previous is not None:
            self.previous(exc_type, exc, tb)
            return
        frames = traceback.extract_tb(tb)
        where = (frames[-1].filename, frames[-1].lineno) if frames else ("?", 0)
        key = (exc_type.__name__, *where)
        count = self.counts[key] = self.counts.get(key, 0) + 1
        log = logging.getLogger("marie.ui")
        if count <= self.repeat_limit:
            log.error("unhandled error in a Qt callback (%s:%s)%s", where[0], where[1],
                      " — further repeats are not logged" if count == self.repeat_limit else "",
                      exc_info=(exc_type, exc, tb))
