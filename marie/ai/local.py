"""The local provider: llama.cpp in a worker process (``marie.ai.local_worker``).

The parent never loads llama.cpp: a corrupt GGUF or a crash in native code ends the worker, and the
next request starts a new one. The model loads in the background with progress (``load_async``);
state changes are reported through ``on_state(state, detail)``. One request runs at a time; a
cancelled request is abandoned at once by the caller while the worker stops at the next token.

A native crash (the worker dies from SIGSEGV, SIGILL, SIGBUS...) is reported by name, with what the
worker was doing and where (faulthandler's innermost frame), never with an unrelated last log line.
The request is then retried once in a new worker in safe mode (no weight repacking into CPU-specific
buffers, no flash attention), and the answer says so. States: unloaded | loading | ready | crashed
(retrying) | error; after a crash the state is never "ready" until a model has answered again.
"""

from __future__ import annotations

import collections
import itertools
import json
import logging
import os
import queue
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any, Callable

from marie.ai import errors, models, tools
from marie.ai.gguf import GGUFError, read_info_cached
from marie.ai.http_common import usage_of
from marie.ai.provider import Provider, Result, Stream, pump
from marie.ai.types import Capabilities, ChatRequest, Usage
from marie.core.python_cmd import module_command
from marie.core.tasks import Cancelled, CancelToken

log = logging.getLogger(__name__)

_KINDS = {"ModelLoadError": errors.ModelLoadError, "ModelMissing": errors.ModelMissing,
          "ContextTooLong": errors.ContextTooLong, "BadResponse": errors.BadResponse}

# How each fatal signal reads to a user.
_SIGNAL_WORDS = {
    "SIGSEGV": "a segmentation fault (SIGSEGV)",
    "SIGILL": "an illegal CPU instruction (SIGILL: the build uses instructions this CPU lacks)",
    "SIGBUS": "a bus error (SIGBUS: the model file may have changed or been truncated while mapped)",
    "SIGFPE": "an arithmetic fault (SIGFPE)",
    "SIGABRT": "an abort (SIGABRT: llama.cpp stopped on a failed internal check)",
    "SIGKILL": "SIGKILL (killed from outside, often by the out-of-memory killer)",
}
# Lines of stderr that may explain an ordinary (non-signal) exit: error lines, not log chatter.
_ERROR_WORDS = ("error", "exception", "traceback", "failed", "fatal")


def describe_signal(name: str) -> str:
    """A user's wording for a signal name (``SIGSEGV`` -> "a segmentation fault (SIGSEGV)")."""
    return _SIGNAL_WORDS.get(name, name)


def native_frame(report: list[str]) -> str:
    """The innermost Python frame of a faulthandler report, as "eval() in llama_cpp/llama.py:680".

    faulthandler lists frames most recent first: ``  File "/.../llama_cpp/llama.py", line 680 in eval``.
    """
    import re

    for line in report:
        match = re.match(r'\s*File "(.+)", line (\d+) in (\S+)', line)
        if match:
            path, lineno, func = match.groups()
            parts = Path(path).parts
            short = "/".join(parts[-2:]) if len(parts) >= 2 else path
            return f"{func}() in {short}:{lineno}"
    return ""


