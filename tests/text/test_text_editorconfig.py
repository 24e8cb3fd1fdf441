""".editorconfig resolution (real files in tmp_path, the editorconfig package) and save-time fixes."""

from __future__ import annotations

from marie.text.editorconfig import EditorConfig, apply_on_save, from_properties, resolve, trim_trailing_whitespace


def test_resolve_reads_nested_sections(tmp_path):
    (tmp_path / ".editorconfig").write_text(
        "root = true\n\n[*]\nindent_style = space\nindent_size = 4\ntrim_trailing_whitespace = true\n"
        "insert_final_newline = true\nend_of_line = lf\ncharset = utf-8\n\n"
        "[Makefile]\nindent_style = tab\n\n[*.{js,ts}]\nindent_size = 2\nend_of_line = crlf\ncharset = utf-8-bom\n")
    (tmp_path / "src").mkdir()
    py = resolve(tmp_path / "src" / "a.py")
    assert (py.indent_style, py.indent_size, py.tab_width) == ("space", 4, 4)
    assert py.trim_trailing_whitespace is True and py.insert_final_newline is True
    assert py.end_of_line == "\n" and py.charset == ("utf-8", b"")
    js = resolve(tmp_path / "src" / "b.js")
    assert js.indent_size == 2 and js.end_of_line == "\r\n" and js.charset == ("utf-8", b"\xef\xbb\xbf")
    assert resolve(tmp_path / "Makefile").indent_style == "tab"


def test_no_editorconfig_means_nothing_set(tmp_path):
    (tmp_path / ".editorconfig").write_text("root = true\n")
    cfg = resolve(tmp_path / "x.py")
    assert cfg.empty


def test_bad_values_are_reported_not_fatal():
    cfg = from_properties({"indent_style": "spaces", "indent_size": "lots", "end_of_line": "lfcr",
                           "tab_width": "8", "charset": "ebcdic"})
    assert cfg.indent_style is None and cfg.indent_size is None and cfg.end_of_line is None
    assert cfg.tab_width == 8 and cfg.charset is None
    assert len(cfg.problems) == 4 and any("indent_style" in p for p in cfg.problems)
    assert from_properties({"indent_size": "tab", "tab_width": "3"}).indent_size == 3


def test_trim_keeps_line_endings_and_inner_spaces():
    text = "a = 1   \r\nb\t\t\n  c  d \rlast  "
    assert trim_trailing_whitespace(text) == "a = 1\r\nb\n  c  d\rlast"


def test_apply_on_save():
    both = EditorConfig(trim_trailing_whitespace=True, insert_final_newline=True)
    assert apply_on_save("x  \ny  ", both, "\n") == "x\ny\n"
    assert apply_on_save("x\r\ny", both, "\r\n") == "x\r\ny\r\n"
    assert apply_on_save("", both, "\n") == ""                      # an empty file stays empty
    assert apply_on_save("x  \n", EditorConfig(), "\n") == "x  \n"   # nothing asked, nothing done
    # false leaves the final newline alone (no silent deletion)
    assert apply_on_save("x\n", EditorConfig(insert_final_newline=False), "\n") == "x\n"
