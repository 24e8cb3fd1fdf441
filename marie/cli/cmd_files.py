"""``marie files mv|rm|mkdir|touch``: file operations from the terminal, through the one write path.

Each operation is checkpointed first (a folder's ignored files such as ``.env`` included) and can be
undone with ``marie checkpoint restore <id>``; the id is printed. Paths are relative to the
workspace (``--root``, default the current folder). No Qt here.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from marie.cli.common import add_root_argument, fail, make_app


# One line for `marie --help`, which reads it from this file without importing it (cli/__init__.py).
SUMMARY = "move, delete and create files and folders (checkpointed, undoable)"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("files", help=SUMMARY)
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    sub.required = True
    p = sub.add_parser("mv", help="rename or move a file or folder (ignored files inside go along)")
    p.add_argument("src")
    p.add_argument("dst", help="the new path, or an existing folder to move into")
    p = sub.add_parser("rm", help="delete a file or a folder with everything in it")
    p.add_argument("paths", nargs="+")
    p = sub.add_parser("mkdir", help="create a folder (and its parents)")
    p.add_argument("path")
    p = sub.add_parser("touch", help="create an empty file")
    p.add_argument("path")
    add_root_argument(parser, actions=sub)
    parser.set_defaults(func=run)


def _relative(root: Path, given: str) -> str:
    """An absolute path inside the workspace made relative; anything else as given (the path guard
    refuses what is outside, with the reason)."""
    path = Path(given)
    if path.is_absolute():
        try:
            return path.resolve().relative_to(root).as_posix()
        except ValueError:
            return given
    return given


def run(args: argparse.Namespace) -> int:
    from marie.workspace.fileops import FileOpError
    from marie.workspace.guard import PathRefused
    from marie.workspace.writes import WriteError

    root: Path = (getattr(args, "root", None) or Path.cwd()).resolve()
    if not root.is_dir():
        return fail(f"{root} is not a folder")
    app, _dispatcher = make_app(root)
    def rel(given: str) -> str:
        return _relative(root, given)

    try:
        ops = app.fileops
        if args.action == "mv":
            results = [ops.rename(rel(args.src), rel(args.dst), into_folder=True, source="cli")]
        elif args.action == "rm":
            results = [ops.delete(rel(p), source="cli") for p in args.paths]
        elif args.action == "mkdir":
            results = [ops.create_folder(rel(args.path), source="cli")]
        else:
            results = [ops.create_file(rel(args.path), source="cli")]
    except (FileOpError, PathRefused, WriteError, OSError) as exc:
        return fail(str(exc))
    finally:
        app.close()
    for result in results:
        undo = f" (undo: marie checkpoint restore {result.checkpoint_id})" if result.checkpoint_id else ""
        print(f"{result.label}: {len(result.written)} written, {len(result.deleted)} deleted{undo}")
    return 0
