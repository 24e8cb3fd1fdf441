"""Edit quality of the composer, per model, on the task suite in ``bench/quality/tasks.py``, and the
quality of the AI commit message on real diffs from this repository's history.

For each model and prompt style, each task runs in a fresh workspace: ``app.composer.propose`` (with
its retries and sanity gate, as a user gets it), then, when the proposal is applicable, apply it and
run the task's check script. Outcomes per task: ``pass`` (applied, check exits 0), ``wrong`` (applied,
check fails: the figure that must stay low), ``refused`` (not applicable, with a reason), ``silent``
(not applicable and no reason: must stay 0). Reported per model, style and tier: pass@1 (one
proposal per task; temperature 0), wrong-but-applied, refused-with-a-reason, median seconds, tokens.

Styles: ``completion`` (few-shot completion prompts in a region format, what base models get) and
``chat`` (the chat prompt with the whole-file format: the naive prompt a base model used to get).

Models: ``default`` (the bundled Gemma 3 270M), a GGUF path, or an OpenAI-compatible URL
(``http://127.0.0.1:8080/v1``, optionally ``URL#model``). Usage::

    python bench/bench_quality.py --model default --model /path/x.gguf --styles completion,chat \\
        --tiers trivial --limit 10 --out quality.json

``bench/run.py`` runs it with ``ctx.options`` (defaults: the default model, both styles, the trivial
tier, 8 tasks, so ``make bench`` stays bounded on a 2-core machine).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for p in (str(ROOT), str(HERE)):
    if p not in sys.path:
        sys.path.insert(0, p)

from quality.tasks import PRELUDE, TASKS, Task  # noqa: E402

CHECK_TIMEOUT_S = 20


def _settings_table(model: str, style: str, threads: int, retries: int) -> dict:
    table: dict = {"ai": {"local": {"n_ctx": 2048, "threads": threads}},
                   "composer": {"repo_map": False, "max_retries": retries}}
    if style == "chat":
        table["composer"].update({"prompt_style": "chat", "format": "whole"})
    else:
        table["composer"].update({"prompt_style": "completion"})
    if model.startswith(("http://", "https://")):
        url, _, name = model.partition("#")
        table["ai"]["providers"] = {"bench": {"kind": "openai", "base_url": url, "model": name or "default"}}
        table["ai"]["routing"] = {"composer": ["bench"], "commit_message": ["bench"]}
        table["composer"]["prompt_style"] = "chat" if style == "chat" else "completion"
    elif model != "default":
        table["ai"]["local"]["model"] = model
    return table


def make_app(folder: Path, model: str, style: str, threads: int = 2, retries: int = 2):
    import tomli_w

    from marie.app import App
    from marie.core.settings import Settings

    folder.mkdir(parents=True, exist_ok=True)
    user = folder.parent / f"{folder.name}-settings.toml"
    user.write_text(tomli_w.dumps(_settings_table(model, style, threads, retries)), encoding="utf-8")
    settings = Settings(user_file=user, project_file=None, policy_file=None)
    return App(folder, settings=settings)


def run_check(root: Path, task: Task) -> tuple[bool, str]:
    """Run the task's check in ``root`` (a fresh interpreter; the code under test may be broken)."""
    try:
        proc = subprocess.run([sys.executable, "-c", PRELUDE + task.check], cwd=root, capture_output=True,
                              text=True, timeout=CHECK_TIMEOUT_S, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    except subprocess.TimeoutExpired:
        return False, "the check timed out"
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] if proc.returncode else []
    return proc.returncode == 0, tail[0] if tail else ""


def self_check(tasks: list[Task]) -> list[str]:
    """Every check must fail on the untouched files (a do-nothing edit never passes)."""
    bad = []
    with tempfile.TemporaryDirectory(prefix="marie-quality-self-") as scratch:
        for task in tasks:
            root = Path(scratch) / task.id
            root.mkdir()
            for rel, text in task.files.items():
                (root / rel).write_text(text, encoding="utf-8")
            ok, _ = run_check(root, task)
            if ok:
                bad.append(task.id)
    return bad


