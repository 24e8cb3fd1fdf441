"""The Plugins panel: every plugin found, its state and version, where it came from, what it
contributes, and why a failed, slow, blocked or incompatible one did not load. GUI thread; the
list comes from ``app.plugins`` once the worker has loaded them (``marie.ui.plugin_host``)."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QLabel, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from marie.ui.panels import PanelSpec

COLUMNS = ("Plugin", "Version", "State", "Contributes / reason", "From")


class PluginsPanel(QWidget):
    def __init__(self, window: Any) -> None:
        super().__init__()
        self.setObjectName("panel.plugins")
        self.window = window
        layout = QVBoxLayout(self)
        self.status = QLabel("Loading plugins…")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(list(COLUMNS))
        self.tree.setRootIsDecorated(False)
        layout.addWidget(self.tree)

    def refresh(self) -> None:
        """Show the loaded plugins (call after ``app.plugins.load()`` finished)."""
        records = self.window.app.plugins.records()
        self.tree.clear()
        for record in records:
            row = record.summary()
            gives = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in row["contributes"].items())
            item = QTreeWidgetItem([row["name"], row["version"], row["state"],
                                    gives if row["state"] == "active" else row["error"], row["origin"]])
            item.setToolTip(3, row["error"] or gives)
            self.tree.addTopLevelItem(item)
        for column in range(len(COLUMNS) - 1):
            self.tree.resizeColumnToContents(column)
        if not records:
            self.status.setText("No plugins found. Plugins are Python modules in MarieIDE's plugins/ folder, "
                                "your config folder's plugins/, or installed packages; see plugins/README.md.")
        else:
            active = sum(1 for r in records if r.state == "active")
            self.status.setText(f"{active} of {len(records)} plugins active.")


PANEL = PanelSpec(id="plugins", title="Plugins", area="bottom", factory=PluginsPanel, order=900)
