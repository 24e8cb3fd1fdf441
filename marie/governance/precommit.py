"""The pre-commit secret check (``marie git commit`` and the git panel): scan what is staged.

Reads the staged blobs with ``git`` (the index, not the working tree: that is what the commit will
hold). The policy decides: "block" refuses the commit, "warn" and "redact" let it go with the list
(a commit cannot be redacted). Worker thread (runs git, reads blobs).
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

MAX_BYTES = 2_000_000   # bigger staged files are not scanned (generated data, assets)


@dataclass(frozen=True)
class StagedSecret:
    path: str
    kind: str
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.kind}"


def staged_secrets(root: Path, scanner=None) -> list[StagedSecret]:
    """Secrets in the staged version of every added or modified file."""
    from marie.governance.secrets import default_scanner

    scanner = scanner or default_scanner()
    names = subprocess.run(["git", "diff", "--cached", "--name-only", "-z", "--diff-filter=ACMR"], cwd=root,
                           capture_output=True, check=True).stdout.split(b"\0")
    out: list[StagedSecret] = []
    for raw in names:
        if not raw:
            continue
        path = raw.decode("utf-8", "surrogateescape")
        blob = subprocess.run(["git", "show", f":{path}"], cwd=root, capture_output=True).stdout
        if len(blob) > MAX_BYTES or b"\0" in blob[:8192]:
            continue
        for finding in scanner.scan(blob.decode("utf-8", "replace")):
            out.append(StagedSecret(path, finding.kind, finding.line))
    return out


def check(root: Path, mode: str) -> tuple[bool, str]:
    """(may commit, message). ``mode`` is the policy's ``governance.secrets``."""
    found = staged_secrets(root)
    if not found:
        return True, ""
    listing = "\n".join(f"  {s}" for s in found)
    if mode == "block":
        return False, f"the staged changes contain secrets; the policy blocks the commit:\n{listing}"
    return True, f"warning: the staged changes contain secrets:\n{listing}"
