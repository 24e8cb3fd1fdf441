"""CLI benchmark: `marie` commands as whole processes (start-up included) against the tools they
stand beside, in the same run, interleaved (A B B A ...) with medians:

- ``marie --help`` cold start (goal <= 60 ms) beside ``python -c pass`` (the interpreter's floor);
- ``marie git status`` vs ``git status --porcelain`` on the standard repository (goal <= 1.2x);
- ``marie search PATTERN`` vs ``rg -l PATTERN`` (goal <= 1.1x);
- ``marie find QUERY`` vs ``fzf --filter QUERY`` over ``rg --files`` (goal <= 1.1x; skipped when fzf is
  not installed: ``apt-get install fzf``).

Run alone: ``.venv/bin/python bench/run.py --only cli [--files 100000]``.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ROUNDS = 7


def _time(argv: list[str], cwd: Path, env: dict, shell: bool = False) -> float:
    started = time.perf_counter()
    subprocess.run(argv if not shell else " ".join(argv), cwd=str(cwd), env=env, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, shell=shell, check=False)
    return time.perf_counter() - started


def _pair(a: list[str], b: list[str], cwd: Path, env: dict, b_shell: bool = False) -> dict:
    times_a: list[float] = []
    times_b: list[float] = []
    _time(a, cwd, env)
    _time(b, cwd, env, b_shell)  # warm both (page cache, index on disk)
    for i in range(ROUNDS):
        if i % 2 == 0:
            times_a.append(_time(a, cwd, env))
            times_b.append(_time(b, cwd, env, b_shell))
        else:
            times_b.append(_time(b, cwd, env, b_shell))
            times_a.append(_time(a, cwd, env))
    ma, mb = statistics.median(times_a), statistics.median(times_b)
    return {"marie_ms": round(ma * 1000, 1), "peer_ms": round(mb * 1000, 1), "ratio": round(ma / mb, 3)}


def run(ctx) -> dict:
    venv_bin = Path(sys.executable).parent
    marie = str(venv_bin / "marie")
    rg = str(venv_bin / "rg") if (venv_bin / "rg").exists() else (shutil.which("rg") or "rg")
    env = dict(os.environ, MARIE_HOME=str(ctx.scratch / "home"))
    repo = ctx.corpus(git=True)
    # What an installed MarieIDE has: bytecode for its modules (make bench does this too; without it,
    # and with PYTHONDONTWRITEBYTECODE set, every start would compile them again).
    subprocess.run([sys.executable, "-m", "compileall", "-q", "marie", "plugins"], cwd=ROOT, check=True)
    out: dict = {"load_avg_start": os.getloadavg()[0]}
    out["help"] = _pair([marie, "--help"], [sys.executable, "-c", "pass"], repo, env)
    out["git_status"] = _pair([marie, "git", "status"], ["git", "status", "--porcelain"], repo, env)
    out["search"] = _pair([marie, "search", ".", "the_quick_marker"], [rg, "-l", "the_quick_marker"], repo, env)
    if shutil.which("fzf"):
        out["find"] = _pair([marie, "find", ".", "srcutil"],
                            [f"{rg} --files | fzf --filter srcutil | head -50"], repo, env, b_shell=True)
    else:
        out["find"] = {"skipped": "fzf is not installed (apt-get install fzf)"}
    out["load_avg_end"] = os.getloadavg()[0]
    return out
