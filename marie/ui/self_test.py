"""``marie --self-test``: does this build work on this machine? (``make package`` runs it on the
frozen app; anyone can run it on an install.)

Offscreen, in a temporary git repository: opens the main window with a Python file and checks the
lexer styles it; runs a tiny inference on the default local model and checks the llama.cpp build
is the portable one; runs a project search through ripgrep; opens the repository with libgit2 and
reads its status. Prints one line per check and exits 0 when all pass, 1 otherwise. GUI thread.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Callable


def _check(name: str, fn: Callable[[], str], results: list[tuple[str, bool, str]]) -> None:
    started = time.perf_counter()
    try:
        detail = fn()
        ok = True
    except Exception as exc:
        detail = f"{type(exc).__name__}: {exc}"
        if os.environ.get("MARIE_SELF_TEST_TRACE"):
            traceback.print_exc()
        ok = False
    seconds = time.perf_counter() - started
    results.append((name, ok, detail))
    print(f"{'PASS' if ok else 'FAIL'}  {name:<10} {seconds:6.2f} s  {detail}", flush=True)


def run() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("MARIE_NO_ENDPOINT", "1")
    with tempfile.TemporaryDirectory(prefix="marie-self-test-") as tmp:
        root = Path(tmp) / "project"
        root.mkdir()
        (root / "hello.py").write_text("def greet(name):\n    return f'hello {name}'  # marker_word\n",
                                       encoding="utf-8")
        os.environ.setdefault("MARIE_HOME", str(Path(tmp) / "home"))
        return _run_checks(root)


def _run_checks(root: Path) -> int:
    results: list[tuple[str, bool, str]] = []
    from marie.app import App

    def git() -> str:
        import pygit2

        pygit2.init_repository(str(root))
        with App(root) as app:
            status = app.git.status_sync()
        if "hello.py" not in status.files or not status.files["hello.py"].untracked:
            raise AssertionError(f"the git status lacks the untracked hello.py: {sorted(status.files)}")
        return f"libgit2 {pygit2.LIBGIT2_VERSION}, status ok, branch {status.branch}"

    def search() -> str:
        from marie.index.search import SearchOptions

        found: list[str] = []
        with App(root) as app:
            summary = app.index.search("marker_word", SearchOptions(), lambda fm: found.append(fm.path))
        if found != ["hello.py"]:
            raise AssertionError(f"search found {found} ({summary.errors})")
        return "ripgrep found the marker"

    def window() -> str:
        from PySide6.QtWidgets import QApplication

        from marie.ui.dispatcher import QtDispatcher
        from marie.ui.main_window import MainWindow

        qt = QApplication.instance() or QApplication([sys.argv[0]])
        app = App(root, QtDispatcher())
        window = MainWindow(app, restore=False)
        try:
            window.show()
            editor = window.open_file(root / "hello.py")
            if editor is None:
                raise AssertionError("the editor did not open hello.py")
            deadline = time.monotonic() + 10
            lexer = ""
            while time.monotonic() < deadline:
                qt.processEvents()
                raw = editor.sci.lexerLanguage() if hasattr(editor.sci, "lexerLanguage") else ""
                lexer = raw if isinstance(raw, str) else bytes(raw).decode("ascii", "replace")
                if lexer:
                    break
                time.sleep(0.02)
            if lexer != "python":
                raise AssertionError(f"the Python lexer is not active (lexer {lexer!r})")
            return f"window opened, lexer {lexer}"
        finally:
            window.close()
            window.deleteLater()
            qt.processEvents()
            app.close()

    def model() -> str:
        import llama_cpp

        from marie.ai.types import ChatRequest, Message

        info = llama_cpp.llama_print_system_info()
        info = info.decode() if isinstance(info, bytes) else str(info)
        wide = [name for name, on in re.findall(r"(AVX512\w*|AMX_\w+) = ([01])", info) if on == "1"]
        if wide:
            raise AssertionError(f"this llama.cpp build uses {', '.join(wide)}: not the portable build")
        with App(root) as app:
            answer = app.ai.complete("chat", ChatRequest([Message("user", "Say yes.")], max_tokens=4))
        if answer.usage.completion_tokens < 1:
            raise AssertionError("the model produced no token")
        return f"{answer.provider}:{answer.model} answered ({answer.usage.completion_tokens} tokens)"

    _check("git", git, results)
    _check("search", search, results)
    _check("window", window, results)
    _check("model", model, results)
    failed = [name for name, ok, _ in results if not ok]
    print(f"self-test: {len(results) - len(failed)} passed, {len(failed)} failed", flush=True)
    return 1 if failed else 0
