"""Agent mode: the model explores the workspace with tools, edits into a change set, runs commands
and tests in a pseudo-terminal, and fixes its own mistakes; every write and every command's effect is
checkpointed and governed by permissions. No Qt here: the pane, the CLI and the tests drive the same
``AgentRun`` (``marie.agent.loop``)."""
