"""The admin policy: precedence matrix, deny beats allow, strict mode on a broken policy, `marie policy show`."""

from __future__ import annotations

import json
import os

import pytest

from marie.governance.events import PolicyProblem
from tests.conftest import run_python
from tests.governance.helpers import make_app

# (user, project, policy, key, expected value, expected layer)
MATRIX = [
    ({}, {}, {}, "governance.secrets", "redact", "default"),
    ({"governance": {"secrets": "warn"}}, {}, {}, "governance.secrets", "warn", "user"),
    ({"governance": {"secrets": "warn"}}, {"governance": {"secrets": "block"}}, {}, "governance.secrets", "block", "project"),
    # a project (it comes with the repository) may not loosen
    ({"governance": {"secrets": "block"}}, {"governance": {"secrets": "warn"}}, {}, "governance.secrets", "block", "user"),
    # the policy beats both, also when it is looser than the user
    ({"governance": {"secrets": "block"}}, {"governance": {"secrets": "block"}}, {"governance": {"secrets": "warn"}},
     "governance.secrets", "warn", "policy"),
    ({}, {"governance": {"providers": {"allow": ["evil"]}}}, {}, "governance.providers.allow", ["*"], "default"),
    ({"governance": {"providers": {"allow": ["local", "server"]}}}, {}, {"governance": {"providers": {"allow": ["local"]}}},
     "governance.providers.allow", ["local"], "policy"),
    ({"ai": {"local_only": True}}, {}, {"ai": {"local_only": False}}, "ai.local_only", True, "policy"),
    ({}, {"ai": {"local_only": True}}, {}, "ai.local_only", True, "project"),
    ({"ai": {"local_only": True}}, {"ai": {"local_only": False}}, {}, "ai.local_only", True, "user"),
    ({}, {"governance": {"audit": {"required": True}}}, {}, "governance.audit.required", True, "project"),
    ({"governance": {"encryption": {"enabled": True}}}, {"governance": {"encryption": {"enabled": False}}}, {},
     "governance.encryption.enabled", True, "user"),
]


@pytest.mark.parametrize("user,project,policy,key,value,layer", MATRIX)
def test_precedence_matrix(tmp_path, monkeypatch, user, project, policy, key, value, layer):
    app = make_app(tmp_path, monkeypatch, user=user, project=project, policy=policy or None)
    try:
        effective = app.governance.policy
        assert effective.get(key) == value
        assert effective.sources[key].layer == layer
        assert not effective.strict
        if layer == "policy":
            assert app.settings.locked(key)
    finally:
        app.close()


def test_deny_lists_add_up_and_deny_beats_allow(tmp_path, monkeypatch):
    app = make_app(tmp_path, monkeypatch, user={"governance": {"providers": {"deny": ["openai"]}}},
                   project={"governance": {"providers": {"deny": ["anthropic"]}}},
                   policy={"governance": {"providers": {"allow": ["*"], "deny": ["server"]},
                                          "models": {"deny": ["*gpt-4o*"]},
                                          "agent": {"command_allow": ["git *", "pytest*"], "command_deny": ["git push*"]}}})
    try:
        policy = app.governance.policy
        assert set(policy.get("governance.providers.deny")) == {"openai", "anthropic", "server"}
        for name in ("openai", "anthropic", "server"):
            assert not policy.provider_allowed(name, local=False)
        assert policy.provider_allowed("local", local=True)
        assert "denied" in policy.provider_allowed("server", local=True).reason
        assert not policy.model_allowed("openai", "gpt-4o-mini")
        assert policy.model_allowed("local", "gemma3-270m")
        assert policy.command_allowed("git status")
        assert not policy.command_allowed("git push origin main")
        assert not policy.command_allowed("rm -rf /")
    finally:
        app.close()


def test_local_only_refuses_remote_providers_and_says_where_it_came_from(tmp_path, monkeypatch):
    app = make_app(tmp_path, monkeypatch, policy={"ai": {"local_only": True}})
    try:
        decision = app.governance.policy.provider_allowed("openai", local=False)
        assert not decision and "local-only" in decision.reason and "policy" in decision.reason
    finally:
        app.close()


