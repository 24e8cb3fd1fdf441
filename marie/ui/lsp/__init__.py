"""Language features in the editor: the bridge between each EditorView and ``app.lsp``.

- ``feature``: the editor feature (``FEATURE``) the window's feature registry installs;
- ``bridge``: ``LspBridge``, one per window (attaches editors, status label, server events);
- ``editor_lsp``: ``EditorLsp``, one per editor (document sync, hover, signature help, diagnostics,
  document highlight, edits into the buffer) and ``completion`` (the popup and snippets);
- ``navigation`` (definition, references), ``edits`` (rename, format, code actions) and
  ``workspace_check`` (Check Workspace, restart): the bridge's commands;
- ``markers``: indicator, marker and margin numbers and how they look.

Everything runs on the GUI thread; every server call runs on a worker (``app.tasks``) and its answer
comes back through the dispatcher.
"""
