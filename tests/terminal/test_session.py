"""A real bash in a real pty: colours reach the screen model, resize reaches ``stty size``, the exit
code comes back, the shell starts in the folder it was given, bracketed paste, and a big output
stays bounded in memory while the scrollback holds exactly the last rows."""

from __future__ import annotations

from marie.terminal import session as session_module
from marie.terminal.screen import BRACKETED_PASTE
from marie.terminal.session import TerminalSession, default_shell, shell_env
from tests.terminal.helpers import PROMPT, bash_session, run, wait_for


def test_printf_colours_reach_the_screen_model(workspace):
    session = bash_session(workspace)
    try:
        run(session, r"printf '\033[31mred\033[0m \033[1;38;5;208mbold-orange\033[0m "
                     r"\033[3;4;38;2;10;200;30mtrue\033[0m\n'; echo END", "END")
        model = session.model
        bottom = model.bottom_id()
        rows = model.rows(bottom, model.size[0])
        runs = next(r for r in rows if any(text == "red" for _, text, _ in r))
        by_text = {text: attrs for _, text, attrs in runs}
        assert by_text["red"].fg == "red"
        assert by_text["bold-orange"].fg == "ff8700" and by_text["bold-orange"].bold     # 256-colour 208
        true = by_text["true"]
        assert true.fg == "0ac81e" and true.italics and true.underscore                  # 24-bit colour
        assert session.env["TERM"] == "xterm-256color"
    finally:
        session.close()


def test_resize_reaches_stty_size_and_the_model(workspace):
    session = bash_session(workspace, lines=24, columns=80)
    try:
        run(session, "stty size", "24 80")
        session.resize(31, 97)
        assert session.model.size == (31, 97)
        run(session, "stty size", "31 97")
        # SIGWINCH reaches the foreground program: bash's own idea of the width follows
        run(session, "echo cols=$COLUMNS", "cols=97")
    finally:
        session.close()


def test_exit_code_when_the_shell_ends(workspace):
    codes = []
    session = bash_session(workspace, on_exit=codes.append)
    session.write(b"exit 7\r")
    wait_for(lambda: session.exited, what="the shell to exit")
    assert session.exit_code == 7
    wait_for(lambda: codes, what="on_exit")
    assert codes == [7]
    session.close()


def test_starts_in_the_given_folder_and_reports_where_it_is(workspace):
    (workspace / "sub").mkdir()
    session = bash_session(workspace)
    try:
        run(session, "pwd", str(workspace))
        run(session, "cd sub && echo moved", "moved")
        wait_for(lambda: session.current_directory() == workspace / "sub", what="/proc cwd")
    finally:
        session.close()


def test_paste_is_bracketed_when_the_shell_asks(workspace):
    session = bash_session(workspace)
    try:
        # bash >= 5.1 turns bracketed paste on at the prompt; a pasted line runs only on Enter
        wait_for(lambda: session.model.has_mode(BRACKETED_PASTE), what="bracketed paste mode")
        session.paste("echo pasted-one\necho pasted-two")
        wait_for(lambda: any("echo pasted-two" in r for r in session.model.screen_text()), what="the paste")
        assert not any(r.strip() == "pasted-one" for r in session.model.screen_text())
        session.write(b"\r")
        wait_for(lambda: any(r.strip() == "pasted-two" for r in session.model.screen_text()), what="Enter")
    finally:
        session.close()


def test_big_output_is_bounded_and_the_scrollback_is_exact(workspace):
    session = bash_session(workspace, lines=20, columns=60, scrollback=10_000)
    try:
        run(session, "seq 1 1500000; echo DONE", "DONE", timeout=180)   # ~10 MB through the pty
        model = session.model
        screen = session.model.screen_text()
        at = screen.index("DONE")
        assert screen[at - 1] == "1500000" and screen[at + 1].startswith(PROMPT.strip())
        # the scrollback is full, and it is exactly the rows that scrolled off, in order
        assert model.history_size() == 10_000
        first = int(model.row_text(model.first_id()))
        last = int(model.row_text(model.bottom_id() - 1))
        assert last - first == 9_999
        assert int(screen[0]) == last + 1
        # memory: the flood path kept a bounded tail, the reader a bounded backlog
        assert session.flood.bytes_skipped > 5_000_000
        assert session.flood.peak_tail <= 16 * 1024 * 1024
        assert session.peak_pending <= session_module.MAX_PENDING + session_module.READ_SIZE
    finally:
        session.close()


def test_default_shell_follows_settings_and_environment(monkeypatch):
    class Settings(dict):
        def get(self, key, default=None):
            return super().get(key, default)

    monkeypatch.setenv("SHELL", "/bin/sh")
    assert default_shell(Settings()) == ["/bin/sh", "-l"]
    assert default_shell(Settings({"terminal.shell": "/bin/bash", "terminal.args": []})) == ["/bin/bash"]
    monkeypatch.delenv("SHELL")
    assert default_shell(None)[0] == "/bin/bash"
    env = shell_env({"X": "1"})
    assert env["TERM"] == "xterm-256color" and env["COLORTERM"] == "truecolor" and env["X"] == "1"


def test_a_shell_that_cannot_start_says_why(workspace):
    session = TerminalSession(workspace, ["/nonexistent/shell"])
    try:
        session.start()
    except OSError as exc:
        assert "nonexistent" in str(exc) or exc.errno
    else:
        wait_for(lambda: session.exited, what="the failed shell to end")
        assert session.exit_code != 0
    finally:
        session.close()


def test_less_draws_on_the_alternate_screen(workspace):
    session = bash_session(workspace, lines=12, columns=60)
    try:
        run(session, "echo before-less", "before-less")
        session.write(b"seq 1 100 | less\r")
        wait_for(lambda: any(r.strip() == "1" for r in session.model.screen_text()), what="less to draw")
        session.write(b"q")
        run(session, "echo after-less", "after-less")
        model = session.model
        rows = [model.row_text(i).strip() for i in range(model.first_id(), model.bottom_id() + model.size[0])]
        assert "before-less" in rows
        assert "50" not in rows and "1" not in rows        # less's pages stayed on the alternate screen
    finally:
        session.close()