BROKEN = {
    "bad toml": "[governance\nsecrets = 'warn'",
    "wrong type": "[governance]\nsecrets = 3\n",
    "unknown value": "[governance]\nsecrets = 'sometimes'\n",
    "unknown key": "[governance]\nsecretz = 'warn'\n",
    "not utf-8": b"[governance]\nsecrets = '\xff'\n",
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_invalid_policy_means_strictest_mode_with_a_reason(tmp_path, monkeypatch, case):
    text = BROKEN[case]
    folder = tmp_path / "p"
    folder.mkdir()
    app = make_app(folder, monkeypatch, user={"governance": {"secrets": "warn"}, "ai": {"local_only": False}},
                   policy="")
    if isinstance(text, bytes):
        (folder / "policy.toml").write_bytes(text)
    else:
        (folder / "policy.toml").write_text(text, encoding="utf-8")
    seen: list[PolicyProblem] = []
    app.events.on(PolicyProblem, seen.append)
    try:
        app.settings.reload()
        policy = app.governance.policy
        assert policy.strict and "policy" in policy.problem
        assert app.governance.problem == policy.problem
        assert policy.local_only and policy.secrets == "block"
        assert policy.agent_modes == ["ask", "plan"] and not policy.command_allowed("ls")
        assert not policy.plugin_allowed("anything")
        assert policy.sources["governance.secrets"].layer == "strict"
        assert seen and seen[-1].reason == policy.problem
        # fixing the file lifts strict mode and the banner goes (an empty reason)
        (folder / "policy.toml").write_text("[governance]\nsecrets = 'redact'\n", encoding="utf-8")
        os.utime(folder / "policy.toml", ns=(1, 1))
        assert not app.governance.policy.strict
        assert seen[-1].reason == ""
    finally:
        app.close()


def test_a_policy_that_cannot_be_read_is_strict(tmp_path, monkeypatch):
    app = make_app(tmp_path, monkeypatch)
    (tmp_path / "policy.toml").mkdir()   # a folder where the file should be: unreadable as a file
    try:
        assert app.governance.policy.strict
        assert "cannot be read" in app.governance.problem
    finally:
        app.close()


def test_protected_paths_and_agent_modes(tmp_path, monkeypatch):
    app = make_app(tmp_path, monkeypatch, policy={"governance": {"paths": {"protected": [".env", "secrets/*"]},
                                                                 "agent": {"modes": ["ask", "edits"]}}})
    try:
        policy = app.governance.policy
        assert policy.path_protected(".env") and policy.path_protected("app/.env") and policy.path_protected("./.env")
        assert policy.path_protected("secrets/prod.json") and not policy.path_protected("src/main.py")
        assert policy.agent_mode_allowed("edits") and not policy.agent_mode_allowed("auto")
        from marie.agent.permissions import auto_allowed

        assert not auto_allowed(app.settings)   # the agent reads the same answer
    finally:
        app.close()


def test_marie_policy_show_prints_values_and_sources(tmp_path):
    policy = tmp_path / "policy.toml"
    policy.write_text("[governance]\nsecrets = 'block'\n[ai]\nlocal_only = true\n", encoding="utf-8")
    env = {"MARIE_POLICY": str(policy), "MARIE_HOME": str(tmp_path / "home")}
    done = run_python("import sys; from marie.cli import main; sys.exit(main(['policy', 'show']))", env=env)
    assert done.returncode == 0, done.stderr
    line = next(l for l in done.stdout.splitlines() if l.startswith("governance.secrets"))
    assert '"block"' in line and f"policy {policy}" in line
    assert any(l.startswith("governance.audit.enabled") and l.rstrip().endswith("default") for l in done.stdout.splitlines())
    policy.write_text("[governance\n", encoding="utf-8")
    done = run_python("import sys; from marie.cli import main; sys.exit(main(['policy', 'show', '--json']))", env=env)
    data = json.loads(done.stdout)
    assert data["strict"] and "not valid TOML" in data["problem"]
