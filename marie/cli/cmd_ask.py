"""``marie ask "prompt"``: stream a model's answer to stdout (the default local model, no setup needed)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from marie.cli.common import add_root_argument, fail, make_app


# One line for `marie --help`, which reads it from this file without importing it (cli/__init__.py).
SUMMARY = "ask a model; the answer streams to stdout"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("ask", help=SUMMARY)
    parser.add_argument("prompt", nargs="?", default=None, help="the question (default: read stdin)")
    parser.add_argument("--task", default="chat", choices=("chat", "composer", "commit_message"),
                        help="which routing entry to use (default: chat)")
    parser.add_argument("--system", default="", help="a system prompt")
    parser.add_argument("--max-tokens", type=int, default=256)
    parser.add_argument("--temperature", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--grammar", type=Path, default=None, help="a GBNF grammar file constraining the answer")
    parser.add_argument("--json-schema", type=Path, default=None, help="a JSON schema file constraining the answer")
    parser.add_argument("--stats", action="store_true", help="print tokens, latency and provider to stderr")
    parser.add_argument("--stream", action=argparse.BooleanOptionalAction, default=True,
                        help="stream the answer as it is generated, with the prompt-reading progress on "
                             "stderr (default); --no-stream prints it once complete")
    add_root_argument(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from marie.ai import errors
    from marie.ai.types import ChatRequest, Message
    from marie.core.event_types import ModelState, Notice
    from marie.core.tasks import Cancelled, CancelToken

    prompt = args.prompt if args.prompt is not None else sys.stdin.read()
    if not prompt.strip():
        return fail("nothing to ask: give a prompt or pipe one on stdin")
    messages = ([Message("system", args.system)] if args.system else []) + [Message("user", prompt)]
    request = ChatRequest(messages, max_tokens=args.max_tokens, temperature=args.temperature, seed=args.seed)
    try:
        if args.grammar:
            request.grammar = args.grammar.read_text(encoding="utf-8")
        if args.json_schema:
            request.json_schema = json.loads(args.json_schema.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return fail(f"cannot read the grammar or schema: {exc}")

    app, dispatcher = make_app(args.root)
    app.events.on(Notice, lambda event: print(f"marie: {event.message}", file=sys.stderr))
    shown = [False]

    def on_state(event: ModelState) -> None:
        if event.state == "loading" and not shown[0]:
            shown[0] = True
            print(f"marie: loading {event.model}...", file=sys.stderr)
        elif event.state in ("crashed", "error") and event.detail.get("message"):
            print(f"marie: {event.detail['message']}", file=sys.stderr)

    app.events.on(ModelState, on_state)
    token = CancelToken()

    if args.stream:
        request.progress = PromptProgress(sys.stderr)
    progress = request.progress

    def write(piece: str) -> None:
        if progress is not None:
            progress.finish()
        dispatcher.drain()
        sys.stdout.write(piece)
        sys.stdout.flush()

    try:
        completion = app.ai.complete(args.task, request, token=token, on_text=write if args.stream else None)
        if not args.stream:
            sys.stdout.write(completion.text)
    except KeyboardInterrupt:
        token.cancel()
        print("\nmarie: cancelled", file=sys.stderr)
        return 130
    except Cancelled:
        return 130
    except errors.AIError as exc:
        dispatcher.drain()
        return fail(str(exc))
    finally:
        dispatcher.drain()
        app.close()
    if not completion.text.endswith("\n"):
        sys.stdout.write("\n")
    for note in completion.notes:
        print(f"marie: {note}", file=sys.stderr)
    if args.stats:
        u = completion.usage
        writes = f" cache_write={u.cache_write_tokens}" if u.cache_write_tokens else ""
        print(f"marie: {completion.provider}:{completion.model} prompt={u.prompt_tokens} cached={u.cached_tokens}{writes} "
              f"output={u.completion_tokens} {u.latency_s:.2f}s ${u.cost_usd:.4f}", file=sys.stderr)
    return 0


class PromptProgress:
    """Prints "reading the prompt 512/1,856 tokens" to stderr while a local model reads a long prompt.

    Called on the provider's reader thread. On a terminal the line is rewritten in place; in a log,
    a line at most every second, so a long wait is visible without flooding it.
    """

    def __init__(self, stream) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.last = 0.0
        self.shown = False
        self.done = False

    def __call__(self, done: int, total: int) -> None:
        import time

        # Short prompts take well under a second: no progress line for them.
        if self.done or total < 256 or done >= total:
            return
        now = time.monotonic()
        if not self.tty and now - self.last < 1.0:
            return
        self.last = now
        text = f"marie: reading the prompt {done:,}/{total:,} tokens"
        if self.tty:
            self.stream.write("\r" + text)
        else:
            self.stream.write(text + "\n")
        self.stream.flush()
        self.shown = True

    def finish(self) -> None:
        """The first token arrived: end the progress line (main thread)."""
        if self.shown and self.tty and not self.done:
            self.stream.write("\n")
            self.stream.flush()
        self.done = True
