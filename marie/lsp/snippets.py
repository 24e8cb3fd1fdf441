"""LSP snippet syntax -> plain text plus its tab stops. Pure functions, any thread.

The grammar is the one of the LSP specification (and VS Code)::

    any         ::= tabstop | placeholder | choice | variable | text
    tabstop     ::= '$' int | '${' int '}'
    placeholder ::= '${' int ':' any* '}'            (placeholders nest)
    choice      ::= '${' int '|' text (',' text)* '|}'
    variable    ::= '$' var | '${' var '}' | '${' var ':' any* '}' | '${' var '/' regex '/' format '/' options '}'

A backslash escapes ``$``, ``}`` and ``\\`` (in choices also ``,`` and ``|``); any other backslash is
literal text. Anything that does not parse (``$`` alone, an unclosed ``${1:``) is literal text.

``parse`` gives a ``Snippet``: the text to insert and every tab stop occurrence (number, start, end,
choices) in code points of that text. Occurrences of one number are mirrors: a bare ``$1`` takes the
text of ``${1:default}``. ``$0`` is the final stop; without one, the end of the snippet is. Variables
take their value from ``variables``, else their default, else nothing (a server's snippet should not
leave ``TM_FILENAME`` in the user's file).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Mapping, Union

_INT = re.compile(r"\d+")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Stop:
    """One occurrence of tab stop ``number`` covering ``text[start:end]`` (code points)."""
    number: int
    start: int
    end: int
    choices: tuple[str, ...] = ()
    mirror: bool = field(default=False, compare=False)   # a bare $n showing another one's default


@dataclass(frozen=True)
class Snippet:
    text: str
    stops: tuple[Stop, ...] = ()

    def numbers(self) -> list[int]:
        """Tab order: 1, 2, 3 ... then 0 (the final stop) when the snippet has one."""
        found = {s.number for s in self.stops}
        return sorted(n for n in found if n > 0) + ([0] if 0 in found else [])

    def occurrences(self, number: int) -> list[Stop]:
        """Every occurrence of ``number``, the primary one (the one holding a default) first."""
        same = [s for s in self.stops if s.number == number]
        same.sort(key=lambda s: (s.mirror, s.start))
        return same

    def final(self) -> int:
        """Where the caret ends: ``$0``, else the end of the text."""
        zero = self.occurrences(0)
        return zero[0].start if zero else len(self.text)

    def first_selection(self) -> tuple[int, int]:
        """The first stop's range (``$0``'s or the end of the text when there is no other)."""
        for number in self.numbers():
            stop = self.occurrences(number)[0]
            return stop.start, stop.end
        end = self.final()
        return end, end

    def indented(self, indent: str) -> "Snippet":
        """The snippet with ``indent`` added after every line break (lines 2.. of a multi-line
        snippet line up with the line it is inserted into)."""
        if not indent or "\n" not in self.text:
            return self
        breaks = [i for i, c in enumerate(self.text) if c == "\n"]

        def shift(pos: int) -> int:
            # each line break before ``pos`` adds ``indent`` (a stop right after a break moves too)
            return pos + len(indent) * sum(1 for b in breaks if b < pos)

        text = self.text.replace("\n", "\n" + indent)
        return Snippet(text, tuple(Stop(s.number, shift(s.start), shift(s.end), s.choices, s.mirror)
                                   for s in self.stops))


# -- the syntax tree ------------------------------------------------------------------------------
@dataclass
class _TabStop:
    number: int
    children: list | None = None          # placeholder content (None: a bare $n)
    choices: tuple[str, ...] = ()


@dataclass
class _Variable:
    name: str
    children: list | None = None


_Node = Union[str, _TabStop, _Variable]


@dataclass
class _Writer:
    defaults: dict[int, list]
    variables: Mapping[str, str]
    parts: list[str] = field(default_factory=list)
    size: int = 0
    stops: list[Stop] = field(default_factory=list)

    def write(self, text: str) -> None:
        self.parts.append(text)
        self.size += len(text)

    def render(self, nodes: list, visiting: frozenset[int], record: bool) -> None:
        for node in nodes:
            if isinstance(node, str):
                self.write(node)
            elif isinstance(node, _TabStop):
                start = self.size
                inner = visiting | {node.number}
                mirror = False
                if node.choices:
                    self.write(node.choices[0])
                elif node.children is not None:
                    self.render(node.children, inner, record)
                elif node.number in self.defaults and node.number not in visiting:
                    # a mirror: a plain copy of the placeholder's text (its nested stops stay there)
                    self.render(self.defaults[node.number], inner, False)
                    mirror = True
                if record:
                    self.stops.append(Stop(node.number, start, self.size, node.choices, mirror))
            else:
                value = self.variables.get(node.name)
                if value is not None:
                    self.write(value)
                elif node.children is not None:
                    self.render(node.children, visiting, record)


def parse(snippet: str, variables: Mapping[str, str] | None = None) -> Snippet:
    """The text and tab stops of an LSP snippet (never raises: bad syntax is literal text)."""
    nodes, _ = _parse_nodes(snippet, 0, nested=False)
    defaults: dict[int, list] = {}
    _collect_defaults(nodes, defaults)
    writer = _Writer(defaults, variables or {})
    writer.render(nodes, frozenset(), True)
    stops = sorted(writer.stops, key=lambda s: (s.start, -s.end))
    return Snippet("".join(writer.parts), tuple(stops))


def expand(snippet: str) -> tuple[str, int, int]:
    """(text, selection start, selection end): the text with its first stop selected."""
    parsed = parse(snippet)
    start, end = parsed.first_selection()
    return parsed.text, start, end


def escape(text: str) -> str:
    """``text`` as snippet syntax that inserts exactly ``text``."""
    return text.replace("\\", "\\\\").replace("$", "\\$").replace("}", "\\}")


def _collect_defaults(nodes: list, defaults: dict[int, list]) -> None:
    for node in nodes:
        if isinstance(node, _TabStop):
            if node.number not in defaults:
                if node.choices:
                    defaults[node.number] = [node.choices[0]]
                elif node.children:
                    defaults[node.number] = node.children
            if node.children:
                _collect_defaults(node.children, defaults)
        elif isinstance(node, _Variable) and node.children:
            _collect_defaults(node.children, defaults)


def _parse_nodes(s: str, i: int, nested: bool) -> tuple[list, int]:
    """Nodes from ``i`` up to the end, or (``nested``) up to an unescaped ``}`` (not consumed)."""
    nodes: list = []
    buf: list[str] = []
    n = len(s)
    while i < n:
        c = s[i]
        if c == "\\" and i + 1 < n and s[i + 1] in "$}\\":
            buf.append(s[i + 1])
            i += 2
            continue
        if c == "}" and nested:
            break
        if c == "$":
            node, j = _parse_dollar(s, i)
            if node is not None:
                if buf:
                    nodes.append("".join(buf))
                    buf = []
                nodes.append(node)
                i = j
                continue
        buf.append(c)
        i += 1
    if buf:
        nodes.append("".join(buf))
    return nodes, i


def _parse_dollar(s: str, i: int) -> tuple[_Node | None, int]:
    """The construct starting with the ``$`` at ``i`` and the index after it, or (None, i)."""
    j = i + 1
    m = _INT.match(s, j)
    if m:
        return _TabStop(int(m.group())), m.end()
    m = _NAME.match(s, j)
    if m:
        return _Variable(m.group()), m.end()
    if not s.startswith("{", j):
        return None, i
    j += 1
    m = _INT.match(s, j)
    if m:
        number, k = int(m.group()), m.end()
        if s.startswith("}", k):
            return _TabStop(number), k + 1
        if s.startswith(":", k):
            children, end = _parse_nodes(s, k + 1, nested=True)
            if end < len(s):                  # stopped on the closing brace
                return _TabStop(number, children), end + 1
            return None, i
        if s.startswith("|", k):
            choices = _parse_choices(s, k + 1)
            if choices is not None:
                options, end = choices
                return _TabStop(number, None, tuple(options)), end
        return None, i
    m = _NAME.match(s, j)
    if m:
        name, k = m.group(), m.end()
        if s.startswith("}", k):
            return _Variable(name), k + 1
        if s.startswith(":", k):
            children, end = _parse_nodes(s, k + 1, nested=True)
            if end < len(s):
                return _Variable(name, children), end + 1
            return None, i
        if s.startswith("/", k):
            end = _skip_transform(s, k + 1)
            if end is not None:
                return _Variable(name), end   # the transform is not applied: the plain value is used
        return None, i
    return None, i


def _parse_choices(s: str, i: int) -> tuple[list[str], int] | None:
    """Options of ``${n|a,b|}`` from just after the first ``|``; (options, index after ``|}``)."""
    options: list[str] = []
    buf: list[str] = []
    n = len(s)
    while i < n:
        c = s[i]
        if c == "\\" and i + 1 < n and s[i + 1] in "$}\\,|":
            buf.append(s[i + 1])
            i += 2
        elif c == ",":
            options.append("".join(buf))
            buf = []
            i += 1
        elif c == "|" and s.startswith("}", i + 1):
            options.append("".join(buf))
            return options, i + 2
        else:
            buf.append(c)
            i += 1
    return None


def _skip_transform(s: str, i: int) -> int | None:
    """Index after a variable transform ``regex/format/options}`` (from after the first ``/``)."""
    part, depth, n = 0, 0, len(s)      # part: 0 regex, 1 format (may hold ${1:/upcase}), 2 options
    while i < n:
        c = s[i]
        if c == "\\":
            i += 2
            continue
        if part == 0:
            part += c == "/"
        elif part == 1:
            if c == "{":
                depth += 1
            elif c == "}" and depth:
                depth -= 1
            elif c == "/" and not depth:
                part = 2
        elif c == "}":
            return i + 1
        i += 1
    return None
