"""Window layout and open tabs come back after a restart (session.json, atomic)."""

from __future__ import annotations

import json
from pathlib import Path

from marie.ui import session


def test_session_restores_tabs_cursor_and_geometry(make_window, workspace):
    files = []
    for name in ("one.py", "two.md", "three.txt"):
        path = workspace / name
        path.write_text("\n".join(f"line {i}" for i in range(40)) + "\n", encoding="utf-8")
        files.append(path)
    window = make_window()
    for path in files:
        window.open_file(path)
    window.open_file(files[1], line=12, column=3)
    window.resize(640, 480)     # the offscreen screen is 800x600
    size = (window.width(), window.height())   # panels may impose a minimum height
    window.close()
    saved = json.loads(session.session_file(window.app.data_dir).read_text())
    assert [Path(t["path"]).name for t in saved["tabs"]] == ["one.py", "two.md", "three.txt"]

    files[2].unlink()                    # a file that disappeared is skipped, not an error
    again = make_window()
    assert [e.path.name for e in again.editors()] == ["one.py", "two.md"]
    assert again.current_editor().path.name == "two.md"
    assert again.current_editor().cursor_position() == (12, 3)
    assert (again.width(), again.height()) == size


def test_broken_session_file_is_ignored(make_window, workspace):
    from marie.core import paths

    folder = paths.workspace_data_dir(workspace)
    folder.mkdir(parents=True, exist_ok=True)
    session.session_file(folder).write_text("{not json")
    window = make_window()
    assert window.tabs.count() == 0


def test_session_is_saved_soon_after_tabs_change(make_window, workspace, qtbot):
    # Saved on a short timer as well, so a crash (no closeEvent) still finds the tabs.
    (workspace / "x.py").write_text("x = 1\n")
    window = make_window()
    window.open_file(workspace / "x.py")
    file = session.session_file(window.app.data_dir)
    qtbot.waitUntil(lambda: file.exists() and "x.py" in file.read_text(), timeout=15000)
