"""MarieIDE: an offline-first, AI-assisted desktop IDE.

Everything outside ``marie.ui`` is plain Python (no Qt) so that the GUI, the ``marie`` command line
and the tests share one core. See ``marie.app`` for the composition root.
"""

__version__ = "0.1.0"
