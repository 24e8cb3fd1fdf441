"""The session store: a journal line per step replayed over the last snapshot (a crash mid-run
loses at most the line being written), pending changes restored on reopen, a step's edit undone
in a reopened session."""

from __future__ import annotations

from marie.agent.changes import AgentChanges
from marie.agent.session import AgentSession, SessionStore, StepRecord
from tests.agent.helpers import CALC, make_project


def test_journal_is_replayed_over_the_snapshot_and_a_torn_line_is_ignored(tmp_path):
    store = SessionStore(tmp_path / "s")
    session = AgentSession("task", mode="edits")
    store.save(session)
    for i in range(3):
        session.turns.append({"step": i + 1, "text": f"t{i}", "calls": ["read_file"], "usage": {}})
        session.steps.append(StepRecord(i + 1, f"c{i}", "read_file", {"path": "a"}, True, "ok", f"r{i}"))
        session.messages.append({"role": "tool", "content": f"r{i}", "tool_call_id": f"c{i}", "tool_calls": []})
        session.prompt_tokens += 10
        store.append(session, {"files": [], "instruction": "x"} if i == 1 else None)
    session.steps[0].undone = True
    store.append(session)
    with open(store.journal(session.id), "a") as fh:
        fh.write('{"turns": [{"step": 9')           # a line cut short by a crash
    loaded = store.load(session.id)
    assert [s.call_id for s in loaded.steps] == ["c0", "c1", "c2"] and loaded.steps[0].undone
    assert len(loaded.messages) == 3 and loaded.prompt_tokens == 30 and loaded.changes == {"files": [], "instruction": "x"}
    # A snapshot folds the journal in and empties it.
    store.save(loaded)
    assert not store.journal(session.id).exists()
    assert [s.call_id for s in store.load(session.id).steps] == ["c0", "c1", "c2"]


def test_pending_changes_survive_a_reopen_and_can_be_taken_back(tmp_path):
    root = make_project(tmp_path / "ws", git=False)
    changes = AgentChanges(root, "fix")
    changes.edit("c1", "calc.py", root / "calc.py", search="    return a - b", replace="    return a + b")
    changes.edit("c2", "new.txt", root / "new.txt", content="hello\n")
    saved = changes.to_dict()
    again = AgentChanges(root, "fix")
    again.restore(saved)
    assert again.pending_text("calc.py") == CALC.replace("a - b", "a + b")
    assert again.unified_diff() == changes.unified_diff()
    assert again.discard(["new.txt"]) == ["new.txt"] and again.pending_paths() == ["calc.py"]


def test_a_delete_edit_is_proposed_applied_and_undone(tmp_path):
    from marie.app import App

    root = make_project(tmp_path / "ws", git=False)
    changes = AgentChanges(root, "tidy")
    assert "-# calc" in changes.delete("c1", "README.md", root / "README.md")
    assert (root / "README.md").exists()                    # only proposed
    changes.edit("c2", "tmp.txt", root / "tmp.txt", content="x\n")
    assert changes.delete("c3", "tmp.txt", root / "tmp.txt") == "" and changes.pending_paths() == ["README.md"]
    app = App(root)
    try:
        result = changes.apply(app)
        assert not (root / "README.md").exists() and result.deleted == ["README.md"]
        app.checkpoints.restore(result.checkpoint_id, paths=result.deleted)
        assert (root / "README.md").read_text() == "# calc\n"
    finally:
        app.close()
