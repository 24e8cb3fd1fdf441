"""Hot exit: unsaved typing survives a kill -9 of a real MarieIDE process, and a backup whose file
changed on disk since is only offered, never applied silently."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

from marie.core import paths
from marie.text.backups import BackupStore, key_for, sha256_of_file
from marie.text.codec import TextFormat
from tests.ui.conftest import type_text

CHILD = r'''
import sys
from pathlib import Path
from marie.ui.launch import launch

def ready(window):
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    editor = window.current_editor()
    editor.setFocus()
    editor.goto(2, 1)
    QTest.keyClicks(editor.sci, "typed before the crash")
    QTest.keyClick(editor.sci, Qt.Key.Key_Return)
    print("TYPED", flush=True)

sys.exit(launch(Path(sys.argv[1]), on_ready=ready))
'''


def read_line(proc: subprocess.Popen, want: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.2)
        if ready:
            line = proc.stdout.readline()
            if not line:
                break
            seen.append(line)
            if line.startswith(want):
                return
    proc.kill()
    raise AssertionError(f"child never printed {want!r}; stdout={seen!r} stderr={proc.stderr.read()[-2000:]!r}")


def test_unsaved_typing_survives_kill_9(make_window, workspace, qtbot):
    target = workspace / "notes.py"
    target.write_text("first = 1\nlast = 2\n", encoding="utf-8")
    before = target.read_bytes()
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(target)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    try:
        read_line(proc, "TYPED", timeout=60)
        backups = paths.workspace_data_dir(workspace) / "backups"
        deadline = time.monotonic() + 10             # the backup lands ~1.5 s after the last keystroke
        while time.monotonic() < deadline:
            if any("typed before the crash" in f.read_text() for f in backups.glob("*.json")):
                break
            time.sleep(0.1)
        else:
            raise AssertionError("no hot-exit backup was written within 10 s")
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    assert target.read_bytes() == before                           # the file itself was never written

    window = make_window()
    editor = next(e for e in window.editors() if e.path == target.resolve())
    assert editor.text() == "first = 1\ntyped before the crash\nlast = 2\n"
    assert editor.is_dirty() and window.tabs.tabText(window.tabs.indexOf(window._page(editor))).endswith("\u25cf")


def test_backup_of_a_file_changed_since_is_only_offered(make_window, workspace, qtbot):
    target = workspace / "conf.toml"
    target.write_text("a = 1\n")
    store = BackupStore(paths.workspace_data_dir(workspace) / "backups")
    store.save(key_for(target), target, "a = 1\nmine = true\n", TextFormat(), sha256_of_file(target))
    target.write_text("a = 1\ntheirs = true\n")                      # changed after the backup was taken

    window = make_window()
    editor = window.current_editor()
    assert editor.path == target.resolve()
    assert editor.text() == "a = 1\ntheirs = true\n" and not editor.is_dirty()   # disk version shown
    bar = window.info_bar(editor)
    assert bar is not None and set(bar.buttons) == {"Compare", "Restore backup", "Discard backup"}
    bar.buttons["Compare"].click()
    diff = window._last_diff.view.toPlainText()
    assert "-theirs = true" in diff and "+mine = true" in diff
    window._last_diff.close()
    bar.buttons["Restore backup"].click()
    assert editor.text() == "a = 1\nmine = true\n" and editor.is_dirty()


def test_discard_backup_and_clean_close(make_window, workspace, qtbot):
    target = workspace / "d.txt"
    target.write_text("disk\n")
    store = BackupStore(paths.workspace_data_dir(workspace) / "backups")
    store.save(key_for(target), target, "backup\n", TextFormat(), "0" * 64)   # based on another version
    window = make_window()
    window.info_bar(window.current_editor()).buttons["Discard backup"].click()
    assert store.all() == []


def test_window_close_backs_up_instead_of_asking(make_window, workspace, qtbot, monkeypatch):
    from marie.ui import dialogs

    target = workspace / "q.py"
    target.write_text("q = 0\n")
    window = make_window()
    editor = window.open_file(target)
    type_text(qtbot, editor, "# more\n")
    monkeypatch.setattr(dialogs, "ask_save_changes", lambda *a: (_ for _ in ()).throw(AssertionError("asked")))
    window.close()
    again = make_window()
    restored = again.current_editor()
    assert restored.text() == "# more\nq = 0\n" and restored.is_dirty()
    assert target.read_text() == "q = 0\n"
    assert again.save(restored)
    qtbot.waitUntil(lambda: BackupStore(paths.workspace_data_dir(workspace) / "backups").all() == [], timeout=15000)


def test_untitled_buffer_is_backed_up_and_restored(make_window, workspace, qtbot):
    window = make_window()
    editor = window.new_file()
    type_text(qtbot, editor, "scratch notes")
    qtbot.waitUntil(editor.is_dirty)
    window.close()
    again = make_window()
    restored = [e for e in again.editors() if not e.path]
    assert len(restored) == 1 and restored[0].text() == "scratch notes"
