"""Projects: Open Folder re-roots every service (a fresh App in a fresh window), Open Recent with a
missing folder offered for removal, Close Folder, New Window."""

from __future__ import annotations

from PySide6.QtCore import Qt

from marie.ui import projects
from tests.qt_helpers import close_main_windows
from tests.ui.conftest import press


def test_open_folder_reroots_the_services_and_search_finds_the_new_files(make_window, workspace, tmp_path,
                                                                      qtbot, monkeypatch):
    (workspace / "old.py").write_text("OLD = 1\n", encoding="utf-8")
    other = tmp_path / "other"
    other.mkdir()
    (other / "fresh_module.py").write_text("NEEDLE_IN_NEW_PROJECT = 2\n", encoding="utf-8")
    window = make_window()
    old_app = window.app
    window.open_file(workspace / "old.py")
    monkeypatch.setattr(projects, "ask_folder", lambda w: other)
    monkeypatch.setattr(projects, "ask_where", lambda w, root: "this")
    press(qtbot, window, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)      # Ctrl+K Ctrl+O
    press(qtbot, window, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: any(w.app.root == other.resolve() for w in projects.open_windows()), timeout=15000)
    new = next(w for w in projects.open_windows() if w.app.root == other.resolve())
    try:
        assert window.is_closing and not window.isVisible()           # "this window": the old one went
        qtbot.waitUntil(lambda: old_app.closed, timeout=15000)       # ... and its services with it
        assert new.app is not old_app and new.windowTitle().startswith("other")
        for service in ("index", "git", "checkpoints", "lsp", "composer"):
            assert getattr(new.app, service).app.root == other.resolve(), service
        new.app.index.scan()
        assert [m.path for m in new.app.index.find("fresh_mod")] == ["fresh_module.py"]
        hits = []
        new.app.index.search("NEEDLE_IN_NEW_PROJECT", on_match=lambda fm: hits.append(fm.path))
        assert hits == ["fresh_module.py"]
        assert projects.RecentProjects().load()[0] == other.resolve()
    finally:
        close_main_windows(new)


def test_open_recent_offers_to_remove_a_missing_folder(make_window, tmp_path, monkeypatch):
    gone = tmp_path / "gone"
    gone.mkdir()
    projects.RecentProjects().add(gone)
    gone.rmdir()
    window = make_window()
    asked = []
    monkeypatch.setattr(projects, "ask_remove_missing", lambda w, root: asked.append(root) or True)
    assert projects.open_recent(window, gone) is None
    assert asked == [gone] and gone.resolve() not in projects.RecentProjects().load()
    assert "Removed" in window.status_bar.currentMessage()


def test_new_window_and_close_folder_show_the_welcome_view(make_window, qtbot):
    window = make_window()
    fresh = projects.new_window(window)
    try:
        assert projects.is_empty_root(fresh.app.root) and fresh.isVisible()
        assert fresh.area.stack.currentWidget() is fresh.welcome
        assert fresh.welcome.folder_label.text() == "No folder open"
        assert window.isVisible()                                  # a new window leaves this one alone
        closed = projects.close_folder(window)
        assert closed is not window and projects.is_empty_root(closed.app.root) and not window.isVisible()
    finally:
        close_main_windows(*[w for w in projects.open_windows()])
