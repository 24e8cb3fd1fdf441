"""The welcome view: what the editor area shows while no editor is open.

Open File, Open Folder, the recent folders (click to open; a missing one is offered for removal),
the main shortcuts (read from the commands, so a rebinding shows), and the AI model's state with a
button to load it or choose another. GUI thread only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtWidgets import (QFrame, QGridLayout, QHBoxLayout, QLabel, QListWidget, QListWidgetItem,
                               QPushButton, QVBoxLayout)

from marie.ui.qt_names import Qt

# (command id, what it is for) shown under "Shortcuts"
SHORTCUTS = (("go.file", "Go to file"), ("palette.show", "Show all commands"),
             ("view.panel.search", "Search in files"), ("view.panel.composer", "AI composer"),
             ("file.open_folder", "Open a folder"), ("view.panel.files", "Files panel"))
# the keys for commands that a panel registers later (shown until the command exists)
FALLBACK_KEYS = {"go.file": "Ctrl+P", "view.panel.search": "Ctrl+Shift+F", "view.panel.composer": "Ctrl+Shift+I",
                 "view.panel.files": "Ctrl+Shift+E"}
RECENT_SHOWN = 8


class WelcomeView(QFrame):
    def __init__(self, window: Any) -> None:
        super().__init__(window)
        from marie.ui.model_status import ModelStatus
        from marie.ui.projects import is_empty_root

        self.window_ = window
        self.app = window.app
        self.setObjectName("WelcomeView")
        outer = QVBoxLayout(self)
        outer.setContentsMargins(48, 36, 48, 36)
        title = QLabel("MarieIDE", self)
        title.setObjectName("WelcomeTitle")
        font = title.font()
        font.setPointSize(font.pointSize() + 12)
        title.setFont(font)
        outer.addWidget(title)
        folder = "No folder open" if is_empty_root(self.app.root) else f"Folder: {self.app.root}"
        self.folder_label = QLabel(folder, self)
        self.folder_label.setObjectName("WelcomeFolder")
        outer.addWidget(self.folder_label)
        columns = QHBoxLayout()
        outer.addLayout(columns, 1)

        start = QVBoxLayout()
        columns.addLayout(start, 1)
        start.addWidget(self._heading("Start"))
        self.buttons: dict[str, QPushButton] = {}
        for text, command in (("Open File\u2026", "file.open"), ("Open Folder\u2026", "file.open_folder"),
                              ("New File", "file.new")):
            button = QPushButton(text, self)
            button.setObjectName(f"welcome.{command}")
            button.clicked.connect(lambda _c=False, cid=command: self._run(cid))
            button.setMaximumWidth(260)
            start.addWidget(button)
            self.buttons[text] = button
        start.addSpacing(16)
        start.addWidget(self._heading("Recent"))
        self.recent = QListWidget(self)
        self.recent.setObjectName("welcome.recent")
        self.recent.setMaximumWidth(480)
        self.recent.itemActivated.connect(self._open_recent)
        self.recent.itemClicked.connect(self._open_recent)
        start.addWidget(self.recent)
        self.no_recent = QLabel("No recent folders yet: Open Folder\u2026 adds one.", self)
        start.addWidget(self.no_recent)
        start.addStretch(1)

        side = QVBoxLayout()
        columns.addLayout(side, 1)
        side.addWidget(self._heading("Shortcuts"))
        self.shortcut_grid = QGridLayout()
        side.addLayout(self.shortcut_grid)
        side.addSpacing(16)
        side.addWidget(self._heading("AI model"))
        self.model = ModelStatus(self.app, window)
        self.model.setObjectName("welcome.model")
        side.addWidget(self.model)
        row = QHBoxLayout()
        self.load_button = QPushButton("Load model", self)
        self.load_button.clicked.connect(lambda: self.app.ai.preload())
        self.choose_button = QPushButton("Choose model\u2026", self)
        self.choose_button.clicked.connect(lambda: window.show_panel("models"))
        row.addWidget(self.load_button)
        row.addWidget(self.choose_button)
        row.addStretch(1)
        side.addLayout(row)
        side.addStretch(1)
        self.refresh()

    def _heading(self, text: str) -> QLabel:
        label = QLabel(text, self)
        font = label.font()
        font.setBold(True)
        font.setPointSize(font.pointSize() + 2)
        label.setFont(font)
        return label

    def refresh(self) -> None:
        """Re-read the recent folders and the shortcuts (shown again after the last tab closed)."""
        from PySide6.QtGui import QKeySequence

        from marie.ui.projects import RecentProjects

        self.recent.clear()
        for folder in RecentProjects().load()[:RECENT_SHOWN]:
            missing = "" if folder.is_dir() else "  (missing)"
            item = QListWidgetItem(f"{folder.name}{missing}    {folder.parent}")
            item.setData(Qt.ItemDataRole.UserRole, str(folder))
            item.setToolTip(str(folder))
            self.recent.addItem(item)
        rows = max(1, self.recent.count())
        self.recent.setFixedHeight(rows * (self.recent.sizeHintForRow(0) if self.recent.count() else 20)
                                   + 2 * self.recent.frameWidth() + 4)
        self.no_recent.setVisible(self.recent.count() == 0)
        self.recent.setVisible(self.recent.count() > 0)
        while self.shortcut_grid.count():
            widget = self.shortcut_grid.takeAt(0).widget()
            if widget is not None:
                widget.deleteLater()
        for row, (command_id, text) in enumerate(SHORTCUTS):
            command = self.window_.commands.get(command_id)
            keys = (self.window_.keybindings.shortcut_for(command) if command is not None
                    else FALLBACK_KEYS.get(command_id, ""))
            if not keys:
                continue
            key = QLabel(QKeySequence(keys).toString(QKeySequence.SequenceFormat.NativeText), self)
            key.setObjectName("WelcomeKey")
            self.shortcut_grid.addWidget(QLabel(text, self), row, 0)
            self.shortcut_grid.addWidget(key, row, 1)

    def showEvent(self, event: Any) -> None:  # noqa: N802
        self.refresh()
        super().showEvent(event)

    def shortcut_texts(self) -> list[str]:
        """What the Shortcuts list shows, as "text  keys" lines (tests, screenshots)."""
        out = []
        for row in range(self.shortcut_grid.rowCount()):
            cells = [self.shortcut_grid.itemAtPosition(row, c) for c in (0, 1)]
            if all(cells):
                out.append(f"{cells[0].widget().text()}  {cells[1].widget().text()}")
        return out

    def _run(self, command_id: str) -> None:
        command = self.window_.commands.get(command_id)
        if command is not None:
            self.window_._run_command(command)

    def _open_recent(self, item: QListWidgetItem) -> None:
        from marie.ui import projects

        projects.open_recent(self.window_, Path(item.data(Qt.ItemDataRole.UserRole)))
