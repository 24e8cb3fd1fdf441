"""``marie git status|diff|stage|unstage|commit|log|branch|stash|merge|pull|rebase``: the git service from the terminal.

Every command runs on the app's git worker (``app.git.*_sync``), exactly as the window does.
No Qt and no pygit2 import at module level (the CLI must start fast and Qt-free).
"""

from __future__ import annotations

import argparse
import sys
import time

from marie.cli.common import add_root_argument, fail, make_app


# One line for `marie --help`, which reads it from this file without importing it (cli/__init__.py).
SUMMARY = "git status, diffs, staging, commits, history and branches"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("git", help=SUMMARY)
    sub = parser.add_subparsers(dest="git_command", metavar="ACTION")
    sub.required = True

    p = sub.add_parser("status", help="branch and changed files (like `git status --short --branch`)")
    p.add_argument("--json", action="store_true", help="branch, upstream, ahead/behind and files as JSON")
    p.set_defaults(git_func=_status)

    p = sub.add_parser("diff", help="unified diff of the working tree (or the index with --cached)")
    p.add_argument("--cached", "--staged", action="store_true", dest="cached", help="index vs HEAD")
    p.add_argument("--commit", help="show this commit and its diff instead")
    p.add_argument("paths", nargs="*")
    p.set_defaults(git_func=_diff)

    p = sub.add_parser("stage", help="stage files (or only some lines with --lines)")
    p.add_argument("paths", nargs="*")
    p.add_argument("--all", action="store_true", help="stage every change, untracked files too")
    p.add_argument("--lines", help="with one path: stage only changes on these new-file lines, e.g. 3-7")
    p.set_defaults(git_func=_stage)

    p = sub.add_parser("unstage", help="unstage files")
    p.add_argument("paths", nargs="+")
    p.set_defaults(git_func=_unstage)

    p = sub.add_parser("commit", help="commit the staged changes")
    p.add_argument("-m", "--message", required=True)
    p.add_argument("--amend", action="store_true")
    p.add_argument("-s", "--signoff", action="store_true")
    p.add_argument("--allow-empty", action="store_true")
    p.add_argument("--no-verify", action="store_true", help="skip the pre-commit and commit-msg hooks")
    p.set_defaults(git_func=_commit)

    p = sub.add_parser("log", help="history with a graph")
    p.add_argument("-n", "--limit", type=int, default=20)
    p.add_argument("path", nargs="?")
    p.set_defaults(git_func=_log)

    p = sub.add_parser("branch", help="list, create (NAME), switch (-s NAME), rename (-m OLD NEW), delete (-d NAME)")
    p.add_argument("names", nargs="*")
    p.add_argument("-s", "--switch", action="store_true", help="switch to NAME (creating it with -c)")
    p.add_argument("-c", "--create", action="store_true")
    p.add_argument("-m", "--rename", action="store_true")
    p.add_argument("-d", "--delete", action="store_true")
    p.add_argument("-D", "--force-delete", action="store_true")
    p.add_argument("--stash", action="store_true", help="stash local changes before switching")
    p.set_defaults(git_func=_branch)

    p = sub.add_parser("stash", help="stash save [-m MESSAGE] [-u] | list | apply [N] | pop [N] | drop [N]")
    p.add_argument("action", nargs="?", default="save", choices=("save", "list", "apply", "pop", "drop"))
    p.add_argument("index", nargs="?", type=int, default=0, help="which stash (0 = the newest)")
    p.add_argument("-m", "--message", default="")
    p.add_argument("-u", "--include-untracked", action="store_true")
    p.set_defaults(git_func=_stash)

    p = sub.add_parser("merge", help="merge BRANCH into the current branch (conflicts are listed)")
    p.add_argument("branch")
    p.set_defaults(git_func=_merge)

    p = sub.add_parser("pull", help="fetch, then fast-forward, merge or rebase (pull.rebase or --rebase)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--rebase", action="store_true", default=None, help="replay local commits on upstream")
    mode.add_argument("--no-rebase", action="store_false", dest="rebase", help="merge upstream in")
    p.set_defaults(git_func=_pull)

    p = sub.add_parser("rebase", help="--continue or --abort a pull's rebase stopped on a conflict")
    step = p.add_mutually_exclusive_group(required=True)
    step.add_argument("--continue", action="store_const", const="continue", dest="step",
                      help="commit the staged resolution and replay the rest")
    step.add_argument("--abort", action="store_const", const="abort", dest="step",
                      help="go back to the branch, index and files as before the pull")
    p.set_defaults(git_func=_rebase)
    add_root_argument(parser, actions=sub)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    app, _dispatcher = make_app(args.root)
    try:
        from marie.git.model import GitError

        try:
            return int(args.git_func(app, args) or 0)
        except GitError as exc:
            return fail(str(exc))
    finally:
        app.close()


def _status(app, args) -> int:
    from marie.git import status_process

    status_process.in_process = True  # one status, then exit: no helper process to start
    status = app.git.status_sync()
    if getattr(args, "json", False):
        import json

        print(json.dumps({"branch": status.branch, "head": status.head, "detached": status.detached,
                          "upstream": status.upstream, "ahead": status.ahead, "behind": status.behind,
                          "state": status.state, "files": [
                              {"path": f.path, "code": f.short(), "staged": f.staged, "unstaged": f.unstaged,
                               "untracked": f.untracked, "conflicted": f.conflicted}
                              for f in sorted(status.files.values(), key=lambda f: f.path)]}))
        return 0
    upstream = f"...{status.upstream}" if status.upstream else ""
    print(f"## {status.branch_label()}{upstream}" + (f" [{status.state} in progress]" if status.state else ""))
    for entry in sorted(status.files.values(), key=lambda f: f.path):
        print(f"{entry.short()} {entry.path}")
    return 0


