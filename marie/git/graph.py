"""Lane assignment for the history graph (pure; any thread).

Walk commits newest first (topological order). ``lanes`` holds, per column, the commit id that the
column is waiting for. A commit takes the first column waiting for it (or a free one); other columns
waiting for it end there (branches joining). Its first parent continues in its column; further
parents reuse a column already waiting for them or open a new one.
"""

from __future__ import annotations

from typing import Iterable


def assign_lanes(commits: Iterable[tuple[str, tuple[str, ...]]]) -> list[tuple[int, int, tuple[int, ...]]]:
    """For each (id, parents) return (column, active lane count, parent columns)."""
    lanes: list[str | None] = []
    rows: list[tuple[int, int, tuple[int, ...]]] = []
    for oid, parents in commits:
        waiting = [i for i, lane in enumerate(lanes) if lane == oid]
        if waiting:
            column = waiting[0]
            for i in waiting[1:]:
                lanes[i] = None
        else:
            column = lanes.index(None) if None in lanes else len(lanes)
            if column == len(lanes):
                lanes.append(None)
        width = len(lanes)
        parent_columns: list[int] = []
        if parents:
            lanes[column] = parents[0]
            parent_columns.append(column)
            for parent in parents[1:]:
                if parent in lanes:
                    parent_columns.append(lanes.index(parent))
                    continue
                free = lanes.index(None) if None in lanes else len(lanes)
                if free == len(lanes):
                    lanes.append(parent)
                else:
                    lanes[free] = parent
                parent_columns.append(free)
        else:
            lanes[column] = None
        while lanes and lanes[-1] is None:
            lanes.pop()
        rows.append((column, max(width, len(lanes)), tuple(parent_columns)))
    return rows
