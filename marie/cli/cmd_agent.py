"""``marie agent "task"``: the agent loop without the window. Steps go to stderr as they happen
(command output too), the final diff to stdout, so it runs in CI and scripts. Approvals: rules in
the settings, ``--yes-to PATTERN`` (a permission rule approved for this run), and, on a terminal,
a prompt; without a terminal anything still asked is declined. No Qt here."""

from __future__ import annotations

import argparse
import sys

from marie.cli.common import add_root_argument, fail, make_app


# One line for `marie --help`, which reads it from this file without importing it (cli/__init__.py).
SUMMARY = "let the AI agent work on a task (tools, edits, commands)"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("agent", help=SUMMARY)
    parser.add_argument("task", nargs="?", default="", help="what to do (with --continue: the follow-up)")
    parser.add_argument("--mode", choices=("ask", "edits", "plan", "auto"), default=None,
                        help="ask (default: ask before edits and commands), edits (accept edits), "
                             "plan (read-only), auto (ask nothing; the admin policy may forbid it)")
    parser.add_argument("--model", default=None, help="provider[:model] (default: the agent route in [ai.routing])")
    parser.add_argument("--max-steps", type=int, default=None, help="model turns allowed")
    parser.add_argument("--yes-to", action="append", default=[], metavar="PATTERN",
                        help='approve calls matching a rule for this run, e.g. "edit(src/**)" or '
                             '"run_command(pytest)" (repeatable)')
    parser.add_argument("--apply", action="store_true",
                        help="write the change set at the end (checkpointed; the undo command is printed)")
    parser.add_argument("--continue", dest="session", default=None, metavar="SESSION",
                        help="continue a saved session (\"latest\" for the last one)")
    parser.add_argument("--export", default=None, metavar="SESSION", help="print a session as Markdown and exit")
    parser.add_argument("--list", action="store_true", help="list the saved sessions and exit")
    add_root_argument(parser)
    parser.set_defaults(func=run)


def _approver(interactive: bool):
    def approve(request) -> str:
        if not interactive:
            print(f"agent: declined {request.tool}({request.subject}): not approved (use --yes-to or a rule)",
                  file=sys.stderr)
            return "deny"
        print(f"agent: allow {request.tool}: {request.subject}? [y]es once / [s]ession / [r]ule / [N]o ",
              end="", file=sys.stderr, flush=True)
        answer = sys.stdin.readline().strip().lower()[:1]
        return {"y": "once", "s": "session", "r": "rule"}.get(answer, "deny")
    return approve


def _asker(interactive: bool):
    def ask(question: str, options: tuple[str, ...]) -> str:
        if not interactive:
            return "(no answer: the agent runs without a terminal; decide yourself)"
        choices = f" [{' / '.join(options)}]" if options else ""
        print(f"agent asks: {question}{choices} ", end="", file=sys.stderr, flush=True)
        return sys.stdin.readline().strip()
    return ask


def _printer(app):
    from marie.agent import events as ev
    from marie.agent.step_text import describe

    def publish(event: object) -> None:
        if isinstance(event, ev.CommandOutput):
            sys.stderr.write(event.text)
            sys.stderr.flush()
        else:
            line = describe(event)
            if line:
                print(line, file=sys.stderr, flush=True)
        app.events.publish(event)
    return publish


def run(args: argparse.Namespace) -> int:
    from marie.agent.permissions import ModeRefused, Rule
    from marie.agent.service import agent_service

    app, _dispatcher = make_app(args.root)
    try:
        service = agent_service(app)
        if args.list:
            for s in service.store.list():
                print(f"{s.id}  {s.finished or 'open':10}  {s.task[:70]}")
            return 0
        if args.export:
            session = service.store.latest() if args.export == "latest" else service.store.load(args.export)
            if session is None:
                return fail("no saved agent sessions")
            sys.stdout.write(session.to_markdown())
            return 0
        if not args.task and not args.session:
            return fail("give a task: marie agent \"what to do\"")
        interactive = sys.stdin.isatty() and sys.stderr.isatty()
        options = dict(max_steps=args.max_steps, approver=_approver(interactive), asker=_asker(interactive),
                       publish=_printer(app))
        try:
            if args.session:
                sid = args.session
                if sid == "latest":
                    latest = service.store.latest()
                    if latest is None:
                        return fail("no saved agent sessions")
                    sid = latest.id
                agent = service.reopen(sid, model=args.model, **options)
            else:
                agent = service.start_run(args.task, mode=args.mode, model=args.model, **options)
            for pattern in args.yes_to:
                agent.permissions.approve_for_session(Rule.parse(pattern))
        except (ModeRefused, ValueError, KeyError) as exc:
            return fail(str(exc).strip("'\""))
        result: list = []
        import threading  # here: `marie --help` imports every subcommand module

        worker = threading.Thread(target=lambda: result.append(agent.run(args.task if args.session else None)),
                                  name="marie-agent", daemon=True)
        worker.start()
        try:
            while worker.is_alive():
                worker.join(0.2)
        except KeyboardInterrupt:
            agent.cancel()
            worker.join(10)
        session = result[0] if result else agent.session
        sys.stdout.write(agent.changes.unified_diff())
        print(f"agent: session {session.id} (marie agent --export {session.id})", file=sys.stderr)
        if args.apply and agent.changes.pending_paths():
            try:
                applied = agent.apply()
            except Exception as exc:  # conflicts and refused writes carry user-facing messages
                return fail(f"the change set was not applied: {exc}", 3)
            print(f"agent: applied {len(applied.written)} written, {len(applied.deleted)} deleted; undo with: "
                  f"marie checkpoint restore {applied.checkpoint_id}", file=sys.stderr)
        if session.finished == "answered":
            if session.answer:
                print(f"agent: {session.answer.strip()}", file=sys.stderr)
            return 0
        if session.finished == "cancelled":
            return 130
        if session.finished == "error":
            return fail(agent.last_error or "the agent failed")
        return 2
    finally:
        app.close()
