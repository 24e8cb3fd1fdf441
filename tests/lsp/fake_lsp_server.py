"""FakeToyServer: a small but real language server for a made-up language (``.toy`` files), for tests
only. It runs as a subprocess speaking JSON-RPC over stdio (``python fake_lsp_server.py LOG``), keeps
each document's text by applying incremental ``didChange`` edits (UTF-16 positions, as the protocol
says), and answers from that text:

- diagnostics: every word ``bad`` is an error "bad word" (published after didOpen and each didChange);
- completion: the document's words plus ``toyfn``, a snippet ``toyfn(${1:left}, ${2:right})$0``;
- hover: ``toy word: <word>``.

Every message received is appended to LOG as one JSON line (``{"pid", "method", "params"}``) so a
test can see what MarieIDE sent, and the text the server holds after each change is logged as
method ``"$/text"``. One line goes to stderr at start-up (the server log panel shows it).
"""

import json
import os
import re
import sys

# run as a script, this folder is on sys.path: the framing is HangingServer's
from hanging_server import read_message, write_message as send  # noqa: E402

WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def write_message(message):
    send(sys.stdout.buffer, message)


def offset(text, position):
    """LSP position (line, UTF-16 character) -> index into ``text``."""
    lines = text.split("\n")
    line = min(position["line"], len(lines) - 1)
    start = sum(len(lines[i]) + 1 for i in range(line))
    units = 0
    for i, ch in enumerate(lines[line]):
        if units >= position["character"]:
            return start + i
        units += 2 if ord(ch) > 0xFFFF else 1
    return start + len(lines[line])


def utf16_position(text, index):
    before = text[:index]
    line = before.count("\n")
    column = before[before.rfind("\n") + 1:]
    return {"line": line, "character": sum(2 if ord(c) > 0xFFFF else 1 for c in column)}


class FakeToyServer:
    def __init__(self, log_path):
        self.log_path = log_path
        self.docs = {}

    def log(self, method, params):
        with open(self.log_path, "a", encoding="utf-8") as log:
            log.write(json.dumps({"pid": os.getpid(), "method": method, "params": params}) + "\n")

    def publish(self, uri):
        text = self.docs[uri]
        diagnostics = [{"range": {"start": utf16_position(text, m.start()), "end": utf16_position(text, m.end())},
                        "severity": 1, "source": "toy", "message": "bad word"}
                       for m in WORD.finditer(text) if m.group() == "bad"]
        write_message({"method": "textDocument/publishDiagnostics", "params": {"uri": uri, "diagnostics": diagnostics}})

    def word_at(self, params):
        text = self.docs.get(params["textDocument"]["uri"], "")
        at = offset(text, params["position"])
        for m in WORD.finditer(text):
            if m.start() <= at <= m.end():
                return m.group()
        return ""

    def handle(self, message):
        method, params = message.get("method"), message.get("params") or {}
        self.log(method, params)
        if method == "initialize":
            return {"capabilities": {"textDocumentSync": {"openClose": True, "change": 2},
                                     "completionProvider": {"triggerCharacters": ["."]}, "hoverProvider": True},
                    "serverInfo": {"name": "FakeToyServer"}}
        if method == "textDocument/didOpen":
            doc = params["textDocument"]
            self.docs[doc["uri"]] = doc["text"]
        elif method == "textDocument/didChange":
            uri = params["textDocument"]["uri"]
            text = self.docs.get(uri, "")
            for change in params["contentChanges"]:
                if "range" in change:
                    start, end = offset(text, change["range"]["start"]), offset(text, change["range"]["end"])
                    text = text[:start] + change["text"] + text[end:]
                else:
                    text = change["text"]
            self.docs[uri] = text
            self.log("$/text", {"uri": uri, "text": text})
        elif method == "textDocument/didClose":
            self.docs.pop(params["textDocument"]["uri"], None)
        elif method == "textDocument/completion":
            text = self.docs.get(params["textDocument"]["uri"], "")
            words = sorted({m.group() for m in WORD.finditer(text)})
            items = [{"label": w, "kind": 6} for w in words]
            items.append({"label": "toyfn", "kind": 3, "insertText": "toyfn(${1:left}, ${2:right})$0",
                          "insertTextFormat": 2})
            return {"isIncomplete": False, "items": items}
        elif method == "textDocument/hover":
            word = self.word_at(params)
            return {"contents": {"kind": "plaintext", "value": f"toy word: {word}"}} if word else None
        elif method == "shutdown":
            return None
        if method in ("textDocument/didOpen", "textDocument/didChange"):
            self.publish(params["textDocument"]["uri"])
        return None

    def serve(self):
        sys.stderr.write("FakeToyServer ready\n")
        sys.stderr.flush()
        while True:
            message = read_message(sys.stdin.buffer)
            if message is None or message.get("method") == "exit":
                return
            result = self.handle(message)
            if "id" in message and "method" in message:
                write_message({"id": message["id"], "result": result})


if __name__ == "__main__":
    FakeToyServer(sys.argv[1]).serve()
