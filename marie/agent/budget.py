"""Tool results cut to a token budget before they go back to the model (about four characters a
token, the estimate the remote providers use; exact counts would cost a model round trip). Pure."""

from __future__ import annotations


def estimate_tokens(text: str) -> int:
    return (len(text) + 3) // 4 if text else 0


def cut(text: str, tokens: int, what: str = "result") -> str:
    """``text`` if it fits in ``tokens``, else its head and tail with a line saying what was cut."""
    limit = max(64, tokens * 4)
    if len(text) <= limit:
        return text
    head = text[: limit * 3 // 4]
    tail = text[-(limit // 4):]
    dropped = len(text) - len(head) - len(tail)
    return (f"{head}\n[... {dropped} characters of this {what} cut to fit {tokens} tokens; "
            f"narrow the request to see them ...]\n{tail}")
