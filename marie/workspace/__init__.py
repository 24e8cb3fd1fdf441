"""The workspace room: the path guard (``guard``), the ONE write path (``writes``: checkpoint ->
atomic write -> audit -> ``FilesWritten``) and file operations on files and folders (``fileops``).

Depends on ``marie.core`` only; checkpoints and governance plug in through the ``Checkpointer`` and
``Auditor`` protocols of ``writes``, so no package cycle runs through here.
"""
