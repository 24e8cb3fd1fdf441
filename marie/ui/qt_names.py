"""``Qt``: PySide6's ``Qt`` namespace, fetched on first attribute use.

The first time anything reads ``PySide6.QtCore.Qt`` (even ``from PySide6.QtCore import Qt``), PySide6
builds every enum of the namespace, about 30 ms. Modules on the start-up path import ``Qt`` from here
instead, so that cost falls after the first paint (when a key is pressed or a panel is built).
``Qt.Key.Key_F3`` and the like work as usual. GUI thread or any: it only reads names.
"""

from __future__ import annotations

from typing import Any


class _LazyQt:
    __slots__ = ("_real",)

    def __init__(self) -> None:
        self._real: Any = None

    def __getattr__(self, name: str) -> Any:
        real = self._real
        if real is None:
            from PySide6.QtCore import Qt as real
            self._real = real
        return getattr(real, name)


Qt: Any = _LazyQt()