def _reset(root: Path, files: dict[str, str]) -> None:
    """Make ``root`` hold exactly ``files`` (MarieIDE's own .marie/ folder stays)."""
    import shutil

    for child in root.iterdir():
        if child.name == ".marie":
            continue
        shutil.rmtree(child) if child.is_dir() else child.unlink()
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def run_task(app, task: Task) -> dict:
    """One task in ``app``'s workspace (reset to the task's files first)."""
    from marie.composer.context import ContextRequest

    root = Path(app.root)
    _reset(root, task.files)
    started = time.perf_counter()
    first = task.active or next(iter(task.files))
    files = sorted(task.files, key=lambda p: (p != first, p))
    proposal = app.composer.propose(task.instruction, request=ContextRequest("", files=files, repo_map=False))
    seconds = time.perf_counter() - started
    out = {"id": task.id, "tier": task.tier, "seconds": round(seconds, 2),
           "tokens": proposal.prompt_tokens + proposal.completion_tokens,
           "prompt_tokens": proposal.prompt_tokens, "completion_tokens": proposal.completion_tokens,
           "attempts": len(proposal.attempts),
           "answer": proposal.attempts[-1].answer[:600] if proposal.attempts else ""}
    if proposal.ok:
        app.composer.apply(proposal.changeset)
        ok, why = run_check(root, task)
        out.update(outcome="pass" if ok else "wrong", why=why)
    else:
        reasons = [e for e in proposal.changeset.errors if e and len(e) > 10]
        out.update(outcome="refused" if reasons else "silent", why="; ".join(reasons)[:300])
    return out


def summarize(rows: list[dict]) -> dict:
    by_tier: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_tier[row["tier"]].append(row)
        by_tier["all"].append(row)
    out = {}
    for tier, items in by_tier.items():
        n = len(items)
        count = lambda what: sum(1 for r in items if r["outcome"] == what)  # noqa: E731
        out[tier] = {"n": n, "pass_at_1": round(count("pass") / n, 3), "wrong_but_applied": count("wrong"),
                     "refused_with_reason": count("refused"), "refused_silently": count("silent"),
                     "median_s": round(statistics.median(r["seconds"] for r in items), 1),
                     "median_tokens": int(statistics.median(r["tokens"] for r in items))}
    return out


