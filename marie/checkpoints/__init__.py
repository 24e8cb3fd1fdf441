"""Checkpoints: snapshots of the workspace taken before every write MarieIDE makes for the user."""
