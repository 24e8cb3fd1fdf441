"""``marie compose "instruction"``: ask the model for edits and print them as a unified diff; with
``--apply`` write them through the same checks as the window (path safety, checkpoint, atomic write,
three-way merge). No Qt here."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from marie.cli.common import add_root_argument, fail, make_app


# One line for `marie --help`, which reads it from this file without importing it (cli/__init__.py).
SUMMARY = "propose (and optionally apply) AI edits as a unified diff"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("compose", help=SUMMARY)
    parser.add_argument("instruction", help="what to change; @file:path, @folder:path, @symbol:Name, "
                                            "@git-diff and @problems attach context")
    parser.add_argument("--file", "-f", action="append", default=[], metavar="PATH",
                        help="a file the model may edit (repeatable)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--dry-run", action="store_true", help="only print the diff (the default)")
    mode.add_argument("--apply", action="store_true", help="apply the change set (checkpointed; undo with "
                                                           "`marie checkpoint restore ID`)")
    parser.add_argument("--format", default=None, help="edit format: search_replace, udiff, whole (default: per model)")
    parser.add_argument("--model", default=None, help="provider[:model] for this request (default: the composer route)")
    parser.add_argument("--plan", action="store_true", help="print a plan only (nothing is edited)")
    parser.add_argument("--answer-file", type=Path, default=None,
                        help="use a saved model answer instead of asking the model (for replays and scripts)")
    parser.add_argument("--max-tokens", type=int, default=None, help="tokens allowed for the answer")
    parser.add_argument("--stream", action="store_true", help="show the model's answer on stderr as it arrives")
    parser.add_argument("--show-context", action="store_true",
                        help="print the context given to the model (report, repo map, files) on stderr")
    add_root_argument(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from marie.composer.context import ContextRequest
    from marie.composer.errors import ComposerError, ConflictError
    from marie.workspace.guard import PathRefused

    app, _dispatcher = make_app(args.root)
    try:
        composer = app.composer
        request = ContextRequest(args.instruction, files=[f.replace("\\", "/") for f in args.file])
        if args.answer_file is None or args.show_context:
            # The CLI has no live index: scan now (blocking) so the repo map and @symbol mentions
            # see the workspace; symbols are parsed on demand for the files the map takes.
            app.index.scan()
        try:
            if args.show_context:
                context = composer.build_context(request, model=args.model, max_tokens=args.max_tokens)
                print(context.report() + "\n\n" + context.render(), file=sys.stderr)
            if args.plan:
                print(composer.plan(args.instruction, request=request, model=args.model,
                                    on_text=_streamer(args.stream)))
                return 0
            if args.answer_file is not None:
                try:
                    answer = args.answer_file.read_text(encoding="utf-8")
                except OSError as exc:
                    return fail(f"cannot read {args.answer_file}: {exc.strerror}")
                changeset = composer.propose_from_answer(args.instruction, answer, args.format or "search_replace")
                tokens = ""
            else:
                proposal = composer.propose(args.instruction, request=request, fmt=args.format, model=args.model,
                                            max_tokens=args.max_tokens, on_text=_streamer(args.stream))
                changeset = proposal.changeset
                tokens = (f"{proposal.model}: {proposal.prompt_tokens} prompt + {proposal.completion_tokens} "
                          f"answer tokens, ${proposal.cost_usd:.4f}, {len(proposal.attempts)} attempt(s)")
                for label, why in proposal.context.left_out if proposal.context else []:
                    print(f"marie: left out of the prompt: {label} ({why})", file=sys.stderr)
        except (ComposerError, ValueError) as exc:
            return fail(str(exc))
        except Exception as exc:  # model errors (AIError) carry user-facing messages
            if type(exc).__module__.startswith("marie.ai"):
                return fail(str(exc))
            raise
        sys.stdout.write(changeset.unified_diff())
        if tokens:
            print(f"marie: {tokens}", file=sys.stderr)
        if changeset.files:
            print(f"marie: {changeset.summary()}", file=sys.stderr)
        if changeset.errors:
            for error in changeset.errors:
                print(f"marie: {error}", file=sys.stderr)
            return fail("the proposal has errors; nothing was applied" if args.apply else "the proposal has errors")
        if not args.apply:
            return 0
        try:
            result = composer.apply(changeset)
        except ConflictError as exc:
            for path, text in exc.conflicts.items():
                print(f"--- conflict in {path} ---\n{text}", file=sys.stderr)
            return fail(str(exc), 3)
        except (ComposerError, PathRefused) as exc:
            return fail(str(exc))
        except Exception as exc:
            if type(exc).__name__ == "WriteError":
                return fail(str(exc))
            raise
        merged = f"; merged with changes made since: {', '.join(result.merged)}" if result.merged else ""
        print(f"marie: applied {len(result.written)} written, {len(result.deleted)} deleted; "
              f"undo with: marie checkpoint restore {result.checkpoint_id}{merged}", file=sys.stderr)
        return 0
    finally:
        app.close()


def _streamer(enabled: bool):
    if not enabled:
        return None

    def show(piece: str) -> None:
        sys.stderr.write(piece)
        sys.stderr.flush()
    return show
