"""The editor feature registry: features that live in every editor, independently of panels.

A feature (the git gutter, language features, the model-status widget, inline completion, the
terminal's links ...) is a module that defines ``FEATURE = FeatureSpec(...)``. The window's
``FeatureRegistry`` imports the modules named in ``FEATURE_MODULES`` (plus any added with
``register_module``), checks what each declares it ``requires`` (services of the app, other
features), runs its ``setup(host)`` once and its ``attach(state, editor)`` for every editor the
host opens. Each step is contained: a feature that fails is logged, named in the status bar and
listed by "Help: Editor Features"; the other features and the window keep working. A module that
does not exist yet (a feature another area has not shipped) is skipped silently.

Per-editor objects are kept here (``registry.get("lsp", editor)``), never attached to widgets.

Everything here runs on the GUI thread.
"""

from __future__ import annotations

import importlib
import logging
import weakref
from dataclasses import dataclass
from typing import Any, Callable, Protocol, runtime_checkable

log = logging.getLogger(__name__)

# The feature modules every window loads, in this order (a feature may require an earlier one).
FEATURE_MODULES: list[str] = [
    "marie.ui.model_status",
    "marie.ui.git_gutter",
    "marie.ui.lsp.feature",
    "marie.ui.editor.ghost_text",      # inline completion (COMPL), once it exists
    "marie.ui.terminal.links",         # path:line:col links in the terminal (TERM), once it exists
]


@runtime_checkable
class EditorHost(Protocol):
    """What a feature (or a panel) may use of the window. ``MainWindow`` implements it; a test host
    may implement it too. GUI thread."""

    app: Any
    commands: Any                       # marie.ui.commands.CommandRegistry
    editorOpened: Any                   # Signal(editor)
    editorClosed: Any                   # Signal(editor)

    def editors(self) -> list[Any]: ...
    def current_editor(self) -> Any | None: ...
    def open_file(self, path: Any, line: int | None = None, column: int | None = None) -> Any | None: ...
    def show_message(self, text: str, level: str = "info") -> None: ...
    def show_panel(self, panel_id: str) -> Any | None: ...
    def add_status_widget(self, widget: Any) -> None: ...
    def refresh_editor_title(self, editor: Any) -> None: ...
    def add_bottom_dock(self, dock: Any) -> None: ...


@dataclass(frozen=True)
class FeatureSpec:
    """One editor feature.

    ``setup(host)`` runs once per window and returns the feature's window-level state (or None).
    ``attach(state, editor)`` runs for every editor (open ones and new ones) and returns the
    per-editor object (or None when the feature does not apply to that editor).
    ``detach(state, editor, obj)`` runs when the editor closes. ``requires`` names app services
    (``"git"``, ``"lsp"``, ``"ai"`` ...) and other features (``"feature:lsp"``) that must be
    available first."""

    id: str
    title: str
    setup: Callable[[Any], Any] | None = None
    attach: Callable[[Any, Any], Any] | None = None
    detach: Callable[[Any, Any, Any], None] | None = None
    requires: tuple[str, ...] = ()
    # ``lookup(state, editor)``: the per-editor object when the feature keeps its own table (it
    # may attach later than ``attach`` was called, e.g. once a big file has loaded)
    lookup: Callable[[Any, Any], Any] | None = None


def register_module(name: str) -> None:
    """Add a feature module for windows made from now on (plugins, tests)."""
    if name not in FEATURE_MODULES:
        FEATURE_MODULES.append(name)


def discover() -> tuple[list[FeatureSpec], dict[str, str]]:
    """(specs, failures) from ``FEATURE_MODULES``. A module that is absent is skipped; one that
    fails to import is a failure (module name -> message)."""
    specs: list[FeatureSpec] = []
    failures: dict[str, str] = {}
    for name in FEATURE_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name and (name == exc.name or name.startswith(exc.name + ".")):
                continue                  # not shipped (yet): nothing to show
            log.exception("feature module %s failed to import", name)
            failures[name] = f"import failed: {exc}"
            continue
        except Exception as exc:
            log.exception("feature module %s failed to import", name)
            failures[name] = f"import failed: {exc}"
            continue
        spec = getattr(module, "FEATURE", None)
        if isinstance(spec, FeatureSpec):
            specs.append(spec)
    return specs, failures


