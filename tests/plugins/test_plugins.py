"""Plugin discovery (a folder and a real entry point), containment of crashing and slow plugins, the
admin allowlist, API version checks, the audit record, and a plugin contributing a panel, a
command, an agent tool and a language server."""

from __future__ import annotations

import json
import textwrap
import time
from pathlib import Path

import pytest

from marie.plugins import api as plugin_api
from tests.conftest import run_python
from tests.governance.helpers import make_app

GOOD = '''
from marie.plugins.api import PluginInfo
PLUGIN = PluginInfo(name="{name}", version="2.1", api_version="1.0", description="a good one")
def activate(api):
    api.add_settings({{"colour": "blue"}})
    api.add_command("{name}.hello", "Hello", lambda window: window.show_message("hi"))
    api.add_panel("{name}", "Good panel", lambda window: None, area="right")
    api.add_agent_tool("{name}_tool", "says hi", {{"type": "object", "properties": {{}}}}, lambda app, a: "hi")
    api.add_lsp_server("toy", ["toy-server", "--stdio"], [".toy"])
'''


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.py"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.fixture
def plugin_dir(tmp_path):
    return tmp_path / "myplugins"


def app_with(tmp_path, monkeypatch, plugin_dir, *, user=None, policy=None):
    settings = {"plugins": {"folders": [str(plugin_dir)], "load_budget_s": 1.0, **(user or {})}}
    return make_app(tmp_path / "app", monkeypatch, user=settings, policy=policy)


def by_name(app):
    return {r.name: r for r in app.plugins.records()}


def test_a_folder_plugin_contributes_everything_it_declares(tmp_path, monkeypatch, plugin_dir):
    write(plugin_dir, "good", GOOD.format(name="good"))
    app = app_with(tmp_path, monkeypatch, plugin_dir)
    try:
        record = by_name(app)["good"]
        assert record.state == "active", record.error
        assert record.info.version == "2.1"
        assert [c.id for c in app.plugins.commands() if c.id.startswith("good")] == ["good.hello"]
        assert [p.id for p in app.plugins.panels() if p.id == "good"] == ["good"]
        assert [t.name for t in app.plugins.agent_tools() if t.name == "good_tool"] == ["good_tool"]
        spec = next(s for s in app.plugins.lsp_servers() if s.language == "toy")
        assert spec.command == ("toy-server", "--stdio") and spec.extensions == (".toy",)
        assert record.api.setting("colour") == "blue"
        assert record.summary()["contributes"] == {"commands": 1, "settings": 1, "panels": 1,
                                                   "lsp_servers": 1, "agent_tools": 1}
    finally:
        app.close()


def test_crashing_and_slow_plugins_are_contained_and_the_others_load(tmp_path, monkeypatch, plugin_dir):
    write(plugin_dir, "a_crash", '''
        from marie.plugins.api import PluginInfo
        PLUGIN = PluginInfo("a_crash", "1", "1")
        def activate(api):
            raise RuntimeError("boom in activate")
    ''')
    write(plugin_dir, "b_import_error", "import no_such_module_anywhere\n")
    write(plugin_dir, "c_slow", '''
        import time
        from marie.plugins.api import PluginInfo
        PLUGIN = PluginInfo("c_slow", "1", "1")
        def activate(api):
            time.sleep(2.5)
            api.add_command("slow.late", "Late", lambda w: None)
    ''')
    write(plugin_dir, "d_exit", '''
        from marie.plugins.api import PluginInfo
        PLUGIN = PluginInfo("d_exit", "1", "1")
        def activate(api):
            raise SystemExit(3)
    ''')
    write(plugin_dir, "e_good", GOOD.format(name="e_good"))
    app = app_with(tmp_path, monkeypatch, plugin_dir, user={"load_budget_s": 0.5})
    try:
        started = time.monotonic()
        records = by_name(app)
        assert time.monotonic() - started < 10  # the slow one did not hold the others back for long
        assert records["a_crash"].state == "failed" and "boom in activate" in records["a_crash"].error
        assert "a_crash.py" in records["a_crash"].error
        assert records["b_import_error"].state == "failed" and "no_such_module_anywhere" in records["b_import_error"].error
        assert records["c_slow"].state == "slow" and "0.5 s" in records["c_slow"].error
        assert records["d_exit"].state == "failed" and "SystemExit" in records["d_exit"].error
        assert records["e_good"].state == "active"
        time.sleep(2.5)  # the slow plugin finishes activate: its late command must not appear
        assert not [c for c in app.plugins.commands() if c.id == "slow.late"]
        assert records["c_slow"].api.sealed
    finally:
        app.close()


