"""Ignore files above the opened folder: a subfolder of a real git repository, with git as the oracle."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from marie.app import App
from marie.index.ignore import IgnoreMatcher
from marie.index.rgscan import list_files
from marie.index.scan import walk
from marie.index.search import SearchOptions


def write(root: Path, rel: str, data: str = "needle\n") -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data)
    return path


def git_repo(root: Path) -> Path:
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    write(root, ".gitignore", "*.log\n!keep.log\n/sub/proj/anchored.txt\nsub/proj/gen/\nbuild/\n")
    write(root, "sub/.gitignore", "secret.txt\n")
    write(root, ".git/info/exclude", "*.tmp\n")
    proj = root / "sub" / "proj"
    for rel in ("a.py", "x.log", "keep.log", "anchored.txt", "secret.txt", "gen/g.py", "deep/secret.txt",
                "deep/anchored.txt", "t.tmp", "deep/y.log", "build/out.py"):
        write(proj, rel)
    write(proj, ".gitignore", "!deep/y.log\n")                # the opened folder's own rules win
    write(root, "build/b.py")
    return proj


def git_visible(folder: Path) -> set[str]:
    """What git itself lists as not ignored, relative to ``folder`` (all files are untracked)."""
    out = subprocess.run(["git", "ls-files", "--others", "--exclude-standard", "-z"], cwd=folder,
                         check=True, capture_output=True).stdout
    return {p for p in out.decode().split("\0") if p}


def test_rules_from_the_repository_root_down_apply_as_in_git(tmp_path: Path) -> None:
    proj = git_repo(tmp_path / "repo")
    matcher = IgnoreMatcher(proj)
    walked = {e.path for e in walk(proj, matcher) if e.kind == "file"}
    assert walked == git_visible(proj)
    assert walked == {".gitignore", "a.py", "keep.log", "deep/anchored.txt", "deep/y.log"}
    assert matcher.reads_parent_rules and matcher.repository == (tmp_path / "repo").resolve()
    assert matcher.is_ignored("gen", True) and matcher.is_ignored("deep/secret.txt")
    # The paths-first listing (rg reading the parents' files) agrees with the walker.
    assert set(list_files(os.fspath(proj), matcher)) == walked


def test_index_and_search_of_a_subfolder_honour_the_parents(tmp_path: Path) -> None:
    proj = git_repo(tmp_path / "repo")
    app = App(proj)
    try:
        app.settings._merged["index.symbols"] = False
        snap = app.index.scan()
        assert set(snap.files()) == git_visible(proj)
        found = []
        app.index.search("needle", SearchOptions(), found.append)
        assert {f.path for f in found} == git_visible(proj) - {".gitignore"}
    finally:
        app.close()


def test_an_ignored_folder_opened_on_purpose_is_not_empty(tmp_path: Path) -> None:
    proj = git_repo(tmp_path / "repo")
    build = proj.parent.parent / "build"            # "build/" in the repository's .gitignore
    matcher = IgnoreMatcher(build)
    assert not matcher.reads_parent_rules
    assert {e.path for e in walk(build, matcher)} == {"b.py"}
    inner = proj / "build"                          # also ignored from above: same decision
    assert {e.path for e in walk(inner, IgnoreMatcher(inner))} == {"out.py"}


def test_outside_a_repository_parent_ignore_files_do_not_apply(tmp_path: Path) -> None:
    write(tmp_path, ".gitignore", "*.log\n")         # a folder above, but no repository anywhere
    proj = tmp_path / "proj"
    write(proj, "x.log")
    write(proj, "a.py")
    matcher = IgnoreMatcher(proj)
    assert not matcher.reads_parent_rules
    assert {e.path for e in walk(proj, matcher)} == {"x.log", "a.py"}
    assert set(list_files(os.fspath(proj), matcher)) == {"x.log", "a.py"}
    app = App(proj)
    try:
        found = []
        app.index.search("needle", SearchOptions(), found.append)
        assert {f.path for f in found} == {"x.log", "a.py"}
    finally:
        app.close()
