"""The packaged app (``make package``, ``dist/MarieIDE``): its size on disk and its start-up time to
an editable window, against ``.venv/bin/marie`` (what ``make run`` starts) in the same run,
interleaved pairs, offscreen. Skipped with a reason when no package has been built.

Run alone: ``make package && .venv/bin/python bench/run.py --only package``.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAIRS = 5


def folder_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def start_to_ready(argv: list[str], env: dict) -> float:
    """Seconds from process start to the MARIE-READY line (the window is shown and takes keys)."""
    started = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("MARIE-READY"):
            seconds = time.perf_counter() - started
            break
    else:
        raise RuntimeError(f"{argv[0]} exited without opening its window")
    proc.wait(timeout=60)
    return seconds


def run(ctx) -> dict:
    app = Path(ctx.options.get("package", ROOT / "dist" / "MarieIDE"))
    binary = app / "marie"
    if not binary.exists():
        return {"skipped": f"no packaged app at {app}: run `make package` first"}
    project = ctx.scratch / "project"
    project.mkdir()
    (project / "main.py").write_text("print('hello')\n", encoding="utf-8")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", MARIE_STARTUP_PROBE="quit", MARIE_NO_ENDPOINT="1",
               MARIE_HOME=str(ctx.scratch / "home"))
    venv = [str(Path(sys.executable).parent / "marie"), str(project / "main.py")]
    frozen = [str(binary), str(project / "main.py")]
    times: dict[str, list[float]] = {"frozen": [], "venv": []}
    start_to_ready(frozen, env)
    start_to_ready(venv, env)  # warm both (page cache)
    for i in range(PAIRS):
        for which in (("frozen", "venv") if i % 2 == 0 else ("venv", "frozen")):
            times[which].append(start_to_ready(frozen if which == "frozen" else venv, env))
    frozen_s, venv_s = statistics.median(times["frozen"]), statistics.median(times["venv"])
    return {"size_mb": round(folder_size(app) / 2**20, 1), "frozen_start_s": round(frozen_s, 3),
            "venv_start_s": round(venv_s, 3), "ratio": round(frozen_s / venv_s, 3),
            "load_avg": os.getloadavg()[0]}
