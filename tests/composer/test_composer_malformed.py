"""Malformed model output (generated with Hypothesis) never changes a file and always gives a clear error."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marie.composer import formats
from marie.composer.errors import ComposerError, ParseError

SOURCE = "def f(x):\n    y = x + 1\n    return y\n\n\ndef g():\n    return 'é'\n"
NEW = SOURCE.replace("x + 1", "x + 2").replace("'é'", "'ü'")
VALID = {name: formats.render(name, "m.py", SOURCE, NEW) for name in formats.FORMATS}
MARKERS = ["<<<<<<< SEARCH", "=======", ">>>>>>> REPLACE", "```", "--- a/m.py", "+++ b/m.py", "@@ -1,3 +1,3 @@",
           "m.py", "DELETE", "RENAME m.py ->", "../x.py", "/etc/passwd", ".git/config", "\x00", "\r\n"]


@st.composite
def malformed(draw):
    fmt = draw(st.sampled_from(sorted(formats.FORMATS)))
    lines = VALID[fmt].split("\n")
    how = draw(st.sampled_from(["truncate", "drop", "shuffle", "inject", "garbage"]))
    if how == "truncate":
        cut = draw(st.integers(0, max(0, len(VALID[fmt]) - 1)))
        text = VALID[fmt][:cut]
    elif how == "drop":
        idx = draw(st.lists(st.integers(0, len(lines) - 1), min_size=1, max_size=3, unique=True))
        text = "\n".join(l for i, l in enumerate(lines) if i not in idx)
    elif how == "shuffle":
        text = "\n".join(draw(st.permutations(lines)))
    elif how == "inject":
        pos = draw(st.integers(0, len(lines)))
        extra = draw(st.lists(st.sampled_from(MARKERS), min_size=1, max_size=4))
        text = "\n".join(lines[:pos] + extra + lines[pos:])
    else:
        text = draw(st.text(alphabet=st.sampled_from(list("<=>`@-+ \n\tmy.pDELTRNAMSCH/é\x00\r")), max_size=200))
    return fmt, text


@pytest.fixture(scope="module")
def module_app(tmp_path_factory):
    from marie.app import App

    root = tmp_path_factory.mktemp("malformed") / "ws"
    root.mkdir()
    (root / "m.py").write_text(SOURCE, encoding="utf-8")
    app = App(root)
    yield app
    app.close()


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=malformed())
def test_composer_malformed_answers_never_change_files(module_app, case):
    fmt, text = case
    root = module_app.root
    before = (root / "m.py").read_bytes()
    try:
        formats.parse(text, fmt)
    except ParseError as exc:
        assert str(exc) and len(str(exc)) > 15  # a sentence, not an empty error
    changeset = module_app.composer.propose_from_answer("fuzz", text, fmt)
    assert (root / "m.py").read_bytes() == before
    assert sorted(p.name for p in root.iterdir()) == ["m.py"]
    if not changeset.applicable:
        assert changeset.errors or not any(f.changes_anything for f in changeset.files)
        for error in changeset.errors:
            assert isinstance(error, str) and len(error) > 15
        with pytest.raises(ComposerError):
            module_app.composer.apply(changeset)
        assert (root / "m.py").read_bytes() == before
        assert sorted(p.name for p in root.iterdir()) == ["m.py"]
