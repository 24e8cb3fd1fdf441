"""The README's configuration and CLI references match the code (regenerate them with
`python packaging/readme_reference.py`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_readme_references_are_current():
    done = subprocess.run([sys.executable, str(ROOT / "packaging" / "readme_reference.py"), "--check"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_every_default_setting_and_subcommand_is_in_the_readme():
    from marie.cli import command_names
    from marie.ui.settings_catalog import catalog

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [doc.key for doc in catalog() if f"`{doc.key}`" not in readme]
    assert missing == []
    assert [name for name in command_names() if f"`marie {name}`" not in readme] == []


def test_every_picture_the_readme_shows_exists():
    import re

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    pictures = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", readme)
    assert pictures and [p for p in pictures if not (ROOT / p).is_file()] == []
