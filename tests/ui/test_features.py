"""The editor feature registry: features install on every editor whatever panels load, a failing
feature is contained and shown, per-editor objects live in the registry (not on widgets)."""

from __future__ import annotations

from marie.ui import features
from marie.ui.features import FeatureRegistry, FeatureSpec


def test_builtin_features_install_without_any_panel(make_window, workspace):
    (workspace / "a.py").write_text("x = 1\n", encoding="utf-8")
    window = make_window()                       # no panels at all
    editor = window.open_file(workspace / "a.py")
    assert {"git_gutter", "lsp", "model_status"} <= set(window.features.active())
    assert window.features.get("git_gutter", editor) is not None
    assert window.features.get("lsp", editor) is not None
    assert not hasattr(editor, "_lsp") and not hasattr(editor, "_git_gutter")
    texts = [w.objectName() for w in window.status_bar.findChildren(type(window.status_bar.position))]
    assert "status.ai_model" in texts and "status.lsp" in texts


def test_a_failing_feature_is_contained_and_shown(make_window, workspace, monkeypatch):
    (workspace / "a.txt").write_text("hello\n", encoding="utf-8")
    seen: list[str] = []

    def broken_setup(host):
        raise RuntimeError("kaboom in setup")

    def broken_attach(state, editor):
        raise ValueError("kaboom per editor")

    specs = [FeatureSpec("broken", "Broken", setup=broken_setup),
             FeatureSpec("flaky", "Flaky", setup=lambda host: "state", attach=broken_attach),
             FeatureSpec("fine", "Fine", setup=lambda host: "ok",
                         attach=lambda state, editor: seen.append(state) or object()),
             FeatureSpec("needy", "Needy", setup=lambda host: 1, requires=("feature:absent",))]
    monkeypatch.setattr(features, "discover", lambda: (specs, {"marie.ui.missing_bits": "import failed: boom"}))
    window = make_window()
    editor = window.open_file(workspace / "a.txt")
    registry = window.features
    assert "kaboom in setup" in registry.failures["broken"]
    assert "absent" in registry.failures["needy"]
    assert registry.failures["marie.ui.missing_bits"] == "import failed: boom"
    assert seen == ["ok"] and registry.get("fine", editor) is not None      # the others still work
    assert registry.get("flaky", editor) is None
    assert "Flaky is off in a.txt: kaboom per editor" in window.status_bar.currentMessage()
    text = registry.describe()
    assert "Broken: failed: RuntimeError: kaboom in setup" in text and "Fine: active" in text


def test_a_module_not_shipped_yet_is_skipped_but_a_broken_one_is_reported(tmp_path, monkeypatch):
    broken = tmp_path / "marie_broken_feature.py"
    broken.write_text("import nonexistent_dependency_xyz\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(features, "FEATURE_MODULES", ["marie.ui.not_there_yet", "marie_broken_feature"])
    specs, failures = features.discover()
    assert specs == [] and list(failures) == ["marie_broken_feature"]
    assert "nonexistent_dependency_xyz" in failures["marie_broken_feature"]


def test_the_host_protocol_is_what_main_window_offers(make_window):
    window = make_window()
    assert isinstance(window, features.EditorHost)
    assert isinstance(window.features, FeatureRegistry)


def test_a_feature_added_later_reaches_open_and_new_editors(make_window, workspace):
    (workspace / "a.txt").write_text("a\n", encoding="utf-8")
    (workspace / "b.txt").write_text("b\n", encoding="utf-8")
    window = make_window()
    a = window.open_file(workspace / "a.txt")
    attached: list[str] = []
    ok = window.features.add(FeatureSpec("late", "Late", setup=lambda host: host,
                                         attach=lambda host, editor: attached.append(editor.path.name) or editor))
    b = window.open_file(workspace / "b.txt")
    assert ok and attached == ["a.txt", "b.txt"] and window.features.get("late", b) is b
    assert window.features.get("late", a) is a
    assert not window.features.add(FeatureSpec("late", "Late again"))       # one id, once
