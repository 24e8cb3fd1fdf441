"""The window session: geometry, dock layout and open tabs, kept as JSON per workspace.

``<workspace data>/session.json`` is written atomically (no QSettings, so it is readable and lives
with the workspace's other data). Restoring is tolerant: a missing file, bad JSON or a tab whose file
has gone are skipped with a log line. Loading and saving are plain I/O on the GUI thread (tiny file).
"""

from __future__ import annotations

import base64
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

from marie.core import atomic

log = logging.getLogger(__name__)

FILE_NAME = "session.json"
VERSION = 1


@dataclass
class TabState:
    path: str
    line: int = 1
    column: int = 1


@dataclass
class Session:
    geometry: bytes = b""          # QMainWindow.saveGeometry()
    state: bytes = b""             # QMainWindow.saveState() (docks, toolbars)
    tabs: list[TabState] = field(default_factory=list)
    current: int = -1
    theme: str = ""
    hidden_panels: list[str] = field(default_factory=list)
    # the editor groups' split tree (``EditorArea.layout_state``) with tabs named by path; empty
    # for one group (then ``tabs`` alone says what to open)
    layout: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"version": VERSION, "geometry": base64.b64encode(self.geometry).decode("ascii"),
                "state": base64.b64encode(self.state).decode("ascii"),
                "tabs": [t.__dict__ for t in self.tabs], "current": self.current,
                "hidden_panels": list(self.hidden_panels), "layout": self.layout}

    @classmethod
    def from_json(cls, data: dict) -> "Session":
        tabs = []
        for item in data.get("tabs", []):
            if isinstance(item, dict) and isinstance(item.get("path"), str):
                tabs.append(TabState(item["path"], int(item.get("line", 1)), int(item.get("column", 1))))
        return cls(geometry=base64.b64decode(data.get("geometry", "") or b""),
                   state=base64.b64decode(data.get("state", "") or b""),
                   tabs=tabs, current=int(data.get("current", -1)),
                   hidden_panels=[p for p in data.get("hidden_panels", []) if isinstance(p, str)],
                   layout=data.get("layout") if isinstance(data.get("layout"), dict) else {})


def session_file(data_dir: Path) -> Path:
    return Path(data_dir) / FILE_NAME


def load(data_dir: Path) -> Session | None:
    """The saved session, or None when there is none (or it is unreadable, which is logged)."""
    file = session_file(data_dir)
    try:
        return Session.from_json(json.loads(file.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError) as exc:
        log.warning("session file %s ignored: %s", file, exc)
        return None


def save(data_dir: Path, session: Session) -> Path:
    """Write the session atomically."""
    file = session_file(data_dir)
    file.parent.mkdir(parents=True, exist_ok=True)
    return atomic.write_bytes(file, json.dumps(session.to_json(), indent=1).encode("utf-8"))
