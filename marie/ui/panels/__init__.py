"""Dockable panels. Each module here defines ``PANEL = PanelSpec(...)``; the main window discovers
them at start-up, so adding a panel never means editing the window.

``factory(window)`` runs on the GUI thread and returns the panel's widget; it may register commands
with ``window.commands`` and subscribe to ``window.app.events``.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PanelSpec:
    id: str                      # "files", "search", "git", "checkpoints", "composer", "problems", ...
    title: str                   # shown on the dock's tab
    area: str                    # "left" | "right" | "bottom"
    factory: Callable[[Any], Any]
    shortcut: str | None = None  # toggles/focuses the panel, e.g. "Ctrl+Shift+G"
    order: int = 100             # position among panels of the same area


def discover() -> list[PanelSpec]:
    """All panel specs, in (area, order) order. A panel module that fails to import is logged and
    skipped so one broken panel cannot keep the window from opening."""
    specs: list[PanelSpec] = []
    for info in pkgutil.iter_modules([str(Path(__file__).parent)]):
        try:
            module = importlib.import_module(f"{__name__}.{info.name}")
        except Exception:
            log.exception("panel module %s failed to import", info.name)
            continue
        spec = getattr(module, "PANEL", None)
        if isinstance(spec, PanelSpec):
            specs.append(spec)
    return sorted(specs, key=lambda s: (s.area, s.order, s.id))
