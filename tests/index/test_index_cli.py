"""``marie index stats``, ``marie find``, ``marie search`` run as real subprocesses."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def marie(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "marie", *args], capture_output=True, text=True, timeout=60)


def test_cli_index_find_search(workspace: Path) -> None:
    (workspace / "src").mkdir()
    (workspace / "src" / "router.py").write_text("def route():\n    return 'hello world'\n")
    (workspace / "src" / "util.py").write_text("x = 1\n")
    (workspace / ".gitignore").write_text("*.log\n")
    (workspace / "debug.log").write_text("hello\n")

    out = marie("index", "stats", str(workspace), "--json", "--symbols")
    assert out.returncode == 0, out.stderr
    stats = json.loads(out.stdout)
    assert stats["files"] == 3 and stats["dirs"] == 1 and stats["symbols"] == 1

    out = marie("find", str(workspace), "rout:2")
    assert out.returncode == 0 and out.stdout.splitlines()[0] == "src/router.py:2"

    out = marie("search", str(workspace), "hello")
    assert out.returncode == 0
    assert out.stdout.splitlines() == ["src/router.py", "  2:13: return 'hello world'"]
    assert "1 match in 1 file" in out.stderr

    assert marie("search", str(workspace), "absent-text").returncode == 1
    nothing = marie("find", str(workspace), "zzzqqq")
    assert nothing.returncode == 1 and "no file matches 'zzzqqq'" in nothing.stderr
    bad = marie("search", str(workspace), "(", "--regex")
    assert bad.returncode == 2 and "invalid regular expression '('" in bad.stderr and "(?:" not in bad.stderr
    assert marie("index", "stats", str(workspace / "nope")).returncode == 1
