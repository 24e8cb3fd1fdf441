import os
import stat

import pytest

from marie.core import atomic


def test_write_creates_and_replaces(tmp_path):
    target = tmp_path / "a.txt"
    atomic.write_bytes(target, b"one")
    assert target.read_bytes() == b"one"
    atomic.write_bytes(target, b"two")
    assert target.read_bytes() == b"two"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"], "no temp file left behind"


def test_write_keeps_mode(tmp_path):
    target = tmp_path / "run.sh"
    target.write_bytes(b"#!/bin/sh\n")
    os.chmod(target, 0o750)
    atomic.write_bytes(target, b"#!/bin/sh\necho hi\n")
    assert stat.S_IMODE(target.stat().st_mode) == 0o750


def test_write_through_symlink_updates_target(tmp_path):
    real = tmp_path / "real.txt"
    real.write_bytes(b"old")
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    atomic.write_bytes(link, b"new")
    assert link.is_symlink(), "the link itself survives"
    assert real.read_bytes() == b"new"


def test_failed_write_leaves_old_content_and_no_temp(tmp_path, monkeypatch):
    target = tmp_path / "keep.txt"
    target.write_bytes(b"precious")

    def boom(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        atomic.write_bytes(target, b"half")
    assert target.read_bytes() == b"precious"
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_delete_removes_link_not_target(tmp_path):
    real = tmp_path / "real.txt"
    real.write_bytes(b"x")
    link = tmp_path / "l"
    link.symlink_to(real)
    atomic.delete(link)
    assert not os.path.lexists(link) and real.exists()


def test_write_without_following_replaces_the_link(tmp_path):
    real = tmp_path / "real.txt"
    real.write_bytes(b"keep")
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    atomic.write_bytes(link, b"file now", follow_symlinks=False)
    assert not link.is_symlink() and link.read_bytes() == b"file now"
    assert real.read_bytes() == b"keep"
