"""``app.plugins``: loads the enabled, allowed plugins once and answers what they contributed.

Consumers ask here rather than being patched by plugins: the window reads ``commands()``,
``panels()`` and ``editor_features()``, the language-server supervisor ``lsp_servers()``, the AI
service ``providers()``, the agent ``agent_tools()``, the composer ``context_providers()`` and the save
path ``formatters_for(language)``. Only plugins in state "active" count.

Settings (``marie/core/defaults/plugins.toml``): ``plugins.enabled`` (all on/off),
``plugins.disabled`` (names), ``plugins.folders`` (extra folders), ``plugins.load_budget_s``. The
admin policy's ``governance.plugins.allow`` list is honoured (a plugin outside it is "blocked"), and
every load outcome is written to the audit log.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from marie.core import paths
from marie.plugins import api as plugin_api
from marie.plugins.loader import BUNDLED, PluginRecord, discover, load_one

log = logging.getLogger(__name__)


def plugin_folders(settings: Any) -> list[Path]:
    """The bundled ``plugins/`` folder, the user's plugin folder, then ``plugins.folders``."""
    folders = [BUNDLED, paths.config_dir() / "plugins"]
    for extra in settings.get("plugins.folders") or []:
        folders.append(Path(str(extra)).expanduser())
    return folders


class PluginService:
    """Thread-safe. ``load()`` blocks (call it on a worker, or let the first query call it)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self._records: list[PluginRecord] | None = None
        self._lock = threading.Lock()

    # -- loading --------------------------------------------------------------------------------
    def load(self) -> list[PluginRecord]:
        """Discover and load every plugin once; later calls return the same records. Any thread."""
        with self._lock:
            if self._records is not None:
                return self._records
            settings = self.app.settings
            records: list[PluginRecord] = []
            enabled = bool(settings.get("plugins.enabled"))
            disabled = set(settings.get("plugins.disabled") or [])
            budget = float(settings.get("plugins.load_budget_s") or 2.0)
            policy = self._policy()
            for candidate in discover(plugin_folders(settings)):
                if not enabled or candidate.name in disabled:
                    why = "plugins.enabled is off" if not enabled else "listed in plugins.disabled"
                    records.append(PluginRecord(candidate.name, candidate.origin, "disabled", error=why))
                    continue
                if policy is not None:
                    decision = policy.plugin_allowed(candidate.name)
                    if not decision.allowed:
                        records.append(PluginRecord(candidate.name, candidate.origin, "blocked",
                                                    error=decision.reason))
                        self._audit(records[-1])
                        continue
                record = load_one(candidate, self.app, budget)
                if record.state != "active":
                    log.warning("plugin %s %s: %s", record.name, record.state, record.error)
                records.append(record)
                self._audit(record)
            self._records = records
            return records

    def _policy(self) -> Any:
        try:
            return self.app.governance.policy
        except Exception:
            log.exception("the admin policy could not be read; plugins load as settings say")
            return None

    def _audit(self, record: PluginRecord) -> None:
        try:
            self.app.audit.record("plugin.load", plugin=record.name, state=record.state,
                                  origin=record.origin, error=record.error,
                                  version=record.info.version if record.info else "")
        except Exception:
            log.exception("could not audit the load of plugin %s", record.name)

    # -- queries --------------------------------------------------------------------------------
    def records(self) -> list[PluginRecord]:
        return list(self.load())

    def active(self) -> list[PluginRecord]:
        return [r for r in self.load() if r.state == "active" and r.api is not None]

    def _all(self, kind: str) -> list[Any]:
        self.load()
        return self.available(kind)

    @property
    def loaded(self) -> bool:
        return self._records is not None

    def available(self, kind: str) -> list[Any]:
        """Contributions of ``kind`` ("lsp_servers", "agent_tools" ...) if plugins have loaded, else
        [] without waiting: for callers on the GUI thread, which must never block on a load."""
        records = self._records
        if records is None:
            return []
        return [item for r in records if r.state == "active" and r.api is not None
                for item in getattr(r.api.contributions, kind)]

    def commands(self) -> list[plugin_api.CommandContribution]:
        return self._all("commands")

    def panels(self) -> list[plugin_api.PanelContribution]:
        return self._all("panels")

    def editor_features(self) -> list[plugin_api.EditorFeatureContribution]:
        return self._all("editor_features")

    def lsp_servers(self) -> list[plugin_api.LspServerContribution]:
        return self._all("lsp_servers")

    def providers(self) -> list[plugin_api.ProviderContribution]:
        return self._all("providers")

    def agent_tools(self) -> list[plugin_api.AgentToolContribution]:
        return self._all("agent_tools")

    def context_providers(self) -> list[plugin_api.ContextProviderContribution]:
        return self._all("context_providers")

    def formatters_for(self, language: str) -> list[plugin_api.FormatterContribution]:
        return [f for f in self._all("formatters") if language in f.languages]

    def close(self) -> None:
        pass
