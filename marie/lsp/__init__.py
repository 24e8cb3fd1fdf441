"""Language servers: JSON-RPC framing, the LSP protocol as a state machine, the stdio transport, the
supervisor that starts/restarts servers, server specs per language, and the jedi fallback.
``marie.lsp.service.LspService`` is the entry point the app, the CLI and the editor use. No Qt here.
"""
