"""The "AI Models" panel: local models (list, add, remove, info, make default), routing per task,
provider endpoints and where their keys come from, and the local-only switch.

Reading a GGUF header takes a few hundred ms, so model info is read on a worker. Settings are written
with ``settings.set_user`` (API keys never: they go to the keyring). GUI thread.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (QCheckBox, QFileDialog, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit,
                               QListWidget, QListWidgetItem, QPlainTextEdit, QPushButton, QSpinBox, QVBoxLayout,
                               QWidget)

from marie.ai import errors, keys, models
from marie.ai.model_state import describe
from marie.core.event_types import ModelState
from marie.ui.panels import PanelSpec

TASK_TITLES = {"chat": "Chat", "composer": "Composer", "commit_message": "Commit message"}
REMOTE = ("openai", "anthropic", "server")


class ModelsPanel(QWidget):
    def __init__(self, app: Any, window: Any = None) -> None:
        super().__init__()
        self.setObjectName("panel.models")
        self.app = app
        self.window = window
        layout = QVBoxLayout(self)

        # -- local models --
        box = QGroupBox("Local models")
        v = QVBoxLayout(box)
        # The loaded model's state, worded as in the status bar (crashed / failed never read "ready").
        self.state_label = QLabel()
        self.state_label.setObjectName("models.state")
        self.state_label.setWordWrap(True)
        v.addWidget(self.state_label)
        self._unsubscribe_state = app.events.on(ModelState, lambda event: self._show_state())
        self.destroyed.connect(lambda *_: self._unsubscribe_state())
        self.list = QListWidget()
        self.list.currentItemChanged.connect(lambda *_: self._show_info())
        v.addWidget(self.list)
        row = QHBoxLayout()
        self.add_button = QPushButton("Add GGUF…")
        self.add_button.clicked.connect(self._pick_file)
        self.remove_button = QPushButton("Remove")
        self.remove_button.clicked.connect(self._remove)
        self.default_button = QPushButton("Use for local AI")
        self.default_button.clicked.connect(self._make_default)
        for b in (self.add_button, self.remove_button, self.default_button):
            row.addWidget(b)
        v.addLayout(row)
        self.info = QPlainTextEdit()
        self.info.setReadOnly(True)
        self.info.setMaximumHeight(140)
        v.addWidget(self.info)
        layout.addWidget(box)

        # -- local settings, routing and providers --
        form_box = QGroupBox("Routing and providers")
        form = QFormLayout(form_box)
        self.local_only = QCheckBox("Never send prompts off this machine (ai.local_only)")
        form.addRow(self.local_only)
        self.threads = QSpinBox()
        self.threads.setRange(1, 64)
        form.addRow("Local threads (generation)", self.threads)
        self.threads_batch = QSpinBox()
        self.threads_batch.setRange(0, 256)
        self.threads_batch.setSpecialValueText("all cores")
        form.addRow("Local threads (prompt)", self.threads_batch)
        self.routes: dict[str, QLineEdit] = {}
        for task, title in TASK_TITLES.items():
            edit = QLineEdit()
            edit.setPlaceholderText("local, server, anthropic:claude-…")
            self.routes[task] = edit
            form.addRow(f"{title} route", edit)
        self.endpoints: dict[str, tuple[QLineEdit, QLineEdit, QLabel]] = {}
        for name in REMOTE:
            url, model, key = QLineEdit(), QLineEdit(), QLabel()
            key.setWordWrap(True)
            self.endpoints[name] = (url, model, key)
            form.addRow(f"{name} URL", url)
            form.addRow(f"{name} model", model)
            form.addRow(f"{name} key", key)
        self.save_button = QPushButton("Save settings")
        self.save_button.clicked.connect(self.save)
        form.addRow(self.save_button)
        self.message = QLabel()
        self.message.setWordWrap(True)
        form.addRow(self.message)
        layout.addWidget(form_box)
        self.refresh()
        self._show_state()

    # -- reading -------------------------------------------------------------------------------

    def _show_state(self) -> None:
        """Show the local model's latest state (GUI thread, from ``ModelState`` events)."""
        try:
            active = self.app.ai.active_model("chat")
        except Exception:
            active = "local:?"
        text, tip = describe(active, dict(self.app.ai.model_state))
        self.state_label.setText(f"Model: {text}")
        self.state_label.setToolTip(tip)

    def refresh(self) -> None:
        s = self.app.settings
        current = s.get("ai.local.model")
        self.list.clear()
        for entry in models.list_models():
            label = entry.id + ("  (built in)" if entry.builtin else "") + ("  ✓ in use" if entry.id == current else "")
            item = QListWidgetItem(label)
            item.setData(256, entry.id)
            item.setToolTip(entry.path)
            self.list.addItem(item)
        self.local_only.setChecked(bool(s.get("ai.local_only")))
        self.local_only.setEnabled(not s.locked("ai.local_only"))
        self.threads.setValue(int(s.get("ai.local.threads")))
        self.threads_batch.setValue(int(s.get("ai.local.threads_batch") or 0))
        for task, edit in self.routes.items():
            edit.setText(", ".join(s.section("ai.routing").get(task, [])))
        for name, (url, model, key) in self.endpoints.items():
            url.setText(str(s.get(f"ai.providers.{name}.base_url")))
            model.setText(str(s.get(f"ai.providers.{name}.model")))
            value, where = keys.get_key(name)
            key.setText(f"from {where}" if value else f"missing. {keys.where_to_put(name)}")

    def selected_id(self) -> str | None:
        item = self.list.currentItem()
        return item.data(256) if item else None

    def _show_info(self) -> None:
        model_id = self.selected_id()
        if not model_id:
            self.info.setPlainText("")
            return
        self.info.setPlainText("Reading the model file…")

        def read(ctx, mid):
            return mid, models.model_info(mid).summary()

        def shown(result):
            mid, summary = result
            if mid != self.selected_id():
                return
            template = summary.pop("chat_template") or "(none: the model family's format is used)"
            lines = [f"{k}: {v}" for k, v in summary.items()] + [f"chat_template: {template[:200]}"]
            self.info.setPlainText("\n".join(lines))

        def failed(exc):
            self.info.setPlainText(str(exc))

        self.app.tasks.submit(read, model_id, name="model info", on_done=shown, on_error=failed)

    # -- changing ------------------------------------------------------------------------------
    def _pick_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Add a GGUF model", "", "GGUF models (*.gguf);;All files (*)")
        if path:
            self.add_path(path)

    def add_path(self, path: str) -> None:
        try:
            entry = models.add_model(path)
        except errors.AIError as exc:
            self.message.setText(str(exc))
            return
        self.message.setText(f"Added {entry.id}.")
        self.refresh()

    def _remove(self) -> None:
        model_id = self.selected_id()
        if not model_id:
            return
        try:
            models.remove_model(model_id)
        except (errors.AIError, ValueError) as exc:
            self.message.setText(str(exc))
            return
        self.message.setText(f"Removed {model_id} (the file was left in place).")
        self.refresh()

    def _make_default(self) -> None:
        model_id = self.selected_id()
        if model_id:
            self.app.settings.set_user("ai.local.model", model_id)
            self.message.setText(f"Local AI now uses {model_id}.")
            self.refresh()

    def save(self) -> None:
        s = self.app.settings
        try:
            if not s.locked("ai.local_only"):
                s.set_user("ai.local_only", self.local_only.isChecked())
            s.set_user("ai.local.threads", self.threads.value())
            s.set_user("ai.local.threads_batch", self.threads_batch.value())
            for task, edit in self.routes.items():
                entries = [e.strip() for e in edit.text().split(",") if e.strip()] or ["local"]
                s.set_user(f"ai.routing.{task}", entries)
            for name, (url, model, _key) in self.endpoints.items():
                s.set_user(f"ai.providers.{name}.base_url", url.text().strip())
                s.set_user(f"ai.providers.{name}.model", model.text().strip())
        except (KeyError, TypeError, RuntimeError, OSError) as exc:
            self.message.setText(f"Could not save: {exc}")
            return
        self.message.setText("Saved.")
        self.refresh()


def create(window: Any) -> ModelsPanel:
    return ModelsPanel(window.app, window)


PANEL = PanelSpec(id="models", title="AI Models", area="right", factory=create, order=80)
