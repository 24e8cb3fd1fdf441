"""Lexilla lexers per language: which lexer, its keyword lists, properties and which of its style
numbers are comments, strings, keywords... (the theme colours those categories in ``style.py``).

``install(sci, language)`` creates the lexer with ``lexilla.create_lexer`` and hands it to the
ScintillaEdit; returns the ``LexerSpec`` used (None for plain text). GUI thread.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import lexilla

PY_KW = ("False None True and as assert async await break class continue def del elif else except finally "
         "for from global if import in is lambda nonlocal not or pass raise return try while with yield "
         "match case type")
PY_BUILTINS = ("self cls print len range str int float bool list dict set tuple object type isinstance "
               "super open enumerate zip map filter sorted reversed min max sum any all abs repr hash id "
               "iter next getattr setattr hasattr property staticmethod classmethod Exception ValueError "
               "TypeError KeyError IndexError RuntimeError OSError NotImplementedError")
JS_KW = ("break case catch class const continue debugger default delete do else export extends finally for "
         "function if import in instanceof let new return super switch this throw try typeof var void while "
         "with yield async await of static get set null undefined true false NaN Infinity")
TS_KW = JS_KW + (" abstract any as asserts bigint boolean declare enum implements infer interface is keyof "
                 "module namespace never number object private protected public readonly require string "
                 "symbol type unique unknown satisfies override accessor")
JS_TYPES = "Array Boolean Date Error Function JSON Map Math Number Object Promise RegExp Set String Symbol console window document"
C_KW = ("auto break case char const continue default do double else enum extern float for goto if inline int "
        "long register restrict return short signed sizeof static struct switch typedef union unsigned void "
        "volatile while _Bool _Complex _Atomic _Static_assert _Noreturn _Alignas _Alignof _Thread_local bool "
        "true false NULL")
CPP_KW = C_KW + (" alignas alignof and and_eq asm bitand bitor catch char8_t char16_t char32_t class compl "
                 "concept consteval constexpr constinit const_cast co_await co_return co_yield decltype delete "
                 "dynamic_cast explicit export friend mutable namespace new noexcept not not_eq nullptr "
                 "operator or or_eq private protected public reinterpret_cast requires static_assert "
                 "static_cast template this thread_local throw try typeid typename using virtual wchar_t "
                 "xor xor_eq override final")
C_TYPES = "size_t ssize_t ptrdiff_t int8_t int16_t int32_t int64_t uint8_t uint16_t uint32_t uint64_t FILE std string vector map"
GO_KW = ("break case chan const continue default defer else fallthrough for func go goto if import interface "
         "map package range return select struct switch type var true false nil iota")
GO_TYPES = ("any bool byte comparable complex64 complex128 error float32 float64 int int8 int16 int32 int64 "
            "rune string uint uint8 uint16 uint32 uint64 uintptr append cap clear close complex copy delete "
            "imag len make max min new panic print println real recover")
RUST_KW = ("as async await break const continue crate dyn else enum extern false fn for if impl in let loop "
           "match mod move mut pub ref return self Self static struct super trait true type union unsafe use "
           "where while macro_rules")
RUST_TYPES = ("bool char f32 f64 i8 i16 i32 i64 i128 isize str u8 u16 u32 u64 u128 usize String Vec Option "
              "Result Box Rc Arc Some None Ok Err")
JAVA_KW = ("abstract assert boolean break byte case catch char class const continue default do double else "
           "enum extends final finally float for goto if implements import instanceof int interface long native "
           "new package private protected public return short static strictfp super switch synchronized this "
           "throw throws transient try void volatile while var record sealed permits yield true false null")
JAVA_TYPES = "String Object Integer Long Double Boolean List Map Set ArrayList HashMap Optional System Override"
SH_KW = ("if then else elif fi case esac for while until do done in function select time return exit break "
         "continue local export readonly declare unset shift source alias echo printf read cd test eval exec "
         "set trap true false")
DOCKER_KW = ("from run cmd label maintainer expose env add copy entrypoint volume user workdir arg onbuild "
             "stopsignal healthcheck shell as " + SH_KW)
SQL_KW = ("select from where and or not insert into values update set delete create table drop alter add "
          "column index view primary key foreign references join inner left right outer full on as group by "
          "order having limit offset distinct union all exists in is null like between case when then else "
          "end begin commit rollback transaction default unique check constraint with returning grant "
          "revoke database schema trigger procedure function if replace cascade asc desc count sum avg min max "
          "integer int bigint smallint text varchar char boolean date timestamp real float numeric blob")
JSON_KW = "true false null"
YAML_KW = "true false yes no null on off True False Null TRUE FALSE NULL"
TOML_KW = "true false inf nan"
HTML_KW = ("a abbr address area article aside audio b base bdi bdo blockquote body br button canvas caption cite "
           "code col colgroup data datalist dd del details dfn dialog div dl dt em embed fieldset figcaption "
           "figure footer form h1 h2 h3 h4 h5 h6 head header hgroup hr html i iframe img input ins kbd label "
           "legend li link main map mark menu meta meter nav noscript object ol optgroup option output p param "
           "picture pre progress q rp rt ruby s samp script section select slot small source span strong style "
           "sub summary sup table tbody td template textarea tfoot th thead time title tr track u ul var video "
           "wbr svg path class id href src alt type name value rel style title width height lang charset content "
           "action method placeholder disabled checked for role target onclick onload data")
CSS_KW = ("align-items background background-color border border-radius bottom box-shadow box-sizing color "
          "content cursor display flex flex-direction font font-family font-size font-weight gap grid "
          "grid-template-columns height justify-content left letter-spacing line-height margin margin-bottom "
          "margin-left margin-right margin-top max-width min-height min-width opacity overflow padding "
          "padding-bottom padding-left padding-right padding-top position right text-align text-decoration "
          "top transform transition visibility white-space width z-index outline")
CSS_PSEUDO = "active after before checked disabled empty first-child focus hover last-child link not nth-child root visited"
MAKE_KW = "include ifeq ifneq ifdef ifndef else endif define endef export unexport override vpath"


@dataclass(frozen=True)
class LexerSpec:
    lexer: str                                   # lexilla's lexer name
    keywords: tuple[str, ...] = ()               # word list n -> words
    properties: dict[str, str] = field(default_factory=dict)
    styles: dict[str, tuple[int, ...]] = field(default_factory=dict)  # category -> style numbers
    fold: bool = True


_CPP_STYLES = {"comment": (1, 2, 3, 15, 17, 23, 24), "number": (4,), "keyword": (5,), "string": (6, 7, 12, 13, 20, 21, 22),
               "preprocessor": (9,), "operator": (10,), "keyword2": (16, 19), "regex": (14,), "escape": (27,)}
_HTML_STYLES = {"tag": (1, 11), "error": (2, 4), "attribute": (3,), "number": (5,), "string": (6, 7, 19, 24, 25),
                "operator": (8,), "comment": (9, 20, 29, 42, 43, 44), "preprocessor": (12, 13, 18, 21, 22, 23),
                "keyword": (46, 47), "class": (10,),
                # embedded JavaScript (SCE_HJ_*)
                "number_js": (45,), "string_js": (48, 49)}

SPECS: dict[str, LexerSpec] = {
    "python": LexerSpec("python", (PY_KW, PY_BUILTINS), {"fold.quotes.python": "1", "lexer.python.strings.f": "1"},
                        {"comment": (1, 12), "number": (2,), "string": (3, 4, 6, 7, 13, 16, 17, 18, 19), "keyword": (5,),
                         "class": (8,), "function": (9,), "operator": (10,), "keyword2": (14,), "decorator": (15,)}),
    "javascript": LexerSpec("cpp", (JS_KW, JS_TYPES), {"lexer.cpp.backquoted.strings": "1"}, _CPP_STYLES),
    "typescript": LexerSpec("cpp", (TS_KW, JS_TYPES), {"lexer.cpp.backquoted.strings": "1"}, _CPP_STYLES),
    "c": LexerSpec("cpp", (C_KW, C_TYPES), {}, _CPP_STYLES),
    "cpp": LexerSpec("cpp", (CPP_KW, C_TYPES), {}, _CPP_STYLES),
    "go": LexerSpec("cpp", (GO_KW, GO_TYPES), {"lexer.cpp.backquoted.strings": "1"}, _CPP_STYLES),
    "java": LexerSpec("cpp", (JAVA_KW, JAVA_TYPES), {}, _CPP_STYLES),
    "rust": LexerSpec("rust", (RUST_KW, RUST_TYPES), {},
                      {"comment": (1, 2, 3, 4), "number": (5,), "keyword": (6,), "keyword2": (7, 8, 9, 10, 11, 12),
                       "string": (13, 14, 15, 21, 22, 23, 24, 25), "operator": (16,), "decorator": (18,),
                       "preprocessor": (19,), "error": (20,)}),
    "json": LexerSpec("json", (JSON_KW, ""), {"lexer.json.allow.comments": "1", "lexer.json.escape.sequence": "1"},
                      {"number": (1,), "string": (2, 3), "function": (4,), "escape": (5,), "comment": (6, 7),
                       "operator": (8,), "keyword": (11, 12), "error": (13,)}),
    "yaml": LexerSpec("yaml", (YAML_KW,), {},
                      {"comment": (1,), "function": (2,), "keyword": (3,), "number": (4,), "keyword2": (5,),
                       "preprocessor": (6,), "string": (7,), "error": (8,), "operator": (9,)}),
    "toml": LexerSpec("toml", (TOML_KW,), {},
                      {"comment": (1,), "keyword": (3,), "number": (4, 14), "class": (5,), "function": (6,), "error": (7,),
                       "operator": (8,), "string": (9, 10, 11, 12), "escape": (13,)}),
    "markdown": LexerSpec("markdown", (), {},
                          {"keyword": (2, 3), "string": (4, 5), "heading": (6, 7, 8, 9, 10, 11), "operator": (12, 13, 14),
                           "comment": (15,), "removed": (16,), "preprocessor": (17,), "function": (18,),
                           "code": (19, 20, 21)}, fold=False),
    "html": LexerSpec("hypertext", (HTML_KW, JS_KW), {"fold.html": "1"}, _HTML_STYLES),
    "xml": LexerSpec("xml", (), {"fold.html": "1"}, {**_HTML_STYLES, "tag": (1, 11, 12, 13), "string": (6, 7, 17, 19)}),
    "css": LexerSpec("css", (CSS_KW, CSS_PSEUDO, "", "", "after before first-line first-letter selection placeholder"), {},
                     {"tag": (1,), "class": (2, 10), "keyword2": (3, 4, 18), "operator": (5,), "keyword": (6, 15, 17),
                      "error": (7,), "number": (8,), "comment": (9,), "decorator": (11, 12), "string": (13, 14),
                      "attribute": (16,)}),
    "shell": LexerSpec("bash", (SH_KW,), {},
                       {"error": (1,), "comment": (2,), "number": (3,), "keyword": (4,), "string": (5, 6, 11, 13),
                        "operator": (7, 12), "keyword2": (9, 10)}),
    "dockerfile": LexerSpec("bash", (DOCKER_KW + " " + DOCKER_KW.upper(),), {},
                            {"error": (1,), "comment": (2,), "number": (3,), "keyword": (4,), "string": (5, 6, 11, 13),
                             "operator": (7, 12), "keyword2": (9, 10)}),
    "sql": LexerSpec("sql", (SQL_KW,), {"sql.backslash.escapes": "1"},
                     {"comment": (1, 2, 3, 13, 15, 17), "number": (4,), "keyword": (5,), "string": (6, 7),
                      "operator": (10,), "keyword2": (16, 19, 20, 21, 22)}),
    "makefile": LexerSpec("makefile", (MAKE_KW,), {},
                          {"comment": (1,), "preprocessor": (2,), "keyword2": (3,), "operator": (4,), "function": (5,),
                           "error": (9,)}, fold=False),
    "ini": LexerSpec("props", (), {},
                     {"comment": (1,), "class": (2,), "operator": (3,), "string": (4,), "function": (5,)}, fold=False),
    "diff": LexerSpec("diff", (), {},
                      {"comment": (1,), "keyword": (2,), "heading": (3,), "number": (4,), "removed": (5, 9, 11),
                       "added": (6, 8, 10), "modified": (7,)}, fold=False),
}

# Map of categories that have no theme key of their own to the nearest one.
CATEGORY_COLOR = {"tag": "keyword", "attribute": "identifier", "heading": "keyword", "regex": "string",
                  "escape": "keyword2", "code": "string", "number_js": "number", "string_js": "string"}


def spec_for(language: str) -> LexerSpec | None:
    return SPECS.get(language)


def install(sci, language: str) -> LexerSpec | None:
    """Give ``sci`` the lexer for ``language`` (plain text: no lexer). GUI thread."""
    spec = SPECS.get(language)
    if spec is None:
        sci.setILexer(0)
        return None
    lexer = lexilla.create_lexer(spec.lexer)
    if lexer is None:  # an older lexilla without this lexer: plain text rather than a crash
        sci.setILexer(0)
        return None
    sci.setILexer(lexer.detach())
    for n, words in enumerate(spec.keywords):
        if words:
            sci.setKeyWords(n, words)
    for key, value in spec.properties.items():
        sci.setProperty(key, value)
    sci.setProperty("fold", "1" if spec.fold else "0")
    sci.setProperty("fold.compact", "0")
    sci.setProperty("fold.comment", "1")
    return spec
