"""The Settings view (Preferences: Settings): every setting from the defaults files, searchable,
with its description, default, current value and the layer it comes from (default, user, project,
policy). Booleans, numbers and text are edited in place and written to the user settings file
(``settings.set_user``), which reloads and reaches the running editors at once; lists and tables
open ``settings.toml``. Keys the admin policy fixes are shown locked. GUI thread only.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (QCheckBox, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QPushButton,
                               QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from marie.core.event_types import SettingsChanged
from marie.ui.settings_catalog import SettingDoc, catalog, parse_value

COLUMNS = ("Setting", "Value", "From", "Description", "Default")
KEY, VALUE, SOURCE, DESCRIPTION, DEFAULT = range(5)


class SettingsView(QWidget):
    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window_ = window
        self.app = window.app
        self.setObjectName("SettingsView")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        top = QHBoxLayout()
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search settings (key or description)")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.filter)
        top.addWidget(self.search, 1)
        open_file = QPushButton("Open settings.toml", self)
        open_file.clicked.connect(lambda: window.settings_files.open_user())
        top.addWidget(open_file)
        layout.addLayout(top)
        self.message = QLabel("", self)
        layout.addWidget(self.message)
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(DESCRIPTION, QHeaderView.ResizeMode.Stretch)
        header.moveSection(DEFAULT, SOURCE)       # shown as: Setting, Value, Default, From, Description
        self.table.setWordWrap(False)          # one line a setting; the full description is the tooltip
        layout.addWidget(self.table, 1)
        self.docs: list[SettingDoc] = catalog()
        self.rows: dict[str, int] = {}
        self._editors: dict[str, QWidget] = {}
        self._filling = False
        self._fill()
        self._unsubscribe = self.app.events.on(SettingsChanged, self._changed)
        self.destroyed.connect(lambda *_: self._unsubscribe())

    # -- building ---------------------------------------------------------------------------------
    def _fill(self) -> None:
        self._filling = True
        self.table.setRowCount(len(self.docs))
        for row, doc in enumerate(self.docs):
            self.rows[doc.key] = row
            self.table.setItem(row, KEY, _item(doc.key))
            self.table.setItem(row, DEFAULT, _item(_show(doc.default)))
            self.table.setItem(row, DESCRIPTION, _item(doc.description or "(no description)"))
            self.table.setCellWidget(row, VALUE, self._value_editor(doc))
            self._refresh_row(doc.key)
        for column, width in ((KEY, 230), (VALUE, 130), (SOURCE, 70), (DEFAULT, 110)):
            self.table.setColumnWidth(column, width)
        self._filling = False

    def _value_editor(self, doc: SettingDoc) -> QWidget:
        key, default = doc.key, doc.default
        if isinstance(default, bool):
            editor: QWidget = QCheckBox(self.table)
            editor.toggled.connect(lambda on, k=key: self.set_value(k, on))
        elif isinstance(default, (int, float, str)):
            editor = QLineEdit(self.table)
            editor.editingFinished.connect(lambda k=key, e=editor: self._typed(k, e))
        else:
            editor = QPushButton("Edit in settings.toml", self.table)
            editor.clicked.connect(lambda: self.window_.settings_files.open_user())
        editor.setObjectName(f"setting.{key}")
        self._editors[key] = editor
        return editor

    def _refresh_row(self, key: str) -> None:
        settings = self.app.settings
        row = self.rows[key]
        value = settings.get(key)
        locked = settings.locked(key)
        layer = settings.layer_of(key)
        self.table.setItem(row, SOURCE, _item(f"{layer} (locked)" if locked else layer))
        editor = self._editors[key]
        was, self._filling = self._filling, True
        try:
            if isinstance(editor, QCheckBox):
                editor.setChecked(bool(value))
            elif isinstance(editor, QLineEdit):
                editor.setText(_show(value))
            editor.setEnabled(not locked)
            editor.setToolTip("Locked by the administrator's policy" if locked else "")
        finally:
            self._filling = was

    # -- editing ------------------------------------------------------------------------------------
    def editor_for(self, key: str) -> QWidget:
        return self._editors[key]

    def _typed(self, key: str, editor: QLineEdit) -> None:
        doc = self.docs[self.rows[key]]
        if editor.text() == _show(self.app.settings.get(key)):
            return
        try:
            value = parse_value(doc.default, editor.text())
        except ValueError as exc:
            self.message.setText(f"{key}: {exc}")
            self._refresh_row(key)
            return
        self.set_value(key, value)

    def set_value(self, key: str, value: Any) -> bool:
        """Write ``key = value`` to the user settings (it reaches the window through SettingsChanged)."""
        if self._filling:
            return False
        if self.app.settings.locked(key):
            self.message.setText(f"{key} is locked by the administrator's policy")
            self._refresh_row(key)
            return False
        try:
            self.app.settings.set_user(key, value)
        except (KeyError, TypeError, RuntimeError, OSError) as exc:
            self.message.setText(f"Could not save {key}: {exc}")
            self._refresh_row(key)
            return False
        self.message.setText(f"{key} = {_show(value)} (user settings)")
        self._refresh_row(key)
        return True

    def _changed(self, event: SettingsChanged) -> None:
        for key in event.keys:
            if key in self.rows:
                self._refresh_row(key)

    def filter(self, text: str) -> int:
        """Show the rows whose key or description has every word of ``text``; returns how many."""
        words = text.lower().split()
        shown = 0
        for doc in self.docs:
            hay = f"{doc.key} {doc.description}".lower()
            visible = all(word in hay for word in words)
            self.table.setRowHidden(self.rows[doc.key], not visible)
            shown += visible
        self.message.setText("" if shown else "No setting matches")
        return shown

    def visible_keys(self) -> list[str]:
        return [doc.key for doc in self.docs if not self.table.isRowHidden(self.rows[doc.key])]


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _item(text: str) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setToolTip(text)
    from marie.ui.qt_names import Qt

    item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
    return item
