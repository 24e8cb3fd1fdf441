"""``marie checkpoint create|list|diff|restore|verify|gc|pin``: the checkpoint store from the terminal.

Runs inside the workspace folder (or with ``--root``). ``list`` prints one line per checkpoint,
newest first, starting with its id. No Qt here.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from marie.cli.common import add_root_argument, fail, make_app


# One line for `marie --help`, which reads it from this file without importing it (cli/__init__.py).
SUMMARY = "snapshots of the workspace: create, list, diff, restore, verify, gc"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("checkpoint", help=SUMMARY)
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    sub.required = True
    p = sub.add_parser("create", help="take a checkpoint of the whole workspace now")
    p.add_argument("--label", default="manual checkpoint", help="a short name shown in the list")
    p.add_argument("--note", default="", help="a longer note")
    p.add_argument("--pin", action="store_true", help="never remove this checkpoint automatically")
    sub.add_parser("list", help="one line per checkpoint, newest first: id, time, files changed, label")
    p = sub.add_parser("diff", help="what changed between a checkpoint and now (or another checkpoint)")
    p.add_argument("id", nargs="?", default="latest", help="checkpoint id, unique prefix, or 'latest'")
    p.add_argument("id2", nargs="?", default=None, help="compare with this checkpoint instead of the disk")
    p.add_argument("--stat", action="store_true", help="only the list of files")
    p = sub.add_parser("restore", help="put files back as the checkpoint had them (undoable)")
    p.add_argument("id", help="checkpoint id, unique prefix, or 'latest'")
    p.add_argument("--path", action="append", default=None, help="restore only this file or folder (repeatable)")
    sub.add_parser("undo", help="undo the last restore")
    p = sub.add_parser("verify", help="re-hash every stored object and report damage")
    p.add_argument("id", nargs="?", default=None)
    sub.add_parser("gc", help="apply retention and remove unreachable objects")
    p = sub.add_parser("pin", help="pin (or --unpin) a checkpoint so it is never collected")
    p.add_argument("id")
    p.add_argument("--unpin", action="store_true")
    add_root_argument(parser, actions=sub)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from marie.checkpoints.store import CheckpointError
    from marie.text.diff import unified_bytes
    from marie.workspace.writes import WriteError
    from marie.workspace.guard import PathRefused

    root: Path = (getattr(args, "root", None) or Path.cwd()).resolve()
    if not root.is_dir():
        return fail(f"{root} is not a folder")
    app, _dispatcher = make_app(root)
    try:
        cps = app.checkpoints
        action = args.action
        if action == "create":
            cid = cps.create(label=args.label, note=args.note, auto=False)
            if args.pin:
                cps.pin(cid)
            info = cps.info(cid)
            print(f"{cid}  {info.files} files, {info.files_changed} changed since the previous checkpoint")
        elif action == "list":
            infos = cps.list()
            if not infos:
                print(f"no checkpoints yet for {app.root}; take one with `marie checkpoint create`", file=sys.stderr)
            for info in infos:
                kind = ("auto" if info.auto else "manual") + (",pinned" if info.pinned else "")
                print(f"{info.id}  {info.when}  {kind:<13} {info.files_changed:>6} changed  {info.label}"
                      + (f"  -- {info.note}" if info.note else ""))
        elif action == "diff":
            cid = cps.resolve(args.id)
            other = cps.resolve(args.id2) if args.id2 else None
            diffs = cps.diff(cid, other)
            if not diffs:
                print(f"no differences between {cid} and {other or 'the workspace now'}")
            for d in diffs:
                print(f"{d.status:<9} {d.path}" + (f"  ({d.note})" if d.note else ""))
                if args.stat or d.status == "mode":
                    continue
                sys.stdout.write(unified_bytes(d.old, d.new, f"a/{d.path}", f"b/{d.path}"))
        elif action in ("restore", "undo"):
            result = cps.restore(cps.resolve(args.id), args.path) if action == "restore" else cps.undo_last_restore()
            for rel in result.written:
                print(f"restored  {rel}")
            for rel in result.deleted:
                print(f"deleted   {rel}")
            for why in result.skipped:
                print(f"skipped   {why}")
            print(f"{len(result.written)} written, {len(result.deleted)} deleted, {len(result.skipped)} skipped; "
                  f"undo with `marie checkpoint restore {result.safety_checkpoint_id}`")
            return 1 if result.skipped else 0
        elif action == "verify":
            problems = cps.verify(cps.resolve(args.id) if args.id else None)
            for problem in problems:
                print(problem)
            if problems:
                return 1
            print("all checkpoints verified: every object matches its hash")
        elif action == "gc":
            stats = cps.gc()
            print(f"removed {stats['removed_objects']} objects ({stats['freed_bytes']} bytes), "
                  f"{len(stats['dropped_checkpoints'])} checkpoints, {stats['stray_temp_files']} stray temp files; "
                  f"store is {stats['store_bytes']} bytes")
        elif action == "pin":
            cps.pin(cps.resolve(args.id), not args.unpin)
        return 0
    except (CheckpointError, WriteError, PathRefused) as exc:
        return fail(str(exc))
    finally:
        app.close()
