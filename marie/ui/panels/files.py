"""The file tree panel: a lazy model over the index snapshot, plus new/rename/delete/duplicate
(through ``app.writes``) and reveal-the-active-file. Also starts the index and registers the
index commands: quick open (Ctrl+P), symbol in file (Ctrl+Shift+O), symbol in workspace (Ctrl+T).

Git colours: when the workspace is in a git repository, names are coloured by their status
(modified, added/staged, untracked, conflicted, deleted, ignored greyed; folders holding changes get
a faint tint). The ``git.status`` event brings a new status; the panel turns it into a plain
``{rel: state}`` dict on the git worker (``git_states``), so ``data()`` does one dict lookup.

Laziness: the model asks the snapshot only for the children of folders the view expands
(``Snapshot.children`` is built once per snapshot, on a worker before the model switches to it), so
100k entries cost nothing on the GUI thread. GUI thread unless a method says otherwise.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractItemModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (QFileIconProvider, QInputDialog, QLabel, QMenu, QMessageBox, QTreeView,
                               QVBoxLayout, QWidget)

from shiboken6 import Shiboken

from marie.core.event_types import GitStatusChanged, IndexChanged, IndexProgress
from marie.core.release import release_later
from marie.index.snapshot import Snapshot, display_path
from marie.ui.commands import Command
from marie.ui.empty_state import EmptyState
from marie.ui.panels import PanelSpec

log = logging.getLogger(__name__)

# Git states a name can show, most important first (a folder takes its most important child's).
GIT_STATES = ("conflicted", "deleted", "modified", "added", "staged", "untracked", "ignored")
_GIT_COLOURS = {"conflicted": "#e5534b", "deleted": "#c9510c", "modified": "#d29922", "added": "#3fb950",
                "staged": "#57ab5a", "untracked": "#2aa198", "ignored": "#8b949e"}
_MAX_IGNORED_CHECKS = 5000      # children of shown folders asked "ignored?" per status


def git_state(status: Any) -> str | None:
    """The colour state of one ``marie.git.model.FileStatus`` (None: nothing to show)."""
    if status.conflicted:
        return "conflicted"
    if status.untracked:
        return "untracked"
    if "deleted" in (status.worktree, status.index):
        return "deleted"
    if status.worktree is not None:
        return "modified"
    if status.index == "added":
        return "added"
    return "staged" if status.index is not None else None


def git_states(_ctx: Any, repo: Any, status: Any, snapshot: Snapshot, shown_folders: list[str]) -> dict[str, str]:
    """``{workspace rel: state}`` for changed files, "dir:<state>" for folders holding them, and
    "ignored" for git-ignored children of the folders on screen (ignore rules the index does not
    read, such as core.excludesFile, leave such files in the tree). Git worker only."""
    info = repo.info
    if info.kind != "worktree":
        return {}
    prefix = info.prefix
    rank = {name: i for i, name in enumerate(GIT_STATES)}
    out: dict[str, str] = {}
    folders: dict[str, str] = {}
    for path, file_status in status.files.items():
        if not path.startswith(prefix):
            continue
        state = git_state(file_status)
        if state is None:
            continue
        rel = path[len(prefix):]
        out[rel] = state
        parts = rel.split("/")
        for depth in range(1, len(parts)):
            folder = "/".join(parts[:depth])
            if rank[state] < rank.get(folders.get(folder, "ignored"), len(rank)):
                folders[folder] = state
    out.update((folder, "dir:" + state) for folder, state in folders.items())
    raw = repo.repo
    checked = 0
    for folder in shown_folders:
        for entry in snapshot.children(folder):
            if entry.path in out:
                continue
            checked += 1
            if checked > _MAX_IGNORED_CHECKS:
                return out
            git_path = prefix + entry.path + ("/" if entry.kind == "dir" else "")
            try:
                if raw.path_is_ignored(git_path) and (entry.kind == "dir" or prefix + entry.path not in raw.index):
                    out[entry.path] = "ignored"
            except Exception:        # an odd name libgit2 refuses: just not coloured
                continue
    return out


class FileTreeModel(QAbstractItemModel):
    """Rows come from ``snapshot.children(folder)``; an index's internal id names its parent folder."""

    def __init__(self, snapshot: Snapshot, parent=None) -> None:
        super().__init__(parent)
        self.snapshot = snapshot
        self._ids: dict[str, int] = {"": 0}
        self._folders: list[str] = [""]
        self._rows: dict[str, dict[str, int]] = {}
        provider = QFileIconProvider()
        self._dir_icon = provider.icon(QFileIconProvider.IconType.Folder)
        self._file_icon = provider.icon(QFileIconProvider.IconType.File)
        self.git_states: dict[str, str] = {}
        self._brushes: dict[str, QBrush] = {}
        self._struck = QFont()
        self._struck.setStrikeOut(True)

    def set_colours(self, text: QColor) -> None:
        """Brushes per git state; folders get the state's colour mixed with the text colour (a tint)."""
        self._brushes = {name: QBrush(QColor(colour)) for name, colour in _GIT_COLOURS.items()}
        for name, colour in _GIT_COLOURS.items():
            c = QColor(colour)
            mixed = QColor((c.red() + text.red()) // 2, (c.green() + text.green()) // 2, (c.blue() + text.blue()) // 2)
            self._brushes["dir:" + name] = QBrush(mixed)

    def set_git_states(self, states: dict[str, str]) -> None:
        """Show new git states; only the rows whose state changed are repainted."""
        old, self.git_states = self.git_states, states
        changed = {k for k in old.keys() | states.keys() if old.get(k) != states.get(k)}
        roles = [Qt.ItemDataRole.ForegroundRole, Qt.ItemDataRole.FontRole, Qt.ItemDataRole.ToolTipRole]
        for rel in sorted(changed)[:5000]:
            index = self.index_for(rel)
            if index.isValid():
                self.dataChanged.emit(index, index, roles)

    def set_snapshot(self, snapshot: Snapshot) -> None:
        """GUI thread. The previous snapshot is freed on the release thread: dropping a 100k-entry
        tree here would stall the GUI for 15-25 ms."""
        previous = self.snapshot
        self.beginResetModel()
        self.snapshot = snapshot
        self._rows.clear()
        self.endResetModel()
        release_later(previous)

    def _id(self, folder: str) -> int:
        found = self._ids.get(folder)
        if found is None:
            found = self._ids[folder] = len(self._folders)
            self._folders.append(folder)
        return found

    def folder_of(self, index: QModelIndex) -> str:
        return self._folders[index.internalId()] if index.isValid() else ""

    def entry(self, index: QModelIndex):
        if not index.isValid():
            return None
        children = self.snapshot.children(self.folder_of(index))
        return children[index.row()] if index.row() < len(children) else None

    def path(self, index: QModelIndex) -> str:
        entry = self.entry(index)
        return entry.path if entry else ""

    def index_for(self, rel: str) -> QModelIndex:
        """The model index of ``rel`` (invalid when it is not in the snapshot)."""
        if rel not in self.snapshot.entries:
            return QModelIndex()
        parent = rel.rsplit("/", 1)[0] if "/" in rel else ""
        rows = self._rows.get(parent)
        if rows is None:
            rows = self._rows[parent] = {e.path: i for i, e in enumerate(self.snapshot.children(parent))}
        row = rows.get(rel)
        return self.createIndex(row, 0, self._id(parent)) if row is not None else QModelIndex()

    # -- QAbstractItemModel ---------------------------------------------------------------------
    def index(self, row: int, column: int, parent: QModelIndex = QModelIndex()) -> QModelIndex:
        folder = self.path(parent) if parent.isValid() else ""
        if column != 0 or row < 0 or row >= len(self.snapshot.children(folder)):
            return QModelIndex()
        return self.createIndex(row, 0, self._id(folder))

    def parent(self, index: QModelIndex = QModelIndex()) -> QModelIndex:  # type: ignore[override]
        if not index.isValid():
            return QModelIndex()
        folder = self.folder_of(index)
        return self.index_for(folder) if folder else QModelIndex()

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:
        if not parent.isValid():
            return len(self.snapshot.children(""))
        entry = self.entry(parent)
        return len(self.snapshot.children(entry.path)) if entry and entry.kind == "dir" else 0

    def hasChildren(self, parent: QModelIndex = QModelIndex()) -> bool:
        if not parent.isValid():
            return True
        entry = self.entry(parent)
        return bool(entry and entry.kind == "dir" and self.snapshot.children(entry.path))

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:
        return 1

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        entry = self.entry(index)
        if entry is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            name = display_path(entry.name)
            return name + " \u2192" if entry.kind == "symlink" else name
        if role == Qt.ItemDataRole.DecorationRole:
            return self._dir_icon if entry.kind == "dir" else self._file_icon
        if role == Qt.ItemDataRole.ForegroundRole:
            state = self.git_states.get(entry.path)
            return self._brushes.get(state) if state else None
        if role == Qt.ItemDataRole.FontRole:
            return self._struck if self.git_states.get(entry.path) == "deleted" else None
        if role == Qt.ItemDataRole.ToolTipRole:
            state = self.git_states.get(entry.path)
            state = state[4:] + " inside" if state and state.startswith("dir:") else state
            return display_path(entry.path) + (f" \u2014 {state}" if state else "")
        if role == Qt.ItemDataRole.UserRole:
            return entry.path
        return None


class FilesPanel(QWidget):
    snapshotShown = Signal(int)     # generation now on screen

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window_ = window
        self.app = window.app
        self.index = self.app.index
        self.model = FileTreeModel(self.index.snapshot(), self)
        self.view = QTreeView(self)
        self.view.setObjectName("FileTree")
        self.view.setModel(self.model)
        self.view.setHeaderHidden(True)
        self.view.setUniformRowHeights(True)          # keeps big folders cheap to lay out
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._context_menu)
        self.view.activated.connect(self._activated)
        self.status = QLabel("Scanning\u2026", self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)
        self.empty = EmptyState("Files shows the folders and files of the project. Nothing to show yet: the "
                                "folder is empty or still being scanned. New File (Ctrl+N) starts one; Open "
                                "Folder\u2026 (Ctrl+K Ctrl+O) opens another project.", self)
        layout.addWidget(self.empty, 1)
        layout.addWidget(self.status)
        self.empty.watch(self.view)
        self._pending_generation = -1
        self._unsubscribe = [
            self.app.events.on(IndexChanged, lambda event: self._index_changed(event.snapshot, event.changes)),
            self.app.events.on(IndexProgress, lambda event: self._progress(event.done, event.message, event.finished))]
        self.destroyed.connect(lambda *_: [u() for u in self._unsubscribe])
        if hasattr(window, "editorOpened"):
            window.editorOpened.connect(self._editor_opened)
        self.model.set_colours(self.view.palette().text().color())
        self._git_status = None          # the last StatusSnapshot (immutable)
        self._git_busy = False           # a git_states job is queued on the git worker
        self._git_again = False          # ... and another is wanted when it is done
        self._start_git()

    # -- git colours -------------------------------------------------------------------------------
    def _start_git(self) -> None:
        try:
            git = self.app.git
        except Exception as exc:   # no pygit2 or no git service: the tree simply has no colours
            log.info("file tree without git colours: %s", exc)
            return
        self._unsubscribe.append(self.app.events.on(GitStatusChanged, lambda event: self._on_git_status(event.status)))
        self.view.expanded.connect(lambda *_: self._update_git_states())
        git.info(on_done=self._git_info, on_error=lambda exc: log.info("git unavailable: %s", exc))

    def _git_info(self, info: Any) -> None:
        if info.kind != "worktree":
            return
        last = self.app.git.last_status
        if last is not None:
            self._on_git_status(last)
        else:
            self.app.git.status(on_error=lambda exc: log.info("git status failed: %s", exc))

    def _on_git_status(self, status: Any) -> None:
        self._git_status = status
        self._update_git_states()

    def _update_git_states(self) -> None:
        """Recompute the states on the git worker (one job at a time; a request meanwhile reruns it)."""
        if self._git_status is None:
            return
        if self._git_busy:
            self._git_again = True
            return
        self._git_busy = True
        folders = [""] + self._expanded_paths()

        def done(states: dict[str, str]) -> None:
            if not Shiboken.isValid(self.model):   # the panel closed while the job ran
                return
            self._git_busy = False
            self.model.set_git_states(states)
            if self._git_again:
                self._git_again = False
                self._update_git_states()

        def failed(exc: BaseException) -> None:
            self._git_busy = False
            log.info("file tree git colours failed: %s", exc)

        self.app.git.run_on_worker(git_states, self._git_status, self.model.snapshot, folders,
                                   name="file tree git colours", on_done=done, on_error=failed)

    # -- snapshot updates --------------------------------------------------------------------------
    def _index_changed(self, snapshot: Snapshot, changes=None) -> None:
        if snapshot.generation <= self.model.snapshot.generation or snapshot.generation <= self._pending_generation:
            return
        self._pending_generation = snapshot.generation

        def warm(ctx, snap=snapshot):
            snap.children("")          # builds the folder index on the worker, not the GUI thread
            snap.files()               # and the sorted file list the status line counts
            return snap

        self.app.tasks.submit(warm, name="file tree", worker="filetree", on_done=self._show_snapshot)

    def _show_snapshot(self, snapshot: Snapshot) -> None:
        if snapshot.generation < self._pending_generation:
            return                         # a newer snapshot is being prepared; show that one
        expanded = self._expanded_paths()
        current = self.model.path(self.view.currentIndex())
        self.model.set_snapshot(snapshot)
        for rel in sorted(expanded, key=lambda p: p.count("/")):
            index = self.model.index_for(rel)
            if index.isValid():
                self.view.setExpanded(index, True)
        if current:
            index = self.model.index_for(current)
            if index.isValid():
                self.view.setCurrentIndex(index)
        files = len(snapshot.files())
        extra = f", {len(snapshot.unreadable)} folders unreadable" if snapshot.unreadable else ""
        self.status.setText(f"{files} files{extra}")
        self._update_git_states()        # new names may be git-ignored; rows moved
        self.snapshotShown.emit(snapshot.generation)

    def _expanded_paths(self) -> list[str]:
        out: list[str] = []
        model = self.model

        def visit(parent: QModelIndex) -> None:
            for row in range(model.rowCount(parent)):
                child = model.index(row, 0, parent)
                if self.view.isExpanded(child):
                    out.append(model.path(child))
                    visit(child)

        visit(QModelIndex())
        return out

    def _progress(self, done: int, message: str = "", finished: bool = False) -> None:
        if not finished:
            self.status.setText(f"Scanning\u2026 {done} entries")

    # -- actions ---------------------------------------------------------------------------------
    def selected_path(self) -> str:
        return self.model.path(self.view.currentIndex())

    def _activated(self, index: QModelIndex) -> None:
        entry = self.model.entry(index)
        if entry is not None and entry.kind != "dir":
            self.index.note_opened(entry.path)
            self.window_.open_file(Path(self.app.root) / entry.path)

    def _editor_opened(self, editor: Any) -> None:
        rel = self._rel(getattr(editor, "path", None))
        if rel:
            self.index.note_opened(rel)

    def _rel(self, path) -> str | None:
        if not path:
            return None
        try:
            return Path(path).resolve().relative_to(Path(self.app.root)).as_posix()
        except ValueError:
            return None

    def reveal(self, rel: str | None = None) -> bool:
        """Select ``rel`` (default: the active editor's file), expanding its folders."""
        if rel is None:
            editor = self.window_.current_editor()
            rel = self._rel(getattr(editor, "path", None)) if editor is not None else None
        if not rel:
            return False
        parts = rel.split("/")
        for depth in range(1, len(parts)):
            index = self.model.index_for("/".join(parts[:depth]))
            if index.isValid():
                self.view.setExpanded(index, True)
        index = self.model.index_for(rel)
        if not index.isValid():
            return False
        self.view.setCurrentIndex(index)
        self.view.scrollTo(index)
        return True

    def _run(self, label: str, operation) -> None:
        """Run a file operation (``app.fileops``: the write path, checkpointed) on a worker; report
        failures to the user."""
        self.app.tasks.submit(lambda ctx: operation(), name=label, worker="writes",
                              on_error=lambda exc: self.window_.show_message(f"{label} failed: {exc}", "error"))

    def _target_folder(self) -> str:
        entry = self.model.entry(self.view.currentIndex())
        if entry is None:
            return ""
        return entry.path if entry.kind == "dir" else entry.parent

    def new_file(self, folder: str, name: str) -> None:
        rel = f"{folder}/{name}" if folder else name
        self._run(f"new file {rel}", lambda: self.app.fileops.create_file(rel, source="file tree"))

    def new_folder(self, folder: str, name: str) -> None:
        rel = f"{folder}/{name}" if folder else name
        self._run(f"new folder {rel}", lambda: self.app.fileops.create_folder(rel, source="file tree"))

    def rename(self, rel: str, new_name: str) -> None:
        if not new_name or "/" in new_name:
            return
        parent = rel.rpartition("/")[0]
        dest = f"{parent}/{new_name}" if parent else new_name
        self._run(f"rename {rel} to {dest}", lambda: self.app.fileops.rename(rel, dest, source="file tree"))

    def delete(self, rel: str) -> None:
        # a folder goes with everything in it, ignored files included (the snapshot lists none of those)
        self._run(f"delete {rel}", lambda: self.app.fileops.delete(rel, source="file tree"))

    def duplicate(self, rel: str) -> None:
        self._run(f"duplicate {rel}", lambda: self.app.fileops.duplicate(rel, source="file tree"))

    def _context_menu(self, pos) -> None:
        entry = self.model.entry(self.view.indexAt(pos))
        menu = QMenu(self)
        folder = self._target_folder() if entry else ""
        menu.addAction("New File\u2026", lambda: self._ask("New file name", "", lambda n: self.new_file(folder, n)))
        menu.addAction("New Folder\u2026", lambda: self._ask("New folder name", "", lambda n: self.new_folder(folder, n)))
        if entry is not None:
            menu.addSeparator()
            menu.addAction("Rename\u2026", lambda: self._ask("Rename to", entry.name, lambda n: self.rename(entry.path, n)))
            if entry.kind == "file":
                menu.addAction("Duplicate", lambda: self.duplicate(entry.path))
            menu.addAction("Delete\u2026", lambda: self._confirm_delete(entry.path))
        menu.addSeparator()
        menu.addAction("Reveal Active File", self.reveal)
        menu.exec(self.view.viewport().mapToGlobal(pos))

    def _ask(self, title: str, text: str, then) -> None:
        name, ok = QInputDialog.getText(self, title, title, text=text)
        if ok and name.strip():
            then(name.strip())

    def _confirm_delete(self, rel: str) -> None:
        answer = QMessageBox.question(self, "Delete", f"Delete {display_path(rel)}? A checkpoint is made first, "
                                      "so it can be restored.")
        if answer == QMessageBox.StandardButton.Yes:
            self.delete(rel)


