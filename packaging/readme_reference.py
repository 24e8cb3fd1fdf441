"""Regenerates the README's configuration and CLI references from the code itself:
``python packaging/readme_reference.py`` rewrites the parts between the ``<!-- config-reference -->``
and ``<!-- cli-reference -->`` markers; ``--check`` exits 1 when the README is out of date (a test
runs that, so a new setting or subcommand cannot land undocumented).

The settings come from the comments in ``marie/core/defaults/*.toml`` (the same catalogue the
Settings view shows); the CLI from each subcommand's own argparse help.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def config_reference() -> str:
    sys.path.insert(0, str(ROOT))
    from marie.ui.settings_catalog import catalog  # plain Python: the Settings view's catalogue

    lines: list[str] = []
    area = None
    for doc in catalog():
        if doc.area != area:
            area = doc.area
            lines += ["", f"**{area}** (`marie/core/defaults/{area}.toml`)", "",
                      "| key | default | what it does |", "| --- | --- | --- |"]
        default = json.dumps(doc.default, ensure_ascii=False)
        if len(default) > 60:
            default = default[:57] + "…"
        text = doc.description.replace("|", "\\|") or "—"
        lines.append(f"| `{doc.key}` | `{default.replace('|', '¦')}` | {text} |")
    return "\n".join(lines).strip()


def cli_reference() -> str:
    sys.path.insert(0, str(ROOT))
    from marie.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    lines = ["| command | what it does |", "| --- | --- |"]
    for choice in sub._choices_actions:
        lines.append(f"| `marie {choice.dest}` | {choice.help or ''} |")
    return "\n".join(lines)


def render(text: str) -> str:
    for name, body in (("config-reference", config_reference()), ("cli-reference", cli_reference())):
        pattern = re.compile(rf"(<!-- {name} -->\n)(?:.*?\n)?(<!-- /{name} -->)", re.S)
        if not pattern.search(text):
            raise SystemExit(f"README.md has no <!-- {name} --> ... <!-- /{name} --> markers")
        text = pattern.sub(lambda m: m.group(1) + body + "\n" + m.group(2), text)
    return text


def main(argv: list[str]) -> int:
    current = README.read_text(encoding="utf-8")
    wanted = render(current)
    if "--check" in argv:
        if wanted != current:
            print("README.md's references are out of date: run python packaging/readme_reference.py", file=sys.stderr)
            return 1
        return 0
    README.write_text(wanted, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
