"""Text documents: encodings, line endings, exact round trips, positions and diffs."""
