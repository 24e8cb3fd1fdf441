"""HangingServer: a tiny stdio language server that answers ``initialize`` (and ``shutdown``) and then
stops answering every other request, as a wedged server does. Each message's method is appended to
the log file given as argv[1] (prefixed with the pid) so tests can see cancels and replays.
Run as a script: ``python hanging_server.py LOG``.
"""

import json
import os
import sys


def read_message(stream):
    length = None
    while True:
        line = stream.readline()
        if not line:
            return None
        if line in (b"\r\n", b"\n"):
            break
        name, _, value = line.decode("ascii").partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    return json.loads(stream.read(length))


def write_message(stream, message):
    body = json.dumps({"jsonrpc": "2.0", **message}).encode("utf-8")
    stream.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    stream.flush()


def main():
    log_path = sys.argv[1]
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while True:
        message = read_message(stdin)
        if message is None:
            return
        method = message.get("method", "<response>")
        with open(log_path, "a", encoding="utf-8") as log:
            log.write(f"{os.getpid()} {method}\n")
        if method == "initialize":
            write_message(stdout, {"id": message["id"], "result": {"capabilities": {
                "textDocumentSync": 2, "completionProvider": {}, "hoverProvider": True}}})
        elif method == "shutdown":
            write_message(stdout, {"id": message["id"], "result": None})
        elif method == "exit":
            return
        # every other request: never answered (the server is hung)


if __name__ == "__main__":
    main()
