import os

import pytest

from marie.workspace.guard import PathRefused, resolve_inside

REFUSED = [
    "/etc/passwd", "../outside.txt", "a/../../x", "C:/Windows/x", "C:\\x", ".git/config",
    "sub/.git/HEAD", ".GIT/hooks/pre-commit", "nul", "con.txt", "dir/aux", "LPT1", "", ".", "a\x00b",
    ".marie/settings.toml",
    # the hardening: expansion, encodings, separators and names other layers could reinterpret
    "~/.ssh/id_rsa", "~root/x", "$HOME/x", "${HOME}/x", "./~x", "%2e%2e/x", "a/%2E%2e/b", ".%2e/x", "%2e/x",
    "a:b", "file.txt:stream", "http://x/y", "a\\b", "sub\\..\\x", "a\tb", "a\nb", "a\x1bb", "a\x7fb",
    ".marie/rules.md", ".marie", ".MARIE/x", "sub/.git", ".git",
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


@pytest.mark.parametrize("rel", ["a%2eb.txt", "100%.txt", "sub/~notes.txt", "a$b", "dir/.marie/x", ".marie-notes.md",
                                 "x.gitignore", "a b/c d.txt", "üñî/çødé.py"])
def test_ordinary_names_stay_allowed(workspace, rel):
    assert resolve_inside(workspace, rel) == workspace / rel


def test_the_reason_is_in_the_message(workspace):
    for rel, reason in [("~/x", "'~'"), ("ab:c", "':'"), ("a\\b", "backslash"), ("%2e%2e/x", "encoded dot"),
                        ("a\x01b", "control character"), (".marie/rules.md", ".marie/")]:
        with pytest.raises(PathRefused, match=reason):
            resolve_inside(workspace, rel)


def test_a_symlink_into_marie_folder_is_refused(workspace):
    (workspace / ".marie").mkdir()
    (workspace / "cfg").symlink_to(workspace / ".marie")
    with pytest.raises(PathRefused, match=".marie"):
        resolve_inside(workspace, "cfg/settings.toml")


def test_restore_may_put_back_protected_and_odd_names_but_never_escape(workspace):
    # checkpoint restore (allow_protected) puts back exactly what was on disk, odd names included
    assert resolve_inside(workspace, ".marie/settings.toml", allow_protected=True) == workspace / ".marie" / "settings.toml"
    assert resolve_inside(workspace, "ab:c", allow_protected=True) == workspace / "ab:c"
    for rel in ("../x", "/etc/passwd", ".git/config", "a\x00b"):
        with pytest.raises(PathRefused):
            resolve_inside(workspace, rel, allow_protected=True)
