"""File operations through the one write path: folders take their ignored files along, every
operation is checkpointed and undone by restoring its checkpoint, failures change nothing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from marie.core.event_types import FilesWritten
from marie.workspace.fileops import FileOpError
from marie.workspace.guard import PathRefused


def tree(root: Path) -> dict[str, str]:
    """Every file and link below ``root`` (links as "-> target"), ignored ones included; empty folders as "/"."""
    out: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = Path(dirpath).relative_to(root).as_posix()
        if rel_dir == ".marie" or rel_dir.startswith(".marie/"):
            continue
        if not dirnames and not filenames and rel_dir != ".":
            out[rel_dir + "/"] = ""
        for name in filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
            path = Path(dirpath) / name
            rel = path.relative_to(root).as_posix()
            out[rel] = f"-> {os.readlink(path)}" if path.is_symlink() else path.read_text()
    return out


@pytest.fixture
def project(workspace: Path) -> Path:
    (workspace / ".gitignore").write_text(".env\nbuild/\n")
    (workspace / "svc" / "build").mkdir(parents=True)
    (workspace / "svc" / "empty").mkdir()
    (workspace / "svc" / "main.py").write_text("print('hi')\n")
    (workspace / "svc" / ".env").write_text("TOKEN=secret\n")
    (workspace / "svc" / "build" / "out.o").write_text("obj")
    (workspace / "svc" / "link").symlink_to("main.py")
    return workspace


def test_folder_rename_moves_ignored_files_and_restore_undoes_it(app, project):
    app.index.scan()
    assert "svc/.env" not in app.index.snapshot()          # ignored: the snapshot does not know it
    before = tree(project)
    seen: list[FilesWritten] = []
    app.events.on(FilesWritten, seen.append)

    result = app.fileops.rename("svc", "service")

    after = tree(project)
    assert not (project / "svc").exists()
    assert after == {k.replace("svc/", "service/", 1) if k.startswith("svc/") else k: v for k, v in before.items()}
    assert (project / "service" / ".env").read_text() == "TOKEN=secret\n"
    assert os.readlink(project / "service" / "link") == "main.py"
    assert seen and seen[-1].label == "rename svc to service" and seen[-1].checkpoint_id == result.checkpoint_id
    assert "service/.env" in seen[-1].written and "svc/.env" in seen[-1].deleted
    app.index.wait_idle()
    assert "service/main.py" in app.index.snapshot() and "svc/main.py" not in app.index.snapshot()

    app.checkpoints.restore(result.checkpoint_id)
    restored = tree(project)
    assert {k: v for k, v in restored.items() if not k.endswith("/")} == \
        {k: v for k, v in before.items() if not k.endswith("/")}
    assert (project / "svc" / ".env").read_text() == "TOKEN=secret\n"


def test_folder_delete_takes_ignored_files_and_links_but_not_their_targets(app, project, tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("keep me")
    (project / "svc" / "out_link").symlink_to(outside)
    before = tree(project)

    result = app.fileops.delete("svc")

    assert not (project / "svc").exists()
    assert outside.read_text() == "keep me"
    assert set(result.deleted) >= {"svc/main.py", "svc/.env", "svc/build/out.o", "svc/link", "svc/out_link"}
    app.checkpoints.restore(result.checkpoint_id)
    files = {k: v for k, v in tree(project).items() if not k.endswith("/")}
    assert files == {k: v for k, v in before.items() if not k.endswith("/")}


def test_create_file_and_folder_refuse_what_exists(app, project):
    app.fileops.create_folder("pkg/sub")
    assert (project / "pkg" / "sub").is_dir()
    app.fileops.create_file("pkg/sub/__init__.py", b"x = 1\n")
    assert (project / "pkg" / "sub" / "__init__.py").read_bytes() == b"x = 1\n"
    with pytest.raises(FileOpError, match="already exists"):
        app.fileops.create_folder("pkg/sub")
    with pytest.raises(FileOpError, match="already exists"):
        app.fileops.create_file("svc/main.py")
    assert (project / "svc" / "main.py").read_text() == "print('hi')\n"


def test_rename_into_a_folder_and_the_refusals(app, project):
    app.fileops.create_folder("dest")
    with pytest.raises(FileOpError, match="already exists"):
        app.fileops.rename("svc/main.py", "dest")                    # a rename never lands inside a folder ...
    app.fileops.rename("svc/main.py", "dest", into_folder=True)      # ... unless asked to (mv's rule)
    assert (project / "dest" / "main.py").read_text() == "print('hi')\n"
    with pytest.raises(FileOpError, match="into itself"):
        app.fileops.rename("svc", "svc/build/deeper")
    with pytest.raises(FileOpError, match="does not exist"):
        app.fileops.rename("nope", "other")
    with pytest.raises(FileOpError, match="already exists"):
        app.fileops.rename("svc/.env", "dest/main.py")
    with pytest.raises(PathRefused):
        app.fileops.rename("svc", "../escaped")
    with pytest.raises(PathRefused):
        app.fileops.delete(".git/config")
    assert (project / "svc" / ".env").exists()


def test_duplicate_keeps_mode_and_picks_a_free_name(app, project):
    script = project / "run.sh"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    app.fileops.duplicate("run.sh")
    app.fileops.duplicate("run.sh")
    assert (project / "run copy.sh").read_text() == "#!/bin/sh\n"
    assert (project / "run copy 2.sh").exists()
    assert (project / "run copy.sh").stat().st_mode & 0o777 == 0o755


def test_a_failed_folder_delete_changes_nothing(app, project, monkeypatch):
    before = tree(project)
    real_rmdir = os.rmdir

    def failing_rmdir(path, *a, **kw):
        if str(path).endswith("/svc"):
            raise OSError(39, "Directory not empty", str(path))
        return real_rmdir(path, *a, **kw)

    monkeypatch.setattr(os, "rmdir", failing_rmdir)
    with pytest.raises(Exception, match="could not write|not empty"):
        app.fileops.delete("svc")
    monkeypatch.undo()
    assert tree(project) == before
