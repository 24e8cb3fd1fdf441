"""The local model worker: a separate process that owns one llama.cpp model.

Run as ``python -m marie.ai.local_worker``. It speaks JSON lines: requests on stdin, events on the
original stdout (fd 1 is redirected to stderr at start so nothing llama.cpp prints can corrupt the
protocol). A crash or a corrupt model here ends this process only; the IDE sees EOF and reports it.

The ``Llama`` object stays alive between requests, so llama-cpp-python reuses the KV cache for the
longest matching token prefix of the next prompt (a second turn does not re-process the shared system
prompt and context). ``swa_full`` is set so models with sliding-window attention (Gemma 3) can truncate
their cache to a prefix instead of re-processing everything.

Requests (``op``): load, complete, tokenize, cancel, shutdown. Events (``ev``): progress, loaded,
prompt (prompt-processing progress: tokens done / total), text, done, result, error. A reader thread
applies ``cancel`` at once (the generation loop checks the flag between tokens); everything else runs
in order on the main thread.

Native crashes: ``faulthandler`` is on, so a SIGSEGV/SIGILL/SIGBUS in llama.cpp prints the Python
stack that called into native code to stderr (the parent reads it to say where it crashed) before
the process dies with the signal. ``load`` with ``safe`` set turns off llama.cpp's extra buffer types
(weight repacking into CPU-specific layouts such as AMX tiles), the code path behind the known
crashes, at some cost in speed; the parent retries once in that mode after a crash.
"""

from __future__ import annotations

import codecs
import ctypes
import faulthandler
import json
import os
import queue
import sys
import threading
import time
import traceback
from typing import Any

_out = -1  # the protocol file descriptor (a dup of the original stdout)
_out_lock = threading.Lock()


def send(**event: Any) -> None:
    # One os.write per event: no text-layer buffering to flush (one syscall per streamed piece).
    data = (json.dumps(event, ensure_ascii=False) + "\n").encode("utf-8")
    with _out_lock:
        while data:
            data = data[os.write(_out, data):]


# -- chat formatting --------------------------------------------------------------------------

_formatters: dict[tuple[str, str, str], Any] = {}


def _formatter(template: str, eos: str, bos: str) -> Any:
    # Compiling the Jinja template costs milliseconds: once per template, not once per request.
    key = (template, eos, bos)
    formatter = _formatters.get(key)
    if formatter is None:
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        formatter = _formatters[key] = Jinja2ChatFormatter(template=template, eos_token=eos, bos_token=bos)
    return formatter


def format_prompt(llm: Any, messages: list[dict], arch: str) -> str:
    """Messages -> the model's prompt text (its own Jinja template if it has one, else by family)."""
    template = llm.metadata.get("tokenizer.chat_template") if llm is not None else None
    if template:
        eos = llm._model.token_get_text(llm.token_eos()) if llm.token_eos() >= 0 else ""
        bos = llm._model.token_get_text(llm.token_bos()) if llm.token_bos() >= 0 else ""
        formatter = _formatter(template, eos, bos)
        result = formatter(messages=messages)
        prompt = result.prompt
        # The tokenizer adds BOS itself; a template that writes it too would double it.
        if bos and prompt.startswith(bos):
            prompt = prompt[len(bos):]
        return prompt
    if arch.startswith("gemma"):
        # Gemma has no system role: the system text opens the first user turn.
        out, system = [], ""
        for m in messages:
            role, content = m["role"], m["content"]
            if role == "system":
                system += content + "\n\n"
                continue
            if role == "user" and system:
                content, system = system + content, ""
            tag = "model" if role == "assistant" else "user"
            out.append(f"<start_of_turn>{tag}\n{content}<end_of_turn>\n")
        return "".join(out) + "<start_of_turn>model\n"
    # ChatML: the most common default among instruction-tuned GGUFs without a template.
    parts = [f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages]
    return "".join(parts) + "<|im_start|>assistant\n"


