"""An agent session on disk: the task, the transcript (model turns and tool steps, with approvals
and checkpoints), the messages to continue from, and the pending change set. JSON in the
workspace's data folder (outside the repository), written atomically after every step. Reopened
with ``SessionStore.load``; ``to_markdown`` exports it. Any thread (one writer per session)."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from marie.ai.types import Message, ToolCall
from marie.core import atomic


@dataclass
class StepRecord:
    step: int
    call_id: str
    tool: str
    arguments: dict
    ok: bool
    summary: str
    result: str
    approval: str = ""            # allow reason / "once" / "session" / "rule" / "denied: ..."
    checkpoint_id: str = ""
    changed: list[str] = field(default_factory=list)
    undo_paths: list[str] = field(default_factory=list)
    pending: bool = False         # an edit still in the change set (undo takes it out of it)
    undone: bool = False


@dataclass
class AgentSession:
    task: str
    mode: str = "ask"
    model: str = ""
    id: str = field(default_factory=lambda: time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6])
    created: float = field(default_factory=time.time)
    turns: list[dict] = field(default_factory=list)      # {"step", "text", "calls", "usage"}
    steps: list[StepRecord] = field(default_factory=list)
    messages: list[dict] = field(default_factory=list)   # the conversation, to continue it
    approvals: list[dict] = field(default_factory=list)  # {"tool", "subject", "choice"}
    changes: dict = field(default_factory=dict)           # the pending change set (ChangeSet.to_dict)
    applied: list[dict] = field(default_factory=list)     # {"checkpoint_id", "written", "deleted"}
    finished: str = ""
    answer: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0

    def step(self, call_id: str) -> StepRecord:
        for s in self.steps:
            if s.call_id == call_id:
                return s
        raise KeyError(call_id)

    # -- messages ----------------------------------------------------------------------------
    def set_messages(self, messages: list[Message]) -> None:
        # The conversation only grows: convert the new messages only.
        have = len(self.messages)
        if have <= len(messages):
            self.messages.extend(message_to_dict(m) for m in messages[have:])
        else:
            self.messages = [message_to_dict(m) for m in messages]

    def get_messages(self) -> list[Message]:
        return [message_from_dict(d) for d in self.messages]

    # -- serialisation -----------------------------------------------------------------------
    def to_dict(self) -> dict:
        data = {k: getattr(self, k) for k in self.__dataclass_fields__}
        data["steps"] = [dict(vars(s)) for s in self.steps]
        return data

    def counts(self) -> dict:
        """How much of each growing list there is (the journal appends only what is new)."""
        return {"turns": len(self.turns), "steps": len(self.steps), "messages": len(self.messages),
                "approvals": len(self.approvals), "applied": len(self.applied)}

    @classmethod
    def from_dict(cls, data: dict) -> "AgentSession":
        steps = [StepRecord(**s) for s in data.get("steps", [])]
        fields = {k: v for k, v in data.items() if k in cls.__dataclass_fields__ and k != "steps"}
        session = cls(**fields)
        session.steps = steps
        return session

    def to_markdown(self) -> str:
        out = [f"# Agent session {self.id}", "", f"**Task:** {self.task}", "",
               f"Mode: {self.mode}; model: {self.model or '(routing)'}; finished: {self.finished or 'no'}; "
               f"tokens: {self.prompt_tokens} prompt + {self.completion_tokens} answer; cost ${self.cost_usd:.4f}", ""]
        by_step: dict[int, list[StepRecord]] = {}
        for s in self.steps:
            by_step.setdefault(s.step, []).append(s)
        for turn in self.turns:
            n = turn["step"]
            out.append(f"## Step {n}")
            if turn.get("text"):
                out += ["", turn["text"].strip()]
            for s in by_step.get(n, []):
                args = json.dumps(s.arguments, ensure_ascii=False)
                flags = " (undone)" if s.undone else ""
                out += ["", f"### `{s.tool}` {'ok' if s.ok else 'error'}{flags}", "", f"Arguments: `{args}`",
                        f"Approval: {s.approval or '-'}"]
                if s.checkpoint_id:
                    out.append(f"Checkpoint: `{s.checkpoint_id}` (restore: `marie checkpoint restore {s.checkpoint_id}`)")
                if s.changed:
                    out.append("Changed: " + ", ".join(s.changed))
                out += ["", "```", s.result.strip()[:4000], "```"]
            out.append("")
        if self.answer:
            out += ["## Answer", "", self.answer.strip(), ""]
        if self.changes.get("files"):
            from marie.composer.changeset import ChangeSet

            out += ["## Pending changes", "", "```diff", ChangeSet.from_dict(self.changes).unified_diff(), "```", ""]
        return "\n".join(out)


def message_to_dict(m: Message) -> dict:
    return {"role": m.role, "content": m.content, "tool_call_id": m.tool_call_id,
            "tool_calls": [{"id": c.id, "name": c.name, "arguments": c.arguments} for c in m.tool_calls]}


def message_from_dict(d: dict) -> Message:
    calls = tuple(ToolCall(c["id"], c["name"], c["arguments"]) for c in d.get("tool_calls", []))
    return Message(d["role"], d.get("content", ""), tool_calls=calls, tool_call_id=d.get("tool_call_id", ""))


_SCALARS = ("mode", "model", "finished", "answer", "prompt_tokens", "completion_tokens", "cost_usd")


class SessionStore:
    """``ID.json`` holds a full snapshot (written atomically); ``ID.log`` the steps since, one JSON
    line each (``append``: only what is new, so a step costs the same at step 5 and at step 500).
    ``save`` writes a snapshot and empties the journal; ``load`` replays the journal over it."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self._saved: dict[str, dict] = {}     # session id -> counts already on disk

    def journal(self, session_id: str) -> Path:
        return self.path(session_id).with_suffix(".log")

    def append(self, session: AgentSession, changes: dict | None = None) -> None:
        """Append what changed since the last save/append; ``changes`` replaces the pending change set."""
        done = self._saved.get(session.id)
        if done is None or not self.path(session.id).exists():
            self.save(session)
            return
        now = session.counts()
        record: dict = {k: getattr(session, k) for k in _SCALARS}
        for key in ("turns", "messages", "approvals", "applied"):
            record[key] = getattr(session, key)[done[key]:]
        record["steps"] = [dict(vars(s)) for s in session.steps[done["steps"]:]]
        # Steps already written may have changed since (undone, applied): rewrite their flags.
        record["flags"] = {s.call_id: [s.undone, s.pending, s.checkpoint_id] for s in session.steps[:done["steps"]]}
        if len(session.messages) < done["messages"]:
            self.save(session)
            return
        if changes is not None:
            record["changes"] = changes
        with open(self.journal(session.id), "a", encoding="utf-8") as fh:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._saved[session.id] = now

    def path(self, session_id: str) -> Path:
        if not session_id or "/" in session_id or "\\" in session_id or session_id.startswith("."):
            raise ValueError(f"not a session id: {session_id!r}")
        return self.folder / f"{session_id}.json"

    def save(self, session: AgentSession) -> Path:
        path = self.path(session.id)
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic.write_text(path, json.dumps(session.to_dict(), ensure_ascii=False))
        try:
            self.journal(session.id).unlink()
        except FileNotFoundError:
            pass
        self._saved[session.id] = session.counts()
        return path

    def load(self, session_id: str) -> AgentSession:
        path = self.path(session_id)
        try:
            data = json.loads(path.read_text("utf-8"))
        except FileNotFoundError:
            raise KeyError(f"no agent session {session_id!r}") from None
        try:
            lines = self.journal(session_id).read_text("utf-8").splitlines()
        except FileNotFoundError:
            lines = []
        for line in lines:
            try:
                record = json.loads(line)
            except ValueError:
                break          # a line cut short by a crash: what came before it stands
            for key in _SCALARS:
                if key in record:
                    data[key] = record[key]
            for key in ("turns", "messages", "approvals", "applied", "steps"):
                data.setdefault(key, []).extend(record.get(key, []))
            flags = record.get("flags", {})
            for step in data.get("steps", []):
                if step["call_id"] in flags:
                    step["undone"], step["pending"], step["checkpoint_id"] = flags[step["call_id"]]
            if "changes" in record:
                data["changes"] = record["changes"]
        session = AgentSession.from_dict(data)
        self._saved[session.id] = session.counts() if not lines else self._saved.get(session.id, session.counts())
        return session

    def list(self) -> list[AgentSession]:
        out = []
        for path in sorted(self.folder.glob("*.json"), reverse=True):
            try:
                out.append(AgentSession.from_dict(json.loads(path.read_text("utf-8"))))
            except (OSError, ValueError, TypeError, KeyError):
                continue
        return out

    def latest(self) -> AgentSession | None:
        sessions = self.list()
        return sessions[0] if sessions else None
