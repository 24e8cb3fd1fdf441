"""``marie audit``: verify the tamper-evident audit log, print its head, export it for a review."""

from __future__ import annotations

import argparse
import sys


# One line for `marie --help`, which reads it from this file without importing it (cli/__init__.py).
SUMMARY = "verify or export the audit log"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("audit", help=SUMMARY)
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    verify = sub.add_parser("verify", help="check the hash chain (edits, reorders, insertions, truncation)")
    verify.add_argument("--head", default="", help='a head exported earlier ("seq:hash"): detects truncation')
    sub.add_parser("head", help='print the newest record as "seq:hash" (keep it elsewhere)')
    export = sub.add_parser("export", help="write the log as CSV, JSON or HTML")
    export.add_argument("--format", choices=("csv", "json", "html"), default="json")
    export.add_argument("-o", "--output", default="-", help="file to write (default: stdout)")
    parser.set_defaults(func=run)


def _log():
    from marie.core import paths
    from marie.core.settings import Settings
    from marie.governance import crypto
    from marie.governance.audit import AuditLog

    settings = Settings(user_file=paths.user_settings_file(), policy_file=paths.policy_file())
    try:
        cipher = crypto.cipher_for(settings)
    except crypto.EncryptionError as exc:
        print(f"note: records stay sealed ({exc})", file=sys.stderr)
        cipher = None
    return AuditLog(paths.data_dir() / "audit", cipher=cipher)


def run(args: argparse.Namespace) -> int:
    from marie.governance import audit_export

    log = _log()
    if args.action == "verify":
        result = log.verify(args.head)
        print(result)
        return 0 if result.ok else 1
    if args.action == "head":
        print(log.head())
        return 0
    text = audit_export.export(log, args.format)
    from marie.cli.common import write_output

    write_output(text, args.output)
    return 0
