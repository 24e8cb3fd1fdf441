"""The integrated terminal's core, without Qt: a shell in a pseudo-terminal (``session``), the screen
model it is parsed into (``screen``, a pyte screen with a scrollback), the fast path for floods of
plain output (``flood``), keys to bytes (``keys``), links like ``path:line:col`` (``links``) and
search in the scrollback (``search``). The Qt view is ``marie.ui.terminal``.
"""
