"""kill -9 trials for the checkpoint store (used by test_checkpoints_crash.py and bench/soak_checkpoints.py).

A forked child (a real process) runs create/restore cycles on a workspace whose files carry their own
length and hash, and is killed with SIGKILL after a random delay. Then, in this process: no workspace
file is partial, every checkpoint verifies, and restoring a checkpoint converges to exactly its state.
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import time
from pathlib import Path

HEADER = 48


def make_content(name: str, version: int, size: int) -> bytes:
    body = (f"{name} v{version} ".encode() * (size // 8 + 1))[:size]
    return f"{len(body):08d} {hashlib.sha256(body).hexdigest()[:38]}\n".encode() + body


def is_whole(data: bytes) -> bool:
    if len(data) < HEADER:
        return False
    length, digest = int(data[:8]), data[9:47].decode()
    body = data[HEADER:]
    return len(body) == length and hashlib.sha256(body).hexdigest()[:38] == digest


def _write(root: Path, rel: str, data: bytes) -> None:
    from marie.core import atomic

    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic.write_bytes(path, data)


def seed_state(root: Path, version: int, files: int = 40) -> dict[str, bytes]:
    state = {f"d{n % 4}/f{n}.txt": make_content(f"f{n}", version, 200 + (n * 37 + version * 101) % 3000)
             for n in range(files) if (n + version) % 7}
    return state


def apply_state(root: Path, state: dict[str, bytes]) -> None:
    for rel, data in state.items():
        _write(root, rel, data)
    for path in list(root.rglob("*.txt")):
        rel = path.relative_to(root).as_posix()
        if rel not in state:
            path.unlink()


def _child(root: Path, mode: str, seed: int) -> None:
    from marie.app import App

    rng = random.Random(seed)
    app = App(root)
    cps = app.checkpoints
    version = 100 + seed % 1000
    while True:
        if mode == "create":
            version += 1
            for rel in rng.sample(sorted(seed_state(root, version)), 5):
                _write(root, rel, make_content(rel, version, rng.randint(10, 20000)))
            cps.create(label=f"crash {version}")
        else:
            ids = [i.id for i in cps.list() if i.label.startswith("state ")]
            cps.restore(rng.choice(ids))


def setup_workspace(root: Path) -> dict[str, dict[str, bytes]]:
    """Two labelled checkpoints ("state A", "state B") to restore between. Returns their states."""
    from marie.app import App

    root.mkdir(parents=True, exist_ok=True)
    states = {}
    with App(root) as app:
        for version, label in ((1, "state A"), (2, "state B")):
            state = seed_state(root, version)
            apply_state(root, state)
            app.checkpoints.pin(app.checkpoints.create(label=label))   # pinned: retention keeps them
            states[label] = state
    return states


def check_after_kill(root: Path, states: dict[str, dict[str, bytes]], rng: random.Random) -> None:
    from marie.app import App

    for path in root.rglob("*"):
        if path.is_file() and not path.name.startswith(".marie-tmp-"):
            assert is_whole(path.read_bytes()), f"partial file after kill -9: {path}"
    with App(root) as app:
        cps = app.checkpoints
        infos = cps.list()
        # Verify the newest checkpoints (the ones a kill could have been writing) and the targets.
        for info in infos[:3] + [i for i in infos if i.label in states]:
            assert cps.verify(info.id) == [], info
        label = rng.choice(sorted(states))
        target = next(i for i in infos if i.label == label)
        cps.restore(target.id)
        on_disk = {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*.txt")
                   if not p.name.startswith(".marie-tmp-")}
        assert on_disk == states[label], "restore did not converge"
        assert cps.diff(target.id) == []
        if rng.random() < 0.1:
            cps.gc()


def run_trials(base: Path, trials: int, seed: int = 0, max_delay: float = 0.25) -> dict:
    """Run ``trials`` kill -9 trials (half during create, half during restore)."""
    rng = random.Random(seed)
    root = base / "ws"
    states = setup_workspace(root)
    killed_busy = 0
    for trial in range(trials):
        mode = "create" if trial % 2 == 0 else "restore"
        pid = os.fork()
        if pid == 0:   # the child: a real process that is killed mid-operation
            try:
                _child(root, mode, rng.randint(0, 10**9) + trial)
            finally:
                os._exit(1)
        time.sleep(rng.uniform(0.005, max_delay))
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        killed_busy += os.WIFSIGNALED(status)
        check_after_kill(root, states, rng)
    return {"trials": trials, "killed_while_running": killed_busy}
