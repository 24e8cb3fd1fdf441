"""Status-bar widget: the active model and its load state ("AI: gemma3-270m · loading 40%").

Listens to ``ModelState`` events (delivered on the GUI thread by the dispatcher). Clicking it
loads the local model in the background if it is not loaded, else opens the AI models panel. GUI thread.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from marie.ai.model_state import describe
from marie.core.event_types import ModelState
from marie.ui.features import FeatureSpec


class ModelStatus(QLabel):
    def __init__(self, app: Any, window: Any = None) -> None:
        super().__init__()
        self.setObjectName("status.ai_model")
        self.app = app
        self.window = window
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self._unsubscribe = app.events.on(ModelState, lambda event: self._on_state(event.state, event.model, event.detail))
        self.destroyed.connect(lambda *_: self._unsubscribe())
        self._state = {"state": "unloaded", "model": ""}
        self._show()

    def _on_state(self, state: str, model: str, detail: dict) -> None:
        self._state = {"state": state, "model": model, **detail}
        self._show()

    def _show(self) -> None:
        try:
            active = self.app.ai.active_model("chat")
        except Exception:
            active = "?"
        text, tip = describe(active, self._state)
        text = f"AI: {text}"
        self.setText(text)
        self.setToolTip(tip)

    @property
    def state(self) -> str:
        return str(self._state.get("state", "unloaded"))

    def mousePressEvent(self, event: Any) -> None:  # noqa: N802 - Qt naming
        if self.state in ("unloaded", "error"):
            self.app.ai.preload()
        elif self.window is not None and hasattr(self.window, "show_panel"):
            self.window.show_panel("models")
        super().mousePressEvent(event)


def _setup(host: Any) -> ModelStatus:
    """Add the widget to the host's status bar; preloads the model when ai.local.load_on_start."""
    widget = ModelStatus(host.app, host)
    host.add_status_widget(widget)
    if host.app.settings.get("ai.local.load_on_start"):
        host.app.ai.preload()
    return widget


FEATURE = FeatureSpec("model_status", "AI model status", setup=_setup, requires=("ai",))
