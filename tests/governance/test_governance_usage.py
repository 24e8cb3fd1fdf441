"""Usage reports (per day/provider/model/task, CSV and HTML with SVG charts), budgets that warn or
stop, and the Usage panel's chart driven with real keys."""

from __future__ import annotations

import time

import pytest

from marie.ai import errors
from marie.ai.types import ChatRequest, Message, Usage
from marie.governance import usage_report
from marie.governance.events import BudgetAlert
from tests.conftest import run_python
from tests.governance.helpers import make_app


def seed(store) -> None:
    store.record("composer", "openai", "gpt-4o-mini", Usage(1000, 200, cost_usd=0.30))
    store.record("chat", "local", "gemma3-270m", Usage(50, 20))
    store.record("commit_message", "anthropic", "claude-3-5-haiku", Usage(400, 30, cost_usd=0.05), ok=False)


def test_totals_csv_and_html(tmp_path):
    from marie.ai.usage import UsageStore

    store = UsageStore(tmp_path / "u.sqlite")
    seed(store)
    rows = store.rows()
    by_provider = dict(usage_report.totals(rows, "provider"))
    assert by_provider["openai"]["tokens"] == 1200 and by_provider["anthropic"]["failed"] == 1
    assert [k for k, _ in usage_report.totals(rows, "provider")][0] == "openai"   # highest cost first
    assert set(dict(usage_report.totals(rows, "task"))) == {"composer", "chat", "commit_message"}
    csv_text = usage_report.to_csv(rows)
    today = time.strftime("%Y-%m-%d")
    assert f"{today},openai,gpt-4o-mini,composer,1,0,1000,200,0,0.3" in csv_text
    page = usage_report.to_html(rows, [("day", 0.35, 0.10)])
    assert page.count("<svg") == 8 and "Cost per provider" in page and "(over)" in page


def test_usage_report_cli(tmp_path):
    from marie.ai.usage import UsageStore

    home = tmp_path / "home"
    seed(UsageStore(home / "data" / "usage.sqlite"))
    env = {"MARIE_HOME": str(home), "MARIE_POLICY": str(tmp_path / "none.toml")}
    out = tmp_path / "r.html"
    done = run_python("import sys; from marie.cli import main; sys.exit(main(sys.argv[1:]))",
                      "usage", "report", "--format", "html", "-o", str(out), env=env)
    assert done.returncode == 0, done.stderr
    assert "<svg" in out.read_text() and "gpt-4o-mini" in out.read_text()
    done = run_python("import sys; from marie.cli import main; sys.exit(main(sys.argv[1:]))",
                      "usage", "report", "--format", "csv", env=env)
    assert done.stdout.splitlines()[0].startswith("day,provider,model,task")
    assert len(done.stdout.splitlines()) == 4


def test_budget_stop_refuses_remote_requests(tmp_path, monkeypatch):
    app = make_app(tmp_path, monkeypatch, user={"ai": {"providers": {"openai": {
        "base_url": "http://203.0.113.9:9/v1", "needs_key": False, "timeout_s": 1.0}}, "routing": {"chat": ["openai"]}}},
        policy={"governance": {"budget": {"daily_usd": 0.25, "action": "stop"}}})
    alerts: list[BudgetAlert] = []
    app.events.on(BudgetAlert, alerts.append)
    try:
        seed(app.ai.usage)
        with pytest.raises(errors.Refused, match="daily AI budget"):
            app.ai.complete("chat", ChatRequest([Message("user", "hi")]))
        assert alerts and alerts[0].period == "day" and alerts[0].action == "stop"
    finally:
        app.close()


def test_usage_panel_chart_follows_the_choices(qtbot, tmp_path, monkeypatch):
    from PySide6.QtCore import Qt

    from marie.ui.dispatcher import QtDispatcher
    from marie.ui.panels.usage import UsagePanel

    app = make_app(tmp_path, monkeypatch, dispatcher=QtDispatcher())
    try:
        seed(app.ai.usage)
        panel = UsagePanel(app)
        qtbot.addWidget(panel)
        panel.show()
        qtbot.waitUntil(lambda: panel.summary.text().startswith("3 requests"), timeout=5000)
        assert "1,700 tokens" in panel.summary.text()
        assert [label for label, _ in panel.chart.items] == [time.strftime("%Y-%m-%d")]
        panel.group_box.setFocus()
        qtbot.keyClick(panel.group_box, Qt.Key.Key_Down)          # per provider
        assert panel.group_box.currentData() == "provider"
        assert {label for label, _ in panel.chart.items} == {"openai", "anthropic", "local"}
        panel.metric_box.setFocus()
        qtbot.keyClick(panel.metric_box, Qt.Key.Key_Down)         # cost
        assert dict(panel.chart.items)["openai"] == pytest.approx(0.30)
        assert panel.chart.value_text(0.3) == "$0.3000"
        panel.chart.grab()   # paints without error
    finally:
        app.close()
