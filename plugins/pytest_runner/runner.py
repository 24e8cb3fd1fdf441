"""Running pytest for the project and reading its results (no Qt; worker thread).

pytest runs as a subprocess in the workspace root with ``--junitxml`` into a temporary file, so the
results are read from pytest's own structured report rather than scraped from its console output.
The command is ``plugins.pytest_runner.command`` (default: this Python's ``-m pytest``).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class TestResult:
    nodeid: str
    outcome: str            # passed | failed | error | skipped
    path: str = ""          # workspace-relative file of the failure's location
    line: int = 0
    message: str = ""


@dataclass
class RunResult:
    results: list[TestResult] = field(default_factory=list)
    exit_code: int = 0
    output: str = ""
    seconds: float = 0.0

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for result in self.results:
            out[result.outcome] = out.get(result.outcome, 0) + 1
        return out

    def failures(self) -> list[TestResult]:
        return [r for r in self.results if r.outcome in ("failed", "error")]


def _location(root: Path, text: str) -> tuple[str, int]:
    """The last ``path.py:line:`` inside the workspace in a failure's traceback (pytest lists the
    frames outermost first, so the last one in the project is where it failed)."""
    best = ("", 0)
    for match in re.finditer(r"^([^\s:][^:\n]*\.py):(\d+):", text, re.M):
        candidate = Path(match.group(1))
        full = candidate if candidate.is_absolute() else root / candidate
        try:
            rel = full.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            continue
        best = (rel, int(match.group(2)))
    return best


def parse_junit(root: Path, xml_text: str) -> list[TestResult]:
    results: list[TestResult] = []
    tree = ET.fromstring(xml_text)
    for case in tree.iter("testcase"):
        classname, name = case.get("classname", ""), case.get("name", "")
        nodeid = f"{classname}::{name}" if classname else name
        outcome, message, detail = "passed", "", ""
        for child in case:
            if child.tag in ("failure", "error", "skipped"):
                outcome = {"failure": "failed"}.get(child.tag, child.tag)
                message = (child.get("message") or "").strip()
                detail = child.text or ""
                break
        path, line = _location(root, detail) if outcome in ("failed", "error") else ("", 0)
        results.append(TestResult(nodeid, outcome, path, line, message.splitlines()[0] if message else ""))
    return results


def run_pytest(root: Path, command: str = "", args: list[str] | None = None, timeout_s: float = 900.0,
               cancel=None) -> RunResult:
    """Run the tests (blocking; worker thread). ``cancel`` is a CancelToken that kills pytest."""
    import time

    argv = shlex.split(command) if command else [sys.executable, "-m", "pytest"]
    with tempfile.TemporaryDirectory(prefix="marie-pytest-") as tmp:
        report = Path(tmp) / "report.xml"
        full = [*argv, "-q", "-rN", f"--junitxml={report}", *(args or [])]
        started = time.perf_counter()
        proc = subprocess.Popen(full, cwd=str(root), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))
        if cancel is not None:
            cancel.on_cancel(proc.kill)
        try:
            output, _ = proc.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            output, _ = proc.communicate()
        result = RunResult(exit_code=proc.returncode, output=output.decode("utf-8", "replace")[-20000:],
                           seconds=time.perf_counter() - started)
        if report.exists():
            result.results = parse_junit(root, report.read_text(encoding="utf-8"))
        return result


def fix_prompt(failure: TestResult, output: str) -> str:
    """The task handed to the agent by "Fix with the agent"."""
    return (f"The test {failure.nodeid} fails"
            + (f" at {failure.path}:{failure.line}" if failure.path else "")
            + f": {failure.message or 'see the output'}. Find the cause, fix the code (not the test, unless "
              "the test is wrong), and run the test again to check.\n\nLast pytest output:\n"
            + output[-3000:])