def quality(models: list[str], styles: list[str], tiers: list[str], limit: int, threads: int, retries: int,
            ids: list[str] | None = None, log=print, out_path: Path | None = None) -> dict:
    tasks = [t for t in TASKS if (not tiers or t.tier in tiers) and (not ids or t.id in ids)]
    if limit:
        # A fixed, spread-out subset per tier (every k-th task), so a subset still covers each kind.
        picked = []
        for tier in dict.fromkeys(t.tier for t in tasks):
            of_tier = [t for t in tasks if t.tier == tier]
            step = max(1, len(of_tier) // limit)
            picked += of_tier[::step][:limit]
        tasks = picked
    results: dict = {"tasks": [t.id for t in tasks], "self_check_failures": self_check(tasks), "models": {}}
    for model in models:
        for style in styles:
            rows = []
            with tempfile.TemporaryDirectory(prefix="marie-quality-") as scratch:
                app = make_app(Path(scratch) / "ws", model, style, threads, retries)
                try:
                    for task in tasks:
                        row = run_task(app, task)
                        log(f"  {model} {style} {task.id}: {row['outcome']} {row['seconds']} s "
                            f"attempts={row['attempts']} tokens={row['tokens']} {row.get('why', '')[:120]}", flush=True)
                        rows.append(row)
                        results["models"].setdefault(model, {})[style] = {"summary": summarize(rows), "rows": rows}
                        if out_path is not None:  # after every task: a long run stopped early keeps its figures
                            out_path.write_text(json.dumps(results, indent=1, default=str))
                finally:
                    app.close()
    return results


# -- the AI commit message -----------------------------------------------------------------------

def history_diffs(count: int, max_chars: int = 6000) -> list[tuple[str, str]]:
    """(commit subject, diff) of this repository's last ``count`` non-merge commits."""
    log = subprocess.run(["git", "-C", str(ROOT), "log", "--no-merges", f"-{count}", "--format=%H %s"],
                         capture_output=True, text=True, check=True).stdout.splitlines()
    out = []
    for line in log:
        sha, _, subject = line.partition(" ")
        diff = subprocess.run(["git", "-C", str(ROOT), "show", "--format=", "--no-color", "-U2", sha],
                              capture_output=True, text=True).stdout
        out.append((subject, diff[:max_chars]))
    return out


def commit_messages(model: str, count: int, threads: int, log=print) -> dict:
    """Messages for real diffs, with the product's prompt and grammar (``grammar``) and without
    (``naive``: the same prompt, no grammar, no clean-up). Checked: the Conventional Commits format,
    and that the subject names something the diff touches (a path part or an identifier)."""
    import re

    from marie.ai.types import ChatRequest
    from marie.git import commit_message as cm

    diffs = history_diffs(count)
    results: dict = {"diffs": len(diffs)}
    with tempfile.TemporaryDirectory(prefix="marie-quality-git-") as scratch:
        app = make_app(Path(scratch) / "ws", model, "chat", threads)
        try:
            ai = app.ai
            caps = ai.capabilities("commit_message")
            for mode in ("grammar", "naive"):
                rows = []
                for subject, patch in diffs:
                    max_tokens = 48
                    messages = cm.build_messages(patch, min(caps.context_length, 2048), max_tokens,
                                                 lambda text: ai.count_tokens(text, "commit_message"))
                    grammar = cm.build_grammar(cm.paths_of(patch)) if mode == "grammar" and caps.grammar else None
                    started = time.perf_counter()
                    completion = ai.complete("commit_message", ChatRequest(messages, max_tokens=max_tokens,
                                                                           temperature=0.0, grammar=grammar))
                    seconds = time.perf_counter() - started
                    message = cm.clean_ai_message(completion.text) if mode == "grammar" else completion.text.strip()
                    words = set(re.findall(r"[a-z_]{3,}", patch.lower()))
                    subject_words = set(re.findall(r"[a-z_]{3,}", message.split("\n", 1)[0].lower()))
                    grounded = bool(subject_words - set(cm.TYPES) - set(cm.VERBS) & words)
                    rows.append({"reference": subject, "message": message, "conventional": cm.is_conventional(message),
                                 "grounded": grounded, "seconds": round(seconds, 2),
                                 "tokens": completion.usage.prompt_tokens + completion.usage.completion_tokens})
                    log(f"  commit {mode}: {message[:70]!r} conventional={rows[-1]['conventional']}", flush=True)
                n = len(rows) or 1
                results[mode] = {"conventional": round(sum(r["conventional"] for r in rows) / n, 3),
                                 "conventional_and_grounded": round(sum(r["conventional"] and r["grounded"]
                                                                        for r in rows) / n, 3),
                                 "median_s": round(statistics.median(r["seconds"] for r in rows), 1) if rows else 0,
                                 "median_tokens": int(statistics.median(r["tokens"] for r in rows)) if rows else 0,
                                 "rows": rows}
        finally:
            app.close()
    return results


def grammar_cost(ids: list[str], threads: int = 2, max_tokens: int = 48, log=print) -> dict:
    """What each grammar costs and buys on the default model: seconds per generated token and whether
    the answer applies and passes, for no grammar, the format grammar and the tight grammar, on the
    chat prompt (the one local chat models get; base models get no grammar). Uses llama-cpp-python
    directly, the same build the worker runs."""
    from llama_cpp import Llama, LlamaGrammar

    from marie.ai.models import default_model_path
    from marie.composer import formats, prompts
    from marie.composer.changeset import build_changeset
    from marie.composer.context import file_block
    from marie.composer.formats.grammar import grammar, tight_search_replace

    llm = Llama(model_path=str(default_model_path(ensure=True)), n_ctx=2048, n_threads=threads, verbose=False)
    rows = []
    for task in [t for t in TASKS if t.id in ids]:
        context = "\n\n".join(file_block(p, t) for p, t in task.files.items())
        prompt = (f"<start_of_turn>user\n{prompts.system_prompt('search_replace')}\n\n"
                  f"{prompts.user_prompt(context, task.instruction)}<end_of_turn>\n<start_of_turn>model\n")
        for mode in ("none", "format", "tight"):
            text = {"none": None, "format": grammar("search_replace", list(task.files)),
                    "tight": tight_search_replace(task.files, max_edits=1)}[mode]
            started = time.perf_counter()
            out = llm.create_completion(prompt, max_tokens=max_tokens, temperature=0,
                                        grammar=LlamaGrammar.from_string(text, verbose=False) if text else None)
            seconds = time.perf_counter() - started
            answer = out["choices"][0]["text"]
            outcome = "unparsable"
            with tempfile.TemporaryDirectory() as scratch:
                _reset(Path(scratch), task.files)
                try:
                    cs = build_changeset(Path(scratch), formats.parse(answer, "search_replace"), task.instruction)
                    outcome = "refused" if cs.errors or not cs.applicable else "applies"
                    if outcome == "applies":
                        for f in cs.files:
                            (Path(scratch) / f.path).write_text(f.result_text() or "")
                        outcome = "pass" if run_check(Path(scratch), task)[0] else "wrong"
                except Exception:
                    pass
            n = max(1, out["usage"]["completion_tokens"])
            rows.append({"task": task.id, "grammar": mode, "seconds": round(seconds, 2), "tokens": n,
                         "s_per_token": round(seconds / n, 3), "outcome": outcome})
            log(f"  grammar {mode} {task.id}: {outcome} {seconds:.1f} s / {n} tokens", flush=True)
    summary = {}
    for mode in ("none", "format", "tight"):
        mine = [r for r in rows if r["grammar"] == mode]
        summary[mode] = {"median_s_per_token": statistics.median(r["s_per_token"] for r in mine),
                         "parses": sum(r["outcome"] != "unparsable" for r in mine),
                         "applies": sum(r["outcome"] in ("pass", "wrong") for r in mine),
                         "pass": sum(r["outcome"] == "pass" for r in mine), "n": len(mine)}
    return {"summary": summary, "rows": rows}


def run(ctx) -> dict:
    """``bench/run.py`` entry: bounded defaults for ``make bench`` (override with ctx.options)."""
    o = ctx.options or {}
    out = quality(o.get("models", ["default"]), o.get("styles", ["completion", "chat"]), o.get("tiers", ["trivial"]),
                  int(o.get("limit", 8)), int(o.get("threads", 2)), int(o.get("retries", 2)))
    out["commit_message"] = commit_messages(o.get("models", ["default"])[0], int(o.get("commits", 6)),
                                            int(o.get("threads", 2)))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", action="append", default=[], help="default, a GGUF path, or an OpenAI-compatible URL")
    parser.add_argument("--styles", default="completion,chat")
    parser.add_argument("--tiers", default="", help="comma-separated: trivial,simple,multi-file (default: all)")
    parser.add_argument("--ids", default="", help="comma-separated task ids")
    parser.add_argument("--limit", type=int, default=0, help="at most this many tasks per tier (0: all)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--retries", type=int, default=2)
    parser.add_argument("--commits", type=int, default=0, help="also score the AI commit message on N commits")
    parser.add_argument("--self-check", action="store_true", help="only check that every task's check fails untouched")
    parser.add_argument("--grammar-cost", default="", help="comma-separated task ids: measure the grammars only")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    if args.self_check:
        bad = self_check(TASKS)
        print(f"{len(TASKS)} tasks; checks passing on untouched files: {bad or 'none'}")
        return 1 if bad else 0
    split = lambda text: [x for x in text.split(",") if x]  # noqa: E731
    if args.grammar_cost:
        out = grammar_cost(split(args.grammar_cost), args.threads)
        print(json.dumps(out["summary"], indent=1))
        if args.out:
            args.out.write_text(json.dumps(out, indent=1))
        return 0
    models = args.model or ["default"]
    out = quality(models, split(args.styles), split(args.tiers), args.limit, args.threads, args.retries,
                  split(args.ids), out_path=args.out)
    if args.commits:
        out["commit_message"] = commit_messages(models[0], args.commits, args.threads)
    text = json.dumps(out, indent=1, default=str)
    if args.out:
        args.out.write_text(text)
    for model, styles in out["models"].items():
        for style, data in styles.items():
            print(model, style, json.dumps(data["summary"]))
    if "commit_message" in out:
        cmq = out["commit_message"]
        print("commit message:", {k: {kk: vv for kk, vv in v.items() if kk != "rows"} for k, v in cmq.items()
                                  if isinstance(v, dict)})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