def _register_index_commands(window: Any, panel: FilesPanel) -> None:
    from marie.ui.quick_open import show_quick_open
    from marie.ui.symbol_picker import show_file_symbols, show_workspace_symbols

    register = window.commands.register
    register(Command("go.file", "Go to File\u2026", lambda: show_quick_open(window), "Ctrl+P", "Go"))
    register(Command("go.symbol_in_file", "Go to Symbol in File\u2026", lambda: show_file_symbols(window),
                     "Ctrl+Shift+O", "Go"))
    register(Command("go.symbol_in_workspace", "Go to Symbol in Workspace\u2026",
                     lambda: show_workspace_symbols(window), "Ctrl+T", "Go"))
    register(Command("files.reveal", "Reveal Active File in Files", lambda: (window.show_panel("files"), panel.reveal()),
                     None, "View"))


def make_panel(window: Any) -> FilesPanel:
    panel = FilesPanel(window)
    _register_index_commands(window, panel)
    index = window.app.index
    if not index.snapshot().complete and index._scan_task is None:
        index.start()                  # background scan, then the watcher
    elif index.snapshot().complete:
        panel._index_changed(index.snapshot())
    return panel


PANEL = PanelSpec("files", "Files", "left", make_panel, "Ctrl+Shift+E", order=10)
