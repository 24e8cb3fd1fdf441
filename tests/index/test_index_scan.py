"""Scan and ignore semantics on real folders."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from marie.index.ignore import IgnoreMatcher
from marie.index.scan import walk
from marie.index.snapshot import Snapshot, display_path


def write(root: Path, rel: str, data: str = "x\n") -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data)
    return path


def listing(root: Path, excludes=()) -> dict[str, str]:
    return {e.path: e.kind for e in walk(root, IgnoreMatcher(root, excludes))}


def test_nested_gitignore_negation_and_non_git_folder(workspace: Path) -> None:
    # Not a git repository: the rules apply anyway (like rg --no-require-git).
    write(workspace, ".gitignore", "*.log\nbuild/\n!keep.log\n/top.txt\n")
    write(workspace, "a.log")
    write(workspace, "keep.log")
    write(workspace, "top.txt")
    write(workspace, "sub/top.txt")               # anchored rule only applies at the root
    write(workspace, "build/out.bin")
    write(workspace, "src/build/gen.py")          # folder rule matches at any depth
    write(workspace, "src/.gitignore", "secret.py\n!a.log\n")
    write(workspace, "src/secret.py")
    write(workspace, "src/a.log")                 # re-included by the deeper file
    write(workspace, "src/ok.py")
    seen = listing(workspace)
    assert "a.log" not in seen and "keep.log" in seen
    assert "top.txt" not in seen and "sub/top.txt" in seen
    assert "build" not in seen and "build/out.bin" not in seen
    assert "src/build" not in seen and "src/build/gen.py" not in seen
    assert "src/secret.py" not in seen and "src/ok.py" in seen
    assert "src/a.log" in seen
    matcher = IgnoreMatcher(workspace)
    assert matcher.is_ignored("build/out.bin")
    assert matcher.is_ignored("build", is_dir=True)
    assert not matcher.is_ignored("src/a.log")
    assert matcher.is_ignored("src/secret.py")


def test_ignore_file_info_exclude_settings_and_git_dir(workspace: Path) -> None:
    subprocess.run(["git", "init", "-q", str(workspace)], check=True)
    write(workspace, ".git/info/exclude", "local-only.txt\n")
    write(workspace, ".ignore", "*.tmp\n")
    write(workspace, "local-only.txt")
    write(workspace, "scratch.tmp")
    write(workspace, "node_modules/pkg/index.js")
    write(workspace, "docs/a.md")
    write(workspace, "gen/x.generated.ts")
    seen = listing(workspace, excludes=["node_modules", "*.generated.ts"])
    assert not any(p == ".git" or p.startswith(".git/") for p in seen)
    assert "local-only.txt" not in seen
    assert "scratch.tmp" not in seen
    assert "node_modules" not in seen
    assert "gen/x.generated.ts" not in seen and "gen" in seen
    assert seen["docs/a.md"] == "file"


def test_symlink_loop_dangling_link_and_link_to_folder(workspace: Path, tmp_path: Path) -> None:
    write(workspace, "pkg/mod.py")
    os.symlink("..", workspace / "pkg" / "up")                  # loop back to the root
    os.symlink("missing.py", workspace / "dangling.py")           # dangling
    outside = tmp_path / "outside"
    write(outside, "secret.txt")
    os.symlink(outside, workspace / "escape")                     # folder outside the root
    seen = listing(workspace)
    assert seen["pkg/up"] == "symlink"
    assert seen["dangling.py"] == "symlink"
    assert seen["escape"] == "symlink"
    assert not any(p.startswith("escape/") or p.startswith("pkg/up/") for p in seen)
    assert seen["pkg/mod.py"] == "file"


def test_unreadable_folder_reported_once(workspace: Path) -> None:
    write(workspace, "ok/a.py")
    write(workspace, "locked/inner/b.py")
    locked = workspace / "locked"
    os.chmod(locked, 0)
    try:
        walker = walk(workspace, IgnoreMatcher(workspace))
        seen = {e.path for e in walker}
        if os.access(locked, os.R_OK | os.X_OK):
            # Root reads through mode 000: the folder really is readable, so it is listed and not
            # reported (the denied case is proven by the next test).
            assert "locked/inner/b.py" in seen and walker.unreadable == []
            return
        assert "ok/a.py" in seen and "locked" in seen and "locked/inner/b.py" not in seen
        assert [u.path for u in walker.unreadable] == ["locked"]
        assert "permission denied" in str(walker.unreadable[0])
    finally:
        os.chmod(locked, 0o755)


def test_unreadable_folder_simulated_permission_error(workspace: Path, monkeypatch) -> None:
    """Root can list a chmod-000 folder, so the walker is made unable to list it: os.scandir raises
    PermissionError for that path exactly as the kernel does for a normal user."""
    write(workspace, "ok/a.py")
    write(workspace, "locked/inner/b.py")
    real_scandir = os.scandir
    locked = os.path.join(str(workspace), "locked")

    def scandir_denying_locked(path):
        if os.fspath(path) == locked:
            raise PermissionError(13, "Permission denied", locked)
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir_denying_locked)
    walker = walk(workspace, IgnoreMatcher(workspace))
    seen = {e.path for e in walker}
    assert "ok/a.py" in seen and "locked" in seen and "locked/inner/b.py" not in seen
    assert [u.path for u in walker.unreadable] == ["locked"]
    assert "permission denied" in str(walker.unreadable[0])


def test_folder_deleted_during_scan_is_skipped(workspace: Path, monkeypatch) -> None:
    write(workspace, "keep/a.py")
    write(workspace, "gone/b.py")
    real_scandir = os.scandir
    gone = os.path.join(str(workspace), "gone")

    def scandir_after_delete(path):
        if not isinstance(path, int) and os.fspath(path) == gone:
            import shutil
            shutil.rmtree(gone)  # really deleted between the parent listing and this one
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir_after_delete)
    walker = walk(workspace, IgnoreMatcher(workspace))
    seen = {e.path for e in walker}
    assert "keep/a.py" in seen and "gone/b.py" not in seen
    assert walker.unreadable == []


def test_non_utf8_name_kept_and_shown_escaped(workspace: Path) -> None:
    raw = os.path.join(os.fsencode(str(workspace)), b"caf\xe9.txt")
    with open(raw, "wb") as handle:
        handle.write(b"hi")
    entries = list(walk(workspace, IgnoreMatcher(workspace)))
    (entry,) = entries
    assert os.fsencode(entry.path) == b"caf\xe9.txt"           # round-trips to the real bytes
    assert display_path(entry.path) == "caf\\xe9.txt"
    assert os.path.exists(os.path.join(str(workspace), entry.path))


def test_snapshot_apply_is_immutable(workspace: Path) -> None:
    write(workspace, "a/b.py")
    snap = Snapshot.build(walk(workspace, IgnoreMatcher(workspace)))
    from marie.index.snapshot import Entry
    new, changes = snap.apply([Entry("c.py", "file", 1, 1)], ["a"])
    assert "a/b.py" in snap and "a/b.py" not in new and "c.py" in new
    assert {(c.kind, c.path) for c in changes} == {("removed", "a"), ("removed", "a/b.py"), ("added", "c.py")}
    assert new.generation == snap.generation + 1
    assert new.files() == ("c.py",) and snap.files() == ("a/b.py",)


def test_applied_changes_carry_the_sorted_file_list_forward(tmp_path) -> None:
    """``apply`` edits the previous sorted file list instead of re-sorting everything; the result is
    exactly what sorting the new snapshot's files gives."""
    from marie.index.snapshot import Entry, Snapshot

    base = Snapshot.build([Entry("a", "dir"), Entry("a/x.py", "file"), Entry("b.py", "file"),
                           Entry("c", "dir"), Entry("c/z.py", "file"), Entry("l", "symlink")])
    assert base.files() == ("a/x.py", "b.py", "c/z.py", "l")
    new, _ = base.apply([Entry("a/w.py", "file"), Entry("d.py", "file"), Entry("b.py", "file", 5)], ["c", "l"])
    assert new._files is not None                        # carried, not left to a re-sort
    assert new.files() == tuple(sorted(p for p, e in new.entries.items() if e.kind != "dir"))
    assert new.files() == ("a/w.py", "a/x.py", "b.py", "d.py")