class WorkerProcess:
    """One worker subprocess and the thread that reads its events. Methods: any thread."""

    def __init__(self, python: str | None = None, on_exit: Callable[["WorkerProcess"], None] | None = None) -> None:
        self.on_exit = on_exit
        self.stopping = False
        env = dict(os.environ)
        env.setdefault("PYTHONUNBUFFERED", "1")
        argv = [python, "-m", "marie.ai.local_worker"] if python else module_command("marie.ai.local_worker")
        self.proc = subprocess.Popen(argv,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env=env, cwd=str(Path(__file__).resolve().parents[2]))
        self.routes: dict[Any, Stream] = {}
        self.stderr_tail: collections.deque[str] = collections.deque(maxlen=30)
        self.fatal: list[str] = []  # faulthandler's report, if the worker died from a signal
        self.phase = "starting"  # what the worker is doing: starting | loading | generating | idle
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self.dead = False
        self._stderr_done = threading.Event()
        threading.Thread(target=self._read_events, daemon=True, name="marie-ai-worker-out").start()
        threading.Thread(target=self._read_stderr, daemon=True, name="marie-ai-worker-err").start()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def send(self, **msg: Any) -> None:
        data = (json.dumps(msg) + "\n").encode("utf-8")
        with self._write_lock:
            try:
                self.proc.stdin.write(data)
                self.proc.stdin.flush()
            except (BrokenPipeError, OSError, ValueError):
                raise self.death_error() from None

    def route(self, rid: Any, stream: Stream) -> None:
        with self._lock:
            if self.dead:
                stream.fail(self.death_error())
                stream.end()
                return
            self.routes[rid] = stream

    def unroute(self, rid: Any) -> None:
        with self._lock:
            self.routes.pop(rid, None)

    def death_error(self) -> errors.AIError:
        """The error that explains why the worker is gone, in words a user can act on. Any thread."""
        code = self.proc.poll()
        if code is not None and code < 0 and -code != signal.SIGKILL:
            return self._crash_error(-code)
        if code is None:
            how = "its pipe closed"
        elif code < 0:
            # SIGKILL comes from outside (the out-of-memory killer, a user): not llama.cpp's fault,
            # so no safe-mode retry; the next request simply starts a new worker.
            how = f"killed by {describe_signal('SIGKILL')}"
        else:
            how = f"exit code {code}"
        # Only lines that look like an error explain an exit; the last log line usually does not.
        errors_seen = [line for line in self.stderr_tail if any(w in line.lower() for w in _ERROR_WORDS)]
        reason = f" Its last error: {errors_seen[-1]}" if errors_seen else ""
        return errors.ServerDown(f"The local model worker stopped unexpectedly ({how}) while {self._doing()}; "
                                 f"the IDE is fine and the next request starts a new worker.{reason}",
                                 provider="local")

    def _doing(self) -> str:
        return {"loading": "loading the model", "generating": "generating",
                "starting": "starting"}.get(self.phase, "idle")

    def _crash_error(self, signum: int) -> errors.NativeCrash:
        try:
            name = signal.Signals(signum).name
        except ValueError:
            name = f"signal {signum}"
        # Wait briefly for faulthandler's report: stderr may still be draining after the exit.
        self._stderr_done.wait(1.0)
        where = native_frame(self.fatal)
        # Where the signal struck: inside llama.cpp (the usual case: a kernel that faults or uses an
        # instruction this CPU lacks) or in the worker's own Python code (a signal from outside).
        place = ("in llama.cpp's CPU backend (native code)" if not where or "llama_cpp/" in where
                 else "in the model worker")
        message = (f"The local model crashed with {describe_signal(name)} {place} while {self._doing()}"
                   + (f", called from {where}" if where else "") + ".")
        return errors.NativeCrash(message, signal=name, phase=self.phase, where=where)

    def _read_events(self) -> None:
        for raw in self.proc.stdout:
            try:
                event = json.loads(raw)
            except ValueError:
                continue  # not ours: the worker keeps fd 1 private, so this is unexpected noise
            with self._lock:
                stream = self.routes.get(event.get("id"))
            if stream is None:
                continue  # a stale event from an abandoned (cancelled) request
            kind = event.get("ev")
            if kind == "text":
                stream.text(event["t"])
            elif kind == "prompt":
                stream.meta(**event)
            elif kind in ("progress", "loaded", "result"):
                stream.meta(**event)
                if kind != "progress":
                    stream.end()
            elif kind == "done":
                stream.meta(**event)
                stream.end()
            elif kind == "error":
                cls = _KINDS.get(event.get("kind"), errors.AIError)
                stream.fail(cls(event.get("message", "the local model failed"), provider="local"))
        self.proc.wait()
        with self._lock:
            self.dead = True
            routes, self.routes = self.routes, {}
        error = self.death_error()
        for stream in routes.values():
            stream.fail(error)
        # A death while requests were waiting is theirs to report (and maybe retry); only one with
        # nothing in flight is announced here.
        if self.on_exit is not None and not self.stopping and not routes:
            try:
                self.on_exit(self)
            except Exception:
                log.exception("worker exit listener failed")

    def _read_stderr(self) -> None:
        capturing = False
        for raw in self.proc.stderr:
            line = raw.decode("utf-8", "replace").rstrip()
            if not line:
                continue
            if line.startswith("Fatal Python error:"):
                capturing = True
            if capturing and len(self.fatal) < 60:
                self.fatal.append(line)
            else:
                self.stderr_tail.append(line)
        self._stderr_done.set()

    def alive(self) -> bool:
        return not self.dead and self.proc.poll() is None

    def stop(self) -> None:
        self.stopping = True
        if self.proc.poll() is None:
            try:
                self.send(op="shutdown")
                self.proc.stdin.close()
                self.proc.wait(timeout=2)
            except Exception:
                pass
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(timeout=5)


