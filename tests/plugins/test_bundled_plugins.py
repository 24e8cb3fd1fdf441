"""The bundled plugins on real things: the TODO finder over a real project search (ripgrep), the
pytest runner on a real pytest run, the formatter with the real ruff."""

from __future__ import annotations

import importlib
import subprocess
from pathlib import Path

import pytest

from marie.app import App

PLUGINS = Path(__file__).resolve().parents[2] / "plugins"


@pytest.fixture(autouse=True)
def plugins_importable(monkeypatch):
    monkeypatch.syspath_prepend(str(PLUGINS))


def test_todo_finder_lists_tagged_comments_and_respects_ignore_rules(tmp_path):
    root = tmp_path / "proj"
    (root / "src").mkdir(parents=True)
    (root / "src" / "a.py").write_text("x = 1  # TODO: tidy\n# FIXME(ann) broken\n# todo lowercase is not a tag\n")
    (root / "src" / "b.py").write_text("def f():\n    pass  # XXX later\n")
    (root / "build").mkdir()
    (root / "build" / "gen.py").write_text("# TODO: generated, ignored\n")
    (root / ".gitignore").write_text("build/\n")
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    todo = importlib.import_module("todo_finder")
    with App(root) as app:
        found = todo.find_todos(app)
        assert [(t.path, t.line, t.tag) for t in found] == [("src/a.py", 1, "TODO"), ("src/a.py", 2, "FIXME"),
                                                             ("src/b.py", 2, "XXX")]
        assert todo.find_todos(app, under="src/b.py".rsplit("/", 1)[0])[0].path.startswith("src/")
        assert "src/b.py:2:" in todo._tool(app, {})


def test_pytest_runner_reads_results_and_failure_locations(tmp_path):
    runner = importlib.import_module("pytest_runner.runner")
    root = tmp_path / "proj"
    root.mkdir()
    (root / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    (root / "test_calc.py").write_text(
        "from calc import add\n\ndef test_add():\n    assert add(2, 2) == 4\n\n"
        "def test_ok():\n    assert True\n\nimport pytest\n\n@pytest.mark.skip(reason='later')\ndef test_later():\n    pass\n")
    result = runner.run_pytest(root, args=["-p", "no:cacheprovider"])
    assert result.exit_code == 1
    assert result.counts() == {"failed": 1, "passed": 1, "skipped": 1}
    failure = result.failures()[0]
    assert failure.nodeid == "test_calc::test_add"
    assert failure.path == "test_calc.py" and failure.line == 4
    assert "assert 0 == 4" in failure.message
    prompt = runner.fix_prompt(failure, result.output)
    assert "test_calc::test_add" in prompt and "test_calc.py:4" in prompt


def test_formatter_formats_with_ruff_and_refuses_broken_code(tmp_path):
    formatter = importlib.import_module("formatter")
    tool = formatter.find_tool()
    assert tool is not None and Path(tool[0]).name == "ruff"
    path = str(tmp_path / "m.py")
    assert formatter.format_text(path, "x=[1,2 ,3]\ndef f( a ):\n  return a\n") == \
        "x = [1, 2, 3]\n\n\ndef f(a):\n    return a\n"
    with pytest.raises(formatter.FormatError, match="ruff"):
        formatter.format_text(path, "def f(:\n")
