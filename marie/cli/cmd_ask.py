"""``marie ask "prompt"``: stream a model's answer to stdout (the default local model, no setup needed)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from marie.cli.common import add_root_argument, fail, make_app


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("ask", help="ask a model; the answer streams to stdout")
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
    add_root_argument(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from marie.ai import errors
    from marie.ai.service import MODEL_STATE
    from marie.ai.types import ChatRequest, Message
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
    app.events.subscribe("notice", lambda message, level="info": print(f"marie: {message}", file=sys.stderr))
    shown = [False]

    def on_state(state: str, model: str, detail: dict) -> None:
        if state == "loading" and not shown[0]:
            shown[0] = True
            print(f"marie: loading {model}...", file=sys.stderr)

    app.events.subscribe(MODEL_STATE, on_state)
    token = CancelToken()

    def write(piece: str) -> None:
        dispatcher.drain()
        sys.stdout.write(piece)
        sys.stdout.flush()

    try:
        completion = app.ai.complete(args.task, request, token=token, on_text=write)
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
    if args.stats:
        u = completion.usage
        writes = f" cache_write={u.cache_write_tokens}" if u.cache_write_tokens else ""
        print(f"marie: {completion.provider}:{completion.model} prompt={u.prompt_tokens} cached={u.cached_tokens}{writes} "
              f"output={u.completion_tokens} {u.latency_s:.2f}s ${u.cost_usd:.4f}", file=sys.stderr)
    return 0