class Worker:
    def __init__(self) -> None:
        self.llm = None
        self.arch = ""
        self.model_path = ""
        self.safe = False
        self.batch_max = self.batch_now = 1
        self.batch_auto = False
        self.cancelled: set[int] = set()
        self.jobs: queue.Queue = queue.Queue()

    # -- reading stdin ------------------------------------------------------------------------
    def read_loop(self) -> None:
        for line in sys.stdin:
            try:
                msg = json.loads(line)
            except ValueError:
                send(ev="error", id=None, kind="BadResponse", message="worker got a line that is not JSON")
                continue
            if msg.get("op") == "cancel":
                self.cancelled.add(int(msg.get("id", -1)))  # seen by the generation loop between tokens
            else:
                self.jobs.put(msg)
        self.jobs.put({"op": "shutdown"})

    def run(self) -> None:
        threading.Thread(target=self.read_loop, daemon=True, name="stdin").start()
        while True:
            msg = self.jobs.get()
            op = msg.get("op")
            if op == "shutdown":
                return
            handler = getattr(self, f"op_{op}", None)
            rid = msg.get("id")
            if handler is None:
                send(ev="error", id=rid, kind="AIError", message=f"unknown worker request {op!r}")
                continue
            try:
                handler(msg)
            except Exception as exc:  # report and keep serving: one bad request must not end the worker
                kind = getattr(exc, "kind", "AIError")
                send(ev="error", id=rid, kind=kind, message=str(exc) or type(exc).__name__,
                     detail=traceback.format_exc(limit=3))

    # -- operations ---------------------------------------------------------------------------
    def op_load(self, msg: dict) -> None:
        import llama_cpp
        from llama_cpp import Llama

        path = msg["path"]
        safe = bool(msg.get("safe"))
        if (self.llm is not None and self.model_path == path and msg.get("n_ctx") == self.llm.n_ctx()
                and safe == self.safe):
            send(ev="loaded", id=msg.get("id"), **self._describe())
            return
        self.llm = None
        send(ev="progress", id=msg.get("id"), fraction=0.0, message="Loading model")

        # Model loading progress: llama.cpp calls this while reading tensors.
        last = [0.0]

        @llama_cpp.llama_progress_callback
        def on_progress(fraction: float, _user: ctypes.c_void_p) -> bool:
            if fraction - last[0] >= 0.05 or fraction >= 1.0:
                last[0] = fraction
                send(ev="progress", id=msg.get("id"), fraction=round(fraction * 0.9, 3), message="Loading model")
            return True

        original = llama_cpp.llama_model_default_params

        def params_with_progress():
            params = original()
            params.progress_callback = on_progress
            if safe:
                # No repacked weight layouts (AMX tiles, interleaved Q4 blocks): the plain kernels.
                params.use_extra_bufts = False
            return params

        llama_cpp.llama_model_default_params = params_with_progress
        try:
            n_batch = int(msg.get("n_batch", 512))
            llm = Llama(model_path=path, n_ctx=int(msg.get("n_ctx", 2048)), n_threads=int(msg["threads"]),
                        n_threads_batch=int(msg.get("threads_batch") or msg["threads"]),
                        n_batch=n_batch, n_ubatch=min(n_batch, int(msg.get("n_ubatch") or n_batch)),
                        flash_attn=bool(msg.get("flash_attn", False)) and not safe,
                        seed=int(msg.get("seed", 0)), swa_full=True, verbose=False)
        except Exception as exc:
            err = RuntimeError(f"llama.cpp could not load {os.path.basename(path)}: {exc}. "
                               "The file may be corrupt, truncated or not a supported model.")
            err.kind = "ModelLoadError"  # type: ignore[attr-defined]
            raise err from exc
        finally:
            llama_cpp.llama_model_default_params = original
        self.llm, self.model_path, self.safe = llm, path, safe
        # threads_batch "auto": the most prompt threads to use; fewer while the cores are busy.
        self.batch_max = llm.n_threads_batch
        self.batch_auto = bool(msg.get("threads_batch_auto"))
        self.batch_now = llm.n_threads_batch
        self.arch = str(llm.metadata.get("general.architecture", ""))
        send(ev="loaded", id=msg.get("id"), **self._describe())

    def _describe(self) -> dict:
        llm = self.llm
        return {"n_ctx": llm.n_ctx(), "n_ctx_train": llm._model.n_ctx_train(), "arch": self.arch,
                "name": llm.metadata.get("general.name", ""), "params": llm._model.n_params(),
                "threads": llm.n_threads, "threads_batch": llm.n_threads_batch,
                "threads_batch_auto": self.batch_auto, "safe": self.safe}

    def _need_model(self):
        if self.llm is None:
            err = RuntimeError("no model is loaded in the worker")
            err.kind = "ModelMissing"  # type: ignore[attr-defined]
            raise err
        return self.llm

    def op_tokenize(self, msg: dict) -> None:
        llm = self._need_model()
        tokens = llm.tokenize(msg["text"].encode("utf-8"), add_bos=False, special=True)
        send(ev="result", id=msg.get("id"), count=len(tokens))

    def op_complete(self, msg: dict) -> None:
        from llama_cpp import LlamaGrammar
        import llama_cpp

        rid = int(msg["id"])
        llm = self._need_model()
        if rid in self.cancelled:
            send(ev="done", id=rid, finish="cancelled", prompt_tokens=0, completion_tokens=0, cached_tokens=0)
            return
        started = time.perf_counter()
        prompt = msg.get("prompt")
        if prompt is None:
            prompt = format_prompt(llm, msg["messages"], self.arch)
        tokens = llm.tokenize(prompt.encode("utf-8"), add_bos=True, special=True)
        n_ctx = llm.n_ctx()
        if len(tokens) >= n_ctx:
            err = RuntimeError(f"the prompt is {len(tokens)} tokens but the model's context holds {n_ctx}; "
                               "shorten the context or raise ai.local.n_ctx")
            err.kind = "ContextTooLong"  # type: ignore[attr-defined]
            raise err
        max_tokens = max(1, min(int(msg.get("max_tokens", 256)), n_ctx - len(tokens)))
        grammar = None
        if msg.get("grammar"):
            grammar = LlamaGrammar.from_string(msg["grammar"], verbose=False)
        elif msg.get("json_schema") is not None:
            grammar = LlamaGrammar.from_json_schema(json.dumps(msg["json_schema"]), verbose=False)
        # How much of this prompt is already in the KV cache (llama-cpp-python reuses it in generate()).
        cached = 0
        for a, b in zip(llm._input_ids[: llm.n_tokens], tokens):
            if a != b:
                break
            cached += 1
        cached = min(cached, len(tokens) - 1) if cached else 0
        self._process_prompt(llm, tokens, cached, rid)
        if rid in self.cancelled:
            self.cancelled.discard(rid)
            send(ev="done", id=rid, finish="cancelled", prompt_tokens=len(tokens), completion_tokens=0,
                 cached_tokens=cached)
            return
        llm.set_seed(int(msg.get("seed", 0)))
        temperature = float(msg.get("temperature", 0.0))
        stops = [s for s in msg.get("stop", []) if s]
        hold = max((len(s) for s in stops), default=1) - 1
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        text, sent, generated, finish = "", 0, 0, "length"
        first_token_s = None
        vocab = llm._model.vocab
        # Time spent in this loop's own work per token (detokenize, stop check, pipe write), outside
        # llama.cpp: reported so the benchmark can show what the worker adds over raw llama-cpp-python.
        own_s = send_s = last_flush = 0.0
        perf = time.perf_counter
        flush_s = max(0.0, float(msg.get("flush_ms", 0.0))) / 1000
        for token in llm.generate(tokens, temp=temperature, top_k=40 if temperature > 0 else 1,
                                  top_p=0.95, min_p=0.05, repeat_penalty=float(msg.get("repeat_penalty", 1.0)),
                                  grammar=grammar):
            t0 = perf()
            if rid in self.cancelled:
                finish = "cancelled"
                break
            if first_token_s is None:
                first_token_s = t0 - started
            if llama_cpp.llama_vocab_is_eog(vocab, token):
                finish = "stop"
                break
            generated += 1
            before = len(text)
            text += decoder.decode(llm.detokenize([token], special=False))
            if stops:
                # Only the new text (and a stop string's length before it) can complete a stop string.
                tail = max(0, before - hold)
                stop_at = min((i for i in (text.find(s, tail) for s in stops) if i >= 0), default=-1)
                if stop_at >= 0:
                    text, finish = text[:stop_at], "stop"
                    break
            # Hold back a tail that could still become a stop string.
            ready = len(text) - hold if stops else len(text)
            # The first piece goes out at once (time to first token); later ones at most every
            # ``flush_s``: each pipe write wakes the IDE's reader, which on a busy machine costs the
            # generating thread up to a millisecond per write (measured in bench/bench_ai.py).
            if ready > sent and (not sent or t0 - last_flush >= flush_s):
                t1 = perf()
                send(ev="text", id=rid, t=text[sent:ready])
                sent, last_flush = ready, perf()
                send_s += last_flush - t1
            own_s += perf() - t0
            if generated >= max_tokens:
                break
        if finish != "cancelled":
            text += decoder.decode(b"", final=True)
            if len(text) > sent:
                send(ev="text", id=rid, t=text[sent:])
        self.cancelled.discard(rid)
        send(ev="done", id=rid, finish=finish, prompt_tokens=len(tokens), completion_tokens=generated,
             cached_tokens=cached, ttft_s=first_token_s, seconds=time.perf_counter() - started,
             own_s_per_token=own_s / generated if generated else 0.0,
             send_s_per_token=send_s / generated if generated else 0.0)


    def _process_prompt(self, llm: Any, tokens: list[int], cached: int, rid: int) -> None:
        """Evaluate the uncached part of the prompt in chunks, reporting ``prompt`` progress events.

        llama-cpp-python's ``generate`` would evaluate the whole prompt in one silent call; done here
        in n_batch chunks the user sees "prompt 512/1,856" instead of a frozen wait, and a cancel is
        honoured between chunks. ``generate`` then finds the prompt in the KV cache (longest common
        prefix) and evaluates only the last token. The final token is left for ``generate``, which
        needs at least one token to evaluate to produce logits.
        """
        todo = len(tokens) - 1 - cached
        if todo <= 0:
            return
        self._fit_prompt_threads(llm)
        # Keep the prefix the cache already holds; eval() drops the KV entries past n_tokens itself
        # (swa_full keeps that partial removal possible for Gemma's sliding-window layers).
        if llm.n_tokens > cached:
            llm.n_tokens = cached
        chunk = max(64, int(llm.n_batch))
        done = cached
        total = len(tokens)
        send(ev="prompt", id=rid, done=done, total=total)
        while done < total - 1:
            if rid in self.cancelled:
                return
            end = min(total - 1, done + chunk)
            llm.eval(tokens[done:end])
            done = end
            send(ev="prompt", id=rid, done=done, total=total)


    def _fit_prompt_threads(self, llm: Any) -> None:
        """With threads_batch on auto, use as many prompt threads as there are free cores now.

        llama.cpp's threads wait for each other at every layer, so a second thread that has to share
        a core with another program makes the prompt slower, not faster (bench_llama_build.py).
        """
        if not self.batch_auto or self.batch_max <= 1:
            return
        from marie.core.cpu_load import threads_for_load
        import llama_cpp

        wanted = threads_for_load(self.batch_max, spare=0.5)
        if wanted != self.batch_now:
            llama_cpp.llama_set_n_threads(llm._ctx.ctx, llm.n_threads, wanted)
            self.batch_now = wanted


def main() -> int:
    global _out
    # Keep the protocol on a private copy of stdout; anything printed to fd 1 later goes to stderr.
    _out = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    # On SIGSEGV/SIGILL/SIGBUS/SIGFPE: print the Python frames that called into native code, then die
    # with the signal. The parent turns this into a message a user can act on.
    faulthandler.enable(file=sys.stderr, all_threads=False)
    send(ev="hello", pid=os.getpid())
    Worker().run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
