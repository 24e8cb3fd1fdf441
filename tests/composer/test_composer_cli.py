"""`marie compose` parity: prints the change set as a unified diff and applies with the same checks."""

from __future__ import annotations

import subprocess
import sys


def marie(*args, cwd):
    return subprocess.run([sys.executable, "-m", "marie", *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_composer_cli_dry_run_apply_and_refusal(workspace, tmp_path):
    (workspace / "a.py").write_text("x = 1\n")
    answer = tmp_path / "answer.txt"
    answer.write_text("a.py\n<<<<<<< SEARCH\nx = 1\n=======\nx = 2\n>>>>>>> REPLACE\n")
    dry = marie("compose", "x to 2", "--answer-file", str(answer), "--dry-run", cwd=workspace)
    assert dry.returncode == 0, dry.stderr
    assert "-x = 1\n+x = 2" in dry.stdout
    assert (workspace / "a.py").read_text() == "x = 1\n"
    applied = marie("compose", "x to 2", "--answer-file", str(answer), "--apply", cwd=workspace)
    assert applied.returncode == 0, applied.stderr
    assert (workspace / "a.py").read_text() == "x = 2\n"
    checkpoint = applied.stderr.split("marie checkpoint restore ")[1].split()[0]
    undo = marie("checkpoint", "restore", checkpoint, cwd=workspace)
    assert undo.returncode == 0, undo.stderr
    assert (workspace / "a.py").read_text() == "x = 1\n"
    answer.write_text("../evil.py\n<<<<<<< SEARCH\n=======\nboom\n>>>>>>> REPLACE\n")
    refused = marie("compose", "escape", "--answer-file", str(answer), "--apply", cwd=workspace)
    assert refused.returncode == 1
    assert "'..' is not allowed" in refused.stderr and "nothing was applied" in refused.stderr
    assert not (workspace.parent / "evil.py").exists()
    answer.write_text("--- a/a.py\n+++ b/a.py\n@@ -1 +1 @@\n-x = 1\n+x = 3\n")
    fmt = marie("compose", "x to 3", "--answer-file", str(answer), "--format", "udiff", "--apply", cwd=workspace)
    assert fmt.returncode == 0, fmt.stderr
    assert (workspace / "a.py").read_text() == "x = 3\n"


def test_composer_cli_repo_map_has_symbols_of_other_files(workspace, tmp_path):
    """The CLI has no live index: `marie compose` scans the workspace itself, so the repo map in the
    context shows symbols of files not named on the command line."""
    (workspace / "main.py").write_text("from util import helper_two\n\nx = helper_two()\n")
    (workspace / "pkg").mkdir()
    (workspace / "pkg" / "util.py").write_text("def helper_two():\n    return 1\n\n\nclass Engine:\n"
                                               "    def start(self):\n        pass\n")
    answer = tmp_path / "answer.txt"
    answer.write_text("main.py\n<<<<<<< SEARCH\nx = helper_two()\n=======\nx = helper_two() + 1\n>>>>>>> REPLACE\n")
    dry = marie("compose", "add one to x using helper_two", "--file", "main.py", "--answer-file", str(answer),
                "--dry-run", "--show-context", cwd=workspace)
    assert dry.returncode == 0, dry.stderr
    assert "+x = helper_two() + 1" in dry.stdout
    report, _, context = dry.stderr.partition("Repository map (symbols by file):\n")
    assert report.startswith("context: ")
    assert "pkg/util.py:\n  function helper_two (line 1)\n  class Engine (line 5)\n    method start (line 6)" in context
    assert "main.py\n```\nfrom util import helper_two" in context     # the --file is shown whole
    assert (workspace / "main.py").read_text() == "from util import helper_two\n\nx = helper_two()\n"
