"""The tutorial plugin (plugins/README.md walks through it): a command, a setting and an agent tool.

"Word Count: Current File" shows the number of words in the open file; the agent tool
``count_words`` counts the words of a workspace file for the model.
"""

from __future__ import annotations

from typing import Any

from marie.plugins.api import PluginAPI, PluginInfo

PLUGIN = PluginInfo(name="word_count", version="1.0", api_version="1.0",
                    description="Tutorial: count the words of a file")


def count_words(text: str, min_length: int = 1) -> int:
    return sum(1 for word in text.split() if len(word) >= min_length)


def activate(api: PluginAPI) -> None:
    # Settings live under [plugins.word_count] in settings.toml.
    api.add_settings({"min_length": 1})

    def show(window: Any) -> None:
        editor = window.current_editor()
        if editor is None:
            window.show_message("Open a file to count its words", "warning")
            return
        n = count_words(editor.text(), int(api.setting("min_length") or 1))
        window.show_message(f"{n:,} words")

    api.add_command("word_count.current", "Word Count: Current File", show, category="Word Count")

    def tool(app: Any, arguments: dict) -> str:
        from marie.workspace.guard import resolve_inside

        path = resolve_inside(app.root, str(arguments["path"]))  # refuses paths outside the workspace
        return f"{count_words(path.read_text(encoding='utf-8', errors='replace')):,} words"

    api.add_agent_tool("count_words", "Count the words in a workspace file.",
                       {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]},
                       tool)
