"""The sanity gate: checks every proposal passes before it is shown, whatever the model.

A proposal is refused (and the model retried with the reason) when it
- repeats an edit (the same block twice, or two edits for one region of a file);
- creates a file the instruction did not ask for;
- deletes most of a file (or the whole file) while the instruction asks for an addition;
- leaves a file that parsed before unparsable (``ast`` for Python, tree-sitter for JavaScript,
  TypeScript, Go and Rust);
- changes nothing.
Each reason is a sentence written for the user and for the model's retry. Pure, any thread.
"""

from __future__ import annotations

import ast
import difflib
import re
from functools import lru_cache
from typing import Any

from marie.composer import edits as edit_ops

# Words that ask for something to be added, or that allow removing things.
_ADDS = re.compile(r"\b(add|adds|adding|insert|append|create|implement|write|introduce|include|extend|new|mirror)\b",
                   re.IGNORECASE)
_REMOVES = re.compile(r"\b(remove|delete|drop|replace|rewrite|clean|simplify|strip|shorten|trim|cut|purge|empty|"
                      r"refactor|move|rename|merge|split|reduce|deduplicate)\b", re.IGNORECASE)
_NEW_FILE = re.compile(r"\b(new|create|add|separate|another)\b[^.]{0,40}\b(file|module|script|package|test file|"
                       r"page|config|readme)\b", re.IGNORECASE)
MOST = 0.5          # "most of a file": more than this share of its non-blank lines removed

_TREE_SITTER = {".js": ("tree_sitter_javascript", "language"), ".mjs": ("tree_sitter_javascript", "language"),
                ".jsx": ("tree_sitter_javascript", "language"),
                ".ts": ("tree_sitter_typescript", "language_typescript"),
                ".tsx": ("tree_sitter_typescript", "language_tsx"),
                ".go": ("tree_sitter_go", "language"), ".rs": ("tree_sitter_rust", "language")}


_MENTION = re.compile(r"@\S+")


def asks_for_new_file(instruction: str, path: str) -> bool:
    """Whether the instruction asks for a new file (in general, or this one by name); @-mentions name
    files for the context, not files to create."""
    name = path.rsplit("/", 1)[-1]
    plain = _MENTION.sub(" ", instruction)
    return bool(_NEW_FILE.search(plain)) or path in plain or (len(name) > 2 and re.search(
        r"(?<![\w.])" + re.escape(name) + r"(?![\w])", plain) is not None)


def asks_for_any_new_file(instruction: str) -> bool:
    """Whether the instruction asks for some new file (the grammar then allows a new path)."""
    return bool(_NEW_FILE.search(_MENTION.sub(" ", instruction)))


def asks_for_addition_only(instruction: str) -> bool:
    return bool(_ADDS.search(instruction)) and not _REMOVES.search(instruction)


def duplicate_edits(edits: list[edit_ops.Edit]) -> list[str]:
    """Edits that repeat one another: identical blocks, or two blocks replacing the same lines."""
    out: list[str] = []
    seen: dict[tuple, str] = {}
    for edit in edits:
        if isinstance(edit, edit_ops.Replace):
            key: tuple = ("replace", edit.path, tuple(s.rstrip() for s in edit.search if s.strip()))
        elif isinstance(edit, edit_ops.WholeFile):
            key = ("whole", edit.path)
        elif isinstance(edit, edit_ops.Delete):
            key = ("delete", edit.path)
        else:
            key = ("rename", edit.src)
        if len(key) == 3 and not key[2]:
            key = ("insert", edit.path, tuple(getattr(edit, "replace", ())))
        if key in seen:
            what = {"replace": "replaces the same lines as", "whole": "rewrites the same file as",
                    "delete": "deletes the same file as", "rename": "renames the same file as",
                    "insert": "repeats"}[key[0]]
            out.append(f"{_path(edit)}: the edit at {edit.where or 'a later block'} {what} the edit at "
                       f"{seen[key] or 'an earlier block'}; give each change once")
        else:
            seen[key] = edit.where
    return out


