"""``marie remote ...``: drive the running MarieIDE window through its automation endpoint.

    marie remote ping                       # is a window running? (its version, folder, pid)
    marie remote open PATH[:LINE[:COL]]     # open a file there
    marie remote commands [--json]          # every command id and title
    marie remote command ID                 # run one (e.g. file.save_all, tests.run_all)
    marie remote state [--json]             # open files, diagnostics, git status
    marie remote events [NAME ...]          # stream events as JSON lines until the window closes

Exit codes: 0 done, 1 the window refused or failed (its message on stderr), 4 no window is running
for this user and display, 5 the endpoint's folder or socket is not private (refused).
"""

from __future__ import annotations

import argparse
import json
import sys


# One line for `marie --help`, which reads it from this file without importing it (cli/__init__.py).
SUMMARY = "drive the running window (open files, run commands, state, events)"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("remote", help=SUMMARY)
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    actions.add_parser("ping", help="is a window running?")
    opening = actions.add_parser("open", help="open PATH[:LINE[:COL]] in the running window")
    opening.add_argument("location")
    listing = actions.add_parser("commands", help="list the window's commands")
    listing.add_argument("--json", action="store_true")
    run_one = actions.add_parser("command", help="run a command by id")
    run_one.add_argument("id")
    state = actions.add_parser("state", help="open files, diagnostics and git status")
    state.add_argument("--json", action="store_true")
    events = actions.add_parser("events", help="stream events as JSON lines")
    events.add_argument("names", nargs="*", help="files_written index_changed git_status diagnostics notice model_state")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from marie.automation.client import Client, NotRunning, RemoteError
    from marie.automation.location import UnsafeLocation

    try:
        with Client() as client:
            return _act(client, args)
    except NotRunning as exc:
        print(f"marie: {exc}", file=sys.stderr)
        return 4
    except UnsafeLocation as exc:
        print(f"marie: refused: {exc}", file=sys.stderr)
        return 5
    except RemoteError as exc:
        print(f"marie: the window said: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _act(client, args: argparse.Namespace) -> int:
    if args.action == "ping":
        info = client.call("ping")
        print(f"MarieIDE {info['version']} on {info['root']} (pid {info['pid']})")
    elif args.action == "open":
        from marie.cli.cmd_open import split_location

        path, line, column = split_location(args.location)
        client.call("open", path=str(path.resolve()), line=line, column=column)
    elif args.action == "commands":
        rows = client.call("commands")
        if args.json:
            print(json.dumps(rows, indent=2))
        else:
            for row in rows:
                print(f"{row['id']:<36} {row['title']}" + (f"  [{row['shortcut']}]" if row.get("shortcut") else ""))
    elif args.action == "command":
        client.call("command", id=args.id)
    elif args.action == "state":
        state = client.call("state")
        if args.json:
            print(json.dumps(state, indent=2))
        else:
            print(f"folder: {state['root']}")
            print(f"current: {state['current'] or '-'}")
            for path in state["open_files"]:
                print(f"open: {path}")
            for path, items in (state.get("diagnostics") or {}).items():
                for d in items if isinstance(items, list) else ():
                    print(f"{path}:{d['line']}:{d['column']}: {d['severity']}: {d['message']}")
            git = state.get("git")
            if git:
                print(f"git: {git['branch'] or '(detached)'}{' (dirty)' if git['dirty'] else ''}, "
                      f"{len(git['files'])} changed files")
    elif args.action == "events":
        for event in client.events(list(args.names)):
            print(json.dumps(event), flush=True)
    return 0
