"""The LSP protocol state machine and JSON-RPC framing, without any process."""


import pytest
from hypothesis import given, strategies as st

from marie.lsp import jsonrpc
from marie.lsp.protocol import Notification, Protocol, ProtocolError, Response, ServerRequest, State, incremental_change
from marie.lsp.types import TextEdit, Range, apply_text_edits
from marie.text.positions import LineTable


def frame(obj) -> bytes:
    return jsonrpc.encode(obj)


def sent(proto: Protocol) -> list[dict]:
    return jsonrpc.MessageParser().feed(proto.data_to_send())


def ready(sync: int = 2) -> Protocol:
    proto = Protocol()
    rid = proto.initialize({"capabilities": {}})
    proto.data_to_send()
    proto.receive(frame({"id": rid, "result": {"capabilities": {"textDocumentSync": sync}}}))
    proto.data_to_send()  # the "initialized" notification
    return proto


def test_framing_splits_and_joins_messages_in_any_chunking():
    data = frame({"id": 1, "result": "é😀"}) + frame({"method": "x", "params": [1]})
    parser = jsonrpc.MessageParser()
    got = []
    for i in range(len(data)):
        got += parser.feed(data[i:i + 1])
    assert got == [{"jsonrpc": "2.0", "id": 1, "result": "é😀"}, {"jsonrpc": "2.0", "method": "x", "params": [1]}]


def test_framing_rejects_garbage():
    with pytest.raises(jsonrpc.FramingError):
        jsonrpc.MessageParser().feed(b"Content-Length: x\r\n\r\n{}")
    with pytest.raises(jsonrpc.FramingError):
        jsonrpc.MessageParser().feed(b"Content-Length: 2\r\n\r\n[]")


def test_initialize_handshake_sends_initialized_and_enables_requests():
    proto = Protocol()
    with pytest.raises(ProtocolError):
        proto.request("textDocument/hover", {})
    rid = proto.initialize({"capabilities": {}})
    assert sent(proto)[0]["method"] == "initialize"
    events = proto.receive(frame({"id": rid, "result": {"capabilities": {"hoverProvider": True}}}))
    assert isinstance(events[0], Response) and proto.state is State.READY
    assert [m["method"] for m in sent(proto)] == ["initialized"]
    assert proto.capabilities == {"hoverProvider": True}


def test_cancel_sends_cancel_request_and_ignores_the_late_answer():
    proto = ready()
    rid = proto.request("textDocument/completion", {}, now=0.0, timeout=1.0)
    proto.data_to_send()
    assert proto.cancel(rid)
    assert sent(proto) == [{"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": rid}}]
    assert proto.receive(frame({"id": rid, "result": []})) == []


def test_timeouts_are_reported_by_expired():
    proto = ready()
    slow = proto.request("a", None, now=10.0, timeout=2.0)
    proto.request("b", None, now=10.0, timeout=None)
    assert proto.expired(11.0) == [] and proto.next_deadline() == 12.0
    assert proto.expired(12.5) == [slow]


def test_result_is_dropped_when_the_document_version_moved_on():
    proto = ready()
    proto.did_open("file:///a.py", "python", "x = 1\n")
    rid = proto.request("textDocument/hover", {}, uri="file:///a.py")
    proto.did_change("file:///a.py", "x = 12\n")
    [event] = proto.receive(frame({"id": rid, "result": {"contents": "int"}}))
    assert event.stale and event.result is None
    rid = proto.request("textDocument/hover", {}, uri="file:///a.py")
    [event] = proto.receive(frame({"id": rid, "result": {"contents": "int"}}))
    assert not event.stale and event.result == {"contents": "int"}


def test_did_change_is_incremental_with_utf16_positions():
    proto = ready(sync=2)
    proto.did_open("file:///a.py", "python", "s = '😀'\nname = 1\n")
    proto.data_to_send()
    version = proto.did_change("file:///a.py", "s = '😀!'\nname = 1\n")
    [msg] = sent(proto)
    assert version == 2 and msg["params"]["textDocument"]["version"] == 2
    assert msg["params"]["contentChanges"] == [
        {"range": {"start": {"line": 0, "character": 7}, "end": {"line": 0, "character": 7}}, "text": "!"}]


