"""`marie` explains in one line why a window cannot open, instead of letting Qt abort."""

from marie.cli import cmd_open


def test_missing_libraries_message_names_packages():
    text = cmd_open.missing_libraries_message(["libxcb-cursor.so.0", "libxcb-icccm.so.4"])
    assert "\n" not in text
    assert "apt-get install libxcb-cursor0 libxcb-icccm4" in text


def _x11_env(monkeypatch, tmp_path):
    monkeypatch.setenv("MARIE_HOME", str(tmp_path / "home"))  # a fresh cache: no remembered check
    monkeypatch.setattr("sys.platform", "linux")
    monkeypatch.setenv("DISPLAY", ":99")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)


def test_ldd_result_is_remembered_once_everything_was_found(monkeypatch, tmp_path):
    import subprocess

    _x11_env(monkeypatch, tmp_path)
    calls = []

    def fake_ldd(cmd, **kw):  # FakeLdd: reports every library as present
        calls.append(cmd)
        return subprocess.CompletedProcess(cmd, 0, stdout="\tlibc.so.6 => /lib/libc.so.6\n", stderr="")

    monkeypatch.setattr(subprocess, "run", fake_ldd)
    assert cmd_open.missing_x11_libraries() == [] and calls
    calls.clear()
    assert cmd_open.missing_x11_libraries() == [] and calls == [], "the second start must not run ldd"


def test_ldd_check_finds_what_is_missing(monkeypatch, tmp_path):
    import subprocess

    _x11_env(monkeypatch, tmp_path)

    def fake_ldd(cmd, **kw):  # FakeLdd: whatever this machine has, report one library missing
        out = "\tlibc.so.6 => /lib/libc.so.6\n\tlibxcb-cursor.so.0 => not found\n"
        return subprocess.CompletedProcess(cmd, 0, stdout=out, stderr="")

    monkeypatch.setattr(subprocess, "run", fake_ldd)
    assert cmd_open.missing_x11_libraries() == ["libxcb-cursor.so.0"]


def test_no_check_offscreen_or_wayland(monkeypatch):
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert cmd_open.missing_x11_libraries() == []
    monkeypatch.delenv("QT_QPA_PLATFORM")
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    assert cmd_open.missing_x11_libraries() == []
