"""``AgentService``: builds agent runs for the pane, the CLI and the tests, keeps the session store
and the MCP connections (started once, on first use, from ``[agent.mcp.servers]``).

``agent_service(app)`` returns the app's one instance (the composition root may expose it as
``app.agent``). ``start_run``/``reopen`` are cheap; ``mcp_tools`` connects servers and blocks
(worker thread)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from marie.agent.loop import AgentRun, Approver
from marie.agent.mcp_client import MCPTools
from marie.agent.session import AgentSession, SessionStore
from marie.agent.tools.registry import builtin_tools


class AgentService:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.store = SessionStore(Path(app.data_dir) / "agent")
        self._mcp: MCPTools | None = None
        self._lock = threading.Lock()

    def mcp(self) -> MCPTools:
        """The MCP servers of the settings, connected on first use. Worker thread (blocks)."""
        with self._lock:
            if self._mcp is None:
                servers = dict(self.app.settings.get("agent.mcp.servers") or {})
                refused = self._refused_remote(servers)
                self._mcp = MCPTools({k: v for k, v in servers.items() if k not in refused}, gate=self._gate())
                self._mcp.start()
                self._mcp.failures.update(refused)
                for name, why in self._mcp.failures.items():
                    self.app.events.notice(f"MCP server {name} did not start: {why}", "warning")
            return self._mcp

    def _gate(self):
        """The governance gate for MCP calls (``app.ai.gate_text``), when governance provides one."""
        gate_text = getattr(self.app.ai, "gate_text", None)
        if gate_text is None:
            return None
        return lambda destination, text, local: gate_text("agent", destination, text, local=local)

    def _refused_remote(self, servers: dict) -> dict[str, str]:
        """HTTP servers off this machine, when ``ai.local_only`` keeps data on it: tool arguments
        (file contents, code) would leave the machine outside the AI gate."""
        if not self.app.settings.get("ai.local_only"):
            return {}
        import httpx

        out = {}
        for name, config in servers.items():
            url = str((config or {}).get("url") or "") if isinstance(config, dict) else ""
            if url and httpx.URL(url).host not in ("127.0.0.1", "localhost", "::1"):
                out[name] = f"refused: {url} is off this machine and ai.local_only is on"
        return out

    def tools(self):
        from marie.agent.tools.plugin_tools import plugin_tools

        return builtin_tools() + plugin_tools(self.app) + self.mcp().tools()

    def start_run(self, task: str, *, mode: str | None = None, model: str | None = None,
                  max_steps: int | None = None, approver: Approver | None = None, asker=None,
                  publish=None, apply_each: bool | None = None, tool_choice: str | None = None) -> AgentRun:
        """A new session and its run (not started: call ``run()`` on a worker)."""
        session = AgentSession(task, mode=mode or str(self.app.settings.get("agent.mode")), model=model or "")
        return AgentRun(self.app, session, tools=self.tools(), model=model, max_steps=max_steps, approver=approver,
                        asker=asker, publish=publish, store=self.store, apply_each=apply_each,
                        tool_choice=tool_choice)

    def reopen(self, session_id: str, **kw: Any) -> AgentRun:
        """A run that continues a saved session (``run(follow_up)``); its pending changes come back."""
        session = self.store.load(session_id)
        run = AgentRun(self.app, session, tools=self.tools(), model=kw.pop("model", None) or session.model or None,
                       store=self.store, **kw)
        if session.changes.get("files"):
            run.changes.restore(session.changes)
        return run

    def close(self) -> None:
        if self._mcp is not None:
            self._mcp.close()


def agent_service(app: Any) -> AgentService:
    """The app's agent service, created on first use and closed with the app."""
    existing = getattr(app, "agent", None) if "agent" in type(app).__dict__ else app.__dict__.get("_agent_service")
    if existing is not None:
        return existing
    with app._lock:
        existing = app.__dict__.get("_agent_service")
        if existing is None:
            existing = app._make(AgentService)
            app.__dict__["_agent_service"] = existing
    return existing
