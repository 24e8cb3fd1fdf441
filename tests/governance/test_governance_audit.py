"""The audit log: chain, tamper cases (edit, reorder, insertion, truncation), rotation, retention,
encryption, export, `marie audit verify`, and the write path's records."""

from __future__ import annotations

import json
import os
import time


from marie.governance.audit import AuditLog
from marie.governance.crypto import Cipher
from tests.conftest import run_python


def fill(log: AuditLog, n: int = 5) -> None:
    for i in range(n):
        log.record("test.event", number=i, path=f"src/f{i}.py")


def lines(log: AuditLog) -> list[str]:
    return log.path.read_text().splitlines()


def rewrite(log: AuditLog, new: list[str]) -> None:
    log.path.write_text("\n".join(new) + "\n")


def test_an_untouched_log_verifies(tmp_path):
    log = AuditLog(tmp_path)
    fill(log)
    result = log.verify()
    assert result.ok and result.records == 5, result.problems
    assert [r["data"]["number"] for r in log.entries()] == list(range(5))


def test_an_edited_record_is_found(tmp_path):
    log = AuditLog(tmp_path)
    fill(log)
    rows = lines(log)
    rows[2] = rows[2].replace('"number":2', '"number":7')
    rewrite(log, rows)
    result = log.verify()
    assert not result.ok and any("record 3 was changed" in p for p in result.problems)


def test_an_edited_record_with_its_hash_recomputed_breaks_the_chain(tmp_path):
    from marie.governance.audit import record_hash

    log = AuditLog(tmp_path)
    fill(log)
    rows = lines(log)
    record = json.loads(rows[1])
    record["data"]["number"] = 99
    record["hash"] = record_hash(record)
    rows[1] = json.dumps(record)
    rewrite(log, rows)
    assert any("does not follow" in p for p in log.verify().problems)


def test_reorder_and_insertion_and_removal_are_found(tmp_path):
    for change in ("reorder", "insert", "remove"):
        log = AuditLog(tmp_path / change)
        fill(log)
        rows = lines(log)
        if change == "reorder":
            rows[1], rows[2] = rows[2], rows[1]
        elif change == "insert":
            other = AuditLog(tmp_path / "other")
            other.record("forged", x=1)
            rows.insert(2, lines(other)[0])
        else:
            del rows[2]
        rewrite(log, rows)
        assert not log.verify().ok, change


def test_truncation_is_found_given_an_exported_head(tmp_path):
    log = AuditLog(tmp_path)
    fill(log)
    head = log.head()
    assert log.verify(head).ok
    rewrite(log, lines(log)[:3])
    assert log.verify().ok          # a clean cut cannot be seen without the head...
    result = log.verify(head)       # ...and is with it
    assert not result.ok and "truncated" in result.problems[0]


def test_a_half_written_line_is_reported_and_the_log_goes_on(tmp_path):
    log = AuditLog(tmp_path)
    fill(log, 2)
    with open(log.path, "ab") as handle:
        handle.write(b'{"seq": 3, "ts"')
    log.record("after.crash")
    result = log.verify()
    assert not result.ok and any("not a valid record" in p for p in result.problems)
    assert [r["kind"] for r in log.entries()][-1] == "after.crash"


def test_rotation_keeps_the_chain_and_retention_says_what_it_removed(tmp_path):
    log = AuditLog(tmp_path, max_bytes=400)
    fill(log, 12)
    assert len(log.segments()) > 2
    assert log.verify().ok and log.verify().records == 12
    # retention: old rotated files go, with a record naming the last removed hash
    old = log.segments()[0]
    os.utime(old, (time.time() - 10 * 86400,) * 2)
    log.retention_days = 5
    fill(log, 3)
    assert old not in log.segments()
    kinds = [r["kind"] for r in log.entries()]
    assert "audit.retention" in kinds
    assert log.verify().ok, log.verify().problems
    # removing a file without retention's record is found
    victim = log.segments()[0]
    victim.unlink()
    assert not log.verify().ok


def test_encrypted_records_verify_and_read_only_with_the_key(tmp_path):
    key = os.urandom(32)
    log = AuditLog(tmp_path, cipher=Cipher(key))
    log.record("ai.request", provider="openai", files=["secret_plan.md"])
    text = log.path.read_text()
    assert "secret_plan" not in text and "ai.request" not in text
    assert next(log.entries())["data"]["files"] == ["secret_plan.md"]
    assert AuditLog(tmp_path).verify().ok                       # the chain checks without the key
    wrong = AuditLog(tmp_path, cipher=Cipher(os.urandom(32))).verify()
    assert not wrong.ok and "another data key" in wrong.problems[0]


def test_export_formats(tmp_path):
    from marie.governance import audit_export

    log = AuditLog(tmp_path)
    log.record("ai.request", task="chat", provider="local", model="gemma", endpoint="local", bytes=10,
               files=[{"path": "a.py", "bytes": 10}], redactions=[])
    assert "a.py (10 B)" in audit_export.export(log, "csv")
    data = json.loads(audit_export.export(log, "json"))
    assert data["intact"] and data["records"][0]["kind"] == "ai.request"
    assert "<table>" in audit_export.export(log, "html")


def test_marie_audit_verify_cli(tmp_path):
    env = {"MARIE_HOME": str(tmp_path / "home"), "MARIE_POLICY": str(tmp_path / "none.toml")}
    log = AuditLog(tmp_path / "home" / "data" / "audit")
    fill(log, 3)
    head = log.head()
    ok = run_python("import sys; from marie.cli import main; sys.exit(main(['audit', 'verify', '--head', sys.argv[1]]))",
                    head, env=env)
    assert ok.returncode == 0 and "intact: 3 records" in ok.stdout, ok.stderr
    rewrite(log, lines(log)[:2])
    bad = run_python("import sys; from marie.cli import main; sys.exit(main(['audit', 'verify', '--head', sys.argv[1]]))",
                     head, env=env)
    assert bad.returncode == 1 and "truncated" in bad.stdout


def test_writes_are_audited_with_their_checkpoint(app):
    from marie.workspace.writes import FileChange

    result = app.writes.apply([FileChange.write("a.txt", b"hello\n")], label="test write")
    records = [r for r in app.audit.entries() if r.get("kind") == "files.write" and r["data"]["label"] == "test write"]
    assert records and records[-1]["data"]["written"] == ["a.txt"]
    assert records[-1]["data"]["checkpoint"] == result.checkpoint_id
