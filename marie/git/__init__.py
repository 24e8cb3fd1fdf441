"""Git for MarieIDE: the only package that imports pygit2.

``service.GitService`` (``app.git``) runs every operation on the one "git" worker thread and hands
out the plain values of ``model``. ``repository.GitRepo`` holds the pygit2 objects on that thread:
the thread-owned handle (``handle``: discovery, paths, blobs, status) with the operations of
``staging``, ``diffs``, ``commit``, ``branches``, ``merge``, ``stash``, ``history`` and ``remote``
(pull with rebase in ``rebase``). ``checkouts`` brackets the operations that rewrite the working
tree with the write path (checkpoint before, ``FilesWritten`` after). ``partial`` builds partially
staged file contents; ``hooks`` runs commit hooks as git does; ``graph`` lays out history lanes.
"""
