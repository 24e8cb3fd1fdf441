"""Diffs, hunks and staging by file, hunk and line — checked against the git command line."""

from __future__ import annotations

import pytest

from marie.git.model import GitError, keys_in_new_range
from marie.git.partial import apply_selected
from tests.git.gitutil import git, write

BASE = "".join(f"line {i}\n" for i in range(1, 31))


@pytest.fixture
def lines_repo(gapp, repo):
    write(repo / "f.txt", BASE)
    git(repo, "add", "f.txt")
    git(repo, "commit", "-q", "-m", "add f")
    # two separate hunks: line 3 changed, a line added after 25
    lines = BASE.splitlines(keepends=True)
    lines[2] = "line 3 CHANGED\n"
    lines.insert(25, "inserted A\n")
    lines.insert(26, "inserted B\n")
    write(repo / "f.txt", "".join(lines))
    return gapp


def cached(repo, path="f.txt"):
    return git(repo, "diff", "--cached", "--", path)


def test_working_tree_and_staged_diffs(lines_repo, repo):
    diff = lines_repo.git.file_diff_sync("f.txt")
    assert len(diff.hunks) == 2
    first, second = diff.hunks
    assert [(l.kind, l.text) for l in first.lines if l.kind != " "] == [("-", "line 3"), ("+", "line 3 CHANGED")]
    assert [l.text for l in second.lines if l.kind == "+"] == ["inserted A", "inserted B"]
    assert second.new_start <= 26 <= second.new_start + second.new_lines
    assert diff.additions == 3 and diff.deletions == 1
    assert lines_repo.git.file_diff_sync("f.txt", staged=True).hunks == ()
    # the unified text is what git prints
    assert "+inserted A" in diff.patch and "-line 3" in diff.patch
    whole = lines_repo.git.diff_sync()
    assert [d.path for d in whole] == ["f.txt"]


def test_stage_one_hunk_matches_git(lines_repo, repo):
    diff = lines_repo.git.file_diff_sync("f.txt")
    lines_repo.git.stage_hunk("f.txt", diff.hunks[1]).result()
    staged = cached(repo)
    assert "+inserted A" in staged and "+inserted B" in staged
    assert "line 3 CHANGED" not in staged
    # what remains unstaged is exactly the other hunk
    rest = git(repo, "diff", "--", "f.txt")
    assert "+line 3 CHANGED" in rest and "inserted" not in rest
    status = lines_repo.git.last_status
    assert status.files["f.txt"].index == "modified" and status.files["f.txt"].worktree == "modified"


def test_stage_selected_lines_matches_git(lines_repo, repo):
    diff = lines_repo.git.file_diff_sync("f.txt")
    plus_b = next(l for l in diff.hunks[1].lines if l.text == "inserted B")
    content = lines_repo.git.stage_lines_sync("f.txt", [plus_b.key])
    assert content.decode().count("inserted") == 1
    staged = cached(repo)
    added = [l for l in staged.splitlines() if l.startswith("+") and not l.startswith("+++")]
    removed = [l for l in staged.splitlines() if l.startswith("-") and not l.startswith("---")]
    assert added == ["+inserted B"] and removed == []
    # the index blob is exactly the content we built
    assert git(repo, "show", ":f.txt").encode() == content


def test_stage_replacement_line_pair_by_editor_range(lines_repo, repo):
    diff = lines_repo.git.file_diff_sync("f.txt")
    keys = keys_in_new_range(diff.hunks, 3, 3)  # the user selected line 3 in the editor
    assert keys == {("-", 3), ("+", 3)}
    lines_repo.git.stage_lines_sync("f.txt", keys)
    staged = cached(repo)
    assert "-line 3\n+line 3 CHANGED" in staged and "inserted" not in staged


