"""``FakeOpenAIServer``: a loopback OpenAI-compatible chat-completions server that serves a fixed
transcript (one scripted answer per request, streamed as SSE chunks the way OpenAI streams them).
It is a fake of the *model*, not of the provider: the real ``OpenAIProvider`` and ``app.ai`` talk
to it over real HTTP. Every request body is recorded so tests can assert what the model was shown."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def call(name: str, arguments, call_id: str | None = None) -> dict:
    """A scripted tool call; ``arguments`` a dict (sent as JSON) or a raw string (sent as is)."""
    return {"name": name, "arguments": arguments if isinstance(arguments, str) else json.dumps(arguments),
            "id": call_id}


class FakeOpenAIServer:
    def __init__(self, script: list[dict]) -> None:
        """``script``: answers in order, each {"text": str} and/or {"calls": [call(...), ...]}; with
        {"wait": threading.Event} the answer is held until the event is set (for cancel tests)."""
        self.script = list(script)
        self.requests: list[dict] = []
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                with fake._lock:
                    fake.requests.append(body)
                    answer = fake.script.pop(0) if fake.script else {"text": "(the script is over)"}
                if answer.get("wait") is not None:
                    answer["wait"].wait(30)
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.end_headers()
                for chunk in fake.chunks(answer, len(fake.requests)):
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.flush()
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @staticmethod
    def chunks(answer: dict, n: int):
        def chunk(delta=None, finish=None, usage=None):
            out = {"choices": [{"index": 0, "delta": delta or {}, "finish_reason": finish}]}
            if usage:
                out = {"choices": [], "usage": usage}
            return out

        if answer.get("text"):
            yield chunk({"role": "assistant", "content": answer["text"]})
        for i, c in enumerate(answer.get("calls", [])):
            args = c["arguments"]
            half = len(args) // 2
            yield chunk({"tool_calls": [{"index": i, "id": c.get("id") or f"call_{n}_{i}", "type": "function",
                                         "function": {"name": c["name"], "arguments": args[:half]}}]})
            yield chunk({"tool_calls": [{"index": i, "function": {"arguments": args[half:]}}]})
        yield chunk(finish="tool_calls" if answer.get("calls") else "stop")
        yield chunk(usage={"prompt_tokens": 100 * n, "completion_tokens": 20})

    def __enter__(self) -> "FakeOpenAIServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
