"""Commits: messages, amend, sign-off, empty commits, hooks and scanners, AI message cleanup."""

from __future__ import annotations

import pytest

from marie.git.hooks import add_sign_off, clean_message
from marie.git.model import GitError, HookFailed
from marie.git.service import clean_ai_message
from tests.git.gitutil import git, make_hook, write


def test_commit_uses_repo_identity_and_refuses_empty(gapp, repo):
    git(repo, "config", "user.name", "Repo Person")
    git(repo, "config", "user.email", "repo@example.invalid")
    with pytest.raises(GitError, match="nothing to commit"):
        gapp.git.commit_sync("empty")
    write(repo / "a.txt", "new\n")
    gapp.git.stage_sync(["a.txt"])
    result = gapp.git.commit_sync("# a comment\nchange a\n\n\nbody line  \n")
    assert result.summary == "change a"
    assert git(repo, "log", "-1", "--format=%an <%ae>|%B").strip() == "Repo Person <repo@example.invalid>|change a\n\nbody line"
    assert gapp.git.last_status.files == {}
    assert gapp.git.commit_sync("allowed", allow_empty=True).summary == "allowed"


def test_amend_and_sign_off(gapp, repo):
    write(repo / "a.txt", "x\n")
    gapp.git.stage_sync(["a.txt"])
    gapp.git.commit_sync("typo mesage", sign_off=True)
    assert git(repo, "log", "-1", "--format=%B").strip().endswith("Signed-off-by: Marie Test <marie@example.invalid>")
    count = git(repo, "rev-list", "--count", "HEAD")
    write(repo / "b.txt", "forgotten\n")
    gapp.git.stage_sync(["b.txt"])
    gapp.git.commit_sync("fixed message", amend=True)
    assert git(repo, "rev-list", "--count", "HEAD") == count
    assert git(repo, "log", "-1", "--format=%s").strip() == "fixed message"
    assert "b.txt" in git(repo, "show", "--name-only", "--format=", "HEAD")
    # amending with no staged change only rewrites the message
    gapp.git.commit_sync("reworded", amend=True)
    assert git(repo, "log", "-1", "--format=%s").strip() == "reworded"
    assert git(repo, "rev-list", "--count", "HEAD") == count


def test_failing_pre_commit_hook_aborts_with_output(gapp, repo):
    make_hook(repo, "pre-commit", "echo 'lint: trailing spaces in a.txt'\nexit 1\n")
    write(repo / "a.txt", "x \n")
    gapp.git.stage_sync(["a.txt"])
    head = git(repo, "rev-parse", "HEAD")
    with pytest.raises(HookFailed) as info:
        gapp.git.commit_sync("will fail")
    assert info.value.hook == "pre-commit"
    assert "lint: trailing spaces in a.txt" in info.value.output
    assert git(repo, "rev-parse", "HEAD") == head
    assert gapp.git.last_status is None or gapp.git.status_sync().files["a.txt"].index == "modified"
    # the same commit goes through with hooks skipped (like --no-verify)
    assert gapp.git.commit_sync("no verify", run_hooks=False).summary == "no verify"


def test_commit_msg_hook_gets_message_file_and_may_edit_it(gapp, repo):
    make_hook(repo, "commit-msg", 'echo "checked in $(pwd)"\necho "Ticket: 42" >> "$1"\n')
    make_hook(repo, "pre-commit", 'git add extra.txt\necho pre ran\n')
    write(repo / "a.txt", "x\n")
    write(repo / "extra.txt", "added by the hook\n")
    gapp.git.stage_sync(["a.txt"])
    result = gapp.git.commit_sync("feat: thing")
    assert f"checked in {repo}" in result.hook_output and "pre ran" in result.hook_output
    assert git(repo, "log", "-1", "--format=%B").strip() == "feat: thing\nTicket: 42"
    assert "extra.txt" in git(repo, "show", "--name-only", "--format=", "HEAD")


def test_rejecting_commit_msg_hook_and_hooks_path(gapp, repo):
    hooks = repo / "myhooks"
    hooks.mkdir()
    (hooks / "commit-msg").write_text("#!/bin/sh\ngrep -q '^feat' \"$1\" || { echo 'use conventional commits'; exit 3; }\n")
    (hooks / "commit-msg").chmod(0o755)
    git(repo, "config", "core.hooksPath", "myhooks")
    write(repo / "a.txt", "x\n")
    gapp.git.stage_sync(["a.txt"])
    with pytest.raises(HookFailed, match="exit 3") as info:
        gapp.git.commit_sync("bad message")
    assert "use conventional commits" in info.value.output
    assert gapp.git.commit_sync("feat: good").summary == "feat: good"


def test_pre_commit_scanner_hook_point(gapp, repo):
    seen = []

    def scanner(patch: str) -> list[str]:
        seen.append(patch)
        return ["a.txt:1: looks like an AWS key"] if "AKIA" in patch else []

    gapp.git.pre_commit_scanners.append(scanner)
    write(repo / "a.txt", "key = AKIAABCDEFGHIJKLMNOP\n")
    gapp.git.stage_sync(["a.txt"])
    with pytest.raises(HookFailed, match="secrets") as info:
        gapp.git.commit_sync("oops")
    assert "AWS key" in info.value.output
    assert "+key = AKIAABCDEFGHIJKLMNOP" in seen[0]


def test_commit_refuses_missing_identity(workspace, monkeypatch):
    from marie.app import App
    from tests.git.gitutil import init_repo

    init_repo(workspace)
    git(workspace, "config", "--unset", "user.name")
    git(workspace, "config", "--unset", "user.email")
    for var in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"):
        monkeypatch.delenv(var, raising=False)
    # libgit2 reads the global config from a search path fixed at start-up: point it at an empty folder
    import pygit2
    from pygit2.enums import ConfigLevel

    empty = workspace.parent / "no-global-config"
    empty.mkdir()
    saved = {level: pygit2.settings.search_path[level] for level in (ConfigLevel.GLOBAL, ConfigLevel.XDG, ConfigLevel.SYSTEM)}
    for level in saved:
        pygit2.settings.search_path[level] = str(empty)
    write(workspace / "f.txt", "x\n")
    with App(workspace) as app:
        app.git.stage_sync(["f.txt"])
        try:
            with pytest.raises(GitError, match="user.name"):
                app.git.commit_sync("who am i")
        finally:
            for level, value in saved.items():
                pygit2.settings.search_path[level] = value


def test_message_helpers():
    assert clean_message("subject  \n\n\n# comment\nbody\n\n") == "subject\n\nbody\n"
    signed = add_sign_off("fix: x\n", "A", "a@b")
    assert signed == "fix: x\n\nSigned-off-by: A <a@b>\n"
    assert add_sign_off(signed, "A", "a@b") == signed
    assert add_sign_off("fix: x\n\nCo-authored-by: B <b@c>\n", "A", "a@b").endswith("B <b@c>\nSigned-off-by: A <a@b>\n")
    assert clean_ai_message('```\nfeat(git): add line staging\n```') == "feat(git): add line staging"
    assert clean_ai_message('Commit message: "fix: typo"') == "fix: typo"