def _path(edit: edit_ops.Edit) -> str:
    return edit.src if isinstance(edit, edit_ops.Rename) else edit.path


def check(changeset: Any, edits: list[edit_ops.Edit], instruction: str, strict: bool = False) -> list[str]:
    """The reasons to refuse this proposal (empty: it may be shown). ``strict`` adds the checks for
    small base models, which copy the wrong lines and edit what nobody asked about: every SEARCH must
    match exactly (no approximate tier), and every change must touch a name the request mentions."""
    reasons = duplicate_edits(edits)
    files = [f for f in changeset.files if f.accepted]
    if not any(f.changes_anything for f in files):
        reasons.append("the edits change nothing")
    addition = asks_for_addition_only(instruction)
    for f in files:
        if f.status == "created" and not asks_for_new_file(instruction, f.path):
            reasons.append(f"{f.path}: the answer creates this file, but the request does not ask for a new file; "
                           "edit the files shown instead")
        elif f.status == "deleted" and addition:
            reasons.append(f"{f.path}: the answer deletes this file, but the request asks for an addition")
        elif f.status == "modified" and addition and _removed_share(f.base_text or "", f.result_text() or "") > MOST:
            reasons.append(f"{f.path}: the answer removes most of the file, but the request asks for an addition; "
                           "keep the existing lines and add the new ones")
        if f.status in ("modified", "created", "renamed"):
            broken = parse_error(f.path, f.result_text() or "")
            if broken and (f.status == "created" or not parse_error(f.path, f.base_text or "")):
                reasons.append(f"{f.path}: the result no longer parses ({broken}); write complete, valid code")
            elif f.status == "modified" and f.path.endswith(".py"):
                reasons += _lost_definitions(f.path, f.base_text or "", f.result_text() or "", instruction)
                reasons += _new_undefined(f.path, f.base_text or "", f.result_text() or "")
        if strict and f.status == "modified":
            if any("fuzzy" in tier for tier in f.tiers):
                reasons.append(f"{f.path}: the SEARCH lines only resemble the file; copy the current lines exactly")
            elif not _relevant(f, instruction):
                reasons.append(f"{f.path}: the change does not touch anything the request names; change the "
                               "lines the request is about")
    return reasons


_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]+")
# Words too common to tie a change to a request.
_COMMON = {"def", "return", "returns", "self", "the", "and", "for", "with", "that", "this", "from", "import",
           "add", "function", "method", "class", "change", "make", "set", "use", "to", "of", "in", "it", "is",
           "if", "a", "an", "as", "be", "by", "or", "on", "at", "when", "instead", "not", "none", "true", "false"}


def _names(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text)} - _COMMON


def _relevant(f: Any, instruction: str) -> bool:
    """Whether some hunk of ``f`` touches a name the instruction mentions: on its changed lines, or on
    the unchanged line just above them (a docstring goes under the ``def`` it documents)."""
    wanted = _names(instruction)
    base = (f.base_text or "").splitlines()
    for hunk in f.hunks:
        above = base[max(0, hunk.start - 1):hunk.start]
        near = [line for line in above if line.lstrip().startswith(("def ", "class "))]
        if _names("\n".join(list(hunk.old) + list(hunk.new) + near)) & wanted:
            return True
    return False


