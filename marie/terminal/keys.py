"""Keys to the bytes an xterm sends for them (no Qt: the view names the key, this encodes it).

Arrows and Home/End honour application cursor mode (DECCKM, set by readline-less programs like
``less`` and by vim); modifiers on special keys use xterm's ``CSI 1 ; m X`` form (m = 1 + Shift 1 +
Alt 2 + Ctrl 4). Any thread.
"""

from __future__ import annotations

_CURSOR = {"up": "A", "down": "B", "right": "C", "left": "D", "home": "H", "end": "F"}
_TILDE = {"insert": 2, "delete": 3, "pageup": 5, "pagedown": 6,
          "f5": 15, "f6": 17, "f7": 18, "f8": 19, "f9": 20, "f10": 21, "f11": 23, "f12": 24}
_SS3 = {"f1": "P", "f2": "Q", "f3": "R", "f4": "S"}
_PLAIN = {"enter": b"\r", "backspace": b"\x7f", "tab": b"\t", "backtab": b"\x1b[Z", "escape": b"\x1b"}


def encode_key(key: str, text: str = "", shift: bool = False, alt: bool = False, ctrl: bool = False,
               app_cursor: bool = False) -> bytes:
    """The bytes for one key press. ``key`` is a name above or "" for a text key (then ``text``)."""
    mod = 1 + shift + 2 * alt + 4 * ctrl
    if key in _CURSOR:
        final = _CURSOR[key]
        if mod > 1:
            return f"\x1b[1;{mod}{final}".encode()
        return (f"\x1bO{final}" if app_cursor else f"\x1b[{final}").encode()
    if key in _TILDE:
        number = _TILDE[key]
        return (f"\x1b[{number};{mod}~" if mod > 1 else f"\x1b[{number}~").encode()
    if key in _SS3:
        return (f"\x1b[1;{mod}{_SS3[key]}" if mod > 1 else f"\x1bO{_SS3[key]}").encode()
    if key in _PLAIN:
        if key == "backspace" and ctrl:
            return b"\x08"
        data = _PLAIN[key]
        return b"\x1b" + data if alt and key != "escape" else data
    if ctrl and text:
        code = control_code(text)
        if code is not None:
            return (b"\x1b" if alt else b"") + code
    if not text:
        return b""
    data = text.encode("utf-8")
    return b"\x1b" + data if alt else data


def control_code(text: str) -> bytes | None:
    """Ctrl+<key> as a C0 control: Ctrl+A..Z -> 1..26, Ctrl+Space/@ -> NUL, Ctrl+[ \\ ] ^ _ ..."""
    ch = text[:1].upper()
    if "A" <= ch <= "Z" or ch in "@[\\]^_":
        return bytes([ord(ch) & 0x1F])
    if ch in (" ", "2"):
        return b"\x00"
    if ch == "/":
        return b"\x1f"
    if ch == "?":
        return b"\x7f"
    return None
