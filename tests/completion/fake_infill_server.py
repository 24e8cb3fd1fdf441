"""``FakeInfillServer``: llama.cpp server's ``/infill`` endpoint on 127.0.0.1, for the tests.

llama.cpp's own server (the C++ ``llama-server``) is not installed here and ``llama_cpp.server``
(llama-cpp-python's) has no ``/infill``, so this speaks that endpoint's protocol (request fields
input_prefix / input_suffix / input_extra / n_predict / stream, server-sent ``{"content", "stop"}``
events, a last event with ``stop: true`` and the token counts) in front of a real model: the bundled
Gemma through llama-cpp-python. Gemma has no FIM tokens, so it completes the prefix (the extra files
first), which is what llama-server does for a model without them. The same contract tests run
against ``/v1/completions`` on the real ``llama_cpp.server``.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class FakeInfillServer:
    def __init__(self, model_path: Path) -> None:
        from llama_cpp import Llama

        self.llm = Llama(model_path=str(model_path), n_ctx=1024, n_threads=1, n_threads_batch=1, swa_full=True,
                         verbose=False)
        self.lock = threading.Lock()
        self.requests: list[dict] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                if self.path != "/infill":
                    self.send_error(404, "only /infill here")
                    return
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                server.requests.append(body)
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                try:
                    server.stream(body, self.wfile)
                except (BrokenPipeError, ConnectionResetError):
                    pass       # the client stopped reading (cancelled)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True, name="fake-infill").start()

    def stream(self, body: dict, out) -> None:
        extra = "".join(f"# {e.get('filename', '')}\n{e.get('text', '')}\n" for e in body.get("input_extra") or [])
        prompt = extra + body.get("input_prefix", "")
        stops = [s for s in body.get("stop") or [] if s]
        with self.lock:
            tokens = self.llm.tokenize(prompt.encode("utf-8"), add_bos=True, special=False)
            text, n = "", 0
            for token in self.llm.generate(tokens, temp=0.0, top_k=1, repeat_penalty=1.0):
                if token == self.llm.token_eos() or n >= int(body.get("n_predict", 32)):
                    break
                piece = self.llm.detokenize([token]).decode("utf-8", "replace")
                text += piece
                n += 1
                if any(s in text for s in stops):
                    break
                out.write(f"data: {json.dumps({'content': piece, 'stop': False})}\n\n".encode())
                out.flush()
            final = {"content": "", "stop": True, "tokens_evaluated": len(tokens), "tokens_predicted": n,
                     "tokens_cached": 0, "stop_type": "limit" if n >= int(body.get("n_predict", 32)) else "eos"}
            out.write(f"data: {json.dumps(final)}\n\n".encode())
            out.flush()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
