"""Entry point of the frozen (PyInstaller) build."""

from marie.cli import main

raise SystemExit(main())
