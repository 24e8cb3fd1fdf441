"""Run the benchmarks and write their figures to a JSON file.

Each ``bench/bench_*.py`` defines ``run(ctx) -> dict``; ``ctx`` gives a scratch folder, the shared
100k-file corpus (made once with ../shared/bench/make_corpus.py and reused) and options. Figures are
ratios against a peer measured in the same run (rg, git, frizbee, raw llama-cpp-python ...), never
asserts. Usage: ``python bench/run.py --out bench/results.json [--only index,git] [--files 100000]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import platform
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CORPUS_SCRIPT = ROOT.parent / "shared" / "bench" / "make_corpus.py"


@dataclass
class BenchContext:
    scratch: Path
    files: int
    cache: Path
    options: dict = field(default_factory=dict)

    def corpus(self, git: bool = False) -> Path:
        """The standard tree (``--files`` files), generated once per cache folder."""
        dest = self.cache / f"corpus-{self.files}{'-git' if git else ''}"
        marker = dest / ".bench-complete"
        if not marker.exists():
            if dest.exists():
                subprocess.run(["rm", "-rf", str(dest)], check=True)
            cmd = [sys.executable, str(CORPUS_SCRIPT), str(dest), "--files", str(self.files)]
            if git:
                cmd.append("--git")
            subprocess.run(cmd, check=True)
            marker.write_text("ok")
        return dest


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=HERE / "results.json")
    parser.add_argument("--only", default="", help="comma-separated bench names (e.g. index,git)")
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "marie-bench-cache")
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    wanted = {n.strip() for n in args.only.split(",") if n.strip()}
    results: dict = {"machine": {"python": sys.version.split()[0], "platform": platform.platform(),
                                 "cpus": __import__("os").cpu_count()}, "started": time.strftime("%Y-%m-%dT%H:%M:%S")}
    for path in sorted(HERE.glob("bench_*.py")):
        name = path.stem.removeprefix("bench_")
        if wanted and name not in wanted:
            continue
        spec = importlib.util.spec_from_file_location(f"bench_{name}", path)
        module = importlib.util.module_from_spec(spec)
        assert spec.loader
        print(f"== {name}", flush=True)
        with tempfile.TemporaryDirectory(prefix=f"marie-bench-{name}-") as scratch:
            ctx = BenchContext(Path(scratch), args.files, args.cache)
            started = time.perf_counter()
            try:
                spec.loader.exec_module(module)
                results[name] = module.run(ctx)
            except Exception:
                results[name] = {"error": traceback.format_exc()}
            results[name]["_seconds"] = round(time.perf_counter() - started, 2) if isinstance(results[name], dict) else None
        print(json.dumps(results[name], indent=2, default=str), flush=True)
        args.out.write_text(json.dumps(results, indent=2, default=str))
    args.out.write_text(json.dumps(results, indent=2, default=str))
    print(f"figures written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
