"""``marie/`` passes mypy at its baseline, and the baseline only shrinks.

The baseline (``tests/core/mypy_baseline.txt``) lists today's errors, one per line, without line
numbers (so unrelated edits do not move them): ``path: error: message  [code]``. A new error fails
the test: fix it (or, where mypy is wrong, a ``# type: ignore[code]`` with the reason). A fixed
error fails it too until its line leaves the baseline, so the count can only go down:
``python -m tests.core.test_types --shrink`` drops the fixed lines (it never adds any).

mypy keeps its cache outside the repository, per checkout, so a repeated run takes seconds.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BASELINE = Path(__file__).with_name("mypy_baseline.txt")
CACHE = Path(tempfile.gettempdir()) / f"marie-mypy-{hashlib.sha256(str(REPO).encode()).hexdigest()[:12]}"
ARGS = ["marie", "--python-version", "3.11", "--ignore-missing-imports", "--show-error-codes",
        "--no-error-summary", "--hide-error-context", "--no-pretty", "--no-color-output",
        "--cache-dir", str(CACHE)]
_LINE = re.compile(r"^(?P<path>[^:]+):\d+(?::\d+)?: (?P<kind>error): (?P<message>.*)$")


def normalise(line: str) -> str | None:
    """``path: error: message  [code]`` without the line numbers (None for notes and blank lines)."""
    match = _LINE.match(line.strip())
    if match is None:
        return None
    message = re.sub(r"\bon line \d+\b", "on line N", match["message"])
    return f"{match['path']}: {match['kind']}: {message}"


def run_mypy() -> Counter[str]:
    proc = subprocess.run([sys.executable, "-m", "mypy", *ARGS], cwd=REPO, capture_output=True, text=True,
                          timeout=600)
    if proc.returncode not in (0, 1) or "Traceback" in proc.stderr:
        raise RuntimeError(f"mypy did not run (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    return Counter(n for n in map(normalise, proc.stdout.splitlines()) if n)


def load_baseline() -> Counter[str]:
    return Counter(line for line in BASELINE.read_text(encoding="utf-8").splitlines()
                   if line.strip() and not line.startswith("#"))


def write_baseline(errors: Counter[str]) -> None:
    header = ("# mypy errors allowed in marie/ (tests/core/test_types.py); this list may only shrink.\n"
              "# Regenerate the shrunk list with: .venv/bin/python -m tests.core.test_types --shrink\n")
    BASELINE.write_text(header + "".join(f"{line}\n" for line in sorted(errors.elements())), encoding="utf-8")


def test_marie_passes_mypy_at_its_baseline():
    current, baseline = run_mypy(), load_baseline()
    new, fixed = current - baseline, baseline - current
    assert not new, ("new mypy errors in marie/ (fix them; the baseline only shrinks):\n"
                     + "\n".join(sorted(new.elements())))
    assert not fixed, ("these baseline errors are fixed: remove them with "
                       "`.venv/bin/python -m tests.core.test_types --shrink`:\n" + "\n".join(sorted(fixed.elements())))


def test_normalise_drops_line_numbers_and_notes():
    assert normalise('marie/a.py:12:5: error: Name "x" already defined on line 3  [no-redef]') == \
        'marie/a.py: error: Name "x" already defined on line N  [no-redef]'
    assert normalise("marie/a.py:12: note: See https://mypy.readthedocs.io") is None
    assert (Counter(["a", "b"]) - Counter(["a"])) == Counter(["b"])   # the comparison counts duplicates


if __name__ == "__main__":
    if sys.argv[1:] == ["--shrink"]:
        kept = run_mypy() & load_baseline()       # never adds: only what is in both stays
        write_baseline(kept)
        print(f"baseline: {sum(kept.values())} errors")
    elif sys.argv[1:] == ["--init"] and not BASELINE.exists():
        write_baseline(run_mypy())
    else:
        raise SystemExit("usage: python -m tests.core.test_types --shrink")
