"""Colours and fonts for a ScintillaEdit from a theme: base style, margins, caret line, selection,
indicators and the lexer's style categories. GUI thread.

The colours come from ``marie.ui.themes`` (``theme.color(key)``); a key the theme lacks falls back
to the theme module's built-in light/dark tables, so a partial theme file still gives a usable editor.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyside6_scintilla import Scintilla

from marie.ui.editor.lexers import CATEGORY_COLOR, LexerSpec

S = Scintilla
STYLE_DEFAULT = 32
STYLE_LINENUMBER = 33
STYLE_BRACELIGHT = 34
STYLE_BRACEBAD = 35
STYLE_INDENTGUIDE = 37

# Indicator numbers (Scintilla reserves 0-7 for lexers; containers use 8-31).
INDIC_FIND = 8
INDIC_OCCURRENCE = 9



@dataclass(frozen=True)
class Palette:
    dark: bool
    colors: dict

    def color(self, key: str) -> str:
        from marie.ui.themes import builtin_colors

        return self.colors.get(key) or builtin_colors(self.dark).get(key, "#ff00ff")

    def bgr(self, key: str) -> int:
        """``#rrggbb`` as Scintilla's 0xBBGGRR."""
        h = self.color(key).lstrip("#")
        r, g, b = int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)
        return r | (g << 8) | (b << 16)


def palette(dark: bool | None = None) -> Palette:
    """The palette of the current theme (or of the light/dark theme when ``dark`` is given)."""
    from marie.ui import themes

    try:
        theme = themes.current_theme() if dark is None else themes.load("dark" if dark else "light")
        return Palette(theme.dark, dict(theme.colors))
    except Exception:  # a broken theme file must not stop the editor
        return Palette(bool(dark), {})


def apply(sci, pal: Palette, spec: LexerSpec | None, font_family: str, font_size: int) -> None:
    """Style ``sci`` completely: call after the lexer changed or the theme switched."""
    fg, bg = pal.bgr("editor_foreground"), pal.bgr("editor_background")
    font = font_family if font_family and font_family != "monospace" else "Monospace"
    sci.styleSetFont(STYLE_DEFAULT, font)
    sci.styleSetSize(STYLE_DEFAULT, font_size)
    sci.styleSetFore(STYLE_DEFAULT, fg)
    sci.styleSetBack(STYLE_DEFAULT, bg)
    sci.styleClearAll()  # copies the default style to every style
    sci.styleSetFore(STYLE_LINENUMBER, pal.bgr("line_number_foreground"))
    sci.styleSetBack(STYLE_LINENUMBER, pal.bgr("line_number_background"))
    sci.styleSetBack(STYLE_BRACELIGHT, pal.bgr("brace_match"))
    sci.styleSetBold(STYLE_BRACELIGHT, True)
    sci.styleSetBack(STYLE_BRACEBAD, pal.bgr("brace_bad"))
    sci.styleSetFore(STYLE_INDENTGUIDE, pal.bgr("indent_guide"))
    sci.styleSetBack(STYLE_INDENTGUIDE, bg)
    if spec is not None:
        for category, numbers in spec.styles.items():
            key = CATEGORY_COLOR.get(category, category)
            colour = pal.bgr(key)
            for n in numbers:
                sci.styleSetFore(n, colour)
                if category in ("keyword", "tag", "heading", "class"):
                    sci.styleSetBold(n, category in ("heading",))
                if category == "comment":
                    sci.styleSetItalic(n, True)
                if category in ("added", "removed") and spec.lexer == "diff":
                    sci.styleSetBack(n, _tint(pal, key))
                if spec.lexer == "cpp" and n < 64:
                    # inactive (#if 0) code uses the same styles + 64: greyed
                    sci.styleSetFore(n + 64, pal.bgr("line_number_foreground"))
    # caret, current line, selection, whitespace
    sci.setCaretFore(pal.bgr("caret"))
    sci.setCaretLineBack(pal.bgr("caret_line"))
    sci.setCaretLineVisible(True)
    sci.setCaretLineVisibleAlways(True)
    sci.setSelBack(True, pal.bgr("selection"))
    sci.setAdditionalSelBack(pal.bgr("selection"))
    sci.setAdditionalCaretFore(pal.bgr("caret"))
    sci.setWhitespaceFore(True, pal.bgr("whitespace"))
    # margins: line numbers (0) and folding (2)
    sci.setFoldMarginColour(True, pal.bgr("fold_margin"))
    sci.setFoldMarginHiColour(True, pal.bgr("fold_margin"))
    sci.setMarginBackN(2, pal.bgr("fold_margin"))
    for marker in range(25, 32):
        sci.markerSetFore(marker, pal.bgr("fold_margin"))
        sci.markerSetBack(marker, pal.bgr("line_number_foreground"))
    # indicators
    sci.indicSetStyle(INDIC_FIND, int(S.IndicatorStyle.RoundBox) if hasattr(S.IndicatorStyle, "RoundBox") else 7)
    sci.indicSetFore(INDIC_FIND, pal.bgr("find_match"))
    sci.indicSetAlpha(INDIC_FIND, 160)
    sci.indicSetOutlineAlpha(INDIC_FIND, 255)
    sci.indicSetUnder(INDIC_FIND, True)
    sci.indicSetStyle(INDIC_OCCURRENCE, 8)  # INDIC_STRAIGHTBOX
    sci.indicSetFore(INDIC_OCCURRENCE, pal.bgr("selection"))
    sci.indicSetAlpha(INDIC_OCCURRENCE, 90)
    sci.indicSetUnder(INDIC_OCCURRENCE, True)


def _tint(pal: Palette, key: str) -> int:
    """A faint background of ``key`` over the editor background (diff lines)."""
    mix = 0.18
    fg = pal.color(key).lstrip("#")
    bg = pal.color("editor_background").lstrip("#")
    parts = [round(int(bg[i:i + 2], 16) * (1 - mix) + int(fg[i:i + 2], 16) * mix) for i in (0, 2, 4)]
    return parts[0] | (parts[1] << 8) | (parts[2] << 16)
