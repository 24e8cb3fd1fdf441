"""`marie lsp check` and `marie lsp complete` in a real subprocess (real pylsp)."""

import subprocess
import sys


def marie(*args, cwd):
    return subprocess.run([sys.executable, "-m", "marie", *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_check_prints_diagnostics_and_complete_prints_labels(workspace):
    (workspace / "m.py").write_text("import json\nimport os\n\nprint(os.pa)\nundefined_thing\n", encoding="utf-8")
    result = marie("lsp", "check", "m.py", "--root", str(workspace), cwd=workspace)
    assert result.returncode == 1, result.stderr   # an undefined name is an error
    lines = result.stdout.splitlines()
    assert any(line.startswith("m.py:1:1: warning: 'json' imported but unused") for line in lines)
    assert any(line.startswith("m.py:5:1: error: undefined name 'undefined_thing'") for line in lines)
    result = marie("lsp", "complete", "m.py:4:12", "--root", str(workspace), cwd=workspace)
    assert result.returncode == 0, result.stderr
    labels = result.stdout.splitlines()
    assert "path" in labels and all(label.lower().startswith("pa") for label in labels)


def test_clear_errors_for_bad_input(workspace):
    (workspace / "m.py").write_text("x = 1\n", encoding="utf-8")
    result = marie("lsp", "complete", "m.py:9:1", cwd=workspace)
    assert result.returncode == 2 and "has 2 line(s)" in result.stderr
    result = marie("lsp", "complete", "m.py", cwd=workspace)
    assert result.returncode == 2 and "FILE:LINE:COL" in result.stderr
    result = marie("lsp", "check", "missing.py", cwd=workspace)
    assert result.returncode == 2 and "no such file" in result.stderr


def test_cli_uses_a_configured_server_and_says_when_it_is_missing(workspace):
    from tests.lsp.test_lsp_other_servers import toy_settings

    (workspace / ".marie").mkdir()
    settings = workspace / ".marie" / "settings.toml"
    settings.write_text(toy_settings(workspace.parent / "toy-cli.log"), encoding="utf-8")
    (workspace / "a.toy").write_text("fine\nbad words\n", encoding="utf-8")
    result = marie("lsp", "check", "a.toy", "--root", str(workspace), cwd=workspace)
    assert result.returncode == 1 and result.stdout.splitlines() == ["a.toy:2:1: error: bad word (toy)"], result
    result = marie("lsp", "complete", "a.toy:1:2", "--root", str(workspace), cwd=workspace)
    assert result.returncode == 0 and "toyfn" in result.stdout.splitlines()
    settings.write_text('[lsp.servers.toy]\ncommand = "no-such-toy-server"\nextensions = [".toy"]\n', encoding="utf-8")
    result = marie("lsp", "check", "a.toy", "--root", str(workspace), cwd=workspace)
    assert result.returncode == 1 and result.stderr.strip() == (
        "marie: no-such-toy-server is unavailable: no-such-toy-server is not installed")
