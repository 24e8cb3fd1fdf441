"""Finding plugins and loading each one in containment.

Two places are searched: the ``marie.plugins`` entry-point group (installed packages) and plugin
folders (the top-level ``plugins/`` folder shipped with MarieIDE, the user's
``<config>/plugins``, and ``plugins.folders`` from settings). In a folder, each ``*.py`` module and
each package with an ``__init__.py`` is one plugin; files starting with ``_`` are skipped.

Each plugin is imported and activated on its own short-lived thread, under the ``plugins.load_budget_s``
budget. A plugin that raises is reported with its error; one that overruns its budget is reported as
slow and its API is sealed, so nothing it adds later takes effect (Python cannot stop a thread, so a
plugin stuck in a loop keeps its thread; it is a daemon and never blocks exit). Either way the next
plugin loads. Thonny's loader works the same way: one by one, each failure contained and reported.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

from marie.plugins.api import PluginAPI, PluginInfo, compatible

BUNDLED = Path(__file__).resolve().parents[2] / "plugins"
ENTRY_POINT_GROUP = "marie.plugins"


@dataclass(frozen=True)
class Candidate:
    """A plugin found but not loaded: ``origin`` is a file/folder path or "entry point NAME"."""

    name: str
    origin: str
    load: Callable[[], ModuleType]


@dataclass
class PluginRecord:
    """What happened to one plugin. ``state``: active | failed | slow | disabled | blocked | incompatible."""

    name: str
    origin: str
    state: str
    info: PluginInfo | None = None
    error: str = ""
    seconds: float = 0.0
    api: PluginAPI | None = field(default=None, repr=False)

    def summary(self) -> dict:
        contributed = self.api.contributions.summary() if self.api is not None and self.state == "active" else {}
        return {"name": self.name, "version": self.info.version if self.info else "", "state": self.state,
                "origin": self.origin, "api_version": self.info.api_version if self.info else "",
                "description": self.info.description if self.info else "", "error": self.error,
                "seconds": round(self.seconds, 3), "contributes": contributed}


def _module_loader(name: str, path: Path) -> Callable[[], ModuleType]:
    def load() -> ModuleType:
        target = path / "__init__.py" if path.is_dir() else path
        module_name = f"marie_plugin_{name}"
        spec = importlib.util.spec_from_file_location(
            module_name, target, submodule_search_locations=[str(path)] if path.is_dir() else None)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot import {target}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module  # a package's relative imports need it registered
        try:
            spec.loader.exec_module(module)
        except BaseException:
            sys.modules.pop(module_name, None)
            raise
        return module

    return load


def folder_candidates(folder: Path) -> list[Candidate]:
    """Plugins in one folder (a missing or unreadable folder has none)."""
    found: list[Candidate] = []
    try:
        entries = sorted(folder.iterdir())
    except OSError:
        return found
    for entry in entries:
        if entry.name.startswith(("_", ".")):
            continue
        if entry.is_dir() and (entry / "__init__.py").is_file():
            found.append(Candidate(entry.name, str(entry), _module_loader(entry.name, entry)))
        elif entry.is_file() and entry.suffix == ".py":
            found.append(Candidate(entry.stem, str(entry), _module_loader(entry.stem, entry)))
    return found


def entry_point_candidates() -> list[Candidate]:
    found: list[Candidate] = []
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        found.append(Candidate(ep.name, f"entry point {ep.name} ({ep.value})", ep.load))
    return found


def discover(folders: list[Path]) -> list[Candidate]:
    """Every candidate, entry points first; a name seen twice keeps its first origin."""
    seen: dict[str, Candidate] = {}
    for candidate in entry_point_candidates() + [c for f in folders for c in folder_candidates(f)]:
        seen.setdefault(candidate.name, candidate)
    return list(seen.values())


def load_one(candidate: Candidate, app: Any, budget_s: float) -> PluginRecord:
    """Import and activate one plugin on its own thread, within ``budget_s``. Caller's thread waits."""
    record = PluginRecord(candidate.name, candidate.origin, "failed")
    done = threading.Event()
    lock = threading.Lock()  # the budget's end and the plugin's own end race for record.state

    def work() -> None:
        try:
            module = candidate.load()
            info = getattr(module, "PLUGIN", None)
            if not isinstance(info, PluginInfo):
                raise TypeError("the module defines no PLUGIN = PluginInfo(...)")
            record.info = info
            ok, why = compatible(info.api_version)
            if not ok:
                record.state, record.error = "incompatible", why
                return
            activate = getattr(module, "activate", None)
            if not callable(activate):
                raise TypeError("the module defines no activate(api) function")
            api = PluginAPI(info, app)
            with lock:
                record.api = api
                api.sealed = record.state == "slow"
            activate(api)
            with lock:
                if record.state != "slow":
                    record.state = "active"
        except BaseException as exc:  # a plugin's SystemExit or KeyboardInterrupt is contained too
            with lock:
                if record.state == "slow":
                    return
            record.state = "failed"
            last = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
            where = f" ({Path(last[0].filename).name}:{last[0].lineno})" if last else ""
            record.error = f"{type(exc).__name__}: {exc}{where}"
        finally:
            done.set()

    started = time.perf_counter()
    thread = threading.Thread(target=work, daemon=True, name=f"plugin-{candidate.name}")
    thread.start()
    if not done.wait(budget_s):
        with lock:
            if not done.is_set():
                record.state = "slow"
                record.error = (f"did not finish loading within {budget_s:g} s (plugins.load_budget_s); "
                                "it was left out")
                if record.api is not None:
                    record.api.sealed = True
    record.seconds = time.perf_counter() - started
    return record
