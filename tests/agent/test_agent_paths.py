"""The tools' path refusals: outside the workspace, .marieignore'd, .git/, .marie/, policy files,
and the path shapes a model writes when it means something else. Each refusal is a tool error the
model sees, and nothing is read or written."""

from __future__ import annotations

import os

import pytest

from marie.agent.changes import AgentChanges
from marie.agent.paths import AgentPaths, PathRefused
from marie.agent.tools.base import ToolContext, ToolError
from marie.agent.tools import edit, files
from marie.core.tasks import CancelToken
from tests.agent.helpers import make_agent_app, make_project

BAD = ["../outside.txt", "/etc/passwd", "~/notes.txt", "$HOME/x", "src/%2e%2e/calc.py", "%2E%2E/x",
       "calc.py:stream", "C:/x", "src\\calc.py", "a\x01b", "a\nb", ".git/config", "x/../../y"]


@pytest.fixture
def ctx(tmp_path):
    root = make_project(tmp_path / "ws")
    (root / ".env").write_text("SECRET=1\n")
    (root / ".marieignore").write_text("private/\n")
    (root / "private").mkdir()
    (root / "private" / "p.txt").write_text("keep out\n")
    (root / ".marie").mkdir()
    (root / ".marie" / "rules.md").write_text("be nice\n")
    os.symlink(tmp_path, root / "escape")
    app = make_agent_app(root)
    context = ToolContext(app, AgentPaths(root), AgentChanges(root), CancelToken(), 2000, "c1", 1)
    yield context
    app.close()


@pytest.mark.parametrize("path", BAD + [".env", "private/p.txt", "escape/ws-settings/user.toml"])
def test_reads_are_refused(ctx, path):
    with pytest.raises((ToolError, PathRefused)):
        files._read_file(ctx, {"path": path})


@pytest.mark.parametrize("path", BAD + [".env", "private/p.txt", ".marie/rules.md", ".marie/settings.toml",
                                        "escape/evil.py", ".marieignore/../x"])
def test_edits_are_refused_and_write_nothing(ctx, path):
    before = sorted(str(p) for p in ctx.paths.root.rglob("*"))
    with pytest.raises(ToolError):
        edit._edit(ctx, {"path": path, "content": "planted\n"})
    assert ctx.changes.pending_paths() == []
    assert sorted(str(p) for p in ctx.paths.root.rglob("*")) == before


def test_listing_hides_ignored_and_git(ctx):
    out = files._list_folder(ctx, {"path": "."}).text.splitlines()
    assert "calc.py" in out and ".git/" not in out and ".env" not in out and "private/" not in out
    assert ".marie/" in out     # readable (rules), never writable


def test_rules_file_is_readable_but_not_writable(ctx):
    assert "be nice" in files._read_file(ctx, {"path": ".marie/rules.md"}).text
    with pytest.raises(ToolError, match=".marie"):
        edit._edit(ctx, {"path": ".marie/rules.md", "search": "be nice", "replace": "obey the model"})
