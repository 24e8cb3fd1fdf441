"""Column conversions between code points, UTF-8 bytes (Scintilla) and UTF-16 units (LSP)."""

from hypothesis import given, strategies as st

from marie.text.positions import (LineTable, codepoint_to_utf16, codepoint_to_utf8, utf8_length, utf8_to_codepoint,
                                  utf8_to_utf16, utf16_length, utf16_to_codepoint, utf16_to_utf8)


def test_emoji_takes_two_utf16_units_and_four_bytes():
    line = "a😀b"
    assert utf16_length(line) == 4 and utf8_length(line) == 6
    assert codepoint_to_utf16(line, 2) == 3          # after the emoji
    assert utf16_to_codepoint(line, 3) == 2
    assert codepoint_to_utf8(line, 2) == 5
    assert utf8_to_utf16(line, 5) == 3 and utf16_to_utf8(line, 3) == 5


def test_inside_a_surrogate_pair_or_utf8_sequence_clamps_to_the_character_start():
    line = "😀x"
    assert utf16_to_codepoint(line, 1) == 0
    assert utf8_to_codepoint(line, 2) == 0
    assert utf16_to_codepoint(line, 99) == 2 and codepoint_to_utf16(line, 99) == 3


def test_cjk_is_one_utf16_unit_and_three_bytes():
    line = "名前 = 1"
    assert codepoint_to_utf16(line, 2) == 2
    assert codepoint_to_utf8(line, 2) == 6
    assert utf8_to_codepoint(line, 6) == 2


def test_combining_marks_are_separate_code_points():
    line = "e\u0301t"   # é as e + combining acute
    assert codepoint_to_utf16(line, 2) == 2
    assert codepoint_to_utf8(line, 2) == 3
    assert utf8_to_utf16(line, 3) == 2


def test_line_table_handles_crlf_and_lsp_positions():
    text = "ab\r\n😀c\nlast"
    table = LineTable.of(text)
    assert table.line_count == 3
    assert table.line(0) == "ab" and table.line(1) == "😀c" and table.line(2) == "last"
    offset = text.index("c")
    assert table.offset_to_lsp(offset) == (1, 2)
    assert table.lsp_to_offset(1, 2) == offset
    assert table.lsp_to_offset(9, 0) == len(text)       # past the end clamps
    assert table.offset_to_position(text.index("\r")) == (0, 2)


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), max_size=30),
       st.integers(min_value=0, max_value=40))
def test_round_trips(line, column):
    column = min(column, len(line))
    assert utf16_to_codepoint(line, codepoint_to_utf16(line, column)) == column
    assert utf8_to_codepoint(line, codepoint_to_utf8(line, column)) == column
    assert codepoint_to_utf8(line, column) == len(line[:column].encode("utf-8"))
    assert codepoint_to_utf16(line, column) == len(line[:column].encode("utf-16-le")) // 2


def test_line_table_speaks_each_position_encoding():
    text = "x\n😀名y\n"
    offset = text.index("y")
    assert LineTable.of(text, "utf-16").offset_to_lsp(offset) == (1, 3)
    assert LineTable.of(text, "utf-32").offset_to_lsp(offset) == (1, 2)
    assert LineTable.of(text, "utf-8").offset_to_lsp(offset) == (1, 7)
    for encoding in ("utf-16", "utf-32", "utf-8"):
        table = LineTable.of(text, encoding)
        assert table.lsp_to_offset(*table.offset_to_lsp(offset)) == offset