class FeatureRegistry:
    """The features of one window: their states, their per-editor objects and their failures."""

    def __init__(self, host: Any) -> None:
        self.host = host
        self.specs: dict[str, FeatureSpec] = {}
        self.states: dict[str, Any] = {}
        self.failures: dict[str, str] = {}          # feature id (or module) -> what went wrong
        self._per_editor: dict[str, weakref.WeakKeyDictionary] = {}
        self._installed = False

    # -- queries --------------------------------------------------------------------------------
    def state(self, feature_id: str) -> Any | None:
        """The window-level object of a feature (None when absent or failed)."""
        return self.states.get(feature_id)

    def get(self, feature_id: str, editor: Any) -> Any | None:
        """The per-editor object of a feature for ``editor`` (None when it does not apply)."""
        editor = getattr(editor, "primary", None) or editor   # a split's second view shares the first's
        spec = self.specs.get(feature_id)
        if spec is not None and spec.lookup is not None and feature_id in self.states:
            return spec.lookup(self.states[feature_id], editor)
        table = self._per_editor.get(feature_id)
        return table.get(editor) if table is not None else None

    def active(self) -> list[str]:
        return [fid for fid in self.specs if fid not in self.failures]

    def describe(self) -> str:
        """One line per feature: active, or why not."""
        lines = [f"{spec.title}: {'failed: ' + self.failures[fid] if fid in self.failures else 'active'}"
                 for fid, spec in self.specs.items()]
        lines += [f"{name}: {message}" for name, message in self.failures.items() if name not in self.specs]
        return "\n".join(lines) or "No editor features"

    # -- installation ---------------------------------------------------------------------------
    def install(self, specs: list[FeatureSpec] | None = None) -> None:
        """Set up every feature and attach it to the open editors; later editors get it when the
        host emits ``editorOpened``. Runs once."""
        if self._installed:
            return
        self._installed = True
        if specs is None:
            specs, failures = discover()
            for name, message in failures.items():
                self._fail(name, message)
        for spec in specs:
            self._start(spec)
        self.host.editorOpened.connect(self.attach_all)
        self.host.editorClosed.connect(self.detach_all)

    def add(self, spec: FeatureSpec) -> bool:
        """Install one more feature now (a plugin's), on the open editors and the ones to come;
        contained like the others. False when it failed (the reason is in ``failures``)."""
        if spec.id in self.specs:         # already there (a plugin loaded twice): the first one stays
            return False
        return self._start(spec)

    def _start(self, spec: FeatureSpec) -> bool:
        self.specs[spec.id] = spec
        missing = self._missing(spec)
        if missing:
            self._fail(spec.id, missing)
            return False
        try:
            self.states[spec.id] = spec.setup(self.host) if spec.setup is not None else None
        except Exception as exc:
            log.exception("feature %s failed to start", spec.id)
            self._fail(spec.id, f"{type(exc).__name__}: {exc}")
            return False
        self._per_editor[spec.id] = weakref.WeakKeyDictionary()
        for editor in list(self.host.editors()):
            self._attach(spec, editor)
        return True

    def attach_all(self, editor: Any) -> None:
        for spec in self.specs.values():
            if spec.id in self._per_editor:
                self._attach(spec, editor)

    def detach_all(self, editor: Any) -> None:
        for spec in self.specs.values():
            table = self._per_editor.get(spec.id)
            obj = table.pop(editor, None) if table is not None else None
            if obj is not None and spec.detach is not None:
                try:
                    spec.detach(self.states.get(spec.id), editor, obj)
                except Exception:
                    log.exception("feature %s failed to detach", spec.id)

    def _attach(self, spec: FeatureSpec, editor: Any) -> None:
        if spec.attach is None or spec.id in self.failures:
            return
        table = self._per_editor[spec.id]
        if editor in table:
            return
        try:
            obj = spec.attach(self.states.get(spec.id), editor)
        except Exception as exc:
            log.exception("feature %s failed on %s", spec.id, getattr(editor, "path", editor))
            name = getattr(getattr(editor, "path", None), "name", "an editor")
            self.host.show_message(f"{spec.title} is off in {name}: {exc}", "warning")
            return
        if obj is not None:
            table[editor] = obj

    def set(self, feature_id: str, editor: Any, obj: Any) -> None:
        """Record a per-editor object made later (a big file attaches once it has loaded)."""
        table = self._per_editor.get(feature_id)
        if table is not None:
            table[editor] = obj

    def _missing(self, spec: FeatureSpec) -> str:
        app = self.host.app
        for need in spec.requires:
            if need.startswith("feature:"):
                other = need.split(":", 1)[1]
                if other not in self.states:
                    return f"needs the {other} feature, which is not available"
                continue
            try:
                if getattr(app, need) is None:
                    return f"needs the {need} service, which this app lacks"
            except Exception as exc:
                return f"needs the {need} service, which failed: {exc}"
        return ""

    def _fail(self, name: str, message: str) -> None:
        self.failures[name] = message
        title = self.specs[name].title if name in self.specs else name
        self.host.show_message(f"Editor feature {title} is off: {message}", "warning")


def feature_of(editor: Any, feature_id: str) -> Any | None:
    """The per-editor object of ``feature_id`` for an editor shown in a window (None otherwise)."""
    window = editor.window() if hasattr(editor, "window") else None
    registry = getattr(window, "features", None)
    return registry.get(feature_id, editor) if isinstance(registry, FeatureRegistry) else None


def feature_state(window: Any, feature_id: str) -> Any | None:
    """The window-level object of ``feature_id`` (None when absent or failed)."""
    registry = getattr(window, "features", None)
    return registry.state(feature_id) if isinstance(registry, FeatureRegistry) else None
