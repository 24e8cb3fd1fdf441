"""The Qt dispatcher, the backup store, the no-display message and the screenshots."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

from marie.text.backups import BackupStore, key_for, sha256_of_file
from marie.text.codec import TextFormat


def test_qt_dispatcher_runs_posts_on_the_gui_thread(qtbot):
    from marie.ui.dispatcher import QtDispatcher

    dispatcher = QtDispatcher()
    seen = []
    gui = threading.get_ident()
    worker = threading.Thread(target=lambda: dispatcher.post(lambda x: seen.append((x, threading.get_ident())), 7))
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: seen == [(7, gui)])
    dispatcher.post(lambda: 1 / 0)           # a failing callback is logged, the loop goes on
    dispatcher.post(seen.append, "after")
    qtbot.waitUntil(lambda: seen[-1] == "after")


def test_backup_store_round_trip(tmp_path: Path):
    file = tmp_path / "x.txt"
    file.write_bytes(b"\xef\xbb\xbfhi\r\n")
    store = BackupStore(tmp_path / "backups")
    fmt = TextFormat(bom=b"\xef\xbb\xbf", eol="\r\n")
    store.save(key_for(file), file, "hi there\r\n", fmt, sha256_of_file(file))
    (backup,) = store.all()
    assert backup.path == file and backup.text == "hi there\r\n" and backup.format == fmt
    assert not backup.disk_changed
    file.write_bytes(b"changed")
    assert store.all()[0].disk_changed
    (tmp_path / "backups" / "broken.json").write_text("{")      # damaged: kept aside, not deleted
    assert len(store.all()) == 1 and (tmp_path / "backups" / "broken.bad").exists()
    store.remove(key_for(file))
    assert store.all() == []
    assert not list((tmp_path / "backups").glob(".marie-tmp-*"))


def test_marie_without_display_prints_one_clear_line(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    result = subprocess.run([sys.executable, "-m", "marie", str(tmp_path)], capture_output=True, text=True,
                            env=env, timeout=60)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "no display" in lines[0] and "xvfb-run" in lines[0]
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_screenshots_are_real_pngs(qtbot, tmp_path: Path):
    from PySide6.QtGui import QImage

    # What `make screenshots` runs, in its own process (with every area's real panels).
    result = subprocess.run([sys.executable, "-m", "marie.ui.screenshots", str(tmp_path / "shots")],
                            capture_output=True, text=True, timeout=120,
                            env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert result.returncode == 0, result.stderr[-3000:]
    files = [Path(line) for line in result.stdout.split()]
    assert [f.name for f in files] == ["main-light.png", "main-dark.png", "welcome.png", "split-terminal.png",
                                       "settings.png"]
    corners = []
    for file in files:
        image = QImage(str(file))
        assert not image.isNull() and image.width() >= 800 and image.height() >= 600
        colours = {image.pixelColor(x, y).name() for x in range(0, 800, 37) for y in range(0, 600, 23)}
        assert len(colours) > 5                                       # something was drawn, not a blank
        corners.append(sum(image.pixelColor(x, 300).lightness() for x in range(0, 800, 10)))
    assert corners[0] > corners[1]                                  # the dark one is darker
    assert len({f.read_bytes() for f in files}) == len(files)       # five different pictures
