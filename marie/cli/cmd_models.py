"""``marie models list|add|remove|info|key``: the local GGUF models and provider keys."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from marie.cli.common import fail


# One line for `marie --help`, which reads it from this file without importing it (cli/__init__.py).
SUMMARY = "list, add, remove and inspect local models"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("models", help=SUMMARY)
    sub = parser.add_subparsers(dest="models_command", metavar="ACTION")
    p = sub.add_parser("list", help="the models MarieIDE knows")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run_list)
    p = sub.add_parser("add", help="register a GGUF file (it stays where it is)")
    p.add_argument("path", type=Path)
    p.add_argument("--name", default=None, help="the id to use (default: from the file name)")
    p.set_defaults(func=run_add)
    p = sub.add_parser("remove", help="forget a model (the file is not deleted)")
    p.add_argument("name")
    p.set_defaults(func=run_remove)
    p = sub.add_parser("info", help="what a model file says: name, parameters, quantization, context, template")
    p.add_argument("name", nargs="?", default="gemma3-270m", help="a model id or a GGUF path")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run_info)
    p = sub.add_parser("key", help="store a provider's API key in the system keyring (read from stdin)")
    p.add_argument("provider")
    p.set_defaults(func=run_key)
    parser.set_defaults(func=run_list, json=False)


def run_list(args: argparse.Namespace) -> int:
    from marie.ai import models

    entries = models.list_models()
    if getattr(args, "json", False):
        print(json.dumps([models.entry_dict(e) for e in entries], indent=2))
        return 0
    for e in entries:
        exists = Path(e.path).exists()
        note = " (built in)" if e.builtin else ""
        if not exists:
            note += " (not prepared yet; it is written on first use)" if e.builtin else " (FILE MISSING)"
        print(f"{e.id:<28} {e.path}{note}")
    return 0


def run_add(args: argparse.Namespace) -> int:
    from marie.ai import errors, models

    try:
        entry = models.add_model(args.path, args.name)
    except errors.AIError as exc:
        return fail(str(exc))
    print(f"added {entry.id}: {entry.path}")
    return 0


def run_remove(args: argparse.Namespace) -> int:
    from marie.ai import errors, models

    try:
        entry = models.remove_model(args.name)
    except (errors.AIError, ValueError) as exc:
        return fail(str(exc))
    print(f"removed {entry.id} (the file {entry.path} was left in place)")
    return 0


def run_info(args: argparse.Namespace) -> int:
    from marie.ai import errors, models

    try:
        summary = models.model_info(args.name).summary()
    except (errors.AIError, OSError) as exc:
        return fail(str(exc))
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    template = summary.pop("chat_template")
    for key, value in summary.items():
        print(f"{key:<16} {value}")
    first = template.splitlines()[0][:70] + " ..." if template else "(none: MarieIDE uses the model family's format)"
    print(f"{'chat_template':<16} {first}")
    return 0


def run_key(args: argparse.Namespace) -> int:
    from marie.ai import keys

    if not keys.keyring_available():
        return fail(keys.where_to_put(args.provider))
    import getpass  # here: `marie --help` imports every subcommand module

    key = getpass.getpass(f"API key for {args.provider}: ") if sys.stdin.isatty() else sys.stdin.readline().strip()
    if not key:
        return fail("no key given")
    keys.set_key(args.provider, key)
    print(f"stored the {args.provider} key in the system keyring")
    return 0
