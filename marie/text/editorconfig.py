"""``.editorconfig`` for one file: resolve its properties and apply the save-time ones to text.

``resolve(path)`` reads the ``.editorconfig`` files above ``path`` (through the ``editorconfig``
package) and returns an ``EditorConfig`` with typed values (``None`` = not set, so the editor keeps
its own setting). ``apply_on_save(text, config, eol)`` trims trailing whitespace and adds or removes
the final newline as asked. No Qt, no writes; any thread.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

_EOLS = {"lf": "\n", "crlf": "\r\n", "cr": "\r"}
# charset value -> (Python codec, BOM)
_CHARSETS = {"utf-8": ("utf-8", b""), "utf-8-bom": ("utf-8", b"\xef\xbb\xbf"),
             "utf-16le": ("utf-16-le", b"\xff\xfe"), "utf-16be": ("utf-16-be", b"\xfe\xff"),
             "latin1": ("latin-1", b"")}


@dataclass(frozen=True)
class EditorConfig:
    indent_style: str | None = None          # "space" | "tab"
    indent_size: int | None = None
    tab_width: int | None = None
    end_of_line: str | None = None           # "\n" | "\r\n" | "\r"
    charset: tuple[str, bytes] | None = None  # (codec, bom) for new files
    trim_trailing_whitespace: bool | None = None
    insert_final_newline: bool | None = None
    problems: tuple[str, ...] = ()           # values we could not understand, phrased for the user

    @property
    def empty(self) -> bool:
        return self == EditorConfig()


def _bool(value: str) -> bool | None:
    value = value.lower()
    return True if value == "true" else False if value == "false" else None


def _int(value: str) -> int | None:
    try:
        n = int(value)
    except ValueError:
        return None
    return n if 0 < n <= 64 else None


def from_properties(props: dict[str, str]) -> EditorConfig:
    """Typed properties from the raw ``key -> value`` table (unknown/bad values become None)."""
    problems: list[str] = []
    get = lambda k: props.get(k, "").strip().lower()  # noqa: E731

    style = get("indent_style")
    indent_style = style if style in ("space", "tab") else None
    if style and indent_style is None:
        problems.append(f"indent_style = {style!r} (expected space or tab)")
    size_raw = get("indent_size")
    tab_width = _int(get("tab_width")) if get("tab_width") else None
    if size_raw == "tab":
        indent_size = tab_width
    else:
        indent_size = _int(size_raw) if size_raw else None
        if size_raw and indent_size is None:
            problems.append(f"indent_size = {size_raw!r} (expected a number or tab)")
    if tab_width is None and indent_size is not None:
        tab_width = indent_size  # the editorconfig spec: tab_width defaults to indent_size
    eol_raw = get("end_of_line")
    end_of_line = _EOLS.get(eol_raw)
    if eol_raw and end_of_line is None:
        problems.append(f"end_of_line = {eol_raw!r} (expected lf, crlf or cr)")
    charset_raw = get("charset")
    charset = _CHARSETS.get(charset_raw)
    if charset_raw and charset is None:
        problems.append(f"charset = {charset_raw!r} (expected utf-8, utf-8-bom, utf-16le, utf-16be or latin1)")
    return EditorConfig(
        indent_style=indent_style, indent_size=indent_size, tab_width=tab_width,
        end_of_line=end_of_line, charset=charset,
        trim_trailing_whitespace=_bool(get("trim_trailing_whitespace")) if get("trim_trailing_whitespace") else None,
        insert_final_newline=_bool(get("insert_final_newline")) if get("insert_final_newline") else None,
        problems=tuple(problems),
    )


def resolve(path: str | Path) -> EditorConfig:
    """The ``.editorconfig`` properties that apply to ``path`` (empty when none or unreadable)."""
    if not has_editorconfig(path):
        return EditorConfig()    # the common case: no file above, and no need to load the parser
    try:
        import editorconfig
    except ImportError:  # the package is part of the stack, but never let it stop a file opening
        return EditorConfig()
    try:
        props = editorconfig.get_properties(str(Path(path).absolute()))
    except Exception as exc:  # a broken .editorconfig must never keep a file from opening
        log.warning("editorconfig for %s ignored: %s", path, exc)
        return EditorConfig(problems=(f".editorconfig could not be read: {exc}",))
    return from_properties(dict(props))


def has_editorconfig(path: str | Path) -> bool:
    """True when a ``.editorconfig`` file exists in the folder of ``path`` or any folder above it."""
    folder = Path(path).absolute().parent
    for candidate in (folder, *folder.parents):
        try:
            if (candidate / ".editorconfig").is_file():
                return True
        except OSError:   # an unreadable folder on the way up: let the parser decide
            return True
    return False


_TRAILING = re.compile(r"[ \t\f\v]+(?=\r\n|\r|\n|\Z)")


def trim_trailing_whitespace(text: str) -> str:
    """Remove spaces and tabs at the end of every line (line endings themselves are kept)."""
    return _TRAILING.sub("", text)


def apply_on_save(text: str, config: EditorConfig, eol: str = "\n") -> str:
    """Apply trim_trailing_whitespace and insert_final_newline; ``eol`` is the file's line ending."""
    if config.trim_trailing_whitespace:
        text = trim_trailing_whitespace(text)
    if config.insert_final_newline is True:
        if text and not text.endswith(("\n", "\r")):
            text += eol
    # insert_final_newline = false leaves the file as it is (like VS Code and most editors): deleting
    # a newline the user typed on every save would surprise more than it helps.
    return text
