"""A lexilla lexer per language, with keywords coloured differently from identifiers, in both themes."""

from __future__ import annotations

import pytest

from marie.ui.editor import lexers
from marie.ui.editor.view import EditorView

SAMPLES = {
    "a.py": ("python", "python", "def f():\n    return 1  # c\n", "def"),
    "a.js": ("javascript", "cpp", "function f() { return 1; } // c\n", "function"),
    "a.ts": ("typescript", "cpp", "interface A { x: number }\n", "interface"),
    "a.json": ("json", "json", '{"a": true, "b": 1}\n', "true"),
    "a.yaml": ("yaml", "yaml", "a: true # c\n", None),
    "a.toml": ("toml", "toml", "[t]\na = true\n", None),
    "a.md": ("markdown", "markdown", "# Title\n\n*em*\n", None),
    "a.html": ("html", "hypertext", "<div class='x'>hi</div>\n", "div"),
    "a.css": ("css", "css", "a { color: red; }\n", "color"),
    "a.c": ("c", "cpp", "int main(void) { return 0; }\n", "int"),
    "a.cpp": ("cpp", "cpp", "class A { public: int x; };\n", "class"),
    "a.go": ("go", "cpp", "package main\nfunc main() {}\n", "package"),
    "a.rs": ("rust", "rust", "fn main() { let x = 1; }\n", "fn"),
    "A.java": ("java", "cpp", "public class A {}\n", "public"),
    "a.sh": ("shell", "bash", "if true; then echo hi; fi\n", "if"),
    "a.sql": ("sql", "sql", "select * from t;\n", "select"),
    "Makefile": ("makefile", "makefile", "all:\n\tcc -o a a.c\n", None),
    "Dockerfile": ("dockerfile", "bash", "FROM python:3.11\nRUN pip install x\n", "FROM"),
    "a.ini": ("ini", "props", "[s]\nk = v\n", None),
    "a.xml": ("xml", "xml", "<?xml version='1.0'?>\n<a b='c'/>\n", None),
    "a.diff": ("diff", "diff", "--- a\n+++ b\n@@ -1 +1 @@\n-x\n+y\n", None),
}


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_lexer_chosen_per_file_and_keywords_styled(qtbot, tmp_path, name):
    language, lexer_name, text, keyword = SAMPLES[name]
    path = tmp_path / name
    path.write_text(text)
    view = EditorView.open(path)
    qtbot.addWidget(view)
    assert view.language == language
    assert lexers.spec_for(language).lexer == lexer_name
    assert view.sci.lexer() > 1                               # a real lexilla lexer, not SCLEX_NULL
    view.sci.colourise(0, -1)
    styles = {view.sci.styleAt(i) for i in range(view.sci.textLength())}
    assert len(styles) > 1                                    # the text is not all one style
    if keyword:
        at = text.index(keyword)
        kw_style = view.sci.styleAt(len(text[:at].encode()))
        assert kw_style != 0 and view.sci.styleFore(kw_style) != view.sci.styleFore(0)


def test_plain_text_has_no_lexer_and_themes_switch(qtbot, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello\n")
    view = EditorView.open(path)
    qtbot.addWidget(view)
    assert view.language == "text" and view.sci.lexer() in (0, 1)

    py = tmp_path / "x.py"
    py.write_text("def f(): pass\n")
    view = EditorView.open(py)
    qtbot.addWidget(view)
    view.apply_theme(False)
    light_bg, light_kw = view.sci.styleBack(32), view.sci.styleFore(5)
    view.apply_theme(True)
    dark_bg, dark_kw = view.sci.styleBack(32), view.sci.styleFore(5)
    assert light_bg != dark_bg and light_kw != dark_kw
    # the dark background really is dark and the light one light (0xBBGGRR)
    lum = lambda c: (c & 0xFF) + ((c >> 8) & 0xFF) + ((c >> 16) & 0xFF)  # noqa: E731
    assert lum(dark_bg) < 200 < lum(light_bg)


def test_minified_one_line_file_is_not_lexed(qtbot, tmp_path):
    path = tmp_path / "bundle.min.js"
    path.write_text("var a=1;" * 5000 + "\n")
    view = EditorView.open(path)
    qtbot.addWidget(view)
    assert view.language == "javascript" and view.sci.lexer() in (0, 1)
