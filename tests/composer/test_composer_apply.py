"""Apply through the single write path: checkpoint, atomic all-or-nothing, merge, undo, path safety."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from marie.composer import formats
from marie.composer.changeset import build_changeset
from marie.composer.errors import ComposerError, ConflictError
from marie.composer.merge import merge3


def sr(path: str, old: str, new: str) -> str:
    return f"{path}\n<<<<<<< SEARCH\n{old}=======\n{new}>>>>>>> REPLACE\n"


def propose(app, answer: str, fmt: str = "sr", buffers=None):
    return app.composer.propose_from_answer("test edit", answer, fmt, buffers)


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and ".marie" not in p.parts}


def test_composer_apply_writes_checkpoints_and_undo_restores(app, workspace):
    (workspace / "a.py").write_text("x = 1\ny = 2\n")
    (workspace / "b.py").write_text("keep = True\n")
    cs = propose(app, sr("a.py", "x = 1\n", "x = 100\n") + "NEW.md\n<<<<<<< SEARCH\n=======\n# hi\n>>>>>>> REPLACE\n"
                 + "DELETE b.py\n")
    assert cs.applicable, cs.errors
    result = app.composer.apply(cs)
    assert (workspace / "a.py").read_text() == "x = 100\ny = 2\n"
    assert (workspace / "NEW.md").read_text() == "# hi\n"
    assert not (workspace / "b.py").exists()
    assert result.checkpoint_id
    labels = [c.label for c in app.checkpoints.list()]
    assert any("composer 'test edit'" in label for label in labels)
    app.composer.undo(result)
    assert (workspace / "a.py").read_text() == "x = 1\ny = 2\n"
    assert (workspace / "b.py").read_text() == "keep = True\n"
    assert not (workspace / "NEW.md").exists()


def test_composer_rejected_hunks_and_files_are_not_written(app, workspace):
    (workspace / "a.py").write_text("a = 1\nb = 2\nc = 3\nd = 4\ne = 5\nf = 6\ng = 7\n")
    (workspace / "z.py").write_text("z = 0\n")
    cs = propose(app, sr("a.py", "a = 1\n", "a = 10\n") + sr("a.py", "g = 7\n", "g = 70\n") + sr("z.py", "z = 0\n", "z = 9\n"))
    f = cs.file("a.py")
    assert len(f.hunks) == 2
    f.set_hunk(1, False)
    f.edit_hunk(0, "a = 11  # edited by the user\n")
    cs.file("z.py").accepted = False
    diff = cs.unified_diff()
    assert "+a = 11  # edited by the user" in diff and "g = 70" not in diff and "z.py" not in diff
    app.composer.apply(cs)
    assert (workspace / "a.py").read_text().splitlines()[0] == "a = 11  # edited by the user"
    assert (workspace / "a.py").read_text().endswith("g = 7\n")
    assert (workspace / "z.py").read_text() == "z = 0\n"


def test_composer_crlf_file_written_back_with_crlf(app, workspace):
    (workspace / "w.txt").write_bytes("héllo\r\nwörld\r\n".encode())
    cs = propose(app, sr("w.txt", "wörld\n", "wörld!\nnew line\n"))
    app.composer.apply(cs)
    assert (workspace / "w.txt").read_bytes() == "héllo\r\nwörld!\r\nnew line\r\n".encode()


PATH_ESCAPES = [
    "/etc/passwd",
    "../outside.py",
    "sub/../../outside.py",
    "C:/Windows/win.ini",
    "C:\\evil.py",
    "\\\\server\\share\\x.py",
    ".git/config",
    "sub/.git/hooks/pre-commit",
    ".GIT/HEAD",
    ".marie/settings.toml",
    "NUL",
    "con.txt",
    "sub/aux.py",
    "COM1",
    "link/escaped.py",          # a symlink inside the workspace that points outside
    "linkfile.py",              # a symlinked file that points outside
    "a\x00b.py",
]


@pytest.mark.parametrize("bad", PATH_ESCAPES)
def test_composer_path_escape_table_is_refused_and_nothing_changes(app, workspace, tmp_path, bad):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "escaped.py").write_text("secret = 1\n")
    (workspace / "link").symlink_to(outside, target_is_directory=True)
    (workspace / "linkfile.py").symlink_to(outside / "escaped.py")
    (workspace / "ok.py").write_text("ok = 1\n")
    before_in, before_out = snapshot(workspace), snapshot(outside)
    for answer, fmt in [(sr("ok.py", "ok = 1\n", "ok = 2\n") + sr(bad, "secret = 1\n", "secret = 2\n"), "sr"),
                        (f"ok.py\n```\nok = 2\n```\n{bad}\n```\nsecret = 2\n```\n", "whole"),
                        (f"DELETE {bad}\n" + sr("ok.py", "ok = 1\n", "ok = 2\n"), "sr"),
                        (f"RENAME ok.py -> {bad}\n", "sr")]:
        try:
            cs = propose(app, answer, fmt)
        except Exception as exc:  # a parse error is also a refusal
            raise AssertionError(f"unexpected {exc!r}")
        assert cs.errors, (bad, fmt)
        assert any("refused" in e for e in cs.errors), cs.errors
        assert not cs.applicable
        with pytest.raises(ComposerError):
            app.composer.apply(cs)
    assert snapshot(workspace) == before_in
    assert snapshot(outside) == before_out
    assert not list(app.checkpoints.list())


def test_composer_write_path_refuses_escape_even_when_changeset_is_forged(app, workspace):
    from marie.workspace.guard import PathRefused

    (workspace / "ok.py").write_text("ok = 1\n")
    cs = propose(app, sr("ok.py", "ok = 1\n", "ok = 2\n"))
    cs.files[0].path = "../forged.py"
    with pytest.raises((PathRefused, ComposerError)):
        app.composer.apply(cs)
    assert (workspace / "ok.py").read_text() == "ok = 1\n"
    assert not (workspace.parent / "forged.py").exists()


def test_composer_atomicity_failure_mid_changeset_leaves_every_file(app, workspace, monkeypatch):
    from marie.core import atomic

    for name in "abcd":
        (workspace / f"{name}.py").write_text(f"{name} = 1\n")
    answer = "".join(sr(f"{n}.py", f"{n} = 1\n", f"{n} = 2\n") for n in "abcd")
    cs = propose(app, answer)
    assert cs.applicable
    before = snapshot(workspace)
    real = atomic.write_bytes
    calls = {"n": 0}

    def failing(path, data, mode=None, **kw):
        if Path(path).name in {"a.py", "b.py", "c.py", "d.py"}:
            calls["n"] += 1
            if calls["n"] == 3:  # two files are already written when the third fails
                raise OSError(28, "No space left on device", str(path))
        return real(path, data, mode, **kw)

    monkeypatch.setattr(atomic, "write_bytes", failing)
    with pytest.raises(Exception) as info:
        app.composer.apply(cs)
    assert "nothing was changed" in str(info.value) or "No space" in str(info.value)
    monkeypatch.setattr(atomic, "write_bytes", real)
    assert calls["n"] >= 3
    assert snapshot(workspace) == before


def test_composer_file_changed_on_disk_is_merged_three_ways(app, workspace):
    (workspace / "m.py").write_text("one\ntwo\nthree\nfour\nfive\nsix\nseven\n")
    cs = propose(app, sr("m.py", "two\n", "TWO\n"))
    (workspace / "m.py").write_text("one\ntwo\nthree\nfour\nfive\nsix\nSEVEN\n")  # someone edits meanwhile
    result = app.composer.apply(cs)
    assert result.merged == ["m.py"]
    assert (workspace / "m.py").read_text() == "one\nTWO\nthree\nfour\nfive\nsix\nSEVEN\n"


def test_composer_conflicting_change_on_disk_is_reported_and_nothing_written(app, workspace):
    (workspace / "m.py").write_text("one\ntwo\nthree\n")
    (workspace / "n.py").write_text("n = 1\n")
    cs = propose(app, sr("m.py", "two\n", "TWO\n") + sr("n.py", "n = 1\n", "n = 2\n"))
    (workspace / "m.py").write_text("one\n2\nthree\n")
    with pytest.raises(ConflictError) as info:
        app.composer.apply(cs)
    assert "m.py" in info.value.conflicts
    assert "<<<<<<< current" in info.value.conflicts["m.py"]
    assert (workspace / "m.py").read_text() == "one\n2\nthree\n"
    assert (workspace / "n.py").read_text() == "n = 1\n"


def test_composer_unsaved_buffer_is_merged(app, workspace):
    (workspace / "u.py").write_text("a\nb\nc\nd\ne\nf\n")
    cs = propose(app, sr("u.py", "a\n", "A\n"))
    result = app.composer.apply(cs, buffers={"u.py": "a\nb\nc\nd\ne\nF unsaved\n"})
    assert result.merged == ["u.py"]
    assert (workspace / "u.py").read_text() == "A\nb\nc\nd\ne\nF unsaved\n"
    assert result.texts["u.py"] == "A\nb\nc\nd\ne\nF unsaved\n"


@pytest.mark.parametrize("base,ours,theirs,expected,clean", [
    ("a\nb\nc\n", "A\nb\nc\n", "a\nb\nC\n", "A\nb\nC\n", False),   # touching-adjacent? no: 1 line apart
    ("1\n2\n3\n4\n5\n", "X\n2\n3\n4\n5\n", "1\n2\n3\n4\nY\n", "X\n2\n3\n4\nY\n", True),
    ("1\n2\n3\n", "1\nX\n3\n", "1\nX\n3\n", "1\nX\n3\n", True),     # same change on both sides
    ("1\n2\n3\n", "1\nX\n3\n", "1\nY\n3\n", None, False),           # real conflict
    ("1\n2\n3\n4\n5\n", "1\n2\n3\n4\n5\n6\n", "0\n1\n2\n3\n4\n5\n", "0\n1\n2\n3\n4\n5\n6\n", True),
    ("1\n2\n3\n4\n5\n", "1\n3\n4\n5\n", "1\n2\n3\n4\n", "1\n3\n4\n", True),  # deletions both sides
])
def test_composer_merge3_cases(base, ours, theirs, expected, clean):
    result = merge3(base, ours, theirs)
    if expected is not None and clean:
        assert result.clean and result.text == expected
    if not clean:
        if result.clean:  # adjacent edits one line apart are allowed to merge cleanly
            assert result.text == expected
        else:
            assert "<<<<<<<" in result.text and ">>>>>>>" in result.text


def test_composer_binary_and_missing_files_give_clear_errors(app, workspace):
    (workspace / "img.bin").write_bytes(b"\x00\x01\x02binary")
    cs = propose(app, sr("img.bin", "x\n", "y\n"))
    assert any("binary" in e for e in cs.errors)
    cs = propose(app, sr("missing.py", "x = 1\n", "x = 2\n"))
    assert any("does not exist" in e for e in cs.errors)
