"""A file changed on disk: a clean buffer reloads itself; a dirty one gets Reload / Keep mine /
Compare; a deleted file is marked in its tab."""

from __future__ import annotations

import os
from pathlib import Path

from marie.core import atomic
from marie.core.event_types import FilesWritten
from tests.ui.conftest import type_text


def external_write(path: Path, text: str) -> None:
    atomic.write_bytes(path, text.encode("utf-8"))
    st = path.stat()   # make sure mtime moves even on coarse filesystems
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))


def test_clean_buffer_reloads_by_itself(make_window, workspace, qtbot):
    path = workspace / "clean.py"
    path.write_text("old = 1\n")
    window = make_window()
    editor = window.open_file(path)
    external_write(path, "new = 2\n")
    qtbot.waitUntil(lambda: editor.text() == "new = 2\n", timeout=15000)
    assert not editor.is_dirty() and window.info_bar(editor) is None


def test_dirty_buffer_gets_a_bar_keep_mine_then_reload(make_window, workspace, qtbot):
    path = workspace / "dirty.py"
    path.write_text("base = 0\n")
    window = make_window()
    editor = window.open_file(path)
    type_text(qtbot, editor, "mine = 1\n")
    qtbot.waitUntil(editor.is_dirty)
    external_write(path, "theirs = 2\n")
    qtbot.waitUntil(lambda: window.info_bar(editor) is not None, timeout=15000)
    bar = window.info_bar(editor)
    assert set(bar.buttons) == {"Reload", "Keep mine", "Compare"}
    assert editor.text().startswith("mine = 1\n")                  # nothing applied behind the user's back
    bar.buttons["Compare"].click()
    diff = window._last_diff.view.toPlainText()
    assert "-theirs = 2" in diff and "+mine = 1" in diff
    window._last_diff.close()

    bar.buttons["Keep mine"].click()
    qtbot.wait(1500)                                                # a poll or two later: no new bar
    assert window.info_bar(editor) is None and editor.text().startswith("mine = 1")
    assert window.save(editor)
    assert path.read_text().startswith("mine = 1\n")

    type_text(qtbot, editor, "again\n")
    external_write(path, "theirs = 3\n")
    qtbot.waitUntil(lambda: window.info_bar(editor) is not None, timeout=15000)
    window.info_bar(editor).buttons["Reload"].click()
    assert editor.text() == "theirs = 3\n" and not editor.is_dirty()


def test_deleted_file_is_marked(make_window, workspace, qtbot):
    path = workspace / "gone.txt"
    path.write_text("bye\n")
    window = make_window()
    editor = window.open_file(path)
    path.unlink()
    qtbot.waitUntil(lambda: "(deleted)" in window.tabs.tabText(0), timeout=15000)
    assert editor.text() == "bye\n"                                 # the buffer is kept
    assert window.save(editor) and path.read_text() == "bye\n"      # saving recreates the file
    assert "(deleted)" not in window.tabs.tabText(0)


def test_files_written_event_triggers_a_check(make_window, workspace, qtbot):
    path = workspace / "w.py"
    path.write_text("a\n")
    window = make_window()
    window.disk_watcher.timer.stop()                                # only the event may trigger it
    editor = window.open_file(path)
    external_write(path, "b\n")
    window.app.events.publish(FilesWritten((), "test", paths=(path,)))
    qtbot.waitUntil(lambda: editor.text() == "b\n", timeout=15000)
