"""Git for MarieIDE: the only package that imports pygit2.

``service.GitService`` (``app.git``) runs every operation on the one "git" worker thread and hands
out the plain values of ``model``; ``repository.GitRepo`` holds the pygit2 objects on that thread;
``partial`` builds partially staged file contents; ``hooks`` runs commit hooks as git does;
``graph`` lays out history lanes.
"""
