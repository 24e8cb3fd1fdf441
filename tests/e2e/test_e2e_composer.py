"""E2E b: the Composer pane in the real window with a scripted model proposes edits to two files; one
hunk is rejected, the rest applied; disk, open editor and Checkpoints panel agree; Undo apply puts both
files back byte-identical."""

from __future__ import annotations

from PySide6.QtCore import Qt

from tests.composer.fakes import install
from tests.e2e.conftest import shortcut, wait_index


def sr(path: str, old: str, new: str) -> str:
    return f"{path}\n<<<<<<< SEARCH\n{old}=======\n{new}>>>>>>> REPLACE\n"


def checkpoint_labels(panel) -> list[str]:
    return [panel.tree.topLevelItem(i).text(1) for i in range(panel.tree.topLevelItemCount())]


def test_composer_reject_one_hunk_apply_rest_then_undo(qtbot, window, repo):
    wait_index(qtbot, window, "src/other.py")
    other, util = repo / "src/other.py", repo / "src/deep/module_util.py"
    before = {other: other.read_bytes(), util: util.read_bytes()}
    editor = window.open_file(other)
    assert editor is not None and not editor.is_dirty()

    answer = (sr("src/other.py", "a = 1\n", "a = 10\n")
              + sr("src/other.py", "h = 8\n", "h = 80\n")
              + sr("src/deep/module_util.py", "    return 'widget'\n", "    return 'gadget'\n"))
    model = install(window.app, [answer])

    # Ctrl+Shift+I shows the pane; the user types the instruction and presses Enter
    shortcut(qtbot, window, Qt.Key.Key_I, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    pane = window.panels["composer"]
    qtbot.waitUntil(pane.isVisible, timeout=15000)
    pane.instruction.setFocus()
    qtbot.keyClicks(pane.instruction, "bump a and h, rename widget")
    qtbot.keyClick(pane.instruction, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: pane.review.file_item("src/deep/module_util.py") is not None, timeout=15000)
    assert model.requests, "the scripted model was never asked"
    assert pane.answer.toPlainText() == answer
    assert pane.review.file_item("src/other.py").childCount() == 2

    # reject the second hunk of other.py (h = 80); accept the rest; Apply
    pane.review.hunk_item("src/other.py", 1).setCheckState(0, Qt.CheckState.Unchecked)
    assert pane.apply_button.isEnabled()
    qtbot.mouseClick(pane.apply_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(pane.undo_button.isEnabled, timeout=15000)

    expected_other = b"a = 10\nb = 2\nc = 3\nd = 4\ne = 5\nf = 6\ng = 7\nh = 8\n"
    expected_util = b"def helper():\n    return 'gadget'\n"
    assert other.read_bytes() == expected_other
    assert util.read_bytes() == expected_util
    # the open (clean) editor shows the new text and stays clean
    qtbot.waitUntil(lambda: editor.text() == expected_other.decode(), timeout=15000)
    assert not editor.is_dirty()

    # a "before: composer …" checkpoint appears in the Checkpoints panel
    panel = window.show_panel("checkpoints")
    qtbot.waitUntil(lambda: any(label.startswith("before: composer") for label in checkpoint_labels(panel)),
                    timeout=10000)

    # Undo apply: both files byte-identical to before, the editor follows
    qtbot.mouseClick(pane.undo_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "undone" in pane.status.text(), timeout=15000)
    for path, data in before.items():
        assert path.read_bytes() == data, path
    qtbot.waitUntil(lambda: editor.text() == before[other].decode(), timeout=15000)
    assert not editor.is_dirty()
