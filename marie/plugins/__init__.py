"""Plugins: a versioned API (``api.py``), discovery and contained loading (``loader.py``), and the
registry of what each plugin contributed (``registry.py``). No Qt here: a plugin's panels and editor
features are factories that only the window calls."""
