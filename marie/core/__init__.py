"""Core services without Qt: settings, paths, tasks, events, dispatch, atomic writes."""
