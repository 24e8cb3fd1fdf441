"""Inline completion (ghost text) and next-edit suggestions; no Qt.

The pieces, each in its own module: ``fim`` (fill-in-the-middle token families read from a GGUF),
``context`` (the text around the caret within a budget, snippets from other files), ``prompt``
(context -> the text or fields a backend sends), ``trim`` (what of an answer is shown), ``cache``
(prefix-keyed answers), ``backends`` (local worker, ``/v1/completions``, ``/infill``, all through the
``app.ai`` gate), ``engine`` (debounce, cancel, stale dropping per editor), ``next_edit`` (the edit
after this one), ``service`` (settings, the per-app state). The editor side is
``marie/ui/editor/ghost_text.py``.
"""
