"""The editor settings an EditorView follows (font, tabs, wrap, whitespace ...) and how its
indentation is decided: the settings, then what the text shows (``editor.detect_indentation``),
then ``.editorconfig``. Mixed into ``EditorView``. GUI thread.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from marie.text import indentation
from marie.text.document import TextFile
from marie.ui.editor.large_file import PiecewiseTextFile

_DEFAULTS = {"editor.font_family": "monospace", "editor.font_size": 11, "editor.tab_width": 4,
             "editor.insert_spaces": True, "editor.word_wrap": False, "editor.show_whitespace": False,
             "editor.indent_guides": True, "editor.trim_trailing_whitespace": False,
             "editor.insert_final_newline": False, "editor.large_file_bytes": 50 * 2**20,
             "editor.max_file_bytes": 2**30, "editor.detect_indentation": True}


def _project_fixes(settings: Any, key: str) -> bool:
    """True when the project settings (or the admin policy) set ``key``: a project decision, which
    wins over detection; a user-level value is only the default for files that show nothing."""
    try:
        return settings.layer_of(key) in ("project", "policy")
    except AttributeError:   # no settings, or a stand-in without layers
        return False


def _setting(settings: Any, key: str) -> Any:
    if settings is None:
        return _DEFAULTS[key]
    try:
        return settings.get(key)
    except (KeyError, AttributeError):
        return _DEFAULTS[key]


class SettingsMixin:
    """Settings and indentation of ``EditorView``."""

    if TYPE_CHECKING:
        # A part of one class (see the module docstring): the host class defines the attributes and
        # methods this part uses, and mypy checks them there.
        def __getattr__(self, name: str) -> Any: ...

    def _apply_indentation(self) -> None:
        """Indentation from, lowest first: the editor settings, what the text shows (unless
        ``editor.detect_indentation`` is off or the project settings fix it), ``.editorconfig``."""
        cfg, sci, settings = self.config, self.sci, self.settings
        sci.setTabWidth(_setting(settings, "editor.tab_width"))
        sci.setUseTabs(not _setting(settings, "editor.insert_spaces"))
        sci.setIndent(0)
        found = self.detected_indentation
        if found is not None and self._detection_applies():
            if found.use_tabs is not None and not _project_fixes(settings, "editor.insert_spaces"):
                sci.setUseTabs(found.use_tabs)
            if found.indent_size and not _project_fixes(settings, "editor.tab_width"):
                # like VS Code: a spaces file's tab width follows its indent, so stray tabs line up
                sci.setTabWidth(found.indent_size)
        if cfg.indent_style:
            sci.setUseTabs(cfg.indent_style == "tab")
        if cfg.tab_width:
            sci.setTabWidth(cfg.tab_width)
        if cfg.indent_size:
            sci.setIndent(cfg.indent_size)

    def _detection_applies(self) -> bool:
        """Detection is for files whose .editorconfig says nothing about indentation."""
        cfg = self.config
        if cfg.indent_style or cfg.indent_size or cfg.tab_width:
            return False
        return bool(_setting(self.settings, "editor.detect_indentation"))

    def _detect_indentation(self, tf: TextFile, found: indentation.Indentation | None = None) -> None:
        """Guess the indentation of a just-loaded file (``found``: already guessed on the load
        worker) and apply it. GUI thread."""
        before = self.indentation_label()
        if found is None and self._detection_applies() and not self.large_file_mode:
            head = tf.head(indentation.MAX_CHARS) if isinstance(tf, PiecewiseTextFile) else tf.text
            found = indentation.detect(head)
        self.detected_indentation = found
        self._apply_indentation()
        if self.indentation_label() != before:
            self.indentationChanged.emit(self.indentation_label())

    def set_settings(self, settings: Any) -> None:
        """Re-read editor settings (after "settings.changed")."""
        self.settings = settings
        sci = self.sci
        if (self.detected_indentation is None and not self._untitled and not self.loading
                and not self.large_file_mode and self._detection_applies()):
            # detection was just turned on: guess from the buffer as it is now
            self.detected_indentation = indentation.detect(self.text()[:indentation.MAX_CHARS])
        sci.setViewWS(1 if _setting(settings, "editor.show_whitespace") else 0)
        if not self.large_file_mode:
            sci.setWrapMode(1 if _setting(settings, "editor.word_wrap") else 0)
            sci.setIndentationGuides(3 if _setting(settings, "editor.indent_guides") else 0)
        self._apply_indentation()
        self._restyle()
