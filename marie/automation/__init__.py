"""The local automation endpoint: JSON-RPC 2.0 over a per-user, per-display unix socket with a
per-session token (``endpoint.py``), its client (``client.py``, used by ``marie remote`` and by
``marie PATH`` to open in the running window), and where both meet (``location.py``). No Qt."""
