"""What the model sees: the active file and selection, open files, @-mentioned items, a repo map,
rules files and diagnostics, fitted to the model's context length, with a report of what was left out.

Mentions in an instruction: ``@file:path`` (or ``@path`` when it names a file), ``@folder:path``,
``@symbol:Name``, ``@selection``, ``@problems``, ``@git-diff``. Files matched by ``.marieignore`` (and
its defaults: ``.env*``, keys...) never enter a prompt, whatever asked for them.

``build_context`` reads files and may run ``git diff``: call it on a worker.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from marie.workspace.ai_ignore import ai_ignore_for
from marie.composer.repomap import build_repo_map
from marie.workspace.guard import PathRefused, relative_posix, resolve_inside
from marie.text import codec

MENTION = re.compile(r"@(?P<kind>file|folder|symbol|selection|problems|git-diff)(?::(?P<arg>[^\s,;]+))?"
                     r"|@(?P<bare>[A-Za-z0-9_.\-/]+[A-Za-z0-9_\-/])")
MENTION_KINDS = ("file", "folder", "symbol", "selection", "problems", "git-diff")
RULES_FILES = ("AGENTS.md", ".marie/rules.md", "CONVENTIONS.md")
MAX_CONTEXT_FILE_BYTES = 400_000


@dataclass
class Mention:
    kind: str
    arg: str = ""

    def __str__(self) -> str:
        return f"@{self.kind}" + (f":{self.arg}" if self.arg else "")


def parse_mentions(instruction: str, root: Path | None = None) -> list[Mention]:
    """The @-mentions in ``instruction`` (a bare ``@name`` counts when it names a workspace file/folder)."""
    out: list[Mention] = []
    for m in MENTION.finditer(instruction):
        if m["kind"]:
            out.append(Mention(m["kind"], m["arg"] or ""))
        elif m["bare"] and root is not None:
            try:
                path = resolve_inside(root, m["bare"])
            except PathRefused:
                continue
            if path.is_file():
                out.append(Mention("file", m["bare"]))
            elif path.is_dir():
                out.append(Mention("folder", m["bare"]))
    return out


@dataclass
class ContextItem:
    kind: str            # "rules" | "active" | "selection" | "file" | "symbol" | "problems" | "git-diff" | "map" | "open"
    label: str
    text: str
    priority: int        # lower = more important (kept first)
    tokens: int = 0
    path: str | None = None


@dataclass
class ContextRequest:
    instruction: str
    active_file: str | None = None          # workspace-relative
    selection: str | None = None
    selection_lines: tuple[int, int] | None = None
    open_files: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)   # extra files (CLI --file)
    buffers: dict[str, str] = field(default_factory=dict)  # unsaved editor texts by path
    repo_map: bool = True
    auto_files: int = 2                      # files to pick when the request names none (0: never)


@dataclass
class Context:
    items: list[ContextItem]
    left_out: list[tuple[str, str]]         # (label, why)
    tokens: int
    budget: int
    editable: list[str]                     # files the model may edit (their full text is shown)

    def render(self) -> str:
        return "\n\n".join(item.text for item in sorted(self.items, key=_order))

    def report(self) -> str:
        lines = [f"context: {self.tokens} of {self.budget} tokens, {len(self.items)} items"]
        for label, why in self.left_out:
            lines.append(f"left out: {label} ({why})")
        return "\n".join(lines)


_KIND_ORDER = {"rules": 0, "map": 1, "problems": 2, "git-diff": 3, "symbol": 4, "open": 5, "file": 6,
               "active": 7, "selection": 8}


def _order(item: ContextItem) -> int:
    return _KIND_ORDER.get(item.kind, 9)


def estimate_tokens(text: str) -> int:
    """A rough count (4 characters a token) used where no tokenizer is at hand."""
    return max(1, len(text) // 4)


def file_block(rel: str, text: str) -> str:
    fence = "````" if "```" in text else "```"
    body = text if text.endswith("\n") or not text else text + "\n"
    return f"{rel}\n{fence}\n{body}{fence}"


class ContextBuilder:
    """Builds a ``Context`` for one request. Worker thread (reads files, may run git)."""

    def __init__(self, app: Any, count: Callable[[str], int] | None = None) -> None:
        self.app = app
        self.root = Path(app.root)
        self.ignore = ai_ignore_for(self.root, app.settings)
        self.count = count or estimate_tokens

    def read(self, rel: str, buffers: dict[str, str], *, rules: bool = False) -> tuple[str | None, str]:
        """(text, why-not) for a workspace file. ``rules``: one of the project's rules files, which may
        live under ``.marie/`` (MarieIDE's own, read for the prompt, never editable by an answer)."""
        if self.ignore.is_ignored(rel):
            return None, "matched by .marieignore"
        if rel in buffers:
            return buffers[rel], ""
        try:
            path = resolve_inside(self.root, rel, allow_protected=rules)
        except PathRefused as exc:
            return None, str(exc)
        if not path.is_file():
            return None, "not a file"
        if path.stat().st_size > MAX_CONTEXT_FILE_BYTES:
            return None, "too large for a prompt"
        try:
            text, _ = codec.decode(path.read_bytes())
        except codec.BinaryFileError:
            return None, "binary file"
        except OSError as exc:
            return None, f"unreadable ({exc.strerror})"
        return text, ""

    def build(self, request: ContextRequest, budget: int) -> Context:
        items: list[ContextItem] = []
        left_out: list[tuple[str, str]] = []
        editable: list[str] = []
        seen: set[str] = set()

        def add_file(rel: str, kind: str, priority: int) -> None:
            rel = rel.replace("\\", "/").strip("/")
            if rel in seen:
                return
            seen.add(rel)
            text, why = self.read(rel, request.buffers)
            if text is None:
                left_out.append((rel, why))
                return
            items.append(ContextItem(kind, rel, file_block(rel, text), priority, path=rel))
            editable.append(rel)

        for rel in RULES_FILES:
            path = self.root / rel
            if path.is_file():
                text, why = self.read(rel, {}, rules=True)
                if text is not None:
                    items.append(ContextItem("rules", rel, f"Project rules ({rel}):\n{text.strip()}", 0))
        if request.active_file:
            add_file(request.active_file, "active", 1)
        if request.selection:
            where = f" (lines {request.selection_lines[0]}-{request.selection_lines[1]})" if request.selection_lines else ""
            items.append(ContextItem("selection", "selection",
                                     f"The user selected this in {request.active_file or 'the editor'}{where}:\n```\n"
                                     f"{request.selection}\n```", 1))
        for rel in request.files:
            add_file(rel, "file", 1)
        for mention in parse_mentions(request.instruction, self.root):
            self._mention(mention, request, items, left_out, add_file)
        for rel in request.open_files:
            add_file(rel, "open", 5)
        if not editable and request.auto_files:
            # Nothing named, open or active (``marie compose "add sub"`` in a small project): show the
            # few files the request is most likely about, so the model has something it may edit.
            for rel in self._likely_files(request.instruction, request.auto_files):
                add_file(rel, "file", 3)
        if request.repo_map:
            self._repo_map(request, items, left_out, budget)
        return self._fit(items, left_out, budget, editable)

    def _mention(self, mention: Mention, request: ContextRequest, items, left_out, add_file) -> None:
        if mention.kind == "file" and mention.arg:
            add_file(mention.arg, "file", 1)
        elif mention.kind == "folder" and mention.arg:
            try:
                folder = resolve_inside(self.root, mention.arg)
            except PathRefused as exc:
                left_out.append((str(mention), str(exc)))
                return
            if not folder.is_dir():
                left_out.append((str(mention), "no such folder"))
                return
            for path in sorted(folder.rglob("*"))[:200]:
                rel = relative_posix(self.root, path)
                if path.is_file() and ".git" not in rel.split("/"):
                    add_file(rel, "file", 3)
        elif mention.kind == "symbol" and mention.arg:
            try:
                found = self.app.index.workspace_symbols(mention.arg, limit=5)
            except Exception as exc:  # the index may be unavailable (e.g. a plain folder without it)
                left_out.append((str(mention), f"symbols unavailable ({exc})"))
                return
            exact = [s for s in found if s.name == mention.arg] or found[:1]
            if not exact:
                exact = self._find_symbol(mention.arg)
            if not exact:
                left_out.append((str(mention), "no such symbol"))
            for sym in exact[:3]:
                add_file(sym.path, "symbol", 2)
        elif mention.kind == "selection":
            if not request.selection:
                left_out.append(("@selection", "nothing is selected"))
        elif mention.kind == "problems":
            text = self._problems()
            if text:
                items.append(ContextItem("problems", "@problems", text, 2))
            else:
                left_out.append(("@problems", "no diagnostics available"))
        elif mention.kind == "git-diff":
            text = self._git_diff()
            if text:
                items.append(ContextItem("git-diff", "@git-diff", "Uncommitted changes (git diff):\n```diff\n"
                                         + text + "\n```", 2))
            else:
                left_out.append(("@git-diff", "no uncommitted changes (or not a git repository)"))

    def _likely_files(self, instruction: str, limit: int, scan_limit: int = 400) -> list[str]:
        """Up to ``limit`` workspace files for a request that names none: all of them when the project
        has no more than ``limit`` text files, else those whose path or text shares the most words with
        the request (none when nothing matches)."""
        try:
            files = [f for f in sorted(self._workspace_files(scan_limit)) if not self.ignore.is_ignored(f)]
        except OSError:
            return []
        words = {w.lower() for w in re.findall(r"[A-Za-z_]\w{2,}", instruction)}
        scored = []
        for rel in files:
            text, _ = self.read(rel, {})
            if text is None:
                continue
            found = {w.lower() for w in re.findall(r"[A-Za-z_]\w{2,}", rel + "\n" + text[:50_000])}
            scored.append((len(words & found), rel))
        if len(scored) <= limit:
            return [rel for _, rel in scored]
        scored.sort(key=lambda x: (-x[0], x[1]))
        return [rel for score, rel in scored[:limit] if score > 0]

    def _workspace_files(self, limit: int) -> list[str]:
        """Workspace-relative files (the index's snapshot when it has one, else a bounded walk)."""
        index = self.app.__dict__.get("index")
        if index is not None:
            try:
                snapshot = index.snapshot()
                if snapshot.entries:
                    return list(snapshot.files())[:limit]
            except Exception:
                pass
        out: list[str] = []
        for path in self.root.rglob("*"):
            rel = relative_posix(self.root, path)
            if rel.split("/")[0] in (".git", ".marie") or not path.is_file():
                continue
            out.append(rel)
            if len(out) >= limit:
                break
        return out

    def _find_symbol(self, name: str, limit_files: int = 3000) -> list[Any]:
        """Look the symbol up file by file when the workspace symbol index is not built yet."""
        try:
            files = self.app.index.snapshot().files()
        except Exception:
            return []
        out = []
        for rel in files[:limit_files]:
            if self.ignore.is_ignored(rel):
                continue
            try:
                out += [s for s in self.app.index.symbols(rel) if s.name == name]
            except Exception:
                continue
            if len(out) >= 3:
                break
        return out

    def _problems(self) -> str:
        lsp = self.app.__dict__.get("lsp")  # only if the language service already runs
        if lsp is None:
            return ""
        try:
            diagnostics = lsp.diagnostics()
        except Exception:
            return ""
        lines = []
        for path, items in diagnostics.items():
            rel = relative_posix(self.root, Path(path))
            if self.ignore.is_ignored(rel):
                continue
            for d in items[:50]:
                lines.append(f"{rel}:{d.line}:{d.column}: {d.severity}: {d.message}")
        return ("Current problems:\n" + "\n".join(lines)) if lines else ""

    def _git_diff(self) -> str:
        """The working tree's unstaged changes (``git diff``), from the git service, without the
        files the AI must not see. Worker thread (it waits on the git worker)."""
        try:
            git = self.app.git
            info = git.info_sync(timeout=20)
            if info.kind != "worktree":
                return ""
            diffs = git.diff_sync(timeout=20)
        except Exception:   # no repository, or git failed: the context goes without a diff
            return ""
        workdir = Path(info.workdir or self.root)
        return "".join(d.patch for d in diffs
                       if not self.ignore.is_ignored(relative_posix(self.root, workdir / d.path))).strip()

    def _repo_map(self, request: ContextRequest, items, left_out, budget: int) -> None:
        index = self.app.__dict__.get("index")
        if index is None:
            try:
                index = self.app.index
            except Exception:
                return
        try:
            snapshot = index.snapshot()
            if not snapshot.complete and not snapshot.entries and getattr(index, "_scan_task", None) is None:
                snapshot = index.scan()   # no live index (a script, the API): scan now, on this worker
            files = [f for f in snapshot.files() if not self.ignore.is_ignored(f)]
        except Exception:
            return
        if not files:
            return
        focus = [i.path for i in items if i.path]
        focus_text = "\n".join(i.text for i in items if i.path)
        text, dropped = build_repo_map(files, index.symbols, instruction=request.instruction, focus=focus,
                                       focus_text=focus_text, budget_tokens=max(64, budget // 8), count=self.count)
        if text:
            items.append(ContextItem("map", "repo map", "Repository map (symbols by file):\n" + text, 4))
        if dropped:
            left_out.append((f"repo map: {len(dropped)} files", "over the map's token budget"))

    def _fit(self, items: list[ContextItem], left_out, budget: int, editable: list[str]) -> Context:
        for item in items:
            item.tokens = self.count(item.text)
        kept = sorted(items, key=lambda i: (i.priority, _order(i)))
        total = 0
        chosen: list[ContextItem] = []
        for item in kept:
            if total + item.tokens <= budget:
                chosen.append(item)
                total += item.tokens
            else:
                left_out.append((item.label, f"{item.tokens} tokens do not fit in the remaining "
                                             f"{budget - total} of the model's context"))
                if item.path in editable:
                    editable.remove(item.path)
        return Context(chosen, left_out, total, budget, editable)
