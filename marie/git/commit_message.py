"""The AI commit message: prompt, context budget, GBNF grammar and clean-up (no pygit2, no Qt).

Small local models (Gemma 3 270M by default) drift from a format they are only asked for, so the
request carries a llama.cpp GBNF grammar that makes the first line ``type(scope)?: subject`` with a
Conventional Commits type and at most ~72 characters, and allows a short optional body. Providers
without grammar support get the same prompt; ``clean_ai_message`` then repairs what it can.
Pure functions: the service runs them on a worker thread.
"""

from __future__ import annotations

import re
from typing import Callable

TYPES = ("feat", "fix", "docs", "style", "refactor", "perf", "test", "build", "ci", "chore")
SUBJECT_LIMIT = 72
# What a well-formed first line looks like (the tests and the clean-up use it).
CONVENTIONAL_RE = re.compile(r"^(?:%s)(?:\([a-z0-9_./-]{1,16}\))?!?: \S.{0,%d}$" % ("|".join(TYPES), SUBJECT_LIMIT))

# First line: type(scope)?: verb words, at most 8 + 18 + 2 + 44 = 72 characters. The scope can only
# be a name taken from the changed paths and the summary starts with an imperative verb: a 270M model
# otherwise copies numbers and prompt text. The body (``git.ai_body``; at most two lines of at most
# 72 characters) follows a blank line. Every rule is bounded, so a model that rambles is stopped by
# the grammar, not by max_tokens in the middle of a word.
VERBS = ("add", "update", "fix", "remove", "rename", "refactor", "document", "test", "improve", "support",
         "handle", "move", "simplify", "use", "allow", "change", "clean up", "extract", "replace", "show")
_GRAMMAR = r"""
root    ::= subject {body}
subject ::= type {scope} ": " verb " " words
type    ::= "feat" | "fix" | "docs" | "style" | "refactor" | "perf" | "test" | "build" | "ci" | "chore"
verb    ::= {verbs}
words   ::= [a-z] [a-zA-Z_ ,'/.-]{{2,34}}
body    ::= "\n\n" line ("\n" line)?
line    ::= [^\n]{{1,72}}
""".strip()


def scopes_of(paths: list[str]) -> list[str]:
    """Scope names a change may use: the parent folder of each file, else its name without suffix."""
    out: list[str] = []
    for path in paths:
        parts = path.split("/")
        name = parts[-2] if len(parts) > 1 else parts[-1].split(".")[0]
        name = re.sub(r"[^a-z0-9_.-]", "", name.lower())[:16]
        if name and name not in out:
            out.append(name)
    return out[:20]


def build_grammar(paths: list[str], body: bool = False) -> str:
    """The GBNF grammar for a message about ``paths`` (with an optional body when ``body``)."""
    scopes = scopes_of(paths)
    scope = ('("(" (' + " | ".join(f'"{name}"' for name in scopes) + ') ")")?') if scopes else ""
    return _GRAMMAR.format(body="body?" if body else "", scope=scope,
                           verbs=" | ".join(f'"{verb}"' for verb in VERBS))


GRAMMAR = build_grammar([], body=True)

PROMPT = (
    "Write a git commit message in the Conventional Commits format for the staged diff below.\n"
    "First line: type(scope): summary — type is one of feat, fix, docs, style, refactor, perf, test, "
    "build, ci, chore; summary in imperative mood, lower case, no final period, under 50 characters.\n"
    "Reply with the message only.")

# Tokens kept free for the chat template, the instructions and the answer besides max_tokens.
_OVERHEAD_TOKENS = 160


def summary_of(patch: str) -> str:
    """"path (+a -d)" per file of a unified diff: always sent, even when the diff is cut."""
    files: list[list] = []
    for line in patch.splitlines():
        if line.startswith("diff --git "):
            path = line.split(" b/", 1)[-1]
            files.append([path, 0, 0])
        elif files and line.startswith("+") and not line.startswith("+++"):
            files[-1][1] += 1
        elif files and line.startswith("-") and not line.startswith("---"):
            files[-1][2] += 1
    return "\n".join(f"{p} (+{a} -{d})" for p, a, d in files)


def paths_of(patch: str) -> list[str]:
    """The file paths of a unified diff, in order."""
    return [line.split(" b/", 1)[-1] for line in patch.splitlines() if line.startswith("diff --git ")]


def fit_patch(patch: str, budget: int, count: Callable[[str], int]) -> str:
    """``patch`` cut at a line end so that ``count(result) <= budget`` tokens (a marker says it was
    cut). ``count`` is the model's own tokenizer; a few rounds of proportional cuts converge."""
    if budget <= 0:
        return "[diff left out: the model's context is too small]\n"
    tokens = count(patch)
    text = patch
    rounds = 0
    while tokens > budget and rounds < 6:
        keep = max(0, int(len(text) * budget / tokens * 0.9))
        cut = text.rfind("\n", 0, keep)
        text = text[: cut + 1 if cut > 0 else keep]
        tokens = count(text + "[diff truncated]\n")
        rounds += 1
    if text is not patch:
        text += "[diff truncated]\n"
    return text


def build_messages(patch: str, context_length: int, max_tokens: int, count: Callable[[str], int]):
    """The chat messages for ``patch``, fitted into ``context_length`` tokens."""
    from marie.ai.types import Message

    files = summary_of(patch)
    head = PROMPT + "\n\nFiles:\n" + files + "\n\nDiff:\n"
    budget = context_length - max_tokens - _OVERHEAD_TOKENS - count(head)
    return [Message("user", head + fit_patch(patch, budget, count))]


def clean_ai_message(text: str) -> str:
    """Strip code fences, quotes and chatter around a model's commit message; drop a body line the
    model did not finish (no sentence end) and a final period on the subject."""
    lines = [line.rstrip() for line in text.strip().splitlines() if not line.strip().startswith("```")]
    body = "\n".join(lines).strip()
    for lead in ("Commit message:", "commit message:", "Here is the commit message:"):
        if body.startswith(lead):
            body = body[len(lead):].strip()
    body = body.strip('"').strip("'").strip()
    if not body:
        return ""
    subject, _, rest = body.partition("\n")
    subject = subject.strip().rstrip(".").rstrip()
    pieces: list[str] = []
    for piece in subject.split(", "):  # "rename b.py, b.py, b.py": small models repeat themselves
        if piece.strip() and piece.strip() not in pieces:
            pieces.append(piece.strip())
    subject = ", ".join(pieces).rstrip(",").rstrip()
    rest_lines = [line for line in rest.strip("\n").splitlines()]
    while rest_lines and not rest_lines[-1].rstrip().endswith((".", "!", "?", ")", "`")):
        rest_lines.pop()  # cut by the token limit in the middle of a sentence
    rest = "\n".join(rest_lines).strip()
    return subject + ("\n\n" + rest if rest else "")


def is_conventional(message: str) -> bool:
    """True when the first line is a Conventional Commits subject of at most 72 characters."""
    first = message.split("\n", 1)[0]
    return len(first) <= SUBJECT_LIMIT and bool(CONVENTIONAL_RE.match(first))
