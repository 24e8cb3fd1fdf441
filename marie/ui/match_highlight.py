"""List rows with the characters a query matched in bold and a dimmed detail (the folder of a
file, a command's shortcut): ``set_row(item, text, positions, detail)`` stores the row as rich text,
``MatchDelegate`` paints it. Used by quick open, the symbol pickers and the command palette.
GUI thread only.
"""

from __future__ import annotations

import html
from typing import Iterable

from PySide6.QtCore import QSize
from PySide6.QtGui import QPalette, QTextDocument
from PySide6.QtWidgets import QApplication, QListWidgetItem, QStyle, QStyledItemDelegate

from marie.ui.qt_names import Qt

HTML_ROLE = int(Qt.ItemDataRole.UserRole) + 7


def marked(text: str, positions: Iterable[int]) -> str:
    """``text`` as HTML with the characters at ``positions`` in bold."""
    wanted = set(positions)
    out = []
    for i, ch in enumerate(text):
        piece = html.escape(ch)
        out.append(f"<b>{piece}</b>" if i in wanted else piece)
    return "".join(out).replace("</b><b>", "")


def set_row(item: QListWidgetItem, text: str, positions: Iterable[int] = (), detail: str = "",
            detail_positions: Iterable[int] = ()) -> None:
    """Give ``item`` its plain text (for search and accessibility) and its highlighted form."""
    item.setText(f"{text}    {detail}" if detail else text)
    rich = marked(text, positions)
    if detail:
        rich += f"&nbsp;&nbsp;&nbsp;&nbsp;<span style='color:{_dim()}'>{marked(detail, detail_positions)}</span>"
    item.setData(HTML_ROLE, rich)


def _dim() -> str:
    return QApplication.palette().color(QPalette.ColorRole.PlaceholderText).name()


class MatchDelegate(QStyledItemDelegate):
    """Paints rows that have ``HTML_ROLE`` as rich text (others as usual)."""

    def paint(self, painter, option, index) -> None:  # noqa: D401
        rich = index.data(HTML_ROLE)
        if not rich:
            super().paint(painter, option, index)
            return
        self.initStyleOption(option, index)
        style = option.widget.style() if option.widget else QApplication.style()
        text_color = option.palette.color(QPalette.ColorRole.HighlightedText if option.state & QStyle.StateFlag.State_Selected
                                          else QPalette.ColorRole.Text)
        option.text = ""
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, option, painter, option.widget)
        doc = QTextDocument()
        doc.setDefaultFont(option.font)
        doc.setDocumentMargin(2)
        doc.setHtml(f"<span style='color:{text_color.name()}'>{rich}</span>")
        painter.save()
        painter.translate(option.rect.left() + 4, option.rect.top() + max(0, (option.rect.height() - doc.size().height()) / 2))
        doc.drawContents(painter)
        painter.restore()

    def sizeHint(self, option, index) -> QSize:  # noqa: N802
        size = super().sizeHint(option, index)
        return QSize(size.width(), max(size.height(), option.fontMetrics.height() + 6))
