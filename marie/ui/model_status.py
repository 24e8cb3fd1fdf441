"""Status-bar widget: the active model and its load state ("AI: gemma3-270m · loading 40%").

Listens to the "ai.model_state" event (delivered on the GUI thread by the dispatcher). Clicking it
loads the local model in the background if it is not loaded, else opens the AI models panel. GUI thread.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from marie.ai.service import MODEL_STATE


class ModelStatus(QLabel):
    def __init__(self, app: Any, window: Any = None) -> None:
        super().__init__()
        self.setObjectName("status.ai_model")
        self.app = app
        self.window = window
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self._unsubscribe = app.events.subscribe(MODEL_STATE, self._on_state)
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
        state = self._state.get("state", "unloaded")
        provider, _, name = active.partition(":")
        if provider != "local":
            text, tip = f"AI: {name or provider}", f"Chat uses {active} (remote provider)"
        elif state == "loading":
            fraction = float(self._state.get("fraction", 0.0) or 0.0)
            text, tip = f"AI: {name} · loading {int(fraction * 100)}%", "Loading the local model in the background"
        elif state == "ready":
            text = f"AI: {name} · ready"
            tip = f"{name} is loaded (context {self._state.get('n_ctx', '?')} tokens, {self._state.get('threads', '?')} threads)"
        elif state == "error":
            text, tip = f"AI: {name} · error", str(self._state.get("message", "the model failed to load"))
        else:
            text, tip = f"AI: {name} · not loaded", "Click to load the local model now (it also loads on first use)"
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


def install(window: Any) -> ModelStatus | None:
    """Add the widget to ``window.status_bar`` once; preloads the model when ai.local.load_on_start."""
    existing = getattr(window, "_marie_model_status", None)
    if existing is not None:
        return existing
    bar = getattr(window, "status_bar", None)
    if bar is None or not hasattr(bar, "add_widget"):
        return None
    widget = ModelStatus(window.app, window)
    bar.add_widget(widget)
    window._marie_model_status = widget
    if window.app.settings.get("ai.local.load_on_start"):
        window.app.ai.preload()
    return widget
