"""Projects: File > Open Folder… (Ctrl+K Ctrl+O), Open Recent, Close Folder and New Window.

Opening a folder re-roots every service by giving it a fresh ``App`` (index, git, checkpoints, LSP,
composer ... all built for the new root) in a fresh ``MainWindow``; in "this window" the old window
then closes like a user closed it (hot exit, session saved) and its app is closed. Nothing is
re-rooted in place, so no service can keep a stale root. ``RecentProjects`` is the list on disk
(``<data>/recent_projects.json``); a folder that has gone is offered for removal when chosen.
"Close Folder" re-roots onto an empty scratch folder, which shows the welcome view.

The windows made here are kept in ``open_windows()``; ``launch()`` closes them on exit.
GUI thread only.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from marie.core import atomic, paths

log = logging.getLogger(__name__)

RECENT_FILE = "recent_projects.json"
RECENT_LIMIT = 20
_windows: list[Any] = []


# ---------------------------------------------------------------------------------------- recent list
class RecentProjects:
    """Recently opened folders, newest first (plain JSON; any thread, but the GUI is the user)."""

    def __init__(self, file: Path | None = None) -> None:
        self.file = file or paths.data_dir() / RECENT_FILE

    def load(self) -> list[Path]:
        try:
            data = json.loads(self.file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return []
        return [Path(p) for p in data.get("folders", []) if isinstance(p, str)] if isinstance(data, dict) else []

    def _save(self, folders: list[Path]) -> None:
        self.file.parent.mkdir(parents=True, exist_ok=True)
        atomic.write_bytes(self.file, json.dumps({"folders": [str(p) for p in folders[:RECENT_LIMIT]]},
                                                 indent=1).encode("utf-8"))

    def add(self, folder: Path) -> None:
        folder = Path(folder).resolve()
        folders = [folder] + [p for p in self.load() if p != folder]
        self._save(folders)

    def remove(self, folder: Path) -> None:
        self._save([p for p in self.load() if p != Path(folder)])


def empty_root() -> Path:
    """The scratch folder a window without a project shows (Close Folder)."""
    folder = paths.data_dir() / "no-folder"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def is_empty_root(root: Path) -> bool:
    return Path(root).resolve() == empty_root().resolve()


def remember(root: Path) -> None:
    """Put ``root`` first in the recent list (not the no-folder scratch)."""
    if is_empty_root(root):
        return
    try:
        RecentProjects().add(root)
    except OSError as exc:
        log.warning("recent projects not saved: %s", exc)


# ---------------------------------------------------------------------------------------- windows
def open_windows() -> list[Any]:
    alive = []
    for window in list(_windows):
        try:
            closing = window.is_closing
        except RuntimeError:          # deleted by Qt
            closing = True
        if closing:
            _windows.remove(window)
        else:
            alive.append(window)
    return alive


def open_window(root: Path, like: Any | None = None) -> Any:
    """A new MainWindow on a fresh App for ``root``, shown (at ``like``'s geometry when given).
    Its app is closed once the window has closed."""
    from PySide6.QtCore import QTimer

    from marie.app import App
    from marie.ui.dispatcher import QtDispatcher
    from marie.ui.main_window import MainWindow

    app = App(Path(root), QtDispatcher())
    window = MainWindow(app, defer_panels=True)
    if like is not None:
        window.setGeometry(like.geometry())
    window.closing.connect(lambda: QTimer.singleShot(0, app.close))
    _windows.append(window)
    window.show()
    window.load_panels_later()
    return window


def open_folder(window: Any, root: Path, where: str = "this") -> Any | None:
    """Open ``root`` in this window (``where="this"``: the old window closes) or a new one.
    Returns the window showing it (None when the folder is missing or closing was cancelled)."""
    root = Path(root).expanduser()
    if not root.is_dir():
        window.show_message(f"{root} is not a folder", "error")
        return None
    if where == "this" and root.resolve() == Path(window.app.root).resolve():
        return window
    new = open_window(root, like=window if where == "this" else None)
    if where == "this":
        window.close()
        if not window.is_closing:      # the user cancelled (unsaved changes, hot exit off)
            new.close()
            return None
        from PySide6.QtCore import QTimer

        # the old services stop once the closed window's last events have run (App.close is idempotent:
        # launch() and the window made by open_window close theirs too)
        QTimer.singleShot(0, window.app.close)
    return new


def close_folder(window: Any) -> Any | None:
    """Show no folder in this window (the welcome view on an empty scratch folder)."""
    if is_empty_root(window.app.root):
        return window
    return open_folder(window, empty_root(), "this")


def new_window(window: Any) -> Any:
    """A second window without a folder (Open Folder from its welcome view)."""
    return open_window(empty_root())


# ---------------------------------------------------------------------------------------- dialogs
def ask_folder(window: Any) -> Path | None:
    """The folder picker (tests replace this function)."""
    from PySide6.QtWidgets import QFileDialog

    start = str(window.app.root if not is_empty_root(window.app.root) else Path.home())
    chosen = QFileDialog.getExistingDirectory(window, "Open Folder", start)
    return Path(chosen) if chosen else None


def ask_where(window: Any, root: Path) -> str | None:
    """"this", "new" or None (cancel): the ``ui.open_folder_in`` setting, or a question."""
    choice = window.app.settings.get("ui.open_folder_in", "ask")
    if choice in ("this", "new"):
        return choice
    if is_empty_root(window.app.root):
        return "this"
    from PySide6.QtWidgets import QMessageBox

    box = QMessageBox(QMessageBox.Icon.Question, "Open Folder", f"Open {root.name} in this window or a new one?",
                      QMessageBox.StandardButton.NoButton, window)
    this = box.addButton("This Window", QMessageBox.ButtonRole.AcceptRole)
    new = box.addButton("New Window", QMessageBox.ButtonRole.ActionRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    return "this" if box.clickedButton() is this else "new" if box.clickedButton() is new else None


def open_folder_dialog(window: Any) -> Any | None:
    root = ask_folder(window)
    if root is None:
        return None
    where = ask_where(window, root)
    return open_folder(window, root, where) if where else None


def open_recent(window: Any, root: Path, where: str | None = None) -> Any | None:
    """Open a recent folder; a folder that has gone is offered for removal from the list."""
    root = Path(root)
    if not root.is_dir():
        if ask_remove_missing(window, root):
            RecentProjects().remove(root)
            window.show_message(f"Removed {root} from the recent folders")
        return None
    where = where or ask_where(window, root)
    return open_folder(window, root, where) if where else None


def ask_remove_missing(window: Any, root: Path) -> bool:
    from PySide6.QtWidgets import QMessageBox

    answer = QMessageBox.question(window, "Open Recent", f"{root} no longer exists. Remove it from the list?")
    return answer == QMessageBox.StandardButton.Yes


def show_recent(window: Any) -> Any:
    """A picker over the recent folders (name, full path); one per window, reused."""
    from marie.ui.recent_picker import RecentPicker

    picker = window.findChild(RecentPicker) or RecentPicker(window)
    picker.open()
    return picker
