import os

import pytest

from marie.core.workspace import PathRefused, resolve_inside

REFUSED = [
    "/etc/passwd", "../outside.txt", "a/../../x", "C:/Windows/x", "C:\\x", ".git/config",
    "sub/.git/HEAD", ".GIT/hooks/pre-commit", "nul", "con.txt", "dir/aux", "LPT1", "", ".", "a\x00b",
    ".marie/settings.toml",
]


@pytest.mark.parametrize("rel", REFUSED)
def test_refused(workspace, rel):
    with pytest.raises(PathRefused):
        resolve_inside(workspace, rel)


def test_symlink_escape_refused(workspace, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (workspace / "link").symlink_to(outside)
    with pytest.raises(PathRefused, match="symbolic link"):
        resolve_inside(workspace, "link/evil.txt")
    (workspace / "file_link").symlink_to(outside / "f.txt")
    with pytest.raises(PathRefused):
        resolve_inside(workspace, "file_link")


def test_allowed_inside(workspace):
    (workspace / "pkg").mkdir()
    (workspace / "inner").symlink_to(workspace / "pkg")
    assert resolve_inside(workspace, "pkg/new.py") == workspace / "pkg" / "new.py"
    assert resolve_inside(workspace, "./a/b.txt") == workspace / "a" / "b.txt"
    assert resolve_inside(workspace, "inner/x.py") == workspace / "inner" / "x.py"
    assert os.path.basename(resolve_inside(workspace, ".gitignore")) == ".gitignore"
