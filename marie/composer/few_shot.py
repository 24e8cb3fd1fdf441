"""Completion-style prompts for base models (no chat template, such as the bundled Gemma 3 270M).

A base model does not follow instructions; it continues text. So the prompt is a short document of
worked examples in the edit format ("File ... / Task ... / Edit ..."), then the user's files and
task, ending where the answer starts. With one file in play the answer's first lines (the path and
``<<<<<<< SEARCH``) are written into the prompt (a "prefill") so the model only has to continue the
block. The region formats (search/replace) are used: a small model that rewrites a whole file drops
the parts it did not mean to touch. Pure, any thread.
"""

from __future__ import annotations

from dataclasses import dataclass

from marie.composer.formats import canonical

_EXAMPLES = {
    "search_replace": [
        ("greet.py", 'def hello(name):\n    return "hello " + name\n',
         'add a function bye(name) that returns "bye " + name',
         'greet.py\n<<<<<<< SEARCH\n    return "hello " + name\n=======\n    return "hello " + name\n\n\n'
         'def bye(name):\n    return "bye " + name\n>>>>>>> REPLACE\n'),
        ("config.py", "TIMEOUT = 10\nRETRIES = 3\n", "change RETRIES to 5",
         "config.py\n<<<<<<< SEARCH\nRETRIES = 3\n=======\nRETRIES = 5\n>>>>>>> REPLACE\n"),
        ("shapes.py", "def area(w, h):\n    return w * h\n", "add a docstring to area",
         'shapes.py\n<<<<<<< SEARCH\ndef area(w, h):\n=======\ndef area(w, h):\n    """Return the area of a '
         'w by h rectangle."""\n>>>>>>> REPLACE\n'),
    ],
    "udiff": [
        ("config.py", "TIMEOUT = 10\nRETRIES = 3\n", "change RETRIES to 5",
         "--- config.py\n+++ config.py\n@@ -1,2 +1,2 @@\n TIMEOUT = 10\n-RETRIES = 3\n+RETRIES = 5\n"),
    ],
    "whole": [
        ("config.py", "TIMEOUT = 10\nRETRIES = 3\n", "change RETRIES to 5",
         "config.py\n```\nTIMEOUT = 10\nRETRIES = 5\n```\n"),
    ],
}

_HEAD = "Code edits. Each edit changes only what its task asks and copies the current lines exactly.\n\n"
END_MARKER = {"search_replace": ">>>>>>> REPLACE", "udiff": "", "whole": ""}


@dataclass
class CompletionPrompt:
    text: str            # everything the model reads, prefill included
    prefill: str         # the start of the answer already written (prepend it to the model's text)
    stop: tuple[str, ...]
    end_marker: str      # where the answer ends when only one edit is wanted ("" for no cut)


def _file(path: str, text: str) -> str:
    fence = "````" if "```" in text else "```"
    body = text if text.endswith("\n") or not text else text + "\n"
    return f"File {path}:\n{fence}\n{body}{fence}\n"


def build(fmt: str, files: list[tuple[str, str]], instruction: str, *, plan: str | None = None,
          refused: list[str] | None = None, prefill: bool = True, max_edits: int = 1) -> CompletionPrompt:
    """The prompt for ``files`` ([(path, text)], the editable files) and ``instruction``.

    ``refused`` are the reasons earlier answers were refused (shown as notes, so a retry differs);
    ``max_edits`` 1 stops the model after its first block (a base model otherwise goes on inventing
    tasks and edits of its own)."""
    fmt = canonical(fmt)
    parts = [_HEAD]
    for path, text, task, answer in _EXAMPLES[fmt]:
        parts.append(f"{_file(path, text)}Task: {task}\nEdit:\n{answer}\n")
    for path, text in files:
        parts.append(_file(path, text))
    if plan:
        parts.append("Plan:\n" + plan.strip() + "\n")
    for reason in refused or []:
        parts.append(f"Note: a previous edit was refused: {reason.strip()}\n")
    parts.append(f"Task: {instruction.strip()}\nEdit:\n")
    start = ""
    if prefill and len(files) == 1:
        path = files[0][0]
        start = {"search_replace": f"{path}\n<<<<<<< SEARCH\n", "udiff": f"--- {path}\n+++ {path}\n",
                 "whole": f"{path}\n```\n"}[fmt]
    stops = ("\nTask:", "\nFile ", "\nNote:", "\nEdit:")
    return CompletionPrompt("".join(parts) + start, start, stops, END_MARKER[fmt] if max_edits == 1 else "")


def answer_of(prompt: CompletionPrompt, generated: str) -> str:
    """The full answer: the prefill and the model's text, cut after its first block when only one
    edit is wanted (the model goes on with edits nobody asked for)."""
    text = prompt.prefill + generated
    if prompt.end_marker:
        at = text.find(prompt.end_marker)
        if at >= 0:
            text = text[:at + len(prompt.end_marker)] + "\n"
    return text
