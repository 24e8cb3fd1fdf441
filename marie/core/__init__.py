"""Core services without Qt: settings, paths, tasks, typed events (``event_types``), dispatch, atomic writes."""