def test_the_admin_allowlist_blocks_plugins_and_every_load_is_audited(tmp_path, monkeypatch, plugin_dir):
    write(plugin_dir, "allowed_one", GOOD.format(name="allowed_one"))
    write(plugin_dir, "other", GOOD.format(name="other"))
    app = app_with(tmp_path, monkeypatch, plugin_dir, policy={"governance": {"plugins": {"allow": ["allowed_*"]}}})
    try:
        records = by_name(app)
        assert records["allowed_one"].state == "active"
        assert records["other"].state == "blocked" and "governance.plugins.allow" in records["other"].error
        assert not [c for c in app.plugins.commands() if c.id.startswith("other")]
        loads = [e for e in app.audit.entries() if e.get("kind") == "plugin.load"]
        states = {e["data"]["plugin"]: e["data"]["state"] for e in loads}
        assert states["allowed_one"] == "active" and states["other"] == "blocked"
    finally:
        app.close()


def test_disabled_and_incompatible_plugins_are_listed_with_the_reason(tmp_path, monkeypatch, plugin_dir):
    write(plugin_dir, "off", GOOD.format(name="off"))
    write(plugin_dir, "future", '''
        from marie.plugins.api import PluginInfo
        PLUGIN = PluginInfo("future", "1", "2.0")
        def activate(api):
            raise AssertionError("must not run")
    ''')
    write(plugin_dir, "newer_minor", '''
        from marie.plugins.api import PluginInfo
        PLUGIN = PluginInfo("newer_minor", "1", "1.9")
        def activate(api):
            pass
    ''')
    app = app_with(tmp_path, monkeypatch, plugin_dir, user={"disabled": ["off"]})
    try:
        records = by_name(app)
        assert records["off"].state == "disabled" and "plugins.disabled" in records["off"].error
        assert records["future"].state == "incompatible" and "2.0" in records["future"].error
        assert records["newer_minor"].state == "incompatible" and "update MarieIDE" in records["newer_minor"].error
    finally:
        app.close()


def test_invalid_contributions_fail_the_plugin_with_a_clear_message(tmp_path, monkeypatch, plugin_dir):
    write(plugin_dir, "bad_tool", '''
        from marie.plugins.api import PluginInfo
        PLUGIN = PluginInfo("bad_tool", "1", "1")
        def activate(api):
            api.add_agent_tool("t", "d", {"type": "string"}, lambda app, a: "")
    ''')
    app = app_with(tmp_path, monkeypatch, plugin_dir)
    try:
        record = by_name(app)["bad_tool"]
        assert record.state == "failed" and "JSON schema of type object" in record.error
    finally:
        app.close()


