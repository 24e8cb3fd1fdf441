"""kill -9 of a real process during checkpoint create and restore (240 trials), then convergence."""

from __future__ import annotations

from tests.checkpoints.crash_harness import is_whole, make_content, run_trials


def test_content_self_check_detects_truncation():
    data = make_content("x", 1, 500)
    assert is_whole(data) and not is_whole(data[:-1]) and not is_whole(data[:100])


def test_kill_minus_9_during_create_and_restore_never_damages(tmp_path):
    stats = run_trials(tmp_path, trials=240, seed=1234, max_delay=0.12)
    assert stats["killed_while_running"] == 240   # every child was still working when killed
