"""MCP client: the tools of the MCP servers named in ``[agent.mcp.servers.NAME]`` (stdio: ``command``
and ``args``; streamable HTTP: ``url``), offered to the model as ``NAME__tool`` under the same
permissions as the built-in tools. Built on the ``mcp`` SDK's ``Client``.

The SDK is async; ``MCPTools`` runs one asyncio loop on its own thread, where each server's client
lives in a task from connect to close (the SDK wants a context entered and left in one task).
``start`` and tool calls block the calling (worker) thread. A server that fails to start is
reported in ``failures`` and the others go on. Every call is logged (``calls`` and the log).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from marie.agent.budget import cut
from marie.agent.tools.base import AgentTool, ToolContext, ToolError, ToolOutput

log = logging.getLogger(__name__)
SEPARATOR = "__"


@dataclass
class MCPCall:
    server: str
    tool: str
    arguments: dict
    ok: bool
    seconds: float
    result: str = ""


@dataclass
class _Server:
    name: str
    config: dict
    client: Any = None
    tools: list = field(default_factory=list)
    task: Any = None


def _safe_name(text: str) -> str:
    # Tool names the providers accept: letters, digits, '_' and '-'.
    return re.sub(r"[^A-Za-z0-9_-]", "_", text)


class MCPTools:
    def __init__(self, servers: dict[str, dict], start_timeout_s: float = 30.0, gate: Any = None) -> None:
        """``gate(destination, text, local)`` is the governance gate for data leaving to a server
        (``app.ai.gate_text``): it may refuse (raises) or redact; its outcome's ``restore`` maps the
        answer back."""
        self.gate = gate
        self.configs = {str(k): dict(v) for k, v in (servers or {}).items() if isinstance(v, dict)}
        self.start_timeout_s = start_timeout_s
        self.failures: dict[str, str] = {}
        self.calls: list[MCPCall] = []
        self._servers: dict[str, _Server] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stop: asyncio.Event | None = None

    # -- lifetime ----------------------------------------------------------------------------
    def start(self) -> None:
        """Connect to every server (in parallel); blocking (worker thread)."""
        if not self.configs:
            return
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True, name="marie-agent-mcp")
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._start_all(), self._loop)
        try:
            future.result(self.start_timeout_s + 5)
        except Exception as exc:  # a bug in one server's start must not stop the run
            log.exception("MCP start failed")
            self.failures.setdefault("*", str(exc))

    async def _start_all(self) -> None:
        self._stop = asyncio.Event()
        waits = []
        for name, config in self.configs.items():
            server = _Server(name, config)
            ready: asyncio.Future = asyncio.get_running_loop().create_future()
            server.task = asyncio.create_task(self._serve(server, ready))
            waits.append((server, ready))
        for server, ready in waits:
            try:
                await asyncio.wait_for(asyncio.shield(ready), float(server.config.get("timeout_s", self.start_timeout_s)))
                self._servers[server.name] = server
            except Exception as exc:
                self.failures[server.name] = _describe(exc)
                server.task.cancel()

    async def _serve(self, server: _Server, ready: asyncio.Future) -> None:
        from mcp import Client, StdioServerParameters

        config = server.config
        try:
            if config.get("url"):
                target: Any = str(config["url"])
            elif config.get("command"):
                target = StdioServerParameters(command=str(config["command"]),
                                               args=[str(a) for a in config.get("args", [])],
                                               env={str(k): str(v) for k, v in dict(config.get("env", {})).items()} or None,
                                               cwd=config.get("cwd"))
            else:
                raise ValueError("give either command (stdio) or url (streamable HTTP)")
            async with Client(target, read_timeout_seconds=float(config.get("timeout_s", 30.0))) as client:
                listing = await client.list_tools()
                server.client, server.tools = client, list(listing.tools)
                ready.set_result(True)
                assert self._stop is not None
                await self._stop.wait()
        except BaseException as exc:
            if not ready.done():
                ready.set_exception(exc if isinstance(exc, Exception) else RuntimeError(str(exc)))
            elif not isinstance(exc, (asyncio.CancelledError, GeneratorExit)):
                log.warning("MCP server %s stopped: %s", server.name, exc)
            if isinstance(exc, asyncio.CancelledError):
                raise

    def close(self) -> None:
        """Disconnect every server and stop the loop thread. Any thread."""
        loop = self._loop
        if loop is None:
            return
        self._loop = None

        async def stop() -> None:
            if self._stop is not None:
                self._stop.set()
            tasks = [s.task for s in self._servers.values() if s.task is not None]
            if tasks:
                await asyncio.wait(tasks, timeout=5)

        try:
            asyncio.run_coroutine_threadsafe(stop(), loop).result(10)
        except Exception:
            log.debug("MCP shutdown", exc_info=True)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(5)

    # -- tools -------------------------------------------------------------------------------
    def tools(self) -> list[AgentTool]:
        out = []
        for server in self._servers.values():
            for tool in server.tools:
                name = f"{_safe_name(server.name)}{SEPARATOR}{_safe_name(tool.name)}"
                params = dict(tool.input_schema or {"type": "object", "properties": {}})
                params.setdefault("type", "object")
                params.setdefault("properties", {})
                out.append(AgentTool(name, f"[MCP server {server.name}] {tool.description or tool.name}", params,
                                     "other", self._runner(server.name, tool.name),
                                     lambda a: json.dumps(a, sort_keys=True)))
        return out

    def _runner(self, server_name: str, tool_name: str):
        def run(ctx: ToolContext, args: dict) -> ToolOutput:
            return self.call(server_name, tool_name, args, ctx)
        return run

    def call(self, server_name: str, tool_name: str, args: dict, ctx: ToolContext | None = None) -> ToolOutput:
        """Call one MCP tool; blocking (worker thread). Cancelling the run's token abandons the call."""
        server = self._servers.get(server_name)
        if server is None or self._loop is None:
            raise ToolError(f"the MCP server {server_name} is not connected")
        started = time.perf_counter()
        restore = None
        if self.gate is not None:
            url = str(server.config.get("url") or "")
            local = not url or _loopback(url)
            try:
                outcome = self.gate(url or f"mcp:{server_name}", json.dumps(args, ensure_ascii=False), local)
                args = json.loads(outcome.request.messages[0].content)
                restore = getattr(outcome, "restore", None)
            except ValueError as exc:
                raise ToolError(f"the governance gate changed the arguments into something that is not JSON: {exc}") \
                    from None
            except Exception as exc:   # Refused: nothing was sent
                raise ToolError(f"not sent to the MCP server {server_name}: {exc}") from None
        future = asyncio.run_coroutine_threadsafe(server.client.call_tool(tool_name, args), self._loop)
        if ctx is not None:
            ctx.token.on_cancel(lambda: None if future.cancel() else None)
        ok, text = False, ""
        try:
            result = future.result(float(server.config.get("timeout_s", 30.0)) + 5)
            parts = []
            for block in result.content:
                parts.append(getattr(block, "text", None) or f"[{getattr(block, 'type', 'content')}]")
            if not parts and result.structured_content is not None:
                parts.append(json.dumps(result.structured_content))
            text = "\n".join(parts)
            if restore is not None:
                text = restore(text)
            ok = not result.is_error
        except Exception as exc:
            text = f"the MCP call failed: {_describe(exc)}"
        seconds = time.perf_counter() - started
        self.calls.append(MCPCall(server_name, tool_name, dict(args), ok, seconds, text[:2000]))
        log.info("MCP call %s.%s(%s) -> %s in %.2f s", server_name, tool_name, json.dumps(args)[:200],
                 "ok" if ok else "error", seconds)
        if not ok:
            raise ToolError(text or f"{server_name}.{tool_name} reported an error")
        budget = ctx.result_tokens if ctx is not None else 2000
        return ToolOutput(cut(text, budget, "result"), f"{server_name}.{tool_name}: {text[:60]!r}")


def _loopback(url: str) -> bool:
    import httpx

    return httpx.URL(url).host in ("127.0.0.1", "localhost", "::1")


def _describe(exc: BaseException) -> str:
    # Task groups wrap the real cause: show the innermost messages.
    inner = getattr(exc, "exceptions", None)
    if inner:
        return "; ".join(_describe(e) for e in inner)
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
