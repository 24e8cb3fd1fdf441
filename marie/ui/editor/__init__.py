"""The code editor widget (``view.EditorView``) and its parts: lexers, styles, find bar, multiple
cursors, large files. GUI thread only."""
