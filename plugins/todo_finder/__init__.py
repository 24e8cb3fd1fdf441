"""TODO finder: every TODO, FIXME, XXX and HACK comment in the project, from the project index.

Contributes a "TODO: Show all" command and a TODOs panel (bottom), and an agent tool ``find_todos``
so the agent can answer "what is left to do in this module". The search runs through the index's
project search (ripgrep, ignore rules and .marieignore applied), never by walking the disk.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from marie.plugins.api import PluginAPI, PluginInfo

PLUGIN = PluginInfo(name="todo_finder", version="1.0", api_version="1.0",
                    description="TODO/FIXME/XXX/HACK comments across the project")

TAGS = ("TODO", "FIXME", "XXX", "HACK")
# A tag as a word followed by ':' '(' or a space, as people write them ("TODO(ann): ...", "FIXME ...").
PATTERN = r"\b(TODO|FIXME|XXX|HACK)\b[:( ]"


@dataclass(frozen=True)
class Todo:
    path: str
    line: int
    tag: str
    text: str


def find_todos(app: Any, under: str = "", limit: int = 2000) -> list[Todo]:
    """Every tagged comment (worker thread: it runs a project search)."""
    from marie.index.search import SearchOptions

    found: list[Todo] = []
    tag_re = re.compile(PATTERN)
    include = (f"{under.rstrip('/')}/**",) if under else ()

    def on_match(file_matches: Any) -> None:
        for match in file_matches.matches:
            line, text = match[0], match[2]
            tag = tag_re.search(text)
            if tag and len(found) < limit:
                found.append(Todo(file_matches.path, int(line), tag.group(1), text.strip()[:200]))

    app.index.search(PATTERN, SearchOptions(regex=True, case_sensitive=True, include=include,
                                            max_results=limit), on_match)
    return sorted(found, key=lambda t: (t.path, t.line))


def _tool(app: Any, arguments: dict) -> str:
    todos = find_todos(app, str(arguments.get("under", "") or ""), int(arguments.get("limit", 200) or 200))
    if not todos:
        return "no TODO/FIXME/XXX/HACK comments found"
    return "\n".join(f"{t.path}:{t.line}: {t.text}" for t in todos)


def activate(api: PluginAPI) -> None:
    api.add_agent_tool("find_todos", "List TODO/FIXME/XXX/HACK comments in the project (optionally under a folder).",
                       {"type": "object", "properties": {
                           "under": {"type": "string", "description": "folder to limit to, e.g. src/"},
                           "limit": {"type": "integer", "minimum": 1, "maximum": 2000}}},
                       _tool, read_only=True)

    def make_panel(window: Any) -> Any:
        # Qt only when the window asks for the panel: the CLI and the tests load this plugin too.
        from importlib import import_module

        return import_module(f"{__name__}.panel").TodoPanel(window, find_todos)

    api.add_panel("todos", "TODOs", make_panel, area="bottom")
    api.add_command("todo.show", "TODO: Show all", lambda window: window.show_panel("todos"))
