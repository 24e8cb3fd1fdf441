"""The AI models panel and the status-bar model widget, driven offscreen with pytest-qt."""

from __future__ import annotations

import os

from marie.ai import models
from marie.ui.model_status import ModelStatus
from marie.ui.panels.models import ModelsPanel
from tests.ai.helpers import make_ai_app


def test_status_widget_follows_load_state(qtbot, tmp_path, gemma_path):
    from marie.ui.dispatcher import QtDispatcher

    app = make_ai_app(tmp_path / "ui", dispatcher=QtDispatcher())
    try:
        widget = ModelStatus(app)
        qtbot.addWidget(widget)
        assert widget.text() == "AI: gemma3-270m · not loaded"
        task = app.ai.preload()  # background load; events arrive through the (inline) dispatcher
        task.result(60)
        qtbot.waitUntil(lambda: widget.state == "ready", timeout=10000)
        assert widget.text() == "AI: gemma3-270m · ready"
        assert "context 1024" in widget.toolTip()
    finally:
        app.close()


def test_panel_lists_adds_and_saves(qtbot, tmp_path, gemma_path, monkeypatch):
    from marie.ui.dispatcher import QtDispatcher

    for name in ("MARIE_OPENAI_API_KEY", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)

    app = make_ai_app(tmp_path / "ui2", dispatcher=QtDispatcher())
    try:
        panel = ModelsPanel(app)
        qtbot.addWidget(panel)
        assert panel.list.item(0).text().startswith("gemma3-270m")
        panel.list.setCurrentRow(0)
        qtbot.waitUntil(lambda: "Q4_K_M" in panel.info.toPlainText(), timeout=10000)
        link = tmp_path / "second.gguf"
        os.symlink(gemma_path, link)
        panel.add_path(str(link))
        assert any(panel.list.item(i).data(256) == "second" for i in range(panel.list.count()))
        panel.add_path(str(tmp_path / "missing.gguf"))
        assert "does not exist" in panel.message.text()
        panel.routes["chat"].setText("server, local")
        panel.local_only.setChecked(True)
        panel.save()
        assert app.settings.get("ai.routing.chat") == ["server", "local"]
        assert app.settings.get("ai.local_only") is True
        # No key anywhere: the panel says it is missing and where to put it.
        key_text = panel.endpoints["openai"][2].text()
        assert key_text.startswith("missing.") and "MARIE_OPENAI_API_KEY" in key_text
        models.remove_model("second")
    finally:
        app.close()
