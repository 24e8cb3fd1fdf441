"""The one rule: only marie.ui imports Qt. The app and the CLI must load without PySide6."""

from tests.conftest import run_python


def test_app_and_cli_load_without_qt():
    code = (
        "import sys, marie.app, marie.cli, marie.cli.common\n"
        "from marie.cli import build_parser; build_parser()\n"
        "qt = sorted(m for m in sys.modules if m.startswith(('PySide6', 'shiboken6', 'pyside6_scintilla')))\n"
        "print(','.join(qt))\n"
    )
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"Qt modules loaded by the core: {result.stdout}"


def test_every_core_package_imports_without_qt():
    code = (
        "import importlib, pkgutil, sys, marie\n"
        "bad = []\n"
        "for info in pkgutil.walk_packages(marie.__path__, 'marie.'):\n"
        "    if info.name.startswith('marie.ui') or info.name.endswith('__main__'):\n"
        "        continue\n"
        "    importlib.import_module(info.name)\n"
        "print(','.join(sorted(m for m in sys.modules if m.startswith('PySide6'))))\n"
    )
    result = run_python(code, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_python_dash_m_marie_shows_help():
    result = run_python("import runpy, sys; sys.argv=['marie','--help']; runpy.run_module('marie', run_name='__main__')")
    assert result.returncode == 0, result.stderr
    assert "usage: marie" in result.stdout
