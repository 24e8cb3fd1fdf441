"""The plugin API, version ``API_VERSION``: what a plugin declares and what it may contribute.

A plugin is a module (or package) that defines::

    PLUGIN = PluginInfo(name="todo", version="1.0", api_version="1", description="...")

    def activate(api: PluginAPI) -> None:
        api.add_command("todo.list", "TODO: List all", run=lambda window: ...)

``activate`` runs once, on the loader's thread, under a time budget; everything it adds goes into
its own ``Contributions``, which the rest of MarieIDE reads from ``app.plugins`` (the commands reach
the palette, the panels the window, the tools the agent ...). A plugin never patches MarieIDE's own
objects: what it can do is exactly the methods below. See plugins/README.md for the guide.

Compatibility: ``api_version`` is "MAJOR" or "MAJOR.MINOR". A plugin loads when its major equals
``API_MAJOR`` and its minor is not newer than ``API_MINOR``; minor versions only add methods.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

API_MAJOR = 1
API_MINOR = 0
API_VERSION = f"{API_MAJOR}.{API_MINOR}"


class PluginError(Exception):
    """A plugin declared something invalid; the message names the plugin and what is wrong."""


@dataclass(frozen=True)
class PluginInfo:
    name: str
    version: str
    api_version: str
    description: str = ""


def compatible(api_version: str) -> tuple[bool, str]:
    """Whether a plugin written for ``api_version`` can load here, and why not."""
    try:
        parts = [int(p) for p in str(api_version).split(".")]
    except ValueError:
        return False, f"api_version {api_version!r} is not MAJOR or MAJOR.MINOR"
    major, minor = parts[0], (parts[1] if len(parts) > 1 else 0)
    if major != API_MAJOR:
        return False, f"written for plugin API {api_version}, this MarieIDE has {API_VERSION}"
    if minor > API_MINOR:
        return False, f"needs plugin API {api_version}, this MarieIDE has {API_VERSION} (update MarieIDE)"
    return True, ""


@dataclass(frozen=True)
class CommandContribution:
    id: str
    title: str
    run: Callable[[Any], Any]          # run(window) on the GUI thread (palette, menus, `marie remote`);
                                       # window.app is the App
    shortcut: str | None = None
    category: str = "Plugins"


@dataclass(frozen=True)
class PanelContribution:
    id: str
    title: str
    area: str                          # "left" | "right" | "bottom"
    factory: Callable[[Any], Any]      # factory(window) -> QWidget, GUI thread
    shortcut: str | None = None


@dataclass(frozen=True)
class EditorFeatureContribution:
    id: str
    install: Callable[[Any, Any], Any]  # install(editor, host) on the GUI thread, per editor


@dataclass(frozen=True)
class LspServerContribution:
    language: str                      # language id ("toy", "rust", ...)
    command: tuple[str, ...]           # the server's argv
    extensions: tuple[str, ...] = ()   # file extensions it serves (".toy")


@dataclass(frozen=True)
class ProviderContribution:
    name: str                          # routing name, e.g. "myllm"
    factory: Callable[[dict], Any]     # factory(config) -> marie.ai.provider.Provider


@dataclass(frozen=True)
class AgentToolContribution:
    name: str
    description: str
    parameters: dict                   # JSON schema of the arguments (an object)
    run: Callable[[Any, dict], str]    # run(app, arguments) -> result text, on the agent's thread
    read_only: bool = True             # plan mode offers read-only tools only


@dataclass(frozen=True)
class ContextProviderContribution:
    name: str
    provide: Callable[[Any, str], list[tuple[str, str]]]  # provide(app, instruction) -> [(title, text)]


@dataclass(frozen=True)
class FormatterContribution:
    name: str
    languages: tuple[str, ...]         # language ids it formats ("python")
    format: Callable[[str, str], str]  # format(path, text) -> text; worker thread; raise to refuse


@dataclass
class Contributions:
    """Everything one plugin added. Read-only to everyone but its plugin's ``PluginAPI``."""

    commands: list[CommandContribution] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)
    panels: list[PanelContribution] = field(default_factory=list)
    editor_features: list[EditorFeatureContribution] = field(default_factory=list)
    lsp_servers: list[LspServerContribution] = field(default_factory=list)
    providers: list[ProviderContribution] = field(default_factory=list)
    agent_tools: list[AgentToolContribution] = field(default_factory=list)
    context_providers: list[ContextProviderContribution] = field(default_factory=list)
    formatters: list[FormatterContribution] = field(default_factory=list)

    def summary(self) -> dict[str, int]:
        """How many of each kind (for ``marie plugins list`` and the Plugins panel)."""
        return {name: len(value) for name, value in vars(self).items() if value}


