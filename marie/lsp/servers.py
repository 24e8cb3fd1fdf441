"""Which server runs for which language, and with what settings.

Python defaults to python-lsp-server run by MarieIDE's own interpreter (``sys.executable -m pylsp``)
in an EMPTY working folder, so a user's ``json.py`` or ``typing.py`` cannot shadow the standard
library inside the server. Other languages come from the free-form ``lsp.servers`` settings table
(command, args, settings, initialization_options, and ``extensions``: the file types it serves
when MarieIDE does not know the language, e.g. ``extensions = [".toy"]``), with well-known defaults used only when their
command is installed. Pure functions over settings; any thread.
"""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from marie.core.python_cmd import module_command

# Commands tried when the user configured nothing for a language (used only if on PATH).
WELL_KNOWN: dict[str, list[str]] = {
    "typescript": ["typescript-language-server", "--stdio"],
    "javascript": ["typescript-language-server", "--stdio"],
    "go": ["gopls"],
    "rust": ["rust-analyzer"],
    "c": ["clangd"],
    "cpp": ["clangd"],
}

# LSP languageId for our language ids where they differ.
LANGUAGE_IDS = {"javascript": "javascript", "typescript": "typescript", "cpp": "cpp", "shell": "shellscript"}


@dataclass(frozen=True)
class ServerSpec:
    language: str
    command: tuple[str, ...]
    settings: dict = field(default_factory=dict, hash=False, compare=False)
    initialization_options: dict = field(default_factory=dict, hash=False, compare=False)
    empty_cwd: bool = False       # run in a fresh empty folder (python: no stdlib shadowing)
    builtin: bool = False         # the default pylsp spec (jedi fallback applies)
    # How the server counts characters when it does not say (LSP default: utf-16). python-lsp-server
    # indexes Python strings, i.e. code points ("utf-32"), whatever the protocol says.
    position_encoding: str = "utf-16"

    @property
    def name(self) -> str:
        return Path(self.command[0]).name if self.command else self.language

    def available(self) -> bool:
        """True when the command can be found (a path that exists or a name on PATH)."""
        if not self.command:
            return False
        exe = self.command[0]
        return Path(exe).is_file() if ("/" in exe or "\\" in exe) else shutil.which(exe) is not None


def language_id(language: str) -> str:
    return LANGUAGE_IDS.get(language, language)


def pylsp_settings(section: dict[str, Any]) -> dict:
    """The ``pylsp`` configuration from the ``lsp.python`` settings: fast plugins only by default."""
    formatter = section.get("formatter", "autopep8")
    plugins: dict[str, dict] = {
        "pyflakes": {"enabled": bool(section.get("pyflakes", True))},
        "pycodestyle": {"enabled": bool(section.get("pycodestyle", True)),
                        "maxLineLength": int(section.get("max_line_length", 100))},
        "pylint": {"enabled": bool(section.get("pylint", False))},
        "mccabe": {"enabled": bool(section.get("mccabe", False))},
        "pydocstyle": {"enabled": bool(section.get("pydocstyle", False))},
        "flake8": {"enabled": bool(section.get("flake8", False))},
        "rope_autoimport": {"enabled": bool(section.get("rope_autoimport", False)),
                            "completions": {"enabled": False}, "code_actions": {"enabled": False}},
        "rope_completion": {"enabled": bool(section.get("rope_completion", False))},
        "autopep8": {"enabled": formatter == "autopep8"},
        "yapf": {"enabled": formatter == "yapf"},
        "preload": {"enabled": False},
        "jedi_completion": {"enabled": True, "include_params": True, "fuzzy": False, "eager": False,
                            "resolve_at_most": 25, "cache_for": ["numpy", "pandas", "PySide6"]},
    }
    config: dict[str, Any] = {"plugins": plugins}
    extra = section.get("extra") or {}
    return {"pylsp": _merge(config, extra)}


def _merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for key, value in over.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def configured_language(path: str | Path, settings: Any) -> str | None:
    """The language whose ``lsp.servers`` table lists ``path``'s extension (or whole file name)."""
    servers = settings.get("lsp.servers", {}) or {}
    if not isinstance(servers, dict):
        return None
    name = Path(path).name.lower()
    suffix = Path(name).suffix
    for language, table in servers.items():
        extensions = table.get("extensions") if isinstance(table, dict) else None
        if isinstance(extensions, str):
            extensions = [extensions]
        for ext in extensions or []:
            ext = str(ext).strip().lower()
            if ext and (name == ext or suffix == (ext if ext.startswith(".") else "." + ext)):
                return str(language)
    return None


def spec_for(language: str, settings: Any) -> ServerSpec | None:
    """The server for ``language`` under these settings, or None when none is configured/installed."""
    servers = settings.get("lsp.servers", {}) or {}
    user = servers.get(language) if isinstance(servers, dict) else None
    if language == "python":
        section = settings.section("lsp.python")
        command = (section.get("command") or "").strip()
        if isinstance(user, dict) and user.get("command"):
            command = ""
        else:
            cmd = tuple(command.split()) if command else tuple(module_command("pylsp"))
            return ServerSpec("python", cmd, pylsp_settings(section), {}, empty_cwd=True, builtin=not command,
                              position_encoding="utf-32")
    if isinstance(user, dict) and user.get("command"):
        raw = user["command"]
        argv: list[str] = [raw] if isinstance(raw, str) else [str(a) for a in raw]
        argv += [str(a) for a in user.get("args") or []]
        return ServerSpec(language, tuple(argv), dict(user.get("settings") or {}),
                          dict(user.get("initialization_options") or {}),
                          empty_cwd=bool(user.get("empty_cwd", False)), builtin=False,
                          position_encoding=str(user.get("position_encoding") or "utf-16"))
    default = WELL_KNOWN.get(language)
    if default and shutil.which(default[0]):
        return ServerSpec(language, tuple(default))
    return None


def plugin_language(path: str | Path, contributions: list[Any]) -> str | None:
    """The language of a plugin's server (``marie.plugins``) that lists ``path``'s extension."""
    suffix = Path(str(path)).suffix.lower()
    for item in contributions:
        if suffix and suffix in (e.lower() for e in item.extensions):
            return str(item.language)
    return None


def plugin_spec(language: str, contributions: list[Any]) -> ServerSpec | None:
    """The ServerSpec of the first plugin server for ``language``, if any."""
    for item in contributions:
        if item.language == language:
            return ServerSpec(language, tuple(item.command), builtin=False)
    return None
