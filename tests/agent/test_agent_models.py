"""Real models: the default Gemma 3 270M on llama.cpp makes a grammar-valid tool call (the agent's
grammar over the tool set), and the OpenAI-compatible path runs against a real ``llama_cpp.server``
on 127.0.0.1 with a tool-calling chat format (``chatml-function-calling``)."""

from __future__ import annotations

import jsonschema
import pytest

from marie.agent.service import agent_service
from marie.app import App
from marie.core.settings import Settings
from tests.agent.helpers import llama_server, make_agent_app, make_project


def test_gemma_makes_one_grammar_valid_tool_call(tmp_path, gemma_path):
    root = make_project(tmp_path / "ws", git=False)
    user = tmp_path / "user.toml"
    user.write_text('[ai.local]\nn_ctx = 4096\nthreads = 1\n[ai.routing]\nagent = ["local"]\n')
    app = App(root, settings=Settings(user_file=user, project_file=None, policy_file=None))
    try:
        run = agent_service(app).start_run("Call the read_file tool to read calc.py.", mode="plan", max_steps=1,
                                           tool_choice="required")
        assert run.grammar_mode()
        schema = run.toolset.call_schema(allow_answer=False)
        session = run.run()
    finally:
        app.close()
    assert session.finished == "max_steps", run.last_error
    assert len(session.steps) == 1
    step = session.steps[0]
    # The call the model wrote is an instance of the grammar's schema: a known tool, valid arguments.
    jsonschema.validate({"tool": step.tool, "arguments": step.arguments}, schema)
    assert run.toolset.check(step.tool, step.arguments) == ""
    assert step.tool in run.toolset.names() and step.ok, step.result


@pytest.fixture(scope="module")
def function_server(gemma_path, tmp_path_factory):
    with llama_server(gemma_path, tmp_path_factory.mktemp("llama-fc") / "server.log", "chatml-function-calling") as url:
        yield url


def test_openai_native_tool_calls_against_llama_cpp_server(tmp_path, function_server):
    root = make_project(tmp_path / "ws", git=False)
    app = make_agent_app(root, function_server, agent={"answer_tokens": 96}, timeout_s=600.0)
    try:
        # A named tool_choice: the server's chatml-function-calling format then constrains the call
        # (it does not implement "required"). Two tools only: each declaration lengthens the prompt,
        # which one CPU thread reads slowly.
        from marie.agent.loop import AgentRun
        from marie.agent.session import AgentSession
        from marie.agent.tools import files

        tools = [t for t in files.tools() if t.name in ("read_file", "list_folder")]
        run = AgentRun(app, AgentSession("Read the file calc.py with the read_file tool.", mode="plan"),
                       tools=tools, max_steps=1, tool_choice="read_file")
        assert not run.grammar_mode()        # native tool calling
        session = run.run()
    finally:
        app.close()
    assert session.finished == "max_steps", run.last_error
    assert session.steps, session.turns
    first = session.steps[0]
    # The server's function-calling format constrains the call to a declared tool with JSON arguments.
    assert first.tool == "read_file" and isinstance(first.arguments, dict)
    # Whatever the small model put in the arguments, the result is a real read or a tool error.
    assert first.ok or first.result.startswith("error:")
    # (llama_cpp.server sends no usage chunk in function-calling streams, so no token counts here.)
    assert session.turns[0]["calls"] == ["read_file"]
