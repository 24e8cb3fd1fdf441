"""``marie policy show``: the effective governance policy and where each value came from."""

from __future__ import annotations

import argparse
import json


# One line for `marie --help`, which reads it from this file without importing it (cli/__init__.py).
SUMMARY = "show the effective admin policy"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("policy", help=SUMMARY)
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    show = sub.add_parser("show", help="print every control, its value and where it came from")
    show.add_argument("--json", action="store_true", help="machine-readable output")
    show.add_argument("path", nargs="?", default=".", help="workspace (its project settings count)")
    parser.set_defaults(func=run, action="show", json=False, path=".")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from marie.core import paths
    from marie.core.settings import Settings
    from marie.governance import policy as policy_mod

    root = Path(args.path).resolve()
    settings = Settings(user_file=paths.user_settings_file(), project_file=paths.project_settings_file(root),
                        policy_file=paths.policy_file())
    policy = policy_mod.load(settings)
    if args.json:
        print(json.dumps({"policy_file": policy.policy_file, "strict": policy.strict, "problem": policy.problem,
                          "values": [{"key": k, "value": v, "from": w} for k, v, w in policy.rows()]}, indent=2))
        return 0
    print(f"policy file: {policy.policy_file or '(none found: ' + ', '.join(map(str, policy_mod.policy_candidates())) + ')'}")
    if policy.problem:
        print(f"STRICT MODE: {policy.problem}")
    width = max(len(k) for k, _, _ in policy.rows())
    for key, value, where in policy.rows():
        print(f"{key:<{width}}  {json.dumps(value):<28}  {where}")
    return 0
