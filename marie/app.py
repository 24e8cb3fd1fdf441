"""The composition root: builds every service once, for the GUI and the CLI alike.

``App(root)`` is cheap: services are created on first use (``app.index``, ``app.git`` ...), each as
``Service(app)`` so a service pulls what it needs from the app. The GUI passes its Qt dispatcher, the
CLI a ``QueueDispatcher``, tests the inline one. This module must never import Qt (a test checks).
"""

from __future__ import annotations

import logging
import threading
from functools import cached_property
from pathlib import Path
from typing import Any

from marie.core import paths
from marie.core.dispatch import Dispatcher, InlineDispatcher
from marie.core.events import SETTINGS_CHANGED, EventBus
from marie.core.settings import Settings
from marie.core.tasks import TaskRunner

log = logging.getLogger(__name__)


class App:
    def __init__(self, root: Path | str, dispatcher: Dispatcher | None = None,
                 settings: Settings | None = None) -> None:
        self.root = Path(root).resolve()
        self.dispatcher = dispatcher or InlineDispatcher()
        self.events = EventBus(self.dispatcher)
        self.tasks = TaskRunner(self.dispatcher)
        self.settings = settings or Settings(
            user_file=paths.user_settings_file(),
            project_file=paths.project_settings_file(self.root),
            policy_file=paths.policy_file(),
        )
        self.settings.subscribe(lambda keys: self.events.emit(SETTINGS_CHANGED, keys=keys))
        self._created: list[Any] = []
        self._lock = threading.RLock()
        self.closed = False

    @property
    def data_dir(self) -> Path:
        """Per-workspace data folder (outside the user's repository)."""
        return paths.workspace_data_dir(self.root)

    def _make(self, factory: Any) -> Any:
        with self._lock:
            service = factory(self)
            self._created.append(service)
            return service

    # -- services (created on first use) --------------------------------------------------------
    @cached_property
    def index(self):
        """Project scan, live watcher, quick open, symbols and project search (``marie.index``)."""
        from marie.index.service import IndexService
        return self._make(IndexService)

    @cached_property
    def git(self):
        """The git service; every pygit2 call runs on the "git" worker (``marie.git``)."""
        from marie.git.service import GitService
        return self._make(GitService)

    @cached_property
    def checkpoints(self):
        """The per-workspace checkpoint store (``marie.checkpoints``)."""
        from marie.checkpoints.service import CheckpointService
        return self._make(CheckpointService)

    @cached_property
    def writes(self):
        """The single write path: checkpoint, atomic write, audit, index refresh."""
        from marie.checkpoints.write_path import WritePath
        return self._make(WritePath)

    @cached_property
    def ai(self):
        """Model providers, routing and usage accounting (``marie.ai``)."""
        from marie.ai.service import AIService
        return self._make(AIService)

    @cached_property
    def composer(self):
        """AI composer sessions, change sets and apply (``marie.composer``)."""
        from marie.composer.service import ComposerService
        return self._make(ComposerService)

    @cached_property
    def lsp(self):
        """Language-server supervisor and the jedi fallback (``marie.lsp``)."""
        from marie.lsp.service import LspService
        return self._make(LspService)

    # -- lifetime -------------------------------------------------------------------------------
    def close(self) -> None:
        """Stop every service (newest first) and the workers. Safe to call twice."""
        if self.closed:
            return
        self.closed = True
        for service in reversed(self._created):
            close = getattr(service, "close", None)
            if close:
                try:
                    close()
                except Exception:
                    log.exception("closing %s failed", type(service).__name__)
        self.tasks.shutdown(wait=False)

    def __enter__(self) -> "App":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