def test_full_sync_servers_get_the_whole_text():
    proto = ready(sync=1)
    proto.did_open("file:///a.py", "python", "a\n")
    proto.data_to_send()
    proto.did_change("file:///a.py", "ab\n")
    assert sent(proto)[0]["params"]["contentChanges"] == [{"text": "ab\n"}]


def test_server_requests_and_notifications_become_events_and_replies():
    proto = ready()
    events = proto.receive(frame({"id": "k1", "method": "workspace/configuration", "params": {"items": []}})
                           + frame({"method": "window/logMessage", "params": {"message": "hi"}}))
    assert isinstance(events[0], ServerRequest) and isinstance(events[1], Notification)
    proto.reply("k1", [None])
    assert sent(proto) == [{"jsonrpc": "2.0", "id": "k1", "result": [None]}]


def test_fail_all_returns_pending_requests():
    proto = ready()
    proto.request("a", None)
    proto.request("b", None)
    assert sorted(p.method for p in proto.fail_all().values()) == ["a", "b"]
    assert proto.pending == {} and proto.state is State.EXITED


def _apply_lsp_change(old: str, change: dict) -> str:
    lines = LineTable.of(old)
    rng = change["range"]
    start = lines.lsp_to_offset(rng["start"]["line"], rng["start"]["character"])
    end = lines.lsp_to_offset(rng["end"]["line"], rng["end"]["character"])
    return old[:start] + change["text"] + old[end:]


alphabet = st.sampled_from(["a", "b", " ", "\n", "\r\n", "😀", "名", "é", "\t"])


@given(st.lists(alphabet, max_size=25).map("".join), st.lists(alphabet, max_size=25).map("".join))
def test_incremental_change_reproduces_the_new_text(old, new):
    # As a server does it: positions against the old text, lines ending at \n (\r\n kept whole).
    assert _apply_lsp_change(old, incremental_change(old, new)) == new


def test_lone_carriage_returns_fall_back_to_full_text():
    proto = ready(sync=2)
    proto.did_open("file:///a.py", "python", "a\rb\n")
    proto.data_to_send()
    proto.did_change("file:///a.py", "a\rbc\n")
    assert sent(proto)[0]["params"]["contentChanges"] == [{"text": "a\rbc\n"}]


def test_apply_text_edits_keeps_order_of_inserts_at_one_position():
    edits = [TextEdit(Range(1, 1, 1, 1), "A"), TextEdit(Range(1, 1, 1, 1), "B"), TextEdit(Range(1, 2, 1, 3), "Z")]
    assert apply_text_edits("xyz", edits) == "ABxZz"


def test_incremental_change_counts_in_the_servers_encoding():
    old, new = "😀a\n", "😀ab\n"
    assert incremental_change(old, new, "utf-16")["range"]["start"] == {"line": 0, "character": 3}
    assert incremental_change(old, new, "utf-32")["range"]["start"] == {"line": 0, "character": 2}
    assert incremental_change(old, new, "utf-8")["range"]["start"] == {"line": 0, "character": 5}
    proto = Protocol(default_encoding="utf-32")
    rid = proto.initialize({})
    proto.receive(frame({"id": rid, "result": {"capabilities": {"positionEncoding": "utf-16"}}}))
    assert proto.position_encoding == "utf-16"    # the server's answer wins over the default


def test_snippets_expand_with_the_first_placeholder_selected():
    from marie.lsp.snippets import expand

    assert expand("greet(${1:name})$0") == ("greet(name)", 6, 10)
    assert expand("print($0)") == ("print()", 6, 6)
    assert expand("${1|one,two|} x") == ("one x", 0, 3)
    assert expand("a\\$b") == ("a$b", 3, 3)
