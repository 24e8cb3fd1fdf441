"""kill -9 of a real process during checkpoint create and restore (240 trials), then convergence."""

from __future__ import annotations

import pytest

from tests.checkpoints.crash_harness import is_whole, make_content, run_trials


def test_content_self_check_detects_truncation():
    data = make_content("x", 1, 500)
    assert is_whole(data) and not is_whole(data[:-1]) and not is_whole(data[:100])


@pytest.mark.timeout(300)   # a crash loop: ~60 s on an idle 2-core machine
def test_kill_minus_9_during_create_and_restore_never_damages(tmp_path):
    stats = run_trials(tmp_path, trials=240, seed=1234, max_delay=0.1)
    from marie.app import App

    with App(tmp_path / "ws") as app:   # after all 240 kills the whole store still verifies
        assert app.checkpoints.verify() == []
    assert stats["killed_while_running"] == 240   # every child was still working when killed
