"""pytest runner: "Tests: Run All" runs the project's tests on a worker, the Tests panel lists the
results, a double-click jumps to a failure, and "Fix with the agent" hands the failure to the agent.

The logic (running pytest, reading its junit report) is in ``runner.py`` and has no Qt; the panel
is ``panel.py``, imported only when the window asks for it.
"""

from __future__ import annotations

from typing import Any

from marie.plugins.api import PluginAPI, PluginInfo

PLUGIN = PluginInfo(name="pytest_runner", version="1.0", api_version="1.0",
                    description="Run pytest, list results, jump to failures, fix with the agent")


def activate(api: PluginAPI) -> None:
    api.add_settings({"command": "", "args": []})

    def make_panel(window: Any) -> Any:
        from importlib import import_module

        return import_module(f"{__name__}.panel").TestsPanel(window, api)

    api.add_panel("tests", "Tests", make_panel, area="bottom")

    def run_all(window: Any) -> None:
        panel = window.show_panel("tests")
        if panel is not None:
            panel.run()

    api.add_command("tests.run_all", "Tests: Run All", run_all, category="Tests")
