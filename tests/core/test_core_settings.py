from pathlib import Path

import pytest

from marie.core.settings import Settings

DEFAULTS = {"editor.tab_width": 4, "editor.insert_spaces": True, "editor.font_family": "monospace",
            "editor.ratio": 1.5, "files.exclude": ["node_modules"], "ai.prices": {}}


def make(tmp_path: Path, user: str | None = None, project: str | None = None, policy: str | None = None) -> Settings:
    files = {}
    for name, text in (("user", user), ("project", project), ("policy", policy)):
        path = tmp_path / f"{name}.toml"
        if text is not None:
            path.write_text(text)
        files[name] = path
    return Settings(user_file=files["user"], project_file=files["project"], policy_file=files["policy"], defaults=DEFAULTS)


def test_layers_override_in_order(tmp_path):
    s = make(tmp_path, user="[editor]\ntab_width = 2\n", project="[editor]\ntab_width = 8\n")
    assert s.get("editor.tab_width") == 8
    assert s.layer_of("editor.tab_width") == "project"
    assert s.get("editor.insert_spaces") is True


def test_policy_is_above_all_and_locks(tmp_path):
    s = make(tmp_path, user="[editor]\ntab_width = 2\n", policy="[editor]\ntab_width = 3\n")
    assert s.get("editor.tab_width") == 3
    assert s.locked("editor.tab_width")
    assert not s.locked("editor.font_family")


def test_wrong_type_names_file_key_and_type_and_keeps_the_rest(tmp_path):
    s = make(tmp_path, user='[editor]\ntab_width = "wide"\nfont_family = "Fira Code"\n')
    assert s.get("editor.tab_width") == 4
    assert s.get("editor.font_family") == "Fira Code"
    [error] = s.errors
    text = str(error)
    assert "user.toml" in text and "editor.tab_width" in text and "expected an integer" in text


def test_invalid_toml_is_reported_with_file(tmp_path):
    s = make(tmp_path, user="[editor\ntab_width = 2\n")
    assert s.get("editor.tab_width") == 4
    assert len(s.errors) == 1 and "not valid TOML" in str(s.errors[0]) and "user.toml" in str(s.errors[0])


def test_unknown_key_reported(tmp_path):
    s = make(tmp_path, user="[editor]\ntabwidth = 2\n")
    assert "unknown setting" in str(s.errors[0]) and "editor.tabwidth" in str(s.errors[0])


def test_int_is_accepted_for_float_and_list_item_types_checked(tmp_path):
    s = make(tmp_path, user="[editor]\nratio = 2\n[files]\nexclude = [1]\n")
    assert s.get("editor.ratio") == 2
    assert s.get("files.exclude") == ["node_modules"]
    assert any("files.exclude" in str(e) for e in s.errors)


def test_free_form_table(tmp_path):
    s = make(tmp_path, user='[ai.prices."gpt-x"]\nprompt = 1.0\n')
    assert s.get("ai.prices") == {"gpt-x": {"prompt": 1.0}}
    assert s.errors == []


def test_change_events_and_set_user_keeps_other_keys(tmp_path):
    s = make(tmp_path, user='# mine\n[editor]\nfont_family = "Iosevka"\n')
    seen = []
    s.subscribe(seen.append)
    s.set_user("editor.tab_width", 2)
    assert s.get("editor.tab_width") == 2
    assert s.get("editor.font_family") == "Iosevka"
    assert seen == [{"editor.tab_width"}]
    with pytest.raises(TypeError):
        s.set_user("editor.tab_width", "two")


def test_shipped_defaults_load():
    s = Settings()
    assert isinstance(s.get("editor.tab_width"), int)
    assert s.get("ui.theme") in ("system", "light", "dark")
