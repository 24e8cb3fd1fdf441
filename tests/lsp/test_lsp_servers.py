"""Server specs from settings, and pylsp's empty working folder (user files cannot shadow the stdlib)."""

from __future__ import annotations

import os
import sys

from marie.app import App
from marie.lsp.servers import spec_for


def test_python_defaults_to_this_interpreters_pylsp_with_slow_plugins_off(app):
    spec = spec_for("python", app.settings)
    assert spec.command == (sys.executable, "-m", "pylsp") and spec.empty_cwd and spec.builtin
    plugins = spec.settings["pylsp"]["plugins"]
    for slow in ("pylint", "mccabe", "rope_autoimport", "pydocstyle", "flake8"):
        assert plugins[slow]["enabled"] is False
    assert plugins["pyflakes"]["enabled"] and plugins["pycodestyle"]["maxLineLength"] == 100
    assert spec.position_encoding == "utf-32"   # pylsp counts code points


def test_other_languages_come_from_the_servers_table(workspace):
    (workspace / ".marie").mkdir()
    (workspace / ".marie" / "settings.toml").write_text(
        '[lsp.servers.go]\ncommand = "my-gopls"\nargs = ["-rpc.trace"]\nsettings = { gopls = { staticcheck = true } }\n'
        '[lsp.python]\npycodestyle = false\nextra = { plugins = { jedi_completion = { fuzzy = true } } }\n',
        encoding="utf-8")
    app = App(workspace)
    try:
        assert not app.settings.errors
        go = spec_for("go", app.settings)
        assert go.command == ("my-gopls", "-rpc.trace") and go.settings == {"gopls": {"staticcheck": True}}
        assert not go.available()
        py = spec_for("python", app.settings)
        assert py.settings["pylsp"]["plugins"]["pycodestyle"]["enabled"] is False
        assert py.settings["pylsp"]["plugins"]["jedi_completion"]["fuzzy"] is True
        assert spec_for("markdown", app.settings) is None
    finally:
        app.close()


def test_user_files_named_like_stdlib_modules_cannot_break_the_server(workspace):
    for name in ("json", "typing", "logging", "os"):
        (workspace / f"{name}.py").write_text('raise SystemExit("this file shadowed the standard library")\n')
    main = workspace / "main.py"
    main.write_text("import collections\ncollections.Ord\n", encoding="utf-8")
    app = App(workspace)
    try:
        labels = [i.label for i in app.lsp.complete(main, 2, 16)]
        assert "OrderedDict" in labels and app.lsp.fallback_used == 0
        handle = app.lsp.handle("python")
        cwd = os.readlink(f"/proc/{handle.pid}/cwd")
        assert cwd != str(workspace) and os.listdir(cwd) == []
    finally:
        app.close()
