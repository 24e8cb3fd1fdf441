"""The project index: scan (ignore rules, symlinks, unreadable folders), immutable snapshots, the live
watcher, quick open, symbols and project search. Plain Python, no Qt.

Start with ``marie.index.service.IndexService`` (``app.index``); the pieces are usable on their own:
``ignore.IgnoreMatcher``, ``scan.walk``, ``snapshot.Snapshot``, ``quick_open``, ``symbols`` (on
``symbol_store``, SQLite on disk), ``search``; indexed search is ``text_index`` (kept live) over
``trigram_store`` (SQLite FTS5 trigrams on disk), asked through ``indexed_search`` with the trigrams
``trigram_query`` finds in a query.
"""
