"""llama.cpp build benchmark: the portable build MarieIDE ships vs a native (-march=native) build of the
same version, and the prompt-processing thread count.

Figures, each measured in child processes on the default Gemma model, interleaved (portable, native,
native, portable, ...) so load drift on a shared machine hits both sides alike:
- prompt processing tokens/s and generation tokens/s, 1 and 2 threads: portable / native ratios
  (goals: >= 0.9x for prompts, >= 0.95x for generation). The native build runs with
  ``use_extra_bufts = False`` on CPUs with AMX, where its AMX kernels crash (ggml-org/llama.cpp#20824).
- time to first token of a ~2,000-token composer-sized prompt through MarieIDE's local provider with
  ``ai.local.threads_batch`` = 1, 2 and 0 (auto, the default: the cores free when the prompt is read),
  idle and with the other core busy (goal: <= 0.55x of the 1-thread figure).

The native build is compiled once into the bench cache (``--cache``, ~6 minutes on 2 cores) and
installed there with ``pip install --target``; MarieIDE's own venv is never touched.
Run alone: ``.venv/bin/python bench/run.py --only llama_build``.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "packaging"))

import llama_build  # noqa: E402  (packaging/llama_build.py: the portable flags and the key)

NATIVE_FLAGS = ("-DGGML_NATIVE=ON",) + llama_build.COMMON_FLAGS
PAIRS = 3

# One measurement in a child process: prompt eval speed, generation speed, time to first token.
CHILD = textwrap.dedent('''
    import json, sys, time
    import llama_cpp
    from llama_cpp import Llama
    cfg = json.loads(sys.stdin.read())
    if cfg["no_extra_bufts"]:
        original = llama_cpp.llama_model_default_params
        def params():
            p = original(); p.use_extra_bufts = False; return p
        llama_cpp.llama_model_default_params = params
    llm = Llama(model_path=cfg["model"], n_ctx=4096, n_threads=cfg["threads"],
                n_threads_batch=cfg["threads_batch"], n_batch=512, swa_full=True, verbose=False)
    prompt = llm.tokenize(cfg["prompt"].encode(), add_bos=True, special=False)[: cfg["prompt_tokens"]]
    t0 = time.perf_counter()
    llm.eval(prompt)
    pp = time.perf_counter() - t0
    first = None
    n = 0
    t1 = time.perf_counter()
    for tok in llm.generate(prompt, temp=0.0, top_k=1):
        if first is None:
            first = time.perf_counter()
        n += 1
        if n >= cfg["gen"]:
            break
    gen_s = time.perf_counter() - first
    llm.reset()
    t2 = time.perf_counter()
    for tok in llm.generate(prompt, temp=0.0, top_k=1):
        ttft = time.perf_counter() - t2
        break
    print(json.dumps({"pp_tok_s": len(prompt) / pp, "gen_tok_s": (n - 1) / gen_s if n > 1 else 0.0,
                      "ttft_s": ttft, "prompt_tokens": len(prompt),
                      "info": llama_cpp.llama_print_system_info().decode()}))
''')


def native_site(cache: Path, version: str) -> Path:
    """A ``--target`` folder holding llama-cpp-python built with -march=native (built once)."""
    import hashlib

    key = hashlib.sha256(" ".join((version, *NATIVE_FLAGS, os.uname().machine)).encode()).hexdigest()[:12]
    site = cache / f"llama-native-{version}-{key}"
    if (site / "llama_cpp" / "__init__.py").exists():
        return site
    wheels = cache / f"llama-native-wheel-{key}"
    wheels.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, CMAKE_ARGS=" ".join(NATIVE_FLAGS))
    env.setdefault("CMAKE_BUILD_PARALLEL_LEVEL", str(os.cpu_count() or 2))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-cache-dir", "--no-binary",
                    "llama-cpp-python", "-w", str(wheels), f"llama-cpp-python=={version}"], check=True, env=env)
    wheel = next(wheels.glob("llama_cpp_python-*.whl"))
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--target", str(site), str(wheel)],
                   check=True)
    return site


def cpu_has_amx() -> bool:
    try:
        return "amx_int8" in Path("/proc/cpuinfo").read_text()
    except OSError:
        return False


def composer_prompt() -> str:
    """Source text standing in for a composer prompt: MarieIDE's own modules (repo map plus files)."""
    parts = []
    for path in sorted((ROOT / "marie" / "composer").glob("*.py")):
        parts.append(f"# file: {path.name}\n{path.read_text(encoding='utf-8')}")
    return "\n".join(parts)


