"""Soak: 1000 kill -9 trials of a real process during checkpoint create and restore.

After each kill: no workspace file is partial, every checkpoint verifies, and restoring a checkpoint
converges to exactly its state. Usage: ``.venv/bin/python bench/soak_checkpoints.py [--trials 1000]``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--max-delay", type=float, default=0.25)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="marie-soak-") as scratch:
        os.environ["MARIE_HOME"] = str(Path(scratch) / "home")
        from tests.checkpoints.crash_harness import run_trials

        started = time.perf_counter()
        stats = run_trials(Path(scratch), args.trials, args.seed, args.max_delay)
        stats.update(seed=args.seed, seconds=round(time.perf_counter() - started, 1))
    print(json.dumps(stats))
    return 0


if __name__ == "__main__":
    sys.exit(main())
