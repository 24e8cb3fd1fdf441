"""The agent's system prompt, and the text forms of calls and results for models without native
tool calling (local llama.cpp models answer one JSON call at a time under a grammar). Pure."""

from __future__ import annotations

import json

SYSTEM = """You are MarieIDE's coding agent, working in the user's project.
Explore with the tools (read_file, list_folder, find_files, search, go_to_symbol, references, diagnostics,
git_status, git_diff), change files with edit (search/replace of exact lines, or the whole content), and
check your work with run_tests or run_command. When an edit or a command fails, read the error and try
again differently. Ask the user (ask_user) only when you cannot decide yourself. When the task is done,
answer with a short summary of what you changed and why, without calling a tool."""

GRAMMAR_FORMAT = """Answer with exactly one JSON object per turn: {"tool": NAME, "arguments": {...}} to call a
tool, or {"tool": "answer", "arguments": {"text": "..."}} when you are done. The tools:
"""


def system_prompt(tools_text: str = "", grammar: bool = False, rules: str = "") -> str:
    text = SYSTEM
    if rules:
        text += "\n\nProject rules (.marie/rules.md):\n" + rules.strip()
    if grammar:
        text += "\n\n" + GRAMMAR_FORMAT + tools_text
    return text


def call_text(name: str, arguments: dict) -> str:
    return json.dumps({"tool": name, "arguments": arguments}, ensure_ascii=False)


def result_text(name: str, call_id: str, result: str) -> str:
    return f"Result of {name} ({call_id}):\n{result}"
