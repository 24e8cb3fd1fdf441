"""`--json` on the commands scripts use, and `marie --help` starting without the core services:
real subprocesses on a real git repository."""

from __future__ import annotations

import json
import os
import subprocess
import sys


def marie(tmp_path, cwd, *args):
    env = dict(os.environ, MARIE_HOME=str(tmp_path / "home"))
    return subprocess.run([sys.executable, "-m", "marie", *args], cwd=str(cwd), env=env, capture_output=True,
                          text=True, timeout=120)


def make_repo(tmp_path):
    root = tmp_path / "repo"
    (root / "src").mkdir(parents=True)
    (root / "src" / "app.py").write_text("def main():\n    return 'needle here'\n", encoding="utf-8")
    (root / "notes.txt").write_text("no match\n", encoding="utf-8")
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    return root


def test_git_status_search_and_find_speak_json(tmp_path):
    root = make_repo(tmp_path)
    status = json.loads(marie(tmp_path, root, "git", "status", "--json").stdout)
    assert status["branch"] == "main" and status["head"] is None
    assert {f["path"]: f["untracked"] for f in status["files"]} == {"notes.txt": True, "src/app.py": True}
    done = marie(tmp_path, root, "search", ".", "needle", "--json")
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert lines == [{"path": "src/app.py", "matches": [{"line": 2, "column": 13, "text": "    return 'needle here'"}]}]
    found = json.loads(marie(tmp_path, root, "find", ".", "app", "--json").stdout)
    assert found[0] == {"path": "src/app.py", "line": None, "column": None}
    assert marie(tmp_path, root, "find", ".", "zzzqqq", "--json").returncode == 1


def test_help_lists_every_command_without_loading_the_services(tmp_path):
    code = ("import sys, io, contextlib\nfrom marie.cli import main\nbuf = io.StringIO()\n"
            "with contextlib.redirect_stdout(buf):\n    try:\n        main(['--help'])\n    except SystemExit:\n        pass\n"
            "loaded = [m for m in ('marie.app', 'marie.core.settings', 'marie.index', 'logging') if m in sys.modules]\n"
            "print(loaded)\nprint(buf.getvalue())\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, MARIE_HOME=str(tmp_path / "home")))
    first, _, rest = done.stdout.partition("\n")
    assert first == "[]", first
    for command in ("agent", "git", "plugins", "remote", "search", "find", "checkpoint"):
        assert command in rest


def test_the_help_listing_reads_the_same_lines_the_subcommands_register():
    """`marie --help` reads each SUMMARY from the file instead of importing the command; the full
    parser (every module imported) must show exactly the same commands with the same lines."""
    from marie.cli import build_parser, command_names, command_summary

    def lines(parser) -> dict[str, str]:
        sub = next(a for a in parser._actions if a.dest == "command")
        return {choice.dest: choice.help for choice in sub._choices_actions}

    listing, full = lines(build_parser(listing=True)), lines(build_parser())
    assert listing == full
    assert sorted(listing) == command_names()
    assert all(command_summary(name) for name in command_names())
