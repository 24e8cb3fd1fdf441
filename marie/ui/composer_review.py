"""The composer's review view: each proposed file with its hunks, accept/reject per hunk and per file,
and editing a proposed hunk before applying. It edits the ``ChangeSet`` in place (review state lives
in the core model, so the CLI and a reopened session see the same thing). GUI thread only.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QSplitter, QTreeWidget,
                               QTreeWidgetItem, QVBoxLayout, QWidget)

FILE_ROLE = Qt.ItemDataRole.UserRole
HUNK_ROLE = Qt.ItemDataRole.UserRole + 1


class ReviewView(QWidget):
    """Shows a ChangeSet; ``changed`` fires whenever the accepted set changes."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.changeset: Any = None
        self._filling = False
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Change", "Match"])
        self.tree.itemChanged.connect(self._item_changed)
        self.tree.currentItemChanged.connect(lambda *_: self._show_current())
        self.diff = QPlainTextEdit()
        self.diff.setReadOnly(True)
        self.diff.setFont(QFont("monospace"))
        self.diff.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.edit_button = QPushButton("Edit hunk")
        self.save_edit_button = QPushButton("Use my edit")
        self.cancel_edit_button = QPushButton("Cancel edit")
        self.edit_button.clicked.connect(self.start_edit)
        self.save_edit_button.clicked.connect(self.save_edit)
        self.cancel_edit_button.clicked.connect(self._show_current)
        self.summary = QLabel("No proposal yet")
        buttons = QHBoxLayout()
        for b in (self.edit_button, self.save_edit_button, self.cancel_edit_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(self.diff, 1)
        rl.addLayout(buttons)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.tree)
        split.addWidget(right)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.summary)
        layout.addWidget(split, 1)
        self._editing = False
        self._update_buttons()

    # -- filling -------------------------------------------------------------------------------
    def set_changeset(self, changeset: Any) -> None:
        self.changeset = changeset
        self._filling = True
        self.tree.clear()
        if changeset is not None:
            for proposal in changeset.files:
                label = f"{proposal.status} {proposal.path}"
                if proposal.renamed_from:
                    label += f" (from {proposal.renamed_from})"
                item = QTreeWidgetItem([label, ", ".join(proposal.tiers)])
                item.setData(0, FILE_ROLE, proposal.path)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(0, Qt.CheckState.Checked if proposal.accepted else Qt.CheckState.Unchecked)
                for index, hunk in enumerate(proposal.hunks):
                    # Whitespace-only hunks are marked: they are easy to miss in a diff, and easy to reject.
                    child = QTreeWidgetItem([f"hunk {index + 1}: line {hunk.start + 1} "
                                             f"(-{hunk.end - hunk.start} +{len(hunk.new)})"
                                             + (" — whitespace only" if hunk.whitespace_only else "")])
                    child.setData(0, FILE_ROLE, proposal.path)
                    child.setData(0, HUNK_ROLE, index)
                    child.setFlags(child.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                    child.setCheckState(0, Qt.CheckState.Checked if hunk.accepted else Qt.CheckState.Unchecked)
                    item.addChild(child)
                self.tree.addTopLevelItem(item)
                item.setExpanded(True)
            errors = "; ".join(changeset.errors)
            self.summary.setText(errors if errors else f"{len(changeset.files)} file(s): {changeset.summary()}")
        else:
            self.summary.setText("No proposal yet")
        self._filling = False
        if self.tree.topLevelItemCount():
            self.tree.setCurrentItem(self.tree.topLevelItem(0))
        self._show_current()

    def file_item(self, path: str) -> QTreeWidgetItem | None:
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            if item.data(0, FILE_ROLE) == path:
                return item
        return None

    def hunk_item(self, path: str, index: int) -> QTreeWidgetItem | None:
        item = self.file_item(path)
        return item.child(index) if item is not None and index < item.childCount() else None

    # -- review state --------------------------------------------------------------------------
    def _item_changed(self, item: QTreeWidgetItem, column: int) -> None:
        if self._filling or self.changeset is None or column != 0:
            return
        proposal = self.changeset.file(item.data(0, FILE_ROLE))
        checked = item.checkState(0) == Qt.CheckState.Checked
        hunk = item.data(0, HUNK_ROLE)
        if hunk is None:
            proposal.accepted = checked
        else:
            proposal.set_hunk(int(hunk), checked)
            if checked and not proposal.accepted:
                proposal.accepted = True
                self._filling = True
                item.parent().setCheckState(0, Qt.CheckState.Checked)
                self._filling = False
        self._show_current()
        self.changed.emit()

    def _current(self) -> tuple[Any, int | None]:
        item = self.tree.currentItem()
        if item is None or self.changeset is None:
            return None, None
        hunk = item.data(0, HUNK_ROLE)
        return self.changeset.file(item.data(0, FILE_ROLE)), (None if hunk is None else int(hunk))

    def _show_current(self) -> None:
        self._editing = False
        self.diff.setReadOnly(True)
        proposal, hunk = self._current()
        if proposal is None:
            self.diff.setPlainText("")
        elif hunk is None:
            self._set_diff(proposal.diff() or "(no changes accepted in this file)")
        else:
            h = proposal.hunks[hunk]
            text = h.header() + ("" if h.accepted else "   (rejected)") + "\n"
            text += "".join("-" + line.rstrip("\r\n") + "\n" for line in h.old)
            text += "".join("+" + line.rstrip("\r\n") + "\n" for line in h.new)
            self._set_diff(text)
        self._update_buttons()

    def _set_diff(self, text: str) -> None:
        self.diff.setPlainText(text)
        # Colour added and removed lines so the diff reads at a glance.
        doc = self.diff.document()
        add, remove = QTextCharFormat(), QTextCharFormat()
        add.setForeground(QColor("#1a7f37"))
        remove.setForeground(QColor("#cf222e"))
        block = doc.begin()
        while block.isValid():
            line = block.text()
            fmt = add if line.startswith("+") and not line.startswith("+++") else \
                remove if line.startswith("-") and not line.startswith("---") else None
            if fmt is not None:
                cursor = QTextCursor(block)
                cursor.select(QTextCursor.SelectionType.LineUnderCursor)
                cursor.setCharFormat(fmt)
            block = block.next()

    # -- editing a hunk ------------------------------------------------------------------------
    def start_edit(self) -> None:
        proposal, hunk = self._current()
        if proposal is None or hunk is None:
            return
        self._editing = True
        self.diff.setReadOnly(False)
        self.diff.setPlainText("".join(line.rstrip("\r\n") + "\n" for line in proposal.hunks[hunk].new))
        self.diff.setFocus()
        self._update_buttons()

    def save_edit(self) -> None:
        proposal, hunk = self._current()
        if proposal is None or hunk is None or not self._editing:
            return
        proposal.edit_hunk(hunk, self.diff.toPlainText())
        item = self.tree.currentItem()
        self._filling = True
        item.setCheckState(0, Qt.CheckState.Checked)
        item.setText(1, "edited")
        self._filling = False
        self._show_current()
        self.changed.emit()

    def _update_buttons(self) -> None:
        _, hunk = self._current()
        self.edit_button.setEnabled(hunk is not None and not self._editing)
        self.save_edit_button.setEnabled(self._editing)
        self.cancel_edit_button.setEnabled(self._editing)
