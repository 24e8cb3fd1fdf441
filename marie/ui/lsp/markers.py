"""How language-server results look in Scintilla: indicator and marker numbers, the diagnostics
margin, the completion list separators and kind images. ``setup(sci)`` defines them on an editor.
GUI thread."""

from __future__ import annotations

INDIC_ERROR, INDIC_WARNING, INDIC_INFO, INDIC_HIGHLIGHT = 20, 21, 22, 23
MARGIN_DIAGNOSTICS = 5
M_ERROR, M_WARNING, M_INFO = 21, 22, 23
_MARKER_MASK = (1 << M_ERROR) | (1 << M_WARNING) | (1 << M_INFO)
_SEVERITY = {"error": (INDIC_ERROR, M_ERROR), "warning": (INDIC_WARNING, M_WARNING),
             "information": (INDIC_INFO, M_INFO), "hint": (INDIC_INFO, M_INFO)}
_LIST_SEP, _TYPE_SEP = "\n", "\x1f"

# completion kinds -> image ids registered with Scintilla (a coloured square per family)
_KIND_IMAGE = {"function": 1, "method": 1, "constructor": 1, "class": 2, "interface": 2, "struct": 2, "enum": 2,
               "module": 3, "file": 3, "folder": 3, "keyword": 4, "snippet": 4, "variable": 5, "field": 5,
               "property": 5, "constant": 5, "value": 5, "enummember": 5, "text": 6}
_IMAGE_COLOURS = {1: "#B180D7", 2: "#E8A33D", 3: "#3D8FE8", 4: "#888888", 5: "#4FB0C6", 6: "#BBBBBB"}
_WORD_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


def _xpm(colour: str) -> str:
    rows = ["            "] + [" xxxxxxxxxx "] * 10 + ["            "]
    lines = ['"12 12 2 1"', '"  c None"', f'"x c {colour}"'] + [f'"{r}"' for r in rows]
    return "/* XPM */\nstatic char *kind[] = {\n" + ",\n".join(lines) + "};\n"


def setup(sci) -> None:
    """Define the squiggles, the highlight box, the diagnostics margin and the completion images."""
    for indic, style, colour in ((INDIC_ERROR, 1, 0x3030E0), (INDIC_WARNING, 1, 0x20A0E0),
                                 (INDIC_INFO, 14, 0xC08040)):  # SQUIGGLE, SQUIGGLE, DOTS (BGR)
        sci.indicSetStyle(indic, style)
        sci.indicSetFore(indic, colour)
        sci.indicSetUnder(indic, True)
    sci.indicSetStyle(INDIC_HIGHLIGHT, 8)   # STRAIGHTBOX
    sci.indicSetFore(INDIC_HIGHLIGHT, 0x909090)
    sci.indicSetAlpha(INDIC_HIGHLIGHT, 60)
    sci.indicSetUnder(INDIC_HIGHLIGHT, True)
    if sci.margins() <= MARGIN_DIAGNOSTICS:
        sci.setMargins(MARGIN_DIAGNOSTICS + 1)
    sci.setMarginTypeN(MARGIN_DIAGNOSTICS, 0)   # SC_MARGIN_SYMBOL
    sci.setMarginMaskN(MARGIN_DIAGNOSTICS, _MARKER_MASK)
    sci.setMarginWidthN(MARGIN_DIAGNOSTICS, 12)
    for marker, colour in ((M_ERROR, 0x3030E0), (M_WARNING, 0x20A0E0), (M_INFO, 0xC08040)):
        sci.markerDefine(marker, 0)    # SC_MARK_CIRCLE
        sci.markerSetBack(marker, colour)
        sci.markerSetFore(marker, colour)
    sci.autoCSetSeparator(ord(_LIST_SEP))
    sci.autoCSetTypeSeparator(ord(_TYPE_SEP))
    sci.autoCSetIgnoreCase(True)
    sci.autoCSetOrder(1)               # SC_ORDER_PERFORMSORT
    sci.autoCSetCancelAtStart(False)
    sci.autoCSetMaxHeight(12)
    for image, colour in _IMAGE_COLOURS.items():
        sci.registerImage(image, _xpm(colour))
    if sci.mouseDwellTime() > 5000:
        sci.setMouseDwellTime(600)
