"""The "AI Usage" panel: tokens and cost per day, provider, model or task as a bar chart, with the
totals and the budgets. The rows are read on a worker (``usage.rows``, which may decrypt); the chart
is a small QPainter widget (QtCharts would need PySide6-Addons for one bar chart). GUI thread.
"""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from marie.governance.usage_report import totals
from marie.ui.panels import PanelSpec

PERIODS = (("Last 7 days", 7), ("Last 30 days", 30), ("All time", 0))
GROUPS = (("Per day", "day"), ("Per provider", "provider"), ("Per model", "model"), ("Per task", "task"))
METRICS = (("Tokens", "tokens"), ("Cost ($)", "cost_usd"))


class BarChart(QWidget):
    """Horizontal bars: one label, one bar, one value per row."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("usage.chart")
        self.items: list[tuple[str, float]] = []
        self.money = False
        self.setMinimumHeight(120)

    def set_items(self, items: list[tuple[str, float]], money: bool) -> None:
        self.items, self.money = items, money
        self.setMinimumHeight(24 + 20 * max(1, len(items)))
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(360, 24 + 20 * max(1, len(self.items)))

    def value_text(self, value: float) -> str:
        return f"${value:,.4f}" if self.money else f"{value:,.0f}"

    def paintEvent(self, event: Any) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        painter.setPen(palette.text().color())
        if not self.items:
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No AI requests in this period")
            return
        metrics = painter.fontMetrics()
        label_w = min(160, max(metrics.horizontalAdvance(label) for label, _ in self.items) + 8)
        value_w = max(metrics.horizontalAdvance(self.value_text(v)) for _, v in self.items) + 8
        peak = max(v for _, v in self.items) or 1.0
        span = max(10, self.width() - label_w - value_w - 8)
        for row, (label, value) in enumerate(self.items):
            y = 4 + row * 20
            painter.setPen(palette.text().color())
            painter.drawText(QRectF(0, y, label_w - 4, 18), Qt.AlignmentFlag.AlignVCenter,
                             metrics.elidedText(label, Qt.TextElideMode.ElideMiddle, label_w - 6))
            width = span * value / peak
            painter.fillRect(QRectF(label_w, y + 3, max(1.0, width) if value else 0, 12), QColor("#4c78a8"))
            painter.drawText(QRectF(label_w + width + 4, y, value_w, 18), Qt.AlignmentFlag.AlignVCenter,
                             self.value_text(value))


class UsagePanel(QWidget):
    def __init__(self, app: Any, window: Any = None) -> None:
        super().__init__()
        self.setObjectName("panel.usage")
        self.app = app
        self.rows: list[dict] = []
        layout = QVBoxLayout(self)
        bar = QHBoxLayout()
        self.period_box = QComboBox()
        self.group_box = QComboBox()
        self.metric_box = QComboBox()
        for combo, options in ((self.period_box, PERIODS), (self.group_box, GROUPS), (self.metric_box, METRICS)):
            for title, value in options:
                combo.addItem(title, value)
            bar.addWidget(combo)
        self.period_box.setObjectName("usage.period")
        self.group_box.setObjectName("usage.group")
        self.metric_box.setObjectName("usage.metric")
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setObjectName("usage.refresh")
        bar.addWidget(self.refresh_button)
        layout.addLayout(bar)
        self.summary = QLabel()
        self.summary.setObjectName("usage.summary")
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.chart = BarChart()
        layout.addWidget(self.chart, 1)
        self.period_box.currentIndexChanged.connect(lambda *_: self.refresh())
        self.group_box.currentIndexChanged.connect(lambda *_: self._draw())
        self.metric_box.currentIndexChanged.connect(lambda *_: self._draw())
        self.refresh_button.clicked.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        """Read the rows of the chosen period on a worker, then draw (GUI thread)."""
        days = self.period_box.currentData()
        since = time.time() - days * 86400 if days else 0.0

        def load(_ctx: Any) -> tuple[list[dict], list]:
            budgets: list = []
            try:
                budgets = self.app.governance.budget_state()
            except Exception:
                pass
            return self.app.ai.usage.rows(since), budgets

        self.app.tasks.submit(load, name="usage report", worker="usage", on_done=self._loaded,
                              on_error=lambda exc: self.summary.setText(f"Usage cannot be read: {exc}"))

    def _loaded(self, result: tuple[list[dict], list]) -> None:
        self.rows, self.budgets = result
        self._draw()

    def _draw(self) -> None:
        metric = self.metric_box.currentData()
        groups = totals(self.rows, self.group_box.currentData())
        self.chart.set_items([(key, float(g[metric])) for key, g in groups], metric == "cost_usd")
        tokens = sum(g["tokens"] for _, g in groups)
        cost = sum(g["cost_usd"] for _, g in groups)
        text = f"{len(self.rows)} requests, {tokens:,} tokens, ${cost:.4f}"
        for period, spent, limit in getattr(self, "budgets", []):
            text += f"  ·  {period} budget ${spent:.2f} of ${limit:.2f}" + (" (over)" if spent >= limit else "")
        self.summary.setText(text)


def create(window: Any) -> UsagePanel:
    return UsagePanel(window.app, window)


PANEL = PanelSpec(id="usage", title="AI Usage", area="right", factory=create, order=85)