def test_unstage_lines_and_files(lines_repo, repo):
    lines_repo.git.stage_sync(["f.txt"])
    diff = lines_repo.git.file_diff_sync("f.txt", staged=True)
    inserted_a = next(l for h in diff.hunks for l in h.lines if l.text == "inserted A")
    lines_repo.git.unstage_lines_sync("f.txt", [inserted_a.key])
    staged = cached(repo)
    assert "+inserted B" in staged and "+line 3 CHANGED" in staged and "inserted A" not in staged
    assert "+inserted A" in git(repo, "diff", "--", "f.txt")
    lines_repo.git.unstage_sync(["f.txt"])
    assert cached(repo) == ""
    # unstaging a newly added file removes it from the index again
    write(repo / "new.txt", "n\n")
    lines_repo.git.stage_sync(["new.txt"])
    assert lines_repo.git.last_status.files["new.txt"].index == "added"
    lines_repo.git.unstage_sync(["new.txt"])
    assert lines_repo.git.last_status.files["new.txt"].untracked


def test_stage_deletion_and_new_file_lines(gapp, repo):
    (repo / "a.txt").unlink()
    write(repo / "n.txt", "x\ny\nz\n")
    gapp.git.stage_sync(["a.txt"])
    assert "deleted file mode" in cached(repo, "a.txt")
    diff = gapp.git.file_diff_sync("n.txt")
    assert diff.status == "added"
    y = next(l for l in diff.hunks[0].lines if l.text == "y")
    gapp.git.stage_lines_sync("n.txt", [y.key])
    assert git(repo, "show", ":n.txt") == "y\n"


def test_stale_selection_is_refused(lines_repo, repo):
    with pytest.raises(GitError, match="refresh"):
        lines_repo.git.stage_lines_sync("f.txt", [("+", 99)])


def test_discard_file_and_lines_go_through_write_path(lines_repo, repo):
    calls = []
    real_apply = lines_repo.writes.apply

    def spy(changes, label, **kw):
        calls.append((label, [c.path for c in changes]))
        return real_apply(changes, label, **kw)

    lines_repo.writes.apply = spy
    diff = lines_repo.git.file_diff_sync("f.txt")
    inserted_a = next(l for l in diff.hunks[1].lines if l.text == "inserted A")
    lines_repo.git.discard_lines_sync("f.txt", [inserted_a.key])
    text = (repo / "f.txt").read_text()
    assert "inserted A" not in text and "inserted B" in text and "line 3 CHANGED" in text
    write(repo / "junk.txt", "junk\n")
    lines_repo.git.discard_sync(["f.txt", "junk.txt"])
    assert (repo / "f.txt").read_text() == BASE
    assert not (repo / "junk.txt").exists()
    assert calls == [("discard lines in f.txt", ["f.txt"]), ("discard f.txt, junk.txt", ["f.txt", "junk.txt"])]
    assert git(repo, "status", "--porcelain") == ""
    # nothing discarded is lost: the checkpoint taken first still has the junk file
    labels = [c.label for c in lines_repo.checkpoints.list()]
    assert "before: discard f.txt, junk.txt" in labels
    checkpoint = next(c for c in lines_repo.checkpoints.list() if c.label == "before: discard f.txt, junk.txt")
    lines_repo.checkpoints.restore(checkpoint.id, paths=["junk.txt"])
    assert (repo / "junk.txt").read_text() == "junk\n"


def test_apply_selected_without_final_newline():
    from marie.git.model import DiffLine, Hunk

    old = b"a\nb"
    hunk = Hunk(2, 1, 2, 2, "", (DiffLine("-", "b", b"b", 2, None), DiffLine("+", "b", b"b\n", None, 2),
                                  DiffLine("+", "c", b"c\n", None, 3)))
    assert apply_selected(old, [hunk], {("+", 3)}) == b"a\nb\nc\n"
    assert apply_selected(old, [hunk], set()) == b"a\nb"
    assert apply_selected(old, [hunk], {("-", 2), ("+", 2), ("+", 3)}) == b"a\nb\nc\n"
