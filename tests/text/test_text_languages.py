"""Language detection from file names (shared by the editor, LSP and the index)."""

from __future__ import annotations

import pytest

from marie.text.languages import all_ids, comment_tokens, language_for, title


@pytest.mark.parametrize("name, expected", [
    ("a.py", "python"), ("stubs.pyi", "python"), ("app.js", "javascript"), ("x.mjs", "javascript"),
    ("c.tsx", "typescript"), ("d.ts", "typescript"), ("p.json", "json"), ("ci.yml", "yaml"), ("c.yaml", "yaml"),
    ("pyproject.toml", "toml"), ("README.md", "markdown"), ("i.html", "html"), ("s.css", "css"),
    ("m.c", "c"), ("m.h", "c"), ("m.cpp", "cpp"), ("m.hpp", "cpp"), ("main.go", "go"), ("lib.rs", "rust"),
    ("A.java", "java"), ("run.sh", "shell"), (".bashrc", "shell"), ("q.sql", "sql"), ("Makefile", "makefile"),
    ("GNUmakefile", "makefile"), ("rules.mk", "makefile"), ("Dockerfile", "dockerfile"),
    ("Dockerfile.dev", "dockerfile"), ("app.dockerfile", "dockerfile"), ("setup.cfg", "ini"), ("x.ini", "ini"),
    (".editorconfig", "ini"), ("pom.xml", "xml"), ("icon.svg", "xml"), ("fix.patch", "diff"), ("a.diff", "diff"),
    ("notes.txt", "text"), ("unknown.zzz", "text"), ("LICENSE", "text"), ("DIR/SUB/Main.PY", "python"),
])
def test_language_for_names(name, expected):
    assert language_for(name) == expected


def test_shebang_and_xml_prolog_for_files_without_extension():
    assert language_for("tool", "#!/usr/bin/env python3") == "python"
    assert language_for("tool", "#!/bin/bash -e") == "shell"
    assert language_for("tool", "#!/usr/bin/env node") == "javascript"
    assert language_for("data", "<?xml version='1.0'?>") == "xml"
    assert language_for("tool", "just text") == "text"


def test_comment_tokens_and_titles():
    assert comment_tokens("python") == ("#", None)
    assert comment_tokens("cpp")[0] == "//"
    assert comment_tokens("html") == (None, ("<!--", "-->"))
    assert comment_tokens("sql")[0] == "--"
    assert comment_tokens("nonsense") == (None, None)
    assert title("cpp") == "C++" and title("nonsense") == "Plain text"
    for needed in ("python", "javascript", "typescript", "json", "yaml", "toml", "markdown", "html", "css", "c",
                   "cpp", "go", "rust", "java", "shell", "sql", "makefile", "dockerfile", "ini", "xml", "diff"):
        assert needed in all_ids()