def _definitions(text: str) -> list[str]:
    """Names of the functions and classes defined at module level and in classes."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return []
    out: list[str] = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.append(node.name)
        if isinstance(node, ast.ClassDef):
            out += [f"{node.name}.{n.name}" for n in node.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    return out


def _undefined(text: str) -> set[str]:
    """Names the module reads but never binds (imports, definitions, assignments, parameters, loop and
    ``with`` targets, comprehension variables) and that are not builtins. Coarse: scopes are not told
    apart, so it only ever misses names, never invents them."""
    import builtins

    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return set()
    bound: set[str] = set(dir(builtins)) | {"__file__", "__name__", "__doc__", "__spec__", "__path__"}
    read: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (read if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            if isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names):
                return set()  # a star import binds unknown names
            bound |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            bound |= set(node.names)
    return read - bound


def _new_undefined(path: str, base: str, new: str) -> list[str]:
    """Names the edit starts using without importing or defining them (``math.sqrt`` without ``import math``)."""
    names = sorted(_undefined(new) - _undefined(base))
    if not names:
        return []
    return [f"{path}: the result uses {', '.join(names[:5])}, which {'is' if len(names) == 1 else 'are'} not "
            "defined or imported; add the import or definition"]


def _lost_definitions(path: str, base: str, new: str, instruction: str) -> list[str]:
    """Functions or classes the edit removes, or defines twice, that the request does not name."""
    before, after = _definitions(base), _definitions(new)
    # Common words count only when written as code ("remove `add`", "drop add()"): "add a docstring"
    # does not name a function called add.
    words = _names(instruction) | {w.lower() for w in re.findall(r"`([A-Za-z_]\w*)`|\b([A-Za-z_]\w*)\(",
                                                                  instruction) for w in w if w}
    words |= {w.lower() for w in re.findall(r"\b(?:rename|remove|delete|drop|replace|move|merge|inline)\s+(?:the\s+)?"
                                            r"(?:function\s+|class\s+|method\s+)?([A-Za-z_]\w*)", instruction, re.I)}
    out = []
    for name in dict.fromkeys(before):
        short = name.rsplit(".", 1)[-1]
        if name not in after and short.lower() not in words:
            out.append(f"{path}: the answer removes {name}, which the request does not mention; keep it")
    for name in dict.fromkeys(after):
        if after.count(name) > 1 and before.count(name) <= 1:
            out.append(f"{path}: the answer defines {name} twice")
    return out


def _removed_share(base: str, new: str) -> float:
    old = [line.strip() for line in base.splitlines() if line.strip()]
    if not old:
        return 0.0
    kept = [line.strip() for line in new.splitlines() if line.strip()]
    sm = difflib.SequenceMatcher(a=old, b=kept, autojunk=False)
    same = sum(block.size for block in sm.get_matching_blocks())
    return 1.0 - same / len(old)


def parse_error(path: str, text: str) -> str:
    """A short description of why ``text`` does not parse as the language of ``path`` ("" if it does,
    or if no parser is at hand for that language)."""
    suffix = "." + path.rsplit(".", 1)[-1].lower() if "." in path.rsplit("/", 1)[-1] else ""
    if suffix in (".py", ".pyi"):
        try:
            ast.parse(text)
        except SyntaxError as exc:
            return f"line {exc.lineno}: {exc.msg}"
        except ValueError as exc:  # NUL bytes
            return str(exc)
        return ""
    parser = _parser(suffix)
    if parser is None:
        return ""
    tree = parser.parse(text.encode("utf-8", "surrogatepass"))
    if not tree.root_node.has_error:
        return ""
    node = _first_error(tree.root_node)
    line = node.start_point[0] + 1 if node is not None else 0
    return f"a syntax error near line {line}" if line else "a syntax error"


@lru_cache(maxsize=None)
def _parser(suffix: str):
    spec = _TREE_SITTER.get(suffix)
    if spec is None:
        return None
    try:
        import importlib

        import tree_sitter

        module = importlib.import_module(spec[0])
        return tree_sitter.Parser(tree_sitter.Language(getattr(module, spec[1])()))
    except Exception:  # a grammar package missing or incompatible: no check rather than a false refusal
        return None


def _first_error(node):
    if node.type == "ERROR" or node.is_missing:
        return node
    for child in node.children:
        if child.has_error or child.is_missing:
            found = _first_error(child)
            if found is not None:
                return found
    return None


__all__ = ["check", "parse_error", "duplicate_edits", "asks_for_new_file", "asks_for_addition_only"]
