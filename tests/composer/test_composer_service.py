"""The model loop with a scripted FakeModel: formats per model, grammar, retry with the error shown,
format fallback, plan mode, sessions, context building and .marieignore."""

from __future__ import annotations

from marie.composer.context import ContextRequest, parse_mentions
from tests.composer.fakes import install


def sr(path, old, new):
    return f"{path}\n<<<<<<< SEARCH\n{old}=======\n{new}>>>>>>> REPLACE\n"


def test_composer_propose_streams_and_reports_usage(app, workspace):
    (workspace / "a.py").write_text("x = 1\n")
    fake = install(app, [sr("a.py", "x = 1\n", "x = 2\n")])
    pieces = []
    proposal = app.composer.propose("set x to 2", request=ContextRequest("", files=["a.py"]), fmt="sr",
                                    on_text=pieces.append)
    assert proposal.ok
    assert "".join(pieces) == proposal.attempts[0].answer == sr("a.py", "x = 1\n", "x = 2\n")
    assert proposal.completion_tokens > 0 and proposal.cost_usd > 0
    assert "x = 1" in fake.requests[0].messages[-1].content  # the file was in the prompt
    assert "+x = 2" in proposal.changeset.unified_diff()
    assert (workspace / "a.py").read_text() == "x = 1\n"  # proposing never writes


def test_composer_retry_shows_the_model_its_error(app, workspace):
    (workspace / "a.py").write_text("x = 1\n")
    fake = install(app, [sr("a.py", "x = 5\n", "x = 2\n"), sr("a.py", "x = 1\n", "x = 2\n")])
    proposal = app.composer.propose("x to 2", request=ContextRequest("", files=["a.py"]), fmt="sr")
    assert proposal.ok
    assert len(proposal.attempts) == 2
    assert "could not find" in proposal.attempts[0].error
    retry = fake.requests[1].messages[-1].content
    assert "could not be used" in retry and "could not find" in retry


def test_composer_format_fallback_after_parse_failures_and_bounded_retries(app, workspace):
    (workspace / "a.py").write_text("x = 1\n")
    fake = install(app, ["garbage", "still garbage", "a.py\n```\nx = 3\n```\n"])
    proposal = app.composer.propose("x to 3", request=ContextRequest("", files=["a.py"]))
    assert [a.format for a in proposal.attempts] == ["search_replace", "search_replace", "whole"]
    assert proposal.ok  # "auto" may switch format on the last retry
    assert len(fake.requests) == 3
    fake = install(app, ["garbage", "still garbage", "more garbage"])
    proposal = app.composer.propose("x to 3", request=ContextRequest("", files=["a.py"]))
    assert not proposal.ok and len(fake.requests) == 3
    # The error reported is the first format's; the switched retry is a footnote.
    assert "no edit blocks" in proposal.changeset.errors[0] and "whole" in proposal.changeset.errors[1]


def test_composer_local_model_gets_grammar_and_whole_file_format(app, workspace):
    (workspace / "a.py").write_text("x = 1\n")
    fake = install(app, ["a.py\n```\nx = 4\n```\n"], local=True, grammar=True)
    proposal = app.composer.propose("x to 4", request=ContextRequest("", files=["a.py"]))
    assert proposal.changeset.format == "whole"
    assert fake.requests[0].grammar and "root ::=" in fake.requests[0].grammar
    assert proposal.ok and proposal.changeset.file("a.py").result_text() == "x = 4\n"
    install(app, [sr("a.py", "x = 1\n", "x = 5\n")], local=False)
    assert app.composer.propose("x", request=ContextRequest("", files=["a.py"])).changeset.format == "search_replace"


def test_composer_plan_mode_then_edits_with_the_approved_plan(app, workspace):
    (workspace / "a.py").write_text("x = 1\n")
    fake = install(app, ["1. change x in a.py", sr("a.py", "x = 1\n", "x = 7\n")])
    session = app.composer.new_session()
    plan = app.composer.plan("make x seven", request=ContextRequest("", files=["a.py"]), session=session)
    assert plan == "1. change x in a.py"
    assert (workspace / "a.py").read_text() == "x = 1\n"
    edited = plan + "\n2. keep the rest"
    proposal = app.composer.propose("make x seven", request=ContextRequest("", files=["a.py"]), plan=edited,
                                    fmt="sr", session=session)
    assert "2. keep the rest" in fake.requests[1].messages[-1].content
    result = app.composer.apply(proposal.changeset, session=session)
    assert (workspace / "a.py").read_text() == "x = 7\n"
    reopened = app.composer.open_session(session.id)
    assert [t.role for t in reopened.turns] == ["user", "plan", "user", "assistant", "applied"]
    assert reopened.turns[3].changeset["files"][0]["path"] == "a.py"
    assert result.checkpoint_id in str(reopened.turns[4].extra)
    follow = app.composer.new_session(from_session=reopened)
    assert "make x seven" in follow.summary and "modified a.py" in follow.summary
    assert {s.id for s in app.composer.list_sessions()} >= {session.id, follow.id}
    install(app, [sr("a.py", "x = 7\n", "x = 8\n")])
    app.composer.propose("eight", request=ContextRequest("", files=["a.py"]), fmt="sr", session=follow)
    assert "Summary of the earlier session" in app.ai.requests[0].messages[-1].content


