"""`marie` explains in one line why a window cannot open, instead of letting Qt abort."""

from marie.cli import cmd_open


def test_missing_libraries_message_names_packages():
    text = cmd_open.missing_libraries_message(["libxcb-cursor.so.0", "libxcb-icccm.so.4"])
    assert "\n" not in text
    assert "apt-get install libxcb-cursor0 libxcb-icccm4" in text


def test_ldd_check_finds_what_is_missing(monkeypatch, tmp_path):
    import subprocess

    monkeypatch.setattr("sys.platform", "linux")
    monkeypatch.setenv("DISPLAY", ":99")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    real_run = subprocess.run

    def fake_ldd(cmd, **kw):  # FakeLdd: the real libraries are all present on this machine
        result = real_run(cmd, **kw)
        result.stdout += "\tlibxcb-cursor.so.0 => not found\n"
        return result

    monkeypatch.setattr(subprocess, "run", fake_ldd)
    assert cmd_open.missing_x11_libraries() == ["libxcb-cursor.so.0"]


def test_no_check_offscreen_or_wayland(monkeypatch):
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert cmd_open.missing_x11_libraries() == []
    monkeypatch.delenv("QT_QPA_PLATFORM")
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    assert cmd_open.missing_x11_libraries() == []
