"""The integrated terminal's Qt side: ``TerminalView`` paints a ``marie.terminal`` screen model and
turns keys into bytes, ``FindBar`` searches the scrollback, ``TerminalWidget`` puts them together
with a scroll bar for one session. The bottom panel with tabs is ``marie.ui.panels.terminal``.
GUI thread only.
"""
