"""E2E d: another tool changes an open clean file -> the editor shows it by itself; deletes the file ->
the tab is marked; the Git panel follows both."""

from __future__ import annotations

import os
import subprocess

from tests.e2e.conftest import wait_index


def git_rows(panel, group: str) -> list[str]:
    item = panel.groups[group]
    return [item.child(i).text(0) for i in range(item.childCount())]


def test_external_change_reloads_and_external_delete_marks_tab(qtbot, window, repo):
    wait_index(qtbot, window, "README.md")
    readme = repo / "README.md"
    editor = window.open_file(readme)
    assert editor is not None and not editor.is_dirty()

    # another tool rewrites the file in place (plain open/write/close, not an atomic rename)
    with open(readme, "wb") as fh:
        fh.write(b"# demo\n\nChanged by another tool.\n")
    st = readme.stat()
    os.utime(readme, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))
    qtbot.waitUntil(lambda: editor.text() == "# demo\n\nChanged by another tool.\n", timeout=10000)
    assert not editor.is_dirty() and window.info_bar(editor) is None

    # the git panel sees it too (watcher-driven refresh, no manual refresh)
    panel = window.panels["git"]
    qtbot.waitUntil(lambda: "README.md" in git_rows(panel, "changes"), timeout=15000)

    # another tool deletes it: the tab says so, the buffer is kept
    subprocess.run(["rm", str(readme)], check=True)
    index = window.tabs.indexOf(window._page(editor))
    qtbot.waitUntil(lambda: "(deleted)" in window.tabs.tabText(index), timeout=10000)
    assert editor.text() == "# demo\n\nChanged by another tool.\n"
    qtbot.waitUntil(lambda: "README.md" not in window.app.index.snapshot().entries, timeout=10000)
