"""Composer sessions: one conversation per task, saved as JSON in ``app.data_dir/composer``.

A session records each instruction, the plan (if any), the model's answers, the proposals (change sets
with their review state) and what was applied (with the checkpoint that undoes it). Saving is atomic.
Any thread (one session is edited by one thread at a time).
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from marie.core import atomic


@dataclass
class Turn:
    role: str                      # "user" | "assistant" | "plan" | "note" | "applied"
    text: str
    created: float = field(default_factory=time.time)
    changeset: dict | None = None
    usage: dict | None = None
    extra: dict = field(default_factory=dict)


@dataclass
class Session:
    id: str = field(default_factory=lambda: time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6])
    title: str = ""
    created: float = field(default_factory=time.time)
    summary: str = ""              # the summary this session was started from, if any
    turns: list[Turn] = field(default_factory=list)

    def add(self, role: str, text: str, **kw: Any) -> Turn:
        turn = Turn(role, text, **kw)
        self.turns.append(turn)
        if not self.title and role == "user":
            self.title = text.strip().splitlines()[0][:80] if text.strip() else "untitled"
        return turn

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Session":
        turns = [Turn(**t) for t in data.get("turns", [])]
        return cls(data["id"], data.get("title", ""), data.get("created", time.time()), data.get("summary", ""), turns)

    def summarize(self, limit: int = 2000) -> str:
        """A plain summary (instructions, plans, what was proposed and applied) to start a new session from."""
        lines = [f"Summary of the earlier session \"{self.title}\":"]
        if self.summary:
            lines.append(self.summary.strip())
        for turn in self.turns:
            if turn.role == "user":
                lines.append(f"- asked: {turn.text.strip()[:300]}")
            elif turn.role == "plan":
                lines.append(f"- plan: {turn.text.strip()[:300]}")
            elif turn.role == "assistant" and turn.changeset:
                files = ", ".join(f"{f['status']} {f['path']}" for f in turn.changeset.get("files", []))
                lines.append(f"- proposed: {files or 'no changes'}")
            elif turn.role == "applied":
                lines.append(f"- applied: {turn.text.strip()[:300]}")
        text = "\n".join(lines)
        return text[:limit]


class SessionStore:
    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def path(self, session_id: str) -> Path:
        safe = "".join(c for c in session_id if c.isalnum() or c in "-_")
        return self.folder / f"{safe}.json"

    def save(self, session: Session) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.path(session.id)
        atomic.write_bytes(target, json.dumps(session.to_dict(), indent=1, ensure_ascii=False).encode("utf-8"))
        return target

    def load(self, session_id: str) -> Session:
        try:
            data = json.loads(self.path(session_id).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise KeyError(f"no composer session {session_id!r}") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ValueError(f"composer session {session_id!r} is damaged ({exc})") from None
        return Session.from_dict(data)

    def list(self) -> list[Session]:
        out = []
        for path in sorted(self.folder.glob("*.json"), reverse=True):
            try:
                out.append(Session.from_dict(json.loads(path.read_text(encoding="utf-8"))))
            except (OSError, ValueError, KeyError, TypeError):
                continue  # a damaged session file is skipped, never fatal
        return out
