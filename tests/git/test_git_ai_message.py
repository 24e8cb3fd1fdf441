"""AI commit message: the grammar, the context budget and an end-to-end run on the real Gemma model."""

from __future__ import annotations

import re

import pytest

from marie.git import commit_message as cm
from tests.git.gitutil import git, write

CONVENTIONAL = re.compile(r"^(feat|fix|docs|style|refactor|perf|test|build|ci|chore)(\([^)\s]+\))?!?: \S.*$")


def test_fit_patch_cuts_at_line_ends_within_budget():
    patch = "".join(f"+line number {i}\n" for i in range(500))
    count = lambda text: len(text.split())  # a stand-in tokenizer: the real one is used end to end
    out = cm.fit_patch(patch, 100, count)
    assert count(out) <= 100 and out.endswith("[diff truncated]\n")
    assert all(line.startswith(("+line", "[diff")) for line in out.splitlines())
    assert cm.fit_patch("+a\n", 100, count) == "+a\n"


def test_summary_and_cleanup():
    patch = ("diff --git a/x.py b/x.py\n--- a/x.py\n+++ b/x.py\n@@ -1 +1,2 @@\n-a\n+b\n+c\n")
    assert cm.summary_of(patch) == "x.py (+2 -1)"
    assert cm.clean_ai_message("fix(x): handle b.\n\nAdds c to the file.\nAnd then som") == \
        "fix(x): handle b\n\nAdds c to the file."
    assert cm.is_conventional("feat(git): add stash panel")
    assert not cm.is_conventional("Added stuff") and not cm.is_conventional("feat: " + "x" * 80)


def test_grammar_parses_in_llama_cpp():
    from llama_cpp import LlamaGrammar

    assert LlamaGrammar.from_string(cm.GRAMMAR, verbose=False) is not None
    grammar = cm.build_grammar(["marie/git/x.py", "b.py"], body=False)
    assert '"git"' in grammar and '"b"' in grammar and "body?" not in grammar
    assert LlamaGrammar.from_string(grammar, verbose=False) is not None


def test_nothing_staged_is_refused(gapp):
    from marie.git.model import GitError

    with pytest.raises(GitError, match="nothing is staged"):
        gapp.git.suggest_commit_message_sync(max_tokens=16)


def test_real_gemma_writes_a_conventional_message(gemma_path, gapp, repo):
    write(repo / "src" / "b.py", "print('b')\nprint('more')\n\n\ndef greet(name):\n    return f'hello {name}'\n")
    git(repo, "add", "src/b.py")
    message = gapp.git.suggest_commit_message_sync(max_tokens=48)
    first = message.splitlines()[0]
    assert CONVENTIONAL.match(first), message
    assert len(first) <= 72
    assert cm.is_conventional(message)
