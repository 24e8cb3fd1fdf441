"""`marie checkpoint ...` as a user runs it: a real `marie` process inside the workspace folder."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path


def marie(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["marie", "checkpoint", *args], cwd=cwd, capture_output=True, text=True, timeout=60,
                          env=os.environ.copy())


def test_cli_create_list_diff_restore_verify_gc(workspace: Path):
    (workspace / "a.txt").write_text("one\n")
    first = marie(workspace, "create", "--label", "first")
    assert first.returncode == 0, first.stderr
    first_id = first.stdout.split()[0]
    (workspace / "a.txt").write_text("two\n")
    (workspace / "b.txt").write_text("b\n")
    second = marie(workspace, "create", "--label", "second")
    second_id = second.stdout.split()[0]

    listing = marie(workspace, "list").stdout.splitlines()
    assert [line.split()[0] for line in listing] == [second_id, first_id]   # newest first, id first
    assert listing[0].endswith("second") and "2 changed" in listing[0]

    diff = marie(workspace, "diff", first_id, second_id)
    assert "modified  a.txt" in diff.stdout and "-one" in diff.stdout and "+two" in diff.stdout
    assert "added     b.txt" in diff.stdout
    (workspace / "a.txt").write_text("three\n")
    assert "+three" in marie(workspace, "diff").stdout          # latest vs now

    restored = marie(workspace, "restore", first_id[-6:], "--path", "a.txt")
    assert restored.returncode == 0, restored.stderr
    assert (workspace / "a.txt").read_text() == "one\n" and (workspace / "b.txt").exists()
    assert "undo with `marie checkpoint restore" in restored.stdout
    assert marie(workspace, "undo").returncode == 0
    assert (workspace / "a.txt").read_text() == "three\n"

    ok = marie(workspace, "verify")
    assert ok.returncode == 0 and "verified" in ok.stdout
    assert "removed" in marie(workspace, "gc").stdout
    other = workspace.parent
    assert marie(other, "list", "--root", str(workspace)).stdout.splitlines()[-1].split()[0] == first_id
    assert marie(other, "--root", str(workspace), "list").stdout.splitlines()[-1].split()[0] == first_id
    empty = marie(other, "list")
    assert empty.stdout == "" and "no checkpoints yet" in empty.stderr


def test_cli_reports_damage_and_bad_ids(workspace: Path, marie_home: Path):
    (workspace / "a.txt").write_text("precious\n")
    cid = marie(workspace, "create").stdout.split()[0]
    bad = marie(workspace, "restore", "no-such-id")
    assert bad.returncode == 1 and "no checkpoint 'no-such-id'" in bad.stderr
    from marie.app import App

    with App(workspace) as app:
        ref = app.checkpoints.items(cid)["a.txt"].ref
        app.checkpoints.store.path(ref).write_bytes(b"rot")
    verify = marie(workspace, "verify")
    assert verify.returncode == 1 and cid in verify.stdout and "damaged" in verify.stdout
    (workspace / "a.txt").write_text("new\n")
    refused = marie(workspace, "restore", cid)
    assert refused.returncode == 1 and "is damaged" in refused.stderr
    assert (workspace / "a.txt").read_text() == "new\n"
