"""Layered TOML settings: defaults < user < project, with the admin policy above all.

Defaults live in ``marie/core/defaults/*.toml`` (one file per area, so each package owns its own
section). The type of each default is the type a user value must have; an empty table as a default
means "free-form table". Errors name the file, the key and the expected type; a bad value is skipped
and the rest of the file still applies, so one typo never throws away a user's other settings.

Methods may be called from any thread; change callbacks run on the thread that called ``reload``
(the app routes them through its dispatcher).
"""

from __future__ import annotations

import threading
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

from marie.core import atomic

Layer = str  # "default" | "user" | "project" | "policy"
LAYERS: tuple[Layer, ...] = ("default", "user", "project", "policy")


@dataclass(frozen=True)
class SettingsError:
    """One problem found in a settings file, phrased for the user."""

    file: Path
    key: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}" + (f": {self.key}" if self.key else "")
        return f"{where}: {self.message}"


def _type_name(value: Any) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
            list: "a list", dict: "a table"}.get(type(value), type(value).__name__)


def _flatten(table: dict, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in table.items():
        full = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out.update(_flatten(value, full + "."))
        else:
            out[full] = value
    return out


def load_defaults() -> dict[str, Any]:
    """Read every defaults file shipped in ``marie/core/defaults``."""
    merged: dict[str, Any] = {}
    # A plain folder next to this module (also in the PyInstaller build, which ships it as data);
    # importlib.resources would cost ~2 ms of imports on every start for the same answer.
    folder = Path(__file__).resolve().parent / "defaults"
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            merged.update(_flatten(tomllib.loads(entry.read_text(encoding="utf-8"))))
    return merged


def _check_type(default: Any, value: Any) -> bool:
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if isinstance(default, int):
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(default, list):
        if not isinstance(value, list):
            return False
        kinds = {type(item) for item in default}
        return not kinds or all(type(item) in kinds for item in value)
    return isinstance(value, type(default))


def validate(file: Path, table: dict, defaults: dict[str, Any]) -> tuple[dict[str, Any], list[SettingsError]]:
    """Keep the well-typed known keys of ``table``; report the others."""
    good: dict[str, Any] = {}
    errors: list[SettingsError] = []
    free_tables = {k for k, v in defaults.items() if v == {}}

    def walk(node: dict, prefix: str) -> None:
        for key, value in node.items():
            full = f"{prefix}{key}"
            if full in defaults:
                default = defaults[full]
                if _check_type(default, value):
                    good[full] = value
                else:
                    errors.append(SettingsError(file, full, f"expected {_type_name(default)}, got {_type_name(value)} ({value!r})"))
            elif isinstance(value, dict) and any(k.startswith(full + ".") for k in defaults):
                walk(value, full + ".")
            elif any(full.startswith(t + ".") for t in free_tables):
                continue  # part of a free-form table, kept whole with its parent
            else:
                errors.append(SettingsError(file, full, "unknown setting (ignored)"))

    walk(table, "")
    return good, errors


class Settings:
    """The merged view of all layers. Read with ``get``; listen with ``subscribe``."""

    def __init__(self, *, user_file: Path | None = None, project_file: Path | None = None,
                 policy_file: Path | None = None, defaults: dict[str, Any] | None = None) -> None:
        self.defaults = defaults if defaults is not None else load_defaults()
        self.files: dict[Layer, Path | None] = {"user": user_file, "project": project_file, "policy": policy_file}
        self._layers: dict[Layer, dict[str, Any]] = {name: {} for name in LAYERS}
        self._layers["default"] = dict(self.defaults)
        self._merged: dict[str, Any] = dict(self.defaults)
        self._listeners: list[Callable[[set[str]], None]] = []
        self._lock = threading.RLock()
        self.errors: list[SettingsError] = []
        self.reload()

    # -- reading -------------------------------------------------------------------------------
    def get(self, key: str, default: Any = None) -> Any:
        with self._lock:
            if key in self._merged:
                return self._merged[key]
        if default is None and key not in self.defaults:
            raise KeyError(f"unknown setting {key!r}")
        return default

    def __getitem__(self, key: str) -> Any:
        return self.get(key)

    def section(self, prefix: str) -> dict[str, Any]:
        """All keys under ``prefix.`` with the prefix removed."""
        with self._lock:
            cut = len(prefix) + 1
            return {k[cut:]: v for k, v in self._merged.items() if k.startswith(prefix + ".")}

    def layer_of(self, key: str) -> Layer:
        """Which layer the effective value of ``key`` comes from."""
        with self._lock:
            for name in reversed(LAYERS):
                if key in self._layers[name]:
                    return name
        return "default"

    def locked(self, key: str) -> bool:
        """True when the admin policy fixes this key (the UI greys it out)."""
        return key in self._layers["policy"]

    # -- changing ------------------------------------------------------------------------------
    def subscribe(self, callback: Callable[[set[str]], None]) -> Callable[[], None]:
        """Call ``callback(changed_keys)`` after each reload that changed something."""
        with self._lock:
            self._listeners.append(callback)
        return lambda: self._listeners.remove(callback)

    def reload(self) -> set[str]:
        """Re-read the files; returns (and announces) the keys whose effective value changed."""
        errors: list[SettingsError] = []
        layers: dict[Layer, dict[str, Any]] = {"default": dict(self.defaults)}
        for name in ("user", "project", "policy"):
            layers[name] = self._read_layer(self.files[name], errors)
        merged: dict[str, Any] = {}
        for name in LAYERS:
            merged.update(layers[name])
        with self._lock:
            changed = {k for k in set(merged) | set(self._merged) if merged.get(k) != self._merged.get(k)}
            self._layers, self._merged, self.errors = layers, merged, errors
            listeners = list(self._listeners)
        if changed:
            for callback in listeners:
                callback(changed)
        return changed

    def set_project_root(self, root: Path | None) -> set[str]:
        from marie.core import paths

        self.files["project"] = paths.project_settings_file(root) if root else None
        return self.reload()

    def set_user(self, key: str, value: Any) -> None:
        """Change one user setting and write the user file atomically (keeps the user's other keys)."""
        self._write_key("user", key, value)

    def set_project(self, key: str, value: Any) -> None:
        self._write_key("project", key, value)

    def _write_key(self, layer: Layer, key: str, value: Any) -> None:
        if key not in self.defaults:
            raise KeyError(f"unknown setting {key!r}")
        if not _check_type(self.defaults[key], value):
            raise TypeError(f"{key}: expected {_type_name(self.defaults[key])}, got {_type_name(value)}")
        path = self.files[layer]
        if path is None:
            raise RuntimeError(f"no {layer} settings file is configured")
        table = self._read_raw(path) or {}
        node = table
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
        path.parent.mkdir(parents=True, exist_ok=True)
        import tomli_w   # only when a setting is written: keeps it off the start-up path

        atomic.write_bytes(path, tomli_w.dumps(table).encode("utf-8"))
        self.reload()

    # -- files ---------------------------------------------------------------------------------
    @staticmethod
    def _read_raw(path: Path) -> dict | None:
        try:
            return tomllib.loads(path.read_text(encoding="utf-8"))
        except (FileNotFoundError, NotADirectoryError):
            return None

    def _read_layer(self, path: Path | None, errors: list[SettingsError]) -> dict[str, Any]:
        if path is None:
            return {}
        try:
            table = self._read_raw(path)
        except tomllib.TOMLDecodeError as exc:
            errors.append(SettingsError(path, "", f"not valid TOML ({exc}); this file is ignored until fixed"))
            return {}
        except UnicodeDecodeError:
            errors.append(SettingsError(path, "", "not UTF-8 text; this file is ignored until fixed"))
            return {}
        except OSError as exc:
            errors.append(SettingsError(path, "", f"cannot be read ({exc.strerror})"))
            return {}
        if table is None:
            return {}
        good, problems = validate(path, table, self.defaults)
        errors.extend(problems)
        return good


def describe_errors(errors: Iterable[SettingsError]) -> str:
    return "\n".join(str(e) for e in errors)