def measure(site: Path | None, model: str, threads: int, threads_batch: int, prompt: str,
            prompt_tokens: int, gen: int = 32, busy: bool = False) -> dict:
    env = dict(os.environ)
    if site is not None:
        env["PYTHONPATH"] = str(site)
    cfg = {"model": model, "threads": threads, "threads_batch": threads_batch, "prompt": prompt,
           "prompt_tokens": prompt_tokens, "gen": gen, "no_extra_bufts": site is not None and cpu_has_amx()}
    burner = None
    if busy:
        burner = subprocess.Popen([sys.executable, "-c", "while True: sum(range(10000))"])
    try:
        out = subprocess.run([sys.executable, "-c", CHILD], input=json.dumps(cfg), capture_output=True,
                             text=True, env=env, check=True, timeout=600).stdout
    finally:
        if burner is not None:
            burner.kill()
            burner.wait()
    return json.loads(out.strip().splitlines()[-1])


def _first_tokens(provider, text: str, count: int) -> str:
    """``text`` cut to about ``count`` tokens of the provider's own tokenizer."""
    if provider.count_tokens(text, "") <= count:
        return text
    low, high = 0, len(text)
    while high - low > 64:
        mid = (low + high) // 2
        if provider.count_tokens(text[:mid], "") > count:
            high = mid
        else:
            low = mid
    return text[:low]


def run(ctx) -> dict:
    from marie.ai import models
    from marie.ai.local import LocalProvider
    from marie.ai.types import ChatRequest, Message

    version = next(line.split("==")[1].strip() for line in (ROOT / "requirements.txt").read_text().splitlines()
                   if line.startswith("llama-cpp-python"))
    model = str(models.default_model_path(ensure=True))
    prompt = composer_prompt()
    built = time.perf_counter()
    site = native_site(ctx.cache, version)
    out: dict = {"native_build_s": round(time.perf_counter() - built, 1), "amx_cpu": cpu_has_amx(),
                 "portable_flags": " ".join(llama_build.cmake_flags())}
    for threads in (1, 2):
        runs: dict[str, list[dict]] = {"portable": [], "native": []}
        for i in range(PAIRS):
            order = ("portable", "native") if i % 2 == 0 else ("native", "portable")
            for which in order:
                runs[which].append(measure(site if which == "native" else None, model, threads, threads,
                                           prompt, 512))
        med = {w: {k: statistics.median(r[k] for r in rs) for k in ("pp_tok_s", "gen_tok_s")}
               for w, rs in runs.items()}
        out[f"threads_{threads}"] = {
            "portable_pp_tok_s": round(med["portable"]["pp_tok_s"], 1),
            "native_pp_tok_s": round(med["native"]["pp_tok_s"], 1),
            "pp_ratio": round(med["portable"]["pp_tok_s"] / med["native"]["pp_tok_s"], 3),
            "portable_gen_tok_s": round(med["portable"]["gen_tok_s"], 1),
            "native_gen_tok_s": round(med["native"]["gen_tok_s"], 1),
            "gen_ratio": round(med["portable"]["gen_tok_s"] / med["native"]["gen_tok_s"], 3),
        }
        out["native_features"] = runs["native"][0]["info"].strip()
        out["portable_features"] = runs["portable"][0]["info"].strip()
    # Prompt-processing threads, through MarieIDE's own local provider: time to first token of a
    # ~2,000-token prompt with ai.local.threads_batch = 1, 2 and 0 (auto: the free cores, checked per
    # prompt), generation on 1 thread throughout; idle and with the other core busy.
    for busy in (False, True):
        ttft = {label: [] for label in ("1", "2", "auto")}
        providers = {label: LocalProvider({"threads": 1, "threads_batch": tb, "n_ctx": 4096})
                     for label, tb in (("1", 1), ("2", 2), ("auto", 0))}
        burner = subprocess.Popen([sys.executable, "-c", "while True: sum(range(10000))"]) if busy else None
        try:
            for provider in providers.values():
                provider.ensure_loaded()
            base = _first_tokens(providers["1"], prompt, 1990)
            for i in range(PAIRS):
                order = list(providers) if i % 2 == 0 else list(reversed(list(providers)))
                for label in order:
                    # A different first line each time: nothing of the prompt is in the KV cache.
                    text = f"# run {i} {label} {time.time()}\n" + base
                    request = ChatRequest([Message("user", text)], max_tokens=1)
                    result = providers[label].complete(request, "", None, None)
                    ttft[label].append(result.ttft_s or result.usage.latency_s)
        finally:
            if burner is not None:
                burner.kill()
                burner.wait()
            for provider in providers.values():
                provider.close()
        med = {label: statistics.median(values) for label, values in ttft.items()}
        out["ttft_2000_" + ("busy" if busy else "idle")] = {
            **{f"threads_batch_{label}_s": round(value, 2) for label, value in med.items()},
            "ratio_2_vs_1": round(med["2"] / med["1"], 3), "ratio_auto_vs_1": round(med["auto"] / med["1"], 3)}
    return out


if __name__ == "__main__":
    import tempfile

    sys.path.insert(0, str(ROOT / "bench"))
    from run import BenchContext  # type: ignore[import-not-found]

    ctx = BenchContext(Path(tempfile.mkdtemp()), 0, Path(tempfile.gettempdir()) / "marie-bench-cache")
    print(json.dumps(run(ctx), indent=2))
