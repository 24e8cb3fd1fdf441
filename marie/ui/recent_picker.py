"""Open Recent (Ctrl+R): the recent folders in a filter-as-you-type picker, each with its full
path; choosing a folder that has gone offers to remove it. GUI thread, except ``compute``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from marie.ui.quick_open import PickerDialog


class RecentPicker(PickerDialog):
    placeholder = "Open a recent folder"

    def compute(self, query: str):
        from marie.ui.projects import RecentProjects

        words = query.lower().split()
        rows = []
        for folder in RecentProjects().load():
            text = str(folder).lower()
            if all(word in text for word in words):
                missing = "" if folder.is_dir() else "  (missing)"
                rows.append((folder.name + missing, str(folder), str(folder)))
        return rows

    def choose(self, payload: Any) -> None:
        from marie.ui import projects

        projects.open_recent(self.window_, Path(payload))
