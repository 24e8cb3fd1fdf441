"""What a save writes: the text after the on-save fixes, and the format (encoding, BOM, line
endings) it is encoded with. Plain Python, used by the editor widget and anyone else who saves a
buffer the way the editor does.

- ``.editorconfig``'s ``trim_trailing_whitespace`` / ``insert_final_newline`` apply first, falling
  back to the editor settings (``editor.trim_trailing_whitespace``, ``editor.insert_final_newline``)
  where the ``.editorconfig`` says nothing;
- a file that keeps its encoding and BOM; a *new* file (not on disk yet) takes ``.editorconfig``'s
  ``charset`` unless the buffer already chose something other than plain UTF-8;
- the line ending written is the one the text now holds (``detect_eol``), so a buffer whose line
  endings were changed on purpose is written as it is shown.

Any thread.
"""

from __future__ import annotations

from dataclasses import dataclass

from marie.text import editorconfig
from marie.text.codec import TextFormat, detect_eol


@dataclass(frozen=True)
class SavePlan:
    text: str             # what to write (after the on-save fixes)
    format: TextFormat    # how to encode it
    fixed: bool           # the fixes changed the text (the buffer should show it too)


def on_save_config(config: editorconfig.EditorConfig, trim_setting: bool, final_newline_setting: bool
                   ) -> editorconfig.EditorConfig:
    """The on-save fixes: ``.editorconfig`` values, the editor settings where it says nothing."""
    trim = config.trim_trailing_whitespace
    final = config.insert_final_newline
    if trim is None:
        trim = bool(trim_setting)
    if final is None:
        final = bool(final_newline_setting) or None
    return editorconfig.EditorConfig(trim_trailing_whitespace=trim, insert_final_newline=final)


def plan_save(text: str, current: TextFormat, config: editorconfig.EditorConfig, *, exists_on_disk: bool,
              trim_setting: bool = False, final_newline_setting: bool = False) -> SavePlan:
    """The text and format to write for a save of ``text`` (see the module docstring)."""
    fixes = on_save_config(config, trim_setting, final_newline_setting)
    fixed = editorconfig.apply_on_save(text, fixes, current.eol)
    fmt = current
    if not exists_on_disk and not fmt.bom and fmt.encoding == "utf-8" and config.charset:
        fmt = TextFormat(encoding=config.charset[0], bom=config.charset[1], eol=fmt.eol)
    eol, mixed, final = detect_eol(fixed)
    fmt = TextFormat(fmt.encoding, fmt.bom, fmt.eol if not fixed else eol, mixed, final, fmt.fallback)
    return SavePlan(fixed, fmt, fixed != text)