class _ProgressStream(Stream):
    """A Stream that reports the worker's ``prompt`` events to a callback (reader thread)."""

    def __init__(self, on_prompt: Callable[[int, int], None]) -> None:
        super().__init__()
        self.on_prompt = on_prompt

    def meta(self, **values: Any) -> None:
        if values.get("ev") == "prompt":
            try:
                self.on_prompt(int(values.get("done", 0)), int(values.get("total", 0)))
            except Exception:
                log.exception("prompt progress listener failed")
            return
        super().meta(**values)


class LocalProvider(Provider):
    """llama.cpp on this machine. ``config`` is the ``ai.local`` settings section."""

    name = "local"
    local = True

    def __init__(self, config: dict, on_state: Callable[[str, dict], None] | None = None,
                 precheck: bool = True, on_prompt: Callable[[str, int, int], None] | None = None) -> None:
        self.config = dict(config)
        self.on_state = on_state or (lambda state, detail: None)
        # on_prompt(model, done, total) for every request's prompt reading (reader thread).
        self.on_prompt = on_prompt
        self.precheck = precheck
        self.worker: WorkerProcess | None = None
        self.loaded: dict | None = None  # what the worker said about the loaded model
        self.loaded_key: tuple | None = None
        self.state = "unloaded"  # unloaded | loading | ready | crashed | error
        self.error: str = ""
        # Set after a native crash: later loads turn off llama.cpp's extra buffer types (repacking).
        self.safe_mode = bool(self.config.get("safe_mode", False))
        self.last_stats: dict = {}
        self._ids = itertools.count(1)
        self._ctx_cache: dict[str, int] = {}  # model path -> context length (reading a header costs ~0.3 s)
        self._lock = threading.RLock()  # one request (or load) at a time

    # -- settings -----------------------------------------------------------------------------
    def model_name(self, model: str = "") -> str:
        return model or self.config.get("model") or models.DEFAULT_MODEL_ID

    def _n_ctx(self, path: Path) -> int:
        wanted = int(self.config.get("n_ctx", 0) or 0)
        cap = int(self.config.get("max_ctx", 8192) or 8192)
        try:
            trained = read_info_cached(path).context_length or cap
        except (GGUFError, OSError):
            trained = cap
        # The context length comes from the model's metadata, capped so memory stays reasonable.
        return min(wanted or trained, trained, cap) if wanted else min(trained, cap)

    def threads(self) -> tuple[int, int]:
        """(generation threads, prompt-processing threads) from ``ai.local.threads``/``threads_batch``.

        Generation is memory-bound and keeps its speed on one thread while the other core is busy;
        prompt processing is compute-bound and scales with cores (bench/bench_ai.py measures both),
        so ``threads_batch = 0`` means "auto": up to every core, as many as are free when a prompt
        is read (the worker checks before each one).
        """
        threads = max(1, int(self.config.get("threads", 1) or 1))
        batch = int(self.config.get("threads_batch", 0) or 0) or (os.cpu_count() or 1)
        return threads, max(1, batch)

    def _set_state(self, state: str, **detail: Any) -> None:
        self.state = state
        try:
            self.on_state(state, detail)
        except Exception:
            log.exception("model state listener failed")

    # -- loading ------------------------------------------------------------------------------
    def ensure_loaded(self, model: str = "", token: CancelToken | None = None,
                      progress: Callable[[float, str], None] | None = None) -> dict:
        """Start the worker and load ``model`` if needed; blocking (worker thread). Returns its description."""
        with self._lock:
            name = self.model_name(model)
            if progress:
                progress(0.0, "Preparing the model file")
            path = models.resolve_model(name) if name != models.DEFAULT_MODEL_ID else models.default_model_path(
                ensure=True, progress=(lambda d, t, m: progress(0.3 * d / max(t, 1), m)) if progress else None)
            threads, threads_batch = self.threads()
            key = (str(path), self._n_ctx_cached(path), threads, threads_batch, self.safe_mode)
            if self.worker is not None and self.worker.alive() and self.loaded_key == key and self.loaded:
                return self.loaded
            if not path.exists():
                self._set_state("error", model=name, message=f"model file {path} does not exist")
                raise errors.ModelMissing(f"The model file {path} does not exist; `marie models list` shows "
                                          "the models, `marie models add PATH` adds one.", provider="local")
            if self.precheck:
                try:
                    # Parsed once per file version (the n_ctx above used the same parse).
                    read_info_cached(path)
                except GGUFError as exc:
                    self.error = str(exc)
                    self._set_state("error", model=name, message=str(exc))
                    raise errors.ModelLoadError(f"Cannot load model {name!r}: {exc}", provider="local") from exc
            self._set_state("loading", model=name, fraction=0.0)
            if self.worker is None or not self.worker.alive():
                self.worker = WorkerProcess(on_exit=self._worker_exited)
            self.loaded, self.loaded_key = None, None
            rid = f"load-{next(self._ids)}"
            stream = Stream()
            worker = self.worker
            worker.route(rid, stream)
            try:
                worker.phase = "loading"
                worker.send(op="load", id=rid, path=str(path), n_ctx=key[1], threads=threads,
                            threads_batch=threads_batch,
                            threads_batch_auto=not int(self.config.get("threads_batch", 0) or 0),
                            n_batch=int(self.config.get("n_batch", 512)),
                            n_ubatch=int(self.config.get("n_ubatch", 0) or 0),
                            flash_attn=bool(self.config.get("flash_attn", False)), safe=self.safe_mode)
                info = self._wait_load(stream, token, progress, name)
                worker.phase = "idle"
            except BaseException as exc:
                msg = str(exc) or type(exc).__name__
                self.error = msg
                self._set_state("error", model=name, message=msg)
                if isinstance(exc, errors.NativeCrash):
                    raise  # complete() decides whether to retry in safe mode
                if isinstance(exc, errors.ServerDown):
                    raise errors.ModelLoadError(f"Cannot load model {name!r}: the worker crashed while loading "
                                                f"it (the file may be corrupt). {exc}", provider="local") from exc
                raise
            finally:
                worker.unroute(rid)
            self.loaded, self.loaded_key, self.error = info, key, ""
            self._set_state("ready", model=name, safe=self.safe_mode,
                            **{k: info[k] for k in ("n_ctx", "threads", "threads_batch") if k in info})
            return info

    def _worker_exited(self, worker: WorkerProcess) -> None:
        """The worker died outside any request (reader thread): the model is no longer ready."""
        if worker is not self.worker:
            return  # an old worker, already replaced
        error = worker.death_error()
        self.loaded, self.loaded_key = None, None
        self.error = str(error)
        self._set_state("error", model=self.model_name(), message=f"failed: {error}")

    def _n_ctx_cached(self, path: Path) -> int:
        value = self._ctx_cache.get(str(path))
        if value is None:
            value = self._ctx_cache[str(path)] = self._n_ctx(path)
        return value

    def _wait_load(self, stream: Stream, token, progress, name: str) -> dict:
        timeout = float(self.config.get("load_timeout_s", 120.0))
        deadline = time.monotonic() + timeout
        if token is not None:
            token.on_cancel(stream.wake)
        while True:
            if token is not None and token.cancelled:
                raise Cancelled()
            left = deadline - time.monotonic()
            if left <= 0:
                raise errors.ServerDown(f"loading {name} took longer than {timeout:.0f} s", provider="local")
            try:
                kind, value = stream.items.get(timeout=left)
            except queue.Empty:
                continue
            if kind == "meta":
                if value.get("ev") == "progress":
                    fraction = 0.3 + 0.7 * float(value.get("fraction", 0))
                    if progress:
                        progress(fraction, value.get("message", "Loading model"))
                    self._set_state("loading", model=name, fraction=fraction)
                elif value.get("ev") == "loaded":
                    return value
            elif kind == "error":
                raise value

    def load_async(self, tasks, model: str = "") -> Any:
        """Load in the background on the "ai" worker thread; returns the Task (GUI-safe)."""
        return tasks.submit(lambda ctx: self.ensure_loaded(model, ctx.token,
                                                           lambda f, m: ctx.progress(int(f * 100), 100, m)),
                            name="load model", worker="ai-load")

    # -- requests -----------------------------------------------------------------------------
    def capabilities(self, model: str) -> Capabilities:
        n_ctx = (self.loaded or {}).get("n_ctx")
        if not n_ctx:
            try:
                name = self.model_name(model)
                path = models.default_model_path(ensure=False) if name == models.DEFAULT_MODEL_ID else models.resolve_model(name)
                n_ctx = self._n_ctx_cached(path) if path.exists() else int(self.config.get("max_ctx", 8192))
            except errors.AIError:
                n_ctx = int(self.config.get("max_ctx", 8192))
        return Capabilities(context_length=int(n_ctx), grammar=True, json_schema=True, tools=False, local=True)

    def _ask(self, op: str, token: CancelToken | None, on_text, timeout: float,
             on_prompt: Callable[[int, int], None] | None = None, **msg: Any) -> tuple[str, dict]:
        rid = next(self._ids)
        stream = Stream()
        worker = self.worker
        assert worker is not None
        listeners = [f for f in (on_prompt, self._announce_prompt if self.on_prompt else None) if f]
        if listeners:
            def tell(done: int, total: int) -> None:
                for listener in listeners:
                    listener(done, total)

            stream = _ProgressStream(tell)
        worker.route(rid, stream)

        def cancel() -> None:
            try:
                worker.send(op="cancel", id=rid)
            except errors.AIError:
                pass

        try:
            worker.phase = "generating"
            worker.send(op=op, id=rid, **msg)
            result = pump(stream, token, on_text, timeout, "the local model", on_cancel=cancel)
            worker.phase = "idle"
            return result
        finally:
            worker.unroute(rid)

    def _announce_prompt(self, done: int, total: int) -> None:
        if self.on_prompt is not None:
            self.on_prompt(self.model_name(), done, total)

    def complete(self, request: ChatRequest, model: str, token: CancelToken | None,
                 on_text: Callable[[str], None] | None) -> Result:
        """Blocking (worker thread). A native crash is retried once in safe mode, and the result says so."""
        tools.check_request(request, "the local model", False)
        with self._lock:
            streamed = [False]

            def forward(piece: str) -> None:
                streamed[0] = True
                if on_text:
                    on_text(piece)

            try:
                return self._complete_once(request, model, token, forward)
            except errors.NativeCrash as crash:
                if streamed[0] and not self.safe_mode:
                    # Text was already shown, so a retry would repeat it: report the crash, and let
                    # the next request start a new worker in safe mode.
                    self.safe_mode = True
                    message = f"{crash} The next request runs in safe mode (llama.cpp's weight repacking off)."
                    self._set_state("crashed", model=self.model_name(model), message=message)
                    raise errors.NativeCrash(message, signal=crash.signal, phase=crash.phase,
                                             where=crash.where) from crash
                if self.safe_mode:
                    return self._failed(crash, model, after_retry=True)
                self.safe_mode = True
                name = self.model_name(model)
                note = f"{crash} Retrying once in safe mode (llama.cpp's weight repacking off)."
                self._set_state("crashed", model=name, message=note)
                try:
                    result = self._complete_once(request, model, token, forward)
                except errors.NativeCrash as again:
                    return self._failed(again, model, after_retry=True)
                result.notes.append(f"{crash} It was retried in safe mode (llama.cpp's weight repacking off), "
                                    "which answered; the model stays in safe mode until MarieIDE restarts.")
                return result

    def _failed(self, crash: errors.NativeCrash, model: str, after_retry: bool = False) -> Result:
        again = " It crashed again in safe mode, so" if after_retry else " So"
        message = (f"{crash}{again} this model cannot run with this llama.cpp build here: choose another "
                   "model in the AI Models panel (or `marie models add PATH`), or a server in [ai.routing], "
                   "and report the crash with the output of `marie models info`.")
        self.error = message
        self._set_state("error", model=self.model_name(model), message=f"failed: {message}")
        raise errors.NativeCrash(message, signal=crash.signal, phase=crash.phase, where=crash.where) from crash

    def _complete_once(self, request: ChatRequest, model: str, token: CancelToken | None,
                       on_text: Callable[[str], None] | None) -> Result:
        started = time.perf_counter()
        self.ensure_loaded(model, token)
        timeout = float(self.config.get("timeout_s", 120.0))
        text, meta = self._ask(
            "complete", token, on_text, timeout, on_prompt=request.progress,
            messages=[{"role": m.role, "content": m.content} for m in request.messages],
            max_tokens=request.max_tokens, temperature=request.temperature, seed=request.seed,
            stop=list(request.stop), grammar=request.grammar, json_schema=request.json_schema,
            repeat_penalty=float(self.config.get("repeat_penalty", 1.1)),
            flush_ms=float(self.config.get("stream_interval_ms", 50.0)))
        # The worker's own figures for the last request (seconds, own_s_per_token): benchmarks read them.
        self.last_stats = {k: v for k, v in meta.items() if k not in ("ev", "id")}
        if self.state != "ready":
            # A model that answered is ready again (after a crash and a safe-mode retry, say so).
            self._set_state("ready", model=self.model_name(model), safe=self.safe_mode,
                            **{k: (self.loaded or {}).get(k) for k in ("n_ctx", "threads", "threads_batch")})
        usage = Usage(prompt_tokens=int(meta.get("prompt_tokens", 0)),
                      completion_tokens=int(meta.get("completion_tokens", 0)),
                      cached_tokens=int(meta.get("cached_tokens", 0)),
                      latency_s=time.perf_counter() - started)
        return Result(text, usage, self.model_name(model), ttft_s=meta.get("ttft_s"),
                      finish=str(meta.get("finish", "")))

    # -- inline completion's request kind (marie.completion) -----------------------------------
    def complete_prompt(self, prompt: str, model: str = "", *, max_tokens: int = 48, stop: tuple[str, ...] = (),
                        token: CancelToken | None = None, on_text: Callable[[str], None] | None = None,
                        skip_if_busy: bool = True) -> Result | None:
        """A raw prompt, no chat template (inline completion: FIM or plain prefix). Blocking (worker thread).

        The worker keeps the model loaded, and llama-cpp-python's ``Llama.generate`` reuses the KV
        cache of the longest unchanged token prefix, so a prompt that only grew at the caret costs
        just its new tokens (measured in bench/bench_completion.py). With ``skip_if_busy`` this
        returns None at once while another request (composer, agent) holds the model: an answer
        that waited for it would be stale. Greedy, no repeat penalty (code repeats names), and every
        piece is sent as it comes: the first one is what the user waits for."""
        if not self._lock.acquire(blocking=not skip_if_busy):
            return None
        try:
            started = time.perf_counter()
            self.ensure_loaded(model, token)
            text, meta = self._ask("complete", token, on_text, float(self.config.get("timeout_s", 120.0)),
                                   prompt=prompt, max_tokens=max_tokens, temperature=0.0, seed=0,
                                   stop=list(stop), repeat_penalty=1.0, flush_ms=0.0)
            self.last_stats = {k: v for k, v in meta.items() if k not in ("ev", "id")}
            return Result(text, usage_of(meta, started), self.model_name(model), ttft_s=meta.get("ttft_s"),
                          finish=str(meta.get("finish", "")))
        finally:
            self._lock.release()

    def count_tokens(self, text: str, model: str) -> int:
        with self._lock:
            self.ensure_loaded(model)
            _, meta = self._ask("tokenize", None, None, 60.0, text=text)
            return int(meta.get("count", 0))

    def close(self) -> None:
        worker, self.worker = self.worker, None
        if worker is not None:
            worker.stop()
        self.loaded = None
        self.state = "unloaded"
