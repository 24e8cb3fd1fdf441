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
from typing import TYPE_CHECKING, Any, Callable, TypeVar

from marie.core import paths
from marie.core.dispatch import Dispatcher, InlineDispatcher
from marie.core.event_types import SettingsChanged
from marie.core.events import EventBus
from marie.core.settings import Settings
from marie.core.tasks import TaskRunner

if TYPE_CHECKING:
    from marie.services import AiApi, CheckpointsApi, FileOpsApi, GitApi, IndexApi, LspApi, Services, WritesApi
    from marie.workspace.writes import Auditor

log = logging.getLogger(__name__)
T = TypeVar("T")


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
        self.settings.subscribe(lambda keys: self.events.publish(SettingsChanged(frozenset(keys))))
        self._created: list[Any] = []
        self._lock = threading.RLock()
        self.closed = False

    @property
    def data_dir(self) -> Path:
        """Per-workspace data folder (outside the user's repository)."""
        return paths.workspace_data_dir(self.root)

    def _make(self, factory: Callable[["App"], T]) -> T:
        with self._lock:
            service = factory(self)
            self._created.append(service)
            return service

    # -- services (created on first use) --------------------------------------------------------
    @cached_property
    def index(self) -> IndexApi:
        """Project scan, live watcher, quick open, symbols and project search (``marie.index``)."""
        from marie.index.service import IndexService
        return self._make(IndexService)

    @cached_property
    def git(self) -> GitApi:
        """The git service; every pygit2 call runs on the "git" worker (``marie.git``)."""
        from marie.git.service import GitService
        return self._make(GitService)

    @cached_property
    def checkpoints(self) -> CheckpointsApi:
        """The per-workspace checkpoint store (``marie.checkpoints``)."""
        from marie.checkpoints.service import CheckpointService
        return self._make(CheckpointService)

    @cached_property
    def writes(self) -> WritesApi:
        """The single write path: checkpoint, atomic write, audit, ``FilesWritten`` (``marie.workspace``)."""
        from marie.workspace.writes import WritePath
        return self._make(lambda app: WritePath(app, rules=[app._policy_rule]))

    def _policy_rule(self, rel: str, source: str) -> str | None:
        """The admin policy's protected paths (``governance.paths.protected``): AI edits may not change them."""
        from marie.workspace.writes import AI_SOURCES

        if source in AI_SOURCES and self.governance.policy.path_protected(rel):
            return "protected by the admin policy (governance.paths.protected); AI edits may not change it"
        return None

    @cached_property
    def fileops(self) -> FileOpsApi:
        """Create, rename, delete and duplicate files and folders through ``writes`` (``marie.workspace``)."""
        from marie.workspace.fileops import FileOperations
        return FileOperations(self.writes)

    @cached_property
    def governance(self):
        """Admin policy, the egress gate, audit, encryption keys and budgets (``marie.governance``)."""
        from marie.governance.service import Governance
        return self._make(Governance)

    @property
    def audit(self) -> Auditor:
        """Where every write is recorded (``marie.workspace.writes.Auditor``): the governance audit log."""
        return self.governance.audit

    @cached_property
    def ai(self) -> AiApi:
        """Model providers, routing and usage accounting (``marie.ai``)."""
        from marie.ai.service import AIService
        return self._make(AIService)

    @cached_property
    def composer(self):
        """AI composer sessions, change sets and apply (``marie.composer``)."""
        from marie.composer.service import ComposerService
        return self._make(ComposerService)

    @cached_property
    def lsp(self) -> LspApi:
        """Language-server supervisor and the jedi fallback (``marie.lsp``)."""
        from marie.lsp.service import LspService
        return self._make(LspService)

    @cached_property
    def agent(self):
        """Agent runs, sessions and MCP connections (``marie.agent``)."""
        from marie.agent.service import AgentService
        return self._make(AgentService)

    @cached_property
    def plugins(self):
        """Plugins and what they contribute; loaded on first query (``marie.plugins``)."""
        from marie.plugins.registry import PluginService
        return self._make(PluginService)

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
