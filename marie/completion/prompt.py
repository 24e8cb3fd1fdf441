"""A ``CompletionContext`` -> what a backend sends.

* ``fim_prompt``: one text for a local model with FIM tokens (``FimFormat.build``);
* ``prefix_prompt``: plain prefix completion for models without FIM (the default Gemma);
* ``remote_fields``: the pieces the HTTP endpoints take separately (``/v1/completions`` prompt and
  suffix, ``/infill`` input_prefix/input_suffix/input_extra).

The head of every prompt (language, path, snippets as comments) comes first and stays the same while
the user types, so only the caret's end of the prompt changes between keystrokes. Pure functions.
"""

from __future__ import annotations

from dataclasses import dataclass

from marie.completion.context import CompletionContext
from marie.completion.fim import FimFormat

_LINE_COMMENT = {
    "python": "#", "shell": "#", "bash": "#", "yaml": "#", "toml": "#", "ruby": "#", "r": "#", "perl": "#",
    "makefile": "#", "dockerfile": "#", "ini": ";", "c": "//", "cpp": "//", "java": "//", "javascript": "//",
    "typescript": "//", "go": "//", "rust": "//", "csharp": "//", "kotlin": "//", "swift": "//", "scala": "//",
    "php": "//", "dart": "//", "sql": "--", "lua": "--", "haskell": "--",
}


def comment_prefix(language: str) -> str:
    return _LINE_COMMENT.get(language, "")


def head(ctx: CompletionContext) -> str:
    """Path and snippets as line comments (nothing for languages without line comments)."""
    mark = comment_prefix(ctx.language)
    if not mark:
        return ""
    parts = []
    for snippet in ctx.snippets:
        body = "\n".join(f"{mark} {line}" if line else mark for line in snippet.text.split("\n"))
        parts.append(f"{mark} Compare this snippet from {snippet.path}:\n{body}\n")
    if ctx.path:
        parts.append(f"{mark} Path: {ctx.path}\n")
    return "".join(parts)


def held_whitespace(ctx: CompletionContext) -> str:
    """Spaces/tabs at the caret's end of the prefix. They are left out of the prompt and taken off
    the answer (``heal``): a prompt ending in a space is one a model rarely saw in training (the
    space belongs to the next word's token), and small models answer it with a newline."""
    stripped = ctx.prefix.rstrip(" \t")
    return ctx.prefix[len(stripped):]


def sent_prefix(ctx: CompletionContext) -> str:
    return ctx.prefix[: len(ctx.prefix) - len(held_whitespace(ctx))]


def heal(answer: str, held: str) -> str:
    """The answer as it continues the caret: the held whitespace the model repeated comes off."""
    if held and answer.startswith(held):
        return answer[len(held):]
    if held and answer[:1] in (" ", "\t"):
        return answer.lstrip(" \t")
    return answer


def prefix_prompt(ctx: CompletionContext) -> str:
    return head(ctx) + sent_prefix(ctx)


def fim_prompt(ctx: CompletionContext, fmt: FimFormat) -> str:
    return fmt.build(head(ctx) + sent_prefix(ctx), ctx.suffix)


def stops_for(ctx: CompletionContext, fmt: FimFormat | None) -> tuple[str, ...]:
    """Stop strings: a blank line ends a suggestion (``trim`` would cut there anyway), and a FIM
    family's end markers. Mid-line the caret's line is the whole answer."""
    stops: list[str] = ["\n\n"]
    if ctx.rest_of_line.strip():
        stops = ["\n"]
    if fmt is not None:
        stops += list(fmt.stops)
    return tuple(dict.fromkeys(stops))


@dataclass(frozen=True)
class RemoteFields:
    prompt: str      # head + prefix (/v1/completions)
    prefix: str      # the bare prefix (/infill, which takes the snippets as input_extra)
    suffix: str
    extra: tuple[tuple[str, str], ...]   # (filename, text)


def remote_fields(ctx: CompletionContext) -> RemoteFields:
    return RemoteFields(prompt=head(ctx) + sent_prefix(ctx), prefix=sent_prefix(ctx), suffix=ctx.suffix,
                        extra=tuple((s.path, s.text) for s in ctx.snippets))