def _diff(app, args) -> int:
    if args.commit:
        info, diffs = app.git.commit_diff_sync(args.commit)
        print(f"commit {info.id}\nAuthor: {info.author} <{info.email}>\nDate:   {time.ctime(info.time)}\n")
        print("".join("    " + line + "\n" for line in info.message.rstrip("\n").splitlines()))
    else:
        diffs = app.git.diff_sync(staged=args.cached, paths=[_repo_path(app, p) for p in args.paths])
    sys.stdout.write("".join(d.patch for d in diffs))
    return 0


def _repo_path(app, path: str) -> str:
    info = app.git.info_sync()
    return info.prefix + path if info.prefix else path


def _stage(app, args) -> int:
    if args.all:
        done = app.git.stage_all_sync()
    elif args.lines:
        if len(args.paths) != 1:
            return fail("--lines needs exactly one path")
        from marie.git.model import keys_in_new_range

        first, _, last = args.lines.partition("-")
        path = _repo_path(app, args.paths[0])
        hunks = app.git.file_diff_sync(path).hunks
        keys = keys_in_new_range(hunks, int(first), int(last or first))
        if not keys:
            return fail(f"no changes on lines {args.lines} of {args.paths[0]}")
        app.git.stage_lines_sync(path, sorted(keys))
        done = [path]
    elif args.paths:
        done = app.git.stage_sync([_repo_path(app, p) for p in args.paths])
    else:
        return fail("name the files to stage, or use --all")
    for path in done:
        print(f"staged {path}")
    return 0


def _unstage(app, args) -> int:
    for path in app.git.unstage_sync([_repo_path(app, p) for p in args.paths]):
        print(f"unstaged {path}")
    return 0


def _commit(app, args) -> int:
    from marie.git.model import HookFailed
    from marie.governance import precommit

    ok, message = precommit.check(app.root, app.governance.policy.secrets)   # secret check (issue 16)
    if message:
        print(message, file=sys.stderr)
    if not ok:
        return 1
    try:
        result = app.git.commit_sync(args.message, amend=args.amend, sign_off=args.signoff,
                                     allow_empty=args.allow_empty, run_hooks=not args.no_verify)
    except HookFailed as exc:
        if exc.output:
            sys.stderr.write(exc.output if exc.output.endswith("\n") else exc.output + "\n")
        return fail(str(exc))
    if result.hook_output:
        sys.stdout.write(result.hook_output)
    print(f"[{result.id}] {result.summary}")
    return 0


def _log(app, args) -> int:
    path = _repo_path(app, args.path) if args.path else None
    for entry in app.git.log_sync(limit=args.limit, path=path):
        graph = "".join("*" if i == entry.column else "|" for i in range(entry.lanes))
        refs = f" ({', '.join(entry.refs)})" if entry.refs else ""
        c = entry.commit
        print(f"{graph} {c.short}{refs} {c.summary} — {c.author}, {time.strftime('%Y-%m-%d', time.localtime(c.time))}")
    return 0


def _branch(app, args) -> int:
    git = app.git
    names = args.names
    if args.rename:
        if len(names) != 2:
            return fail("rename needs OLD and NEW names")
        git.rename_branch_sync(*names)
        print(f"renamed {names[0]} to {names[1]}")
    elif args.delete or args.force_delete:
        for name in names:
            git.delete_branch_sync(name, force=args.force_delete)
            print(f"deleted {name}")
    elif args.switch:
        if len(names) != 1:
            return fail("switch needs one branch name")
        if args.create:
            git.create_branch_sync(names[0])
        print(f"switched to {git.switch_sync(names[0], stash=args.stash)}")
    elif names:
        for name in names:
            git.create_branch_sync(name)
            print(f"created {name}")
    else:
        for branch in git.branches_sync():
            mark = "*" if branch.current else " "
            track = f" [{branch.upstream}: ahead {branch.ahead}, behind {branch.behind}]" if branch.upstream else ""
            print(f"{mark} {branch.name} {branch.target}{track}")
    return 0


def _stash(app, args) -> int:
    git = app.git
    if args.action == "save":
        info = git.stash_save_sync(args.message, include_untracked=args.include_untracked)
        print(f"saved stash@{{{info.index}}}: {info.message}")
    elif args.action == "list":
        for info in git.stashes_sync():
            print(f"stash@{{{info.index}}} {info.commit} {info.message}")
    else:
        getattr(git, f"stash_{args.action}_sync")(args.index)
        verb = {"apply": "applied", "pop": "popped", "drop": "dropped"}[args.action]
        print(f"{verb} stash@{{{args.index}}}")
    return 0


def _merge(app, args) -> int:
    return _report_outcome(app.git.merge_sync(args.branch))


def _report_outcome(result) -> int:
    """Print a merge, pull or rebase outcome and, on conflicts, the files and the way on (exit 1)."""
    print(result.describe())
    if result.kind == "rebase-conflicts":
        for path in result.conflicts:
            print(f"CONFLICT {path}")
        print("resolve the conflicts, stage the files (`marie git stage PATH`), then `marie git rebase --continue`"
              " (or `marie git rebase --abort`)", file=sys.stderr)
        return 1
    if result.kind == "conflicts":
        for path in result.conflicts:
            print(f"CONFLICT {path}")
        print("resolve the conflicts, stage the files (`marie git stage PATH`), then `marie git commit -m ...`",
              file=sys.stderr)
        return 1
    return 0


def _pull(app, args) -> int:
    return _report_outcome(app.git.pull_sync(rebase=args.rebase))


def _rebase(app, args) -> int:
    result = app.git.rebase_continue_sync() if args.step == "continue" else app.git.rebase_abort_sync()
    return _report_outcome(result)
