"""The local provider: llama.cpp in a worker process (``marie.ai.local_worker``).

The parent never loads llama.cpp: a corrupt GGUF or a crash in native code ends the worker, and the
next request starts a new one. The model loads in the background with progress (``load_async``);
state changes are reported through ``on_state(state, detail)``. One request runs at a time; a
cancelled request is abandoned at once by the caller while the worker stops at the next token.
"""

from __future__ import annotations

import collections
import itertools
import json
import logging
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable

from marie.ai import errors, models, tools
from marie.ai.gguf import GGUFError, read_info_cached
from marie.ai.provider import Provider, Result, Stream, pump
from marie.ai.types import Capabilities, ChatRequest, Usage
from marie.core.tasks import Cancelled, CancelToken

log = logging.getLogger(__name__)

_KINDS = {"ModelLoadError": errors.ModelLoadError, "ModelMissing": errors.ModelMissing,
          "ContextTooLong": errors.ContextTooLong, "BadResponse": errors.BadResponse}


class WorkerProcess:
    """One worker subprocess and the thread that reads its events. Methods: any thread."""

    def __init__(self, python: str | None = None) -> None:
        env = dict(os.environ)
        env.setdefault("PYTHONUNBUFFERED", "1")
        self.proc = subprocess.Popen([python or sys.executable, "-m", "marie.ai.local_worker"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env=env, cwd=str(Path(__file__).resolve().parents[2]))
        self.routes: dict[Any, Stream] = {}
        self.stderr_tail: collections.deque[str] = collections.deque(maxlen=30)
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self.dead = False
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
        code = self.proc.poll()
        tail = " | ".join(list(self.stderr_tail)[-3:])
        how = f"exit code {code}" if code is not None else "its pipe closed"
        return errors.ServerDown(f"The local model worker stopped unexpectedly ({how}); the IDE is fine and "
                                 f"the next request starts a new worker." + (f" Last output: {tail}" if tail else ""),
                                 provider="local")

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

    def _read_stderr(self) -> None:
        for raw in self.proc.stderr:
            line = raw.decode("utf-8", "replace").rstrip()
            if line:
                self.stderr_tail.append(line)

    def alive(self) -> bool:
        return not self.dead and self.proc.poll() is None

    def stop(self) -> None:
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


class LocalProvider(Provider):
    """llama.cpp on this machine. ``config`` is the ``ai.local`` settings section."""

    name = "local"
    local = True

    def __init__(self, config: dict, on_state: Callable[[str, dict], None] | None = None,
                 precheck: bool = True) -> None:
        self.config = dict(config)
        self.on_state = on_state or (lambda state, detail: None)
        self.precheck = precheck
        self.worker: WorkerProcess | None = None
        self.loaded: dict | None = None  # what the worker said about the loaded model
        self.loaded_key: tuple | None = None
        self.state = "unloaded"  # unloaded | loading | ready | error
        self.error: str = ""
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
            key = (str(path), self._n_ctx_cached(path), int(self.config.get("threads", 1)))
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
                self.worker = WorkerProcess()
            self.loaded, self.loaded_key = None, None
            rid = f"load-{next(self._ids)}"
            stream = Stream()
            self.worker.route(rid, stream)
            threads = int(self.config.get("threads", 1) or 1)

            try:
                self.worker.send(op="load", id=rid, path=str(path), n_ctx=key[1], threads=threads,
                                 n_batch=int(self.config.get("n_batch", 512)))
                info = self._wait_load(stream, token, progress, name)
            except BaseException as exc:
                msg = str(exc) or type(exc).__name__
                self.error = msg
                self._set_state("error", model=name, message=msg)
                if isinstance(exc, errors.ServerDown):
                    raise errors.ModelLoadError(f"Cannot load model {name!r}: the worker crashed while loading "
                                                f"it (the file may be corrupt). {exc}", provider="local") from exc
                raise
            finally:
                self.worker.unroute(rid)
            self.loaded, self.loaded_key, self.error = info, key, ""
            self._set_state("ready", model=name, **{k: info[k] for k in ("n_ctx", "threads") if k in info})
            return info

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

    def _ask(self, op: str, token: CancelToken | None, on_text, timeout: float, **msg: Any) -> tuple[str, dict]:
        rid = next(self._ids)
        stream = Stream()
        worker = self.worker
        assert worker is not None
        worker.route(rid, stream)

        def cancel() -> None:
            try:
                worker.send(op="cancel", id=rid)
            except errors.AIError:
                pass

        try:
            worker.send(op=op, id=rid, **msg)
            return pump(stream, token, on_text, timeout, "the local model", on_cancel=cancel)
        finally:
            worker.unroute(rid)

    def complete(self, request: ChatRequest, model: str, token: CancelToken | None,
                 on_text: Callable[[str], None] | None) -> Result:
        tools.check_request(request, "the local model", False)
        with self._lock:
            started = time.perf_counter()
            self.ensure_loaded(model, token)
            timeout = float(self.config.get("timeout_s", 120.0))
            text, meta = self._ask(
                "complete", token, on_text, timeout,
                messages=[{"role": m.role, "content": m.content} for m in request.messages],
                max_tokens=request.max_tokens, temperature=request.temperature, seed=request.seed,
                stop=list(request.stop), grammar=request.grammar, json_schema=request.json_schema,
                repeat_penalty=float(self.config.get("repeat_penalty", 1.1)),
                flush_ms=float(self.config.get("stream_interval_ms", 50.0)))
            # The worker's own figures for the last request (seconds, own_s_per_token): benchmarks read them.
            self.last_stats = {k: v for k, v in meta.items() if k not in ("ev", "id")}
            usage = Usage(prompt_tokens=int(meta.get("prompt_tokens", 0)),
                          completion_tokens=int(meta.get("completion_tokens", 0)),
                          cached_tokens=int(meta.get("cached_tokens", 0)),
                          latency_s=time.perf_counter() - started)
            return Result(text, usage, self.model_name(model), ttft_s=meta.get("ttft_s"),
                          finish=str(meta.get("finish", "")))

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
