"""The language-features editor feature: one ``LspBridge`` per window (commands, status label),
one ``EditorLsp`` per editor whose language has a server (or Python, which jedi answers). Installed
by the feature registry (``marie.ui.features``), whatever panels load. GUI thread."""

from __future__ import annotations

from typing import Any

from marie.ui.features import FeatureSpec


def _setup(host: Any) -> Any:
    from marie.ui.lsp.bridge import LspBridge

    return LspBridge(host)


def _attach(bridge: Any, editor: Any) -> Any:
    return bridge.attach(editor)


def _detach(bridge: Any, editor: Any, _ed: Any) -> None:
    bridge.detach(editor)


def _lookup(bridge: Any, editor: Any) -> Any:
    # a big file attaches once loaded, after the registry's attach: the bridge's table is the truth
    return bridge.editors.get(editor)


FEATURE = FeatureSpec("lsp", "Language features", setup=_setup, attach=_attach, detach=_detach,
                      lookup=_lookup, requires=("lsp",))
