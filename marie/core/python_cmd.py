"""The command line that runs a Python module in a child process, installed or frozen.

Installed, it is ``python -m MODULE``. In the PyInstaller build ``sys.executable`` is the ``marie``
program itself, which takes ``--run-module MODULE`` for this (``packaging/entry.py``), so the model
worker, pylsp and the git status helper start the same way in both. Any thread.
"""

from __future__ import annotations

import sys


def frozen() -> bool:
    return bool(getattr(sys, "frozen", False))


def module_command(module: str) -> list[str]:
    """argv that runs ``module`` as ``__main__`` with this interpreter."""
    if frozen():
        return [sys.executable, "--run-module", module]
    return [sys.executable, "-m", module]
