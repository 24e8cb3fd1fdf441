"""The agent's tools, one module per family; ``registry.builtin_tools()`` lists them all."""
