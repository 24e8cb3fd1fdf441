"""The automation endpoint on a real unix socket: token, permissions, peer checks, stale sockets,
single listener, requests and event streams."""

from __future__ import annotations

import os
import socket
import stat
import threading
import time

import pytest

from marie.automation import client as client_mod
from marie.automation import location
from marie.automation.client import Client, NotRunning, RemoteError
from marie.automation.endpoint import UNAUTHORIZED, AlreadyRunning, Endpoint


@pytest.fixture
def endpoint_dir(tmp_path, monkeypatch):
    folder = tmp_path / "run"
    monkeypatch.setenv("MARIE_ENDPOINT_DIR", str(folder))
    return folder


@pytest.fixture
def served(endpoint_dir):
    listeners: list = []

    def subscribe(names, send):
        listeners.append(send)
        return lambda: listeners.remove(send)

    endpoint = Endpoint({"echo": lambda p: p, "fail": lambda p: 1 / 0}, subscribe=subscribe)
    endpoint.start()
    yield endpoint, listeners
    endpoint.close()


def test_requests_answer_and_errors_come_back_as_json_rpc_errors(served):
    endpoint, _ = served
    with Client() as client:
        assert client.call("echo", a=1, b="x") == {"a": 1, "b": "x"}
        with pytest.raises(RemoteError, match="division by zero"):
            client.call("fail")
        with pytest.raises(RemoteError, match="no method 'nope'"):
            client.call("nope")
        assert client.call("echo", ok=True) == {"ok": True}  # the connection survives errors


def test_the_socket_folder_and_token_are_private(served, endpoint_dir):
    endpoint, _ = served
    assert stat.S_IMODE(os.stat(endpoint_dir).st_mode) == 0o700
    assert stat.S_IMODE(os.lstat(endpoint.path).st_mode) == 0o600
    token = location.token_path(endpoint.path)
    assert stat.S_IMODE(os.stat(token).st_mode) == 0o600
    assert token.read_text() == endpoint.token and len(endpoint.token) >= 40


def test_a_wrong_token_is_refused_and_the_connection_closed(served):
    endpoint, _ = served
    with Client(token="not-the-token") as client:
        with pytest.raises(RemoteError) as info:
            client.call("echo", x=1)
        assert info.value.code == UNAUTHORIZED
        with pytest.raises((RemoteError, OSError)):
            client.call("echo", x=2)


def test_a_socket_others_may_use_is_refused_by_the_client(served):
    endpoint, _ = served
    os.chmod(endpoint.path, 0o666)
    with pytest.raises(location.UnsafeLocation, match="other users"):
        Client()
    os.chmod(endpoint.path, 0o600)
    os.chmod(endpoint.path.parent, 0o755)
    with pytest.raises(location.UnsafeLocation, match="other users"):
        Client()
    os.chmod(endpoint.path.parent, 0o700)
    with Client() as client:
        assert client.call("echo", fine=1) == {"fine": 1}


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to become another user")
def test_another_user_cannot_reach_the_socket(served):
    endpoint, _ = served
    # A forked child turns into "nobody" and tries to connect (fork, not exec: nobody may not be able
    # to run this venv's Python at all). Only plain syscalls run in the child before _exit.
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.setgid(65534)
            os.setuid(65534)
            probe = socket.socket(socket.AF_UNIX)
            try:
                probe.connect(str(endpoint.path))
                code = 0
            except PermissionError:
                code = 7
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 7


def test_one_listener_per_user_and_display_and_stale_sockets_are_replaced(served, endpoint_dir):
    endpoint, _ = served
    with pytest.raises(AlreadyRunning):
        Endpoint({}, path=endpoint.path).start()
    endpoint.close()
    # A socket file left by a process that died: the next window takes over.
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(endpoint.path))
    stale.close()
    assert endpoint.path.exists()
    again = Endpoint({"echo": lambda p: p}, path=endpoint.path)
    again.start()
    try:
        with Client() as client:
            assert client.call("echo", n=2) == {"n": 2}
    finally:
        again.close()
    assert not endpoint.path.exists() and not location.token_path(endpoint.path).exists()


def test_no_window_running_is_reported_plainly(endpoint_dir):
    with pytest.raises(NotRunning, match="no MarieIDE window"):
        Client()
    assert client_mod.try_open("/tmp/x.py") is False


def test_event_streams_reach_the_client(served):
    endpoint, listeners = served
    received: list[dict] = []

    def read() -> None:
        with Client() as client:
            for event in client.events(["notice"]):
                received.append(event)
                if len(received) == 2:
                    return

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not listeners and time.monotonic() < deadline:
        time.sleep(0.02)
    listeners[0]({"event": "notice", "message": "one"})
    listeners[0]({"event": "notice", "message": "two"})
    thread.join(10)
    assert [e["message"] for e in received] == ["one", "two"]
    deadline = time.monotonic() + 5
    while listeners and time.monotonic() < deadline:  # the hang-up unsubscribes
        time.sleep(0.02)
    assert listeners == []


def test_display_names_separate_sessions(monkeypatch):
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("DISPLAY", ":1")
    assert location.display_name() == "x11-1"
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    assert location.display_name() == "wayland-wayland-0"
    monkeypatch.delenv("WAYLAND_DISPLAY")
    monkeypatch.delenv("DISPLAY")
    assert location.display_name() == "headless"
