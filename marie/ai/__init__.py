"""Model providers (local llama.cpp, OpenAI-compatible, Anthropic), routing, fallback and usage accounting.

Everything that talks to a model goes through ``app.ai`` (``marie.ai.service.AIService``).
"""
