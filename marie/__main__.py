"""``python -m marie`` is the same as the ``marie`` console script."""

from marie.cli import main

raise SystemExit(main())
