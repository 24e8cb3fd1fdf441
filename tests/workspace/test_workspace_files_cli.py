"""``marie files mv|rm|mkdir|touch`` from the terminal: checkpointed, undoable, clear refusals."""

from __future__ import annotations

from pathlib import Path

from marie.cli import main


def test_files_cli_mkdir_touch_mv_rm_and_undo(workspace: Path, capsys):
    (workspace / ".gitignore").write_text(".env\n")
    (workspace / "app").mkdir()
    (workspace / "app" / ".env").write_text("KEY=1\n")
    (workspace / "app" / "m.py").write_text("m\n")
    root = ["--root", str(workspace)]

    assert main(["files", "mkdir", "pkg/sub", *root]) == 0
    assert (workspace / "pkg" / "sub").is_dir()
    assert main(["files", "touch", "pkg/sub/__init__.py", *root]) == 0
    assert (workspace / "pkg" / "sub" / "__init__.py").read_bytes() == b""

    capsys.readouterr()
    assert main(["files", "mv", "app", "service", *root]) == 0
    out = capsys.readouterr().out
    assert "rename app to service" in out and "undo: marie checkpoint restore" in out
    assert (workspace / "service" / ".env").read_text() == "KEY=1\n" and not (workspace / "app").exists()

    checkpoint = out.rsplit("restore ", 1)[1].split(")")[0]
    assert main(["checkpoint", "restore", checkpoint, *root]) == 0
    assert (workspace / "app" / ".env").read_text() == "KEY=1\n" and (workspace / "app" / "m.py").exists()

    assert main(["files", "rm", "pkg", str(workspace / "app" / "m.py"), *root]) == 0
    assert not (workspace / "pkg").exists() and not (workspace / "app" / "m.py").exists()


def test_files_cli_refuses_with_a_reason(workspace: Path, capsys):
    (workspace / "a.txt").write_text("a")
    assert main(["files", "mv", "a.txt", "../b.txt", "--root", str(workspace)]) == 1
    assert "'..' is not allowed" in capsys.readouterr().err
    assert main(["files", "rm", "missing.txt", "--root", str(workspace)]) == 1
    assert "missing.txt does not exist" in capsys.readouterr().err
    assert main(["files", "mkdir", ".marie/x", "--root", str(workspace)]) == 1
    assert ".marie/" in capsys.readouterr().err
    assert (workspace / "a.txt").read_text() == "a"
