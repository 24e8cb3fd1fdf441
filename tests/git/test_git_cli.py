"""`marie git ...` over the same service, run in-process and once as a real subprocess."""

from __future__ import annotations

import os
import subprocess
import sys

from marie.cli import main
from tests.git.gitutil import git, write


def run(capsys, repo, *args):
    code = main(["git", "--root", str(repo), *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_status_stage_commit_log_branch(capsys, repo):
    write(repo / "a.txt", "changed\n")
    write(repo / "n.txt", "new\n")
    code, out, _ = run(capsys, repo, "status")
    assert code == 0 and out.splitlines() == ["## main", " M a.txt", "?? n.txt"]
    code, out, _ = run(capsys, repo, "diff")
    assert code == 0 and "+changed" in out
    assert run(capsys, repo, "stage", "a.txt", "n.txt")[0] == 0
    code, out, _ = run(capsys, repo, "diff", "--cached")
    assert out == git(repo, "diff", "--cached")
    assert run(capsys, repo, "unstage", "n.txt")[1] == "unstaged n.txt\n"
    code, out, _ = run(capsys, repo, "commit", "-m", "cli commit", "-s")
    assert code == 0 and "cli commit" in out
    assert "Signed-off-by" in git(repo, "log", "-1", "--format=%B")
    code, out, _ = run(capsys, repo, "log", "-n", "2")
    assert out.splitlines()[0].startswith("* ") and "(main) cli commit" in out.splitlines()[0]
    code, out, _ = run(capsys, repo, "log", "src/b.py")
    assert [line.split(" ", 2)[2].split(" —")[0] for line in out.splitlines()] == ["second", "first"]
    assert run(capsys, repo, "branch", "topic")[0] == 0
    code, out, _ = run(capsys, repo, "branch")
    assert out.splitlines()[0].startswith("* main")
    assert run(capsys, repo, "branch", "-s", "topic")[1] == "switched to topic\n"
    code, out, err = run(capsys, repo, "commit", "-m", "nothing")
    assert code == 1 and "nothing to commit" in err


def test_cli_stage_lines(capsys, repo):
    write(repo / "a.txt", "ONE\ntwo\nthree\nfour\nfive\nsix\nseven\neight\nnine\nTEN\n")
    code, out, _ = run(capsys, repo, "stage", "a.txt", "--lines", "10")
    assert code == 0
    staged = git(repo, "diff", "--cached")
    assert "+TEN" in staged and "ONE" not in staged


def test_cli_errors_are_clear(capsys, workspace):
    code, _, err = run(capsys, workspace, "status")
    assert code == 1 and "not inside a git repository" in err


def test_cli_subprocess_hook_failure(repo):
    from tests.git.gitutil import make_hook

    make_hook(repo, "pre-commit", "echo 'blocked by policy'\nexit 1\n")
    write(repo / "a.txt", "x\n")
    git(repo, "add", "a.txt")
    proc = subprocess.run([sys.executable, "-m", "marie", "git", "commit", "-m", "x"], cwd=repo,
                          capture_output=True, text=True, env=os.environ.copy(), timeout=60)
    assert proc.returncode == 1
    assert "blocked by policy" in proc.stderr and "pre-commit hook failed" in proc.stderr


def test_cli_stash_and_merge(capsys, repo):
    from tests.git.conftest import conflicted_repo

    write(repo / "a.txt", "wip\n")
    code, out, _ = run(capsys, repo, "stash", "save", "-m", "half done")
    assert code == 0 and "half done" in out and git(repo, "status", "--porcelain") == ""
    code, out, _ = run(capsys, repo, "stash", "list")
    assert code == 0 and out.startswith("stash@{0} ") and "half done" in out
    assert run(capsys, repo, "stash", "apply")[0] == 0 and (repo / "a.txt").read_text() == "wip\n"
    git(repo, "checkout", "--", "a.txt")
    assert run(capsys, repo, "stash", "pop", "0")[1] == "popped stash@{0}\n"
    assert git(repo, "stash", "list") == "" and (repo / "a.txt").read_text() == "wip\n"
    code, _, err = run(capsys, repo, "stash", "drop")
    assert code != 0 and "no stash 0" in err
    git(repo, "checkout", "--", "a.txt")
    conflicted_repo(repo)
    code, _, err = run(capsys, repo, "merge", "nope")
    assert code != 0 and "no commit named 'nope'" in err
    code, out, err = run(capsys, repo, "merge", "theirs")
    assert code == 1 and "CONFLICT a.txt" in out and "resolve" in err
    assert "<<<<<<<" in (repo / "a.txt").read_text()


def test_cli_root_after_the_action_and_errors_without_traceback(capsys, repo, tmp_path, caplog):
    write(repo / "a.txt", "changed again\n")
    assert main(["git", "status", "--root", str(repo)]) == 0
    assert " M a.txt" in capsys.readouterr().out
    plain = tmp_path / "not-a-repo"
    plain.mkdir()
    code = main(["git", "log", "--root", str(plain)])
    err = capsys.readouterr().err
    assert code != 0 and "not inside a git repository" in err
    assert "Traceback" not in err and not [r for r in caplog.records if r.levelname == "ERROR"]
