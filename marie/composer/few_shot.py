"""Completion-style prompts for base models (no chat template, such as the bundled Gemma 3 270M).

A base model does not follow instructions; it continues text. So the prompt is a short document of
worked examples in the edit format ("File ... / Task ... / Edit ..."), then the user's files and
task, ending where the answer starts. With one file in play the answer's first lines (the path and
``<<<<<<< SEARCH``) are written into the prompt (a "prefill") so the model only has to continue the
block. The region formats (search/replace) are used: a small model that rewrites a whole file drops
the parts it did not mean to touch. Pure, any thread.
"""

from __future__ import annotations

import re
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
DIVIDER = "=======\n"
TAIL = ">>>>>>> REPLACE\n"
# Where the two steps of a search/replace block end (the model's own attempt at a marker, or the next
# example it starts to invent).
SEARCH_STOPS = ("=======", ">>>>>>>", "<<<<<<<", "\nTask:", "\nFile ", "\nEdit:")
REPLACE_STOPS = (">>>>>>>", "=======", "<<<<<<<", "\nTask:", "\nFile ", "\nEdit:")
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


# -- additions: "append this new code to the file" -------------------------------------------------
# A base model writes a new function well when that is all it has to write (measured on the suite:
# it copies the wrong SEARCH lines for an insertion, but continues "Appended to x.py:" correctly).
_ADD = re.compile(r"\badd(?:s)?\s+(?:a|an|one)?\s*(?:new\s+)?(?:top-level\s+)?(?P<kind>function|class)\b"
                  r"(?:\s+(?:called|named)?\s*(?P<sig>[A-Za-z_]\w*\s*(?:\([^)]*\))?))?", re.IGNORECASE)
_APPEND_EXAMPLES = [
    ("greet.py", 'def hello(name):\n    return "hello " + name\n',
     'add a function bye(name) that returns "bye " + name', 'def bye(name):\n    return "bye " + name\n'),
    ("shapes.py", "def area(w, h):\n    return w * h\n", "add a function perimeter(w, h) that returns 2 * (w + h)",
     "def perimeter(w, h):\n    return 2 * (w + h)\n"),
]
APPEND_STOPS = ("```", "\nTask:", "\nFile ", "\nAppended to")


def is_addition(instruction: str, path: str) -> bool:
    """Whether the request adds a new top-level function or class to a Python file (the append form)."""
    return path.endswith(".py") and _ADD.search(instruction) is not None and " method" not in instruction.lower()


def build_append(path: str, text: str, instruction: str, refused: list[str] | None = None) -> CompletionPrompt:
    """The prompt whose answer is only the new code, appended to ``path``. The signature the request
    spells out (``sub(a, b)``) is prefilled."""
    parts = ["Code additions. Each addition is new code appended to the end of the file.\n\n"]
    for p, t, task, code in _APPEND_EXAMPLES:
        parts.append(f"{_file(p, t)}Task: {task}\nAppended to {p}:\n```\n{code}```\n\n")
    parts.append(_file(path, text))
    for reason in refused or []:
        parts.append(f"Note: a previous addition was refused: {reason.strip()}\n")
    parts.append(f"Task: {instruction.strip()}\nAppended to {path}:\n```\n")
    m = _ADD.search(instruction)
    prefill = ""
    if m and m["sig"] and "(" in m["sig"]:
        keyword = "def" if m["kind"].lower() == "function" else "class"
        prefill = f"{keyword} {m['sig'].strip()}:\n"
    return CompletionPrompt("".join(parts) + prefill, prefill, APPEND_STOPS, "")


def append_answer(path: str, base: str, code: str) -> str:
    """The addition as a search/replace block that appends it (empty SEARCH), spaced as PEP 8 asks."""
    body = code if code.endswith("\n") else code + "\n"
    gap = "" if not base.strip() else ("\n\n" if base.endswith("\n") else "\n\n\n")
    return f"{path}\n<<<<<<< SEARCH\n=======\n{gap}{body}>>>>>>> REPLACE\n"