def test_entry_point_plugins_are_discovered(tmp_path, monkeypatch, plugin_dir):
    # A real installed distribution on sys.path, found through importlib.metadata.
    site = tmp_path / "site"
    (site / "ep_plugin_pkg").mkdir(parents=True)
    (site / "ep_plugin_pkg" / "__init__.py").write_text(GOOD.format(name="ep_plugin"), encoding="utf-8")
    dist = site / "ep_plugin_pkg-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: ep-plugin-pkg\nVersion: 1.0\n", encoding="utf-8")
    (dist / "entry_points.txt").write_text("[marie.plugins]\nep_plugin = ep_plugin_pkg\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(site))
    app = app_with(tmp_path, monkeypatch, plugin_dir)
    try:
        record = by_name(app)["ep_plugin"]
        assert record.state == "active" and record.origin.startswith("entry point ep_plugin")
    finally:
        app.close()


def test_api_version_compatibility_rules():
    assert plugin_api.compatible("1") == (True, "")
    assert plugin_api.compatible(plugin_api.API_VERSION)[0]
    assert not plugin_api.compatible("0.9")[0]
    assert not plugin_api.compatible("x")[0]


def test_marie_plugins_list_shows_the_bundled_plugins(tmp_path):
    env = {"MARIE_HOME": str(tmp_path / "home"), "MARIE_POLICY": str(tmp_path / "none.toml")}
    done = run_python("import sys; from marie.cli import main; sys.exit(main(['plugins', 'list', '--json', '--check']))",
                      env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    rows = {row["name"]: row for row in json.loads(done.stdout)}
    for name in ("todo_finder", "formatter", "pytest_runner", "word_count"):
        assert rows[name]["state"] == "active", rows.get(name)
        assert rows[name]["origin"].endswith(name) or rows[name]["origin"].endswith(f"{name}.py")
    assert rows["todo_finder"]["contributes"] == {"commands": 1, "panels": 1, "agent_tools": 1}
    done = run_python("import sys; from marie.cli import main; sys.exit(main(['plugins', 'list']))", env=env)
    assert "word_count" in done.stdout and "active" in done.stdout


def test_a_plugins_language_server_serves_its_file_type(tmp_path, monkeypatch, plugin_dir):
    # The real FakeToyServer subprocess from tests/lsp, contributed by a plugin instead of settings.
    fake = Path(__file__).resolve().parents[1] / "lsp" / "fake_lsp_server.py"
    log = tmp_path / "toy.log"
    write(plugin_dir, "toy_lang", f'''
        import sys
        from marie.plugins.api import PluginInfo
        PLUGIN = PluginInfo("toy_lang", "1.0", "1.0")
        def activate(api):
            api.add_lsp_server("toy", [sys.executable, {str(fake)!r}, {str(log)!r}], [".toy"])
    ''')
    app = app_with(tmp_path, monkeypatch, plugin_dir)
    try:
        path = app.root / "hello.toy"
        path.write_text("greet world\nbad thing\n", encoding="utf-8")
        assert app.lsp.language_for(path) != "toy"   # before plugins load, nothing waits for them
        app.plugins.load()
        assert app.lsp.language_for(path) == "toy"
        assert app.lsp.check(path)[0].message == "bad word"
    finally:
        app.close()


def test_plugin_agent_tools_join_the_agents_tool_set(tmp_path, monkeypatch, plugin_dir):
    from marie.agent.tools.base import ToolContext
    from marie.agent.tools.registry import ToolSet

    write(plugin_dir, "tooly", '''
        from marie.plugins.api import PluginInfo
        PLUGIN = PluginInfo("tooly", "1", "1")
        def activate(api):
            api.add_agent_tool("shout", "upper-case a word", {"type": "object", "properties": {
                "word": {"type": "string"}}, "required": ["word"]}, lambda app, a: a["word"].upper())
            api.add_agent_tool("explode", "always fails", {"type": "object", "properties": {}},
                               lambda app, a: 1 / 0, read_only=False)
    ''')
    app = app_with(tmp_path, monkeypatch, plugin_dir)
    try:
        from marie.agent.service import AgentService

        tools = {t.name: t for t in AgentService(app).tools()}
        assert tools["shout"].kind == "read" and tools["explode"].kind == "other"
        toolset = ToolSet(list(tools.values()))
        assert "bad arguments for shout" in toolset.check("shout", {"word": 3})
        ctx = ToolContext(app=app, paths=None, changes=None, token=None, result_tokens=1000)
        assert tools["shout"].run(ctx, {"word": "hi"}).text == "HI"
        failed = tools["explode"].run(ctx, {})
        assert not failed.ok and "ZeroDivisionError" in failed.text
    finally:
        app.close()


def test_a_plugins_model_provider_answers_through_the_ai_service(tmp_path, monkeypatch, plugin_dir):
    write(plugin_dir, "echo_llm", '''
        from marie.ai.provider import Provider, Result
        from marie.ai.types import Capabilities, Usage
        from marie.plugins.api import PluginInfo
        PLUGIN = PluginInfo("echo_llm", "1", "1")

        class EchoProvider(Provider):
            local = True
            def __init__(self, config):
                self.config = config
            def capabilities(self, model):
                return Capabilities(4096, False, False, False, True)
            def complete(self, request, model, token, on_text):
                text = "echo: " + request.messages[-1].content
                if on_text:
                    on_text(text)
                return Result(text, Usage(prompt_tokens=3, completion_tokens=2), model or "echo-1")

        def activate(api):
            api.add_provider("echo", EchoProvider)
    ''')
    from marie.ai.types import ChatRequest, Message

    app = app_with(tmp_path, monkeypatch, plugin_dir, user={})
    try:
        app.settings.set_user("ai.routing.chat", ["echo"])
        answer = app.ai.complete("chat", ChatRequest([Message("user", "ping")]))
        assert answer.provider == "echo" and answer.text == "echo: ping"
    finally:
        app.close()
