"""Which language a file is written in, from its name: one table shared by the editor (lexer), the
language servers and the index (symbols).

``language_for(path)`` returns a short id such as ``"python"``, ``"cpp"`` or ``"text"`` (unknown).
``comment_tokens(language)`` gives the tokens "toggle comment" uses. Pure data, no I/O, any thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath


@dataclass(frozen=True)
class Language:
    id: str
    title: str
    extensions: tuple[str, ...] = ()   # lower-case, with the dot
    filenames: tuple[str, ...] = ()    # exact (lower-case) base names
    line_comment: str | None = None    # e.g. "#" or "//"
    block_comment: tuple[str, str] | None = None  # e.g. ("/*", "*/"), used when no line comment


LANGUAGES: tuple[Language, ...] = (
    Language("python", "Python", (".py", ".pyw", ".pyi"), ("sconstruct", "sconscript"), "#"),
    Language("javascript", "JavaScript", (".js", ".mjs", ".cjs", ".jsx"), (), "//", ("/*", "*/")),
    Language("typescript", "TypeScript", (".ts", ".tsx", ".mts", ".cts"), (), "//", ("/*", "*/")),
    Language("json", "JSON", (".json", ".jsonc", ".json5", ".geojson", ".ipynb"),
             (".babelrc", ".eslintrc", "composer.lock"), "//"),
    Language("yaml", "YAML", (".yaml", ".yml"), (".clang-format",), "#"),
    Language("toml", "TOML", (".toml",), ("cargo.lock", "poetry.lock", "pipfile"), "#"),
    Language("markdown", "Markdown", (".md", ".markdown", ".mdown", ".mkd"), (), None, ("<!--", "-->")),
    Language("html", "HTML", (".html", ".htm", ".xhtml", ".vue", ".svelte"), (), None, ("<!--", "-->")),
    Language("css", "CSS", (".css", ".scss", ".less"), (), None, ("/*", "*/")),
    Language("c", "C", (".c", ".h"), (), "//", ("/*", "*/")),
    Language("cpp", "C++", (".cc", ".cpp", ".cxx", ".c++", ".hpp", ".hh", ".hxx", ".h++", ".ino", ".ipp"),
             (), "//", ("/*", "*/")),
    Language("go", "Go", (".go",), (), "//", ("/*", "*/")),
    Language("rust", "Rust", (".rs",), (), "//", ("/*", "*/")),
    Language("java", "Java", (".java",), (), "//", ("/*", "*/")),
    Language("shell", "Shell", (".sh", ".bash", ".zsh", ".ksh", ".command"),
             (".bashrc", ".bash_profile", ".zshrc", ".profile", "pkgbuild"), "#"),
    Language("sql", "SQL", (".sql",), (), "--", ("/*", "*/")),
    Language("makefile", "Makefile", (".mk", ".mak"), ("makefile", "gnumakefile", "bsdmakefile"), "#"),
    Language("dockerfile", "Dockerfile", (".dockerfile",), ("dockerfile", "containerfile"), "#"),
    Language("ini", "INI", (".ini", ".cfg", ".conf", ".properties", ".editorconfig", ".desktop"),
             (".gitconfig", ".editorconfig", ".npmrc", "setup.cfg", "tox.ini", ".flake8", ".pylintrc"), "#"),
    Language("xml", "XML", (".xml", ".xsd", ".xsl", ".xslt", ".svg", ".plist", ".ui", ".qrc", ".csproj", ".pom"),
             (), None, ("<!--", "-->")),
    Language("diff", "Diff", (".diff", ".patch", ".rej"), (), None),
    Language("text", "Plain text", (".txt", ".text", ".log"), ("license", "readme", "authors"), None),
)

_BY_ID = {lang.id: lang for lang in LANGUAGES}
_BY_EXT = {ext: lang.id for lang in LANGUAGES for ext in lang.extensions}
_BY_NAME = {name: lang.id for lang in LANGUAGES for name in lang.filenames}

# First-line interpreters (``#!/usr/bin/env python3``) for extension-less scripts.
_SHEBANGS = {"python": "python", "node": "javascript", "deno": "typescript", "bash": "shell", "sh": "shell",
             "zsh": "shell", "ksh": "shell", "dash": "shell"}


def language_for(path: str | PurePath, first_line: str | None = None) -> str:
    """The language id for a file name (``"text"`` when unknown). ``first_line`` may hold the
    file's first line so a ``#!`` script without an extension is recognised too."""
    name = PurePath(path).name.lower()
    if name in _BY_NAME:
        return _BY_NAME[name]
    if name.startswith(("dockerfile.", "containerfile.")) or name.endswith(".dockerfile"):
        return "dockerfile"
    if name.startswith("makefile."):
        return "makefile"
    suffix = PurePath(name).suffix
    if suffix in _BY_EXT:
        return _BY_EXT[suffix]
    if first_line and first_line.startswith("#!"):
        words = first_line[2:].strip().split()
        if words:
            prog = words[1] if words[0].endswith("/env") and len(words) > 1 else words[0].rsplit("/", 1)[-1]
            prog = prog.rstrip("0123456789.")
            if prog in _SHEBANGS:
                return _SHEBANGS[prog]
    if first_line and first_line.startswith("<?xml"):
        return "xml"
    return "text"


def get(language: str) -> Language:
    """The Language record for an id (plain text when unknown)."""
    return _BY_ID.get(language, _BY_ID["text"])


def title(language: str) -> str:
    """What the status bar shows, e.g. ``C++``."""
    return get(language).title


def comment_tokens(language: str) -> tuple[str | None, tuple[str, str] | None]:
    """(line comment, block comment) for toggle comment; both None when the language has neither."""
    lang = get(language)
    return lang.line_comment, lang.block_comment


def all_ids() -> list[str]:
    return [lang.id for lang in LANGUAGES]