class PluginAPI:
    """What ``activate(api)`` receives. Each ``add_*`` validates and records one contribution.

    ``app`` is MarieIDE's composition root (services: index, git, checkpoints, writes, ai, lsp ...);
    a plugin reads through it and writes only through ``app.writes``. After the load budget runs out
    the API is sealed, and later calls raise, so a slow plugin cannot add things half-way.
    """

    def __init__(self, info: PluginInfo, app: Any) -> None:
        self.info = info
        self.app = app
        self.contributions = Contributions()
        self.sealed = False

    def _check(self, kind: str, name: str) -> None:
        if self.sealed:
            raise PluginError(f"plugin {self.info.name!r} added a {kind} after its load budget ran out")
        if not name or not isinstance(name, str):
            raise PluginError(f"plugin {self.info.name!r}: a {kind} needs a non-empty name")

    def setting(self, key: str) -> Any:
        """The value of ``plugins.<plugin name>.<key>`` (its declared default if unset)."""
        full = f"plugins.{self.info.name}.{key}"
        try:
            return self.app.settings.get(full)
        except KeyError:
            return self.contributions.settings.get(key)

    def add_settings(self, defaults: dict[str, Any]) -> None:
        """Declare settings with defaults, read back with ``api.setting(key)``; they live under
        ``[plugins.<name>]`` in settings.toml."""
        self._check("settings block", "settings")
        for key, value in defaults.items():
            if not isinstance(key, str) or "." in key:
                raise PluginError(f"plugin {self.info.name!r}: setting names are plain words, not {key!r}")
            self.contributions.settings[key] = value

    def add_command(self, id: str, title: str, run: Callable[[Any], Any], shortcut: str | None = None,
                    category: str = "Plugins") -> None:
        self._check("command", id)
        self.contributions.commands.append(CommandContribution(id, title, run, shortcut, category))

    def add_panel(self, id: str, title: str, factory: Callable[[Any], Any], area: str = "bottom",
                  shortcut: str | None = None) -> None:
        self._check("panel", id)
        if area not in ("left", "right", "bottom"):
            raise PluginError(f"plugin {self.info.name!r}: panel area must be left, right or bottom, not {area!r}")
        self.contributions.panels.append(PanelContribution(id, title, area, factory, shortcut))

    def add_editor_feature(self, id: str, install: Callable[[Any, Any], Any]) -> None:
        self._check("editor feature", id)
        self.contributions.editor_features.append(EditorFeatureContribution(id, install))

    def add_lsp_server(self, language: str, command: list[str] | tuple[str, ...],
                       extensions: list[str] | tuple[str, ...] = ()) -> None:
        self._check("language server", language)
        if not command:
            raise PluginError(f"plugin {self.info.name!r}: the {language} server needs a command")
        self.contributions.lsp_servers.append(
            LspServerContribution(language, tuple(command), tuple(e if e.startswith(".") else f".{e}" for e in extensions)))

    def add_provider(self, name: str, factory: Callable[[dict], Any]) -> None:
        self._check("model provider", name)
        self.contributions.providers.append(ProviderContribution(name, factory))

    def add_agent_tool(self, name: str, description: str, parameters: dict, run: Callable[[Any, dict], str],
                       read_only: bool = True) -> None:
        self._check("agent tool", name)
        if not isinstance(parameters, dict) or parameters.get("type") != "object":
            raise PluginError(f"plugin {self.info.name!r}: tool {name!r} needs a JSON schema of type object")
        self.contributions.agent_tools.append(AgentToolContribution(name, description, parameters, run, read_only))

    def add_context_provider(self, name: str, provide: Callable[[Any, str], list[tuple[str, str]]]) -> None:
        self._check("context provider", name)
        self.contributions.context_providers.append(ContextProviderContribution(name, provide))

    def add_formatter(self, name: str, languages: list[str] | tuple[str, ...], format: Callable[[str, str], str]) -> None:
        self._check("formatter", name)
        self.contributions.formatters.append(FormatterContribution(name, tuple(languages), format))