def test_composer_context_mentions_rules_ignore_and_budget(app, workspace):
    (workspace / "AGENTS.md").write_text("Use tabs.\n")
    (workspace / ".marie").mkdir()
    (workspace / ".marie" / "rules.md").write_text("Be brief.\n")
    (workspace / "src").mkdir()
    (workspace / "src" / "one.py").write_text("def one():\n    return 1\n")
    (workspace / "src" / "two.py").write_text("def two():\n    return 2\n")
    (workspace / ".env").write_text("API_KEY=supersecret\n")
    (workspace / "server.pem").write_text("-----BEGIN PRIVATE KEY-----\n")
    (workspace / ".marieignore").write_text("private/\n")
    (workspace / "private").mkdir()
    (workspace / "private" / "p.py").write_text("hidden = 1\n")
    (workspace / "big.py").write_text("z = 0\n" * 4000)
    assert [str(m) for m in parse_mentions("see @file:src/one.py and @src/two.py @git-diff", workspace)] == \
        ["@file:src/one.py", "@file:src/two.py", "@git-diff"]
    fake = install(app, [sr("src/one.py", "    return 1\n", "    return 11\n")], context_length=3000)
    req = ContextRequest("", files=[".env", "server.pem", "private/p.py", "big.py"], active_file="src/two.py",
                         selection="return 2", open_files=["src/one.py"])
    proposal = app.composer.propose("use @folder:src and @selection and @problems", request=req, fmt="sr",
                                    max_tokens=200)
    prompt = "\n".join(m.content for m in fake.requests[0].messages)
    assert "Use tabs." in prompt and "Be brief." in prompt
    assert "def one()" in prompt and "def two()" in prompt and "return 2" in prompt
    assert "supersecret" not in prompt and "PRIVATE KEY" not in prompt and "hidden = 1" not in prompt
    left = dict(proposal.context.left_out)
    assert left[".env"] == "matched by .marieignore" and left["private/p.py"] == "matched by .marieignore"
    assert "do not fit" in left["big.py"]
    assert "@problems" in left
    assert proposal.context.tokens <= proposal.context.budget
    assert "left out: big.py" in proposal.context.report()


def test_composer_git_diff_mention(app, workspace):
    import subprocess

    (workspace / "t.py").write_text("a = 1\n")
    (workspace / ".env.local").write_text("TOKEN=abc\n")
    subprocess.run(["git", "init", "-q"], cwd=workspace, check=True)
    subprocess.run(["git", "add", "-A"], cwd=workspace, check=True)
    subprocess.run(["git", "commit", "-qm", "init"], cwd=workspace, check=True)
    (workspace / "t.py").write_text("a = 2\n")
    (workspace / ".env.local").write_text("TOKEN=changed\n")
    fake = install(app, [sr("t.py", "a = 2\n", "a = 3\n")])
    app.composer.propose("fix @git-diff", fmt="sr")
    prompt = fake.requests[0].messages[-1].content
    assert "+a = 2" in prompt and "TOKEN" not in prompt


def test_composer_mention_completion(app, workspace):
    (workspace / "pkg").mkdir()
    (workspace / "pkg" / "mod.py").write_text("class Widget:\n    pass\n")
    assert "@file:" in app.composer.complete_mention("@fi")
    assert app.composer.complete_mention("@git") == ["@git-diff"]
    app.index.scan()
    assert "@file:pkg/mod.py" in app.composer.complete_mention("@file:mod")
    assert "@folder:pkg" in app.composer.complete_mention("@folder:pk")


def test_composer_ai_ignored_files_cannot_be_edited_or_leak_through_retries(app, workspace):
    (workspace / ".env").write_text("API_KEY=supersecret\n")
    (workspace / "id_rsa").write_text("-----BEGIN OPENSSH PRIVATE KEY-----\n")
    fake = install(app, [sr(".env", "API_KEY=wrong\n", "API_KEY=x\n"), sr("id_rsa", "x\n", "y\n"),
                         sr(".env", "API_KEY=supersecret\n", "API_KEY=stolen\n")])
    proposal = app.composer.propose("change the key", fmt="sr")
    assert not proposal.ok
    assert all("kept from the AI" in a.error for a in proposal.attempts)
    everything = "\n".join(m.content for r in fake.requests for m in r.messages)
    assert "supersecret" not in everything and "OPENSSH" not in everything
    assert (workspace / ".env").read_text() == "API_KEY=supersecret\n"


def test_composer_symbol_mention_brings_in_its_file(app, workspace):
    (workspace / "pkg").mkdir()
    (workspace / "pkg" / "shapes.py").write_text("class Circle:\n    radius = 1\n")
    (workspace / "other.py").write_text("x = 1\n")
    app.index.scan()
    fake = install(app, [sr("pkg/shapes.py", "    radius = 1\n", "    radius = 2\n")])
    proposal = app.composer.propose("grow @symbol:Circle", fmt="sr")
    assert "class Circle" in fake.requests[0].messages[-1].content
    assert "pkg/shapes.py" in proposal.context.editable
    assert proposal.ok


def test_the_default_model_is_a_base_model_even_before_it_is_unpacked(tmp_path, monkeypatch):
    # A first run: MARIE_HOME has no unpacked model yet. The composer must still use the base-model
    # (completion) prompts, not the chat ones the bundled model cannot follow.
    from marie.ai import models
    from marie.app import App

    monkeypatch.setenv("MARIE_HOME", str(tmp_path / "fresh-home"))
    root = tmp_path / "ws"
    root.mkdir()
    with App(root) as app:
        assert not models.default_model_path(ensure=False).exists()
        caps = app.composer._capabilities(None)
        assert app.composer.prompt_style(None, caps) == "completion"
