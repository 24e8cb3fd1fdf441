"""Read a GGUF file's header (metadata and tensor table) without loading the model.

Used by the model manager to show what a file says (name, parameters, quantization, context length,
chat template) and to refuse a truncated or foreign file with a clear message before llama.cpp sees it.

The format's tables come from llama.cpp's own ``gguf`` package: the value types, the file types
(``LlamaFileType``: "Q4_K_M" ...) and each tensor type's block and byte sizes
(``GGML_QUANT_SIZES``), so the truncation check is exact: the file must hold every byte of its last
tensor. The header itself is parsed here rather than with ``gguf.GGUFReader``, which turns every
vocabulary entry into a numpy array: 21 s of CPU on the bundled Gemma 3 270M against 0.1 s here
(measured with ``time.process_time()`` around each, in this repository's venv). Any thread; the
``gguf`` package (numpy) is imported on first use, off the GUI thread's startup path.
"""

from __future__ import annotations

import functools
import struct
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

MAGIC = b"GGUF"
_STRING, _ARRAY = 8, 9   # gguf.GGUFValueType.STRING / ARRAY (checked by _scalars)


@functools.cache
def _scalars() -> dict[int, str]:
    """GGUF scalar value type -> struct format, from ``gguf.GGUFValueType``."""
    from gguf import GGUFValueType as V

    assert (V.STRING, V.ARRAY) == (_STRING, _ARRAY)
    formats = {V.UINT8: "<B", V.INT8: "<b", V.UINT16: "<H", V.INT16: "<h", V.UINT32: "<I", V.INT32: "<i",
               V.FLOAT32: "<f", V.BOOL: "<?", V.UINT64: "<Q", V.INT64: "<q", V.FLOAT64: "<d"}
    return {int(k): v for k, v in formats.items()}


def file_type_name(value: int) -> str:
    """llama.cpp's ``general.file_type`` as users know it ("Q4_K_M", "F16", "BF16" ...)."""
    from gguf import LlamaFileType

    try:
        name = LlamaFileType(int(value)).name
    except ValueError:
        return f"type {value}"
    return name.removeprefix("MOSTLY_").removeprefix("ALL_")


def tensor_bytes(tensor_type: int, elements: int, path: Path) -> int:
    """The exact size in bytes of a tensor of ``elements`` values of ggml type ``tensor_type``."""
    from gguf import GGML_QUANT_SIZES, GGMLQuantizationType

    try:
        block, type_size = GGML_QUANT_SIZES[GGMLQuantizationType(tensor_type)]
    except (ValueError, KeyError):
        raise GGUFError(f"{path.name} uses tensor type {tensor_type}, which this version of MarieIDE's gguf "
                        "package does not know (a newer llama.cpp format?)") from None
    return elements * type_size // block

# Arrays longer than this (token lists) are summarised by their length instead of being kept.
_KEEP_ARRAY = 64


class GGUFError(ValueError):
    """The file is not a readable GGUF (wrong magic, truncated, unsupported version)."""


@dataclass
class GGUFInfo:
    path: Path
    version: int
    size: int
    metadata: dict[str, Any] = field(default_factory=dict)
    tensor_count: int = 0
    parameters: int = 0
    data_end: int = 0  # the byte offset the last tensor ends at (beyond it: truncated file check)

    @property
    def architecture(self) -> str:
        return str(self.metadata.get("general.architecture", ""))

    @property
    def name(self) -> str:
        return str(self.metadata.get("general.name") or self.path.stem)

    @property
    def context_length(self) -> int:
        return int(self.metadata.get(f"{self.architecture}.context_length", 0) or 0)

    @property
    def quantization(self) -> str:
        value = self.metadata.get("general.file_type")
        if value is None:
            return "unknown"
        return file_type_name(int(value))

    @property
    def chat_template(self) -> str:
        return str(self.metadata.get("tokenizer.chat_template", ""))

    @property
    def truncated(self) -> bool:
        return self.data_end > self.size

    def summary(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "architecture": self.architecture,
            "parameters": self.parameters,
            "parameters_human": human_count(self.parameters),
            "quantization": self.quantization,
            "context_length": self.context_length,
            "chat_template": self.chat_template,
            "size_bytes": self.size,
            "gguf_version": self.version,
            "tensors": self.tensor_count,
        }


def human_count(n: int) -> str:
    for unit, scale in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f}{unit}"
    return str(n)


class _Reader:
    """Sequential reads over a file, served from large blocks.

    The header of a model with a big vocabulary holds hundreds of thousands of small strings; reading
    them one ``f.read`` at a time costs ~0.2 s of pure Python, which holds the GIL and stalls the GUI
    thread of the same process. Here blocks are read in bulk (the GIL is released during the read) and
    parsed with ``unpack_from``; long loops also hand the GIL over now and then (``_yield``).
    """

    _BLOCK = 1 << 22

    def __init__(self, f: BinaryIO, path: Path) -> None:
        self.f, self.path = f, path
        self.buf = b""
        self.pos = 0  # offset into buf
        self.base = 0  # file offset of buf[0]

    def tell(self) -> int:
        return self.base + self.pos

    def _fill(self, n: int) -> None:
        """Make at least ``n`` bytes available at ``pos`` (or raise: the header ends early)."""
        if len(self.buf) - self.pos >= n:
            return
        rest = self.buf[self.pos:]
        self.base += self.pos
        self.buf, self.pos = rest + self.f.read(max(n - len(rest), self._BLOCK)), 0
        if len(self.buf) < n:
            raise GGUFError(f"{self.path.name} is truncated: its header ends early (the file is incomplete or damaged)")

    def read(self, n: int) -> bytes:
        self._fill(n)
        data = self.buf[self.pos:self.pos + n]
        self.pos += n
        return data

    def unpack(self, fmt: str) -> Any:
        size = struct.calcsize(fmt)
        self._fill(size)
        value = struct.unpack_from(fmt, self.buf, self.pos)[0]
        self.pos += size
        return value

    def string(self) -> str:
        length = self.unpack("<Q")
        if length > 1 << 26:
            raise GGUFError(f"{self.path.name} is damaged: a metadata string claims {length} bytes")
        return self.read(length).decode("utf-8", "replace")

    def skip(self, n: int) -> None:
        if len(self.buf) - self.pos >= n:
            self.pos += n
        else:
            self.base += self.pos + n
            self.f.seek(self.base)
            self.buf, self.pos = b"", 0

    def skip_strings(self, count: int) -> None:
        """Skip ``count`` length-prefixed strings (a vocabulary) without decoding them."""
        unpack_from, q = struct.unpack_from, struct.Struct("<Q")
        done = 0
        while done < count:
            # Work through what is buffered; refill when a length or a string crosses the end.
            buf, pos, end = self.buf, self.pos, len(self.buf)
            batch = 0
            while done < count and pos + 8 <= end and batch < 5000:
                length = unpack_from("<Q", buf, pos)[0]
                if length > 1 << 26:
                    raise GGUFError(f"{self.path.name} is damaged: a metadata string claims {length} bytes")
                if pos + 8 + length > end:
                    break
                pos += 8 + length
                done += 1
                batch += 1
            self.pos = pos
            if done < count:
                if batch == 0:
                    self._fill(8)
                    self._fill(8 + q.unpack_from(self.buf, self.pos)[0])
                _yield()

    def value(self, kind: int) -> Any:
        scalars = _scalars()
        if kind in scalars:
            return self.unpack(scalars[kind])
        if kind == _STRING:
            return self.string()
        if kind == _ARRAY:
            item_kind = self.unpack("<I")
            count = self.unpack("<Q")
            if count <= _KEEP_ARRAY:
                return [self.value(item_kind) for _ in range(count)]
            # Long arrays (the vocabulary) are skipped quickly: fixed-size items by seeking.
            if item_kind in scalars:
                self.skip(struct.calcsize(scalars[item_kind]) * count)
            elif item_kind == _STRING:
                self.skip_strings(count)
            else:
                for i in range(count):
                    self.value(item_kind)
                    if i % 20000 == 19999:
                        _yield()
            return f"<array of {count}>"
        raise GGUFError(f"{self.path.name} is damaged or uses an unknown GGUF value type {kind}")


def _yield() -> None:
    # Release the GIL for a moment: a thread waiting for it (the GUI thread) runs now instead of
    # after this whole parse.
    time.sleep(0)


_cache: dict[tuple[str, int, int], "GGUFInfo"] = {}
_cache_lock = threading.Lock()


def read_info_cached(path: Path | str) -> GGUFInfo:
    """``read_info`` remembered per (path, size, mtime): loading a model asks several times. Any thread."""
    path = Path(path)
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    with _cache_lock:
        hit = _cache.get(key)
    if hit is None:
        hit = read_info(path)
        with _cache_lock:
            _cache[key] = hit
    return hit


def read_info(path: Path | str) -> GGUFInfo:
    """Parse the header and tensor table of ``path``; raises ``GGUFError`` or ``OSError``."""
    path = Path(path)
    size = path.stat().st_size
    with path.open("rb") as f:
        r = _Reader(f, path)
        magic = f.read(4)
        r.base = f.tell()
        if magic != MAGIC:
            raise GGUFError(f"{path.name} is not a GGUF model file (it starts with {magic[:4]!r}, expected b'GGUF')")
        version = r.unpack("<I")
        if version not in (2, 3):
            raise GGUFError(f"{path.name} uses GGUF version {version}; versions 2 and 3 are supported")
        tensor_count = r.unpack("<Q")
        kv_count = r.unpack("<Q")
        if tensor_count > 1 << 20 or kv_count > 1 << 20:
            raise GGUFError(f"{path.name} is damaged: implausible header counts")
        info = GGUFInfo(path=path, version=version, size=size, tensor_count=tensor_count)
        for _ in range(kv_count):
            key = r.string()
            kind = r.unpack("<I")
            info.metadata[key] = r.value(kind)
        # Tensor infos: name, dims, type, offset (relative to the aligned data section).
        ends: list[int] = []
        for _ in range(tensor_count):
            r.string()
            n_dims = r.unpack("<I")
            dims = [r.unpack("<Q") for _ in range(n_dims)]
            tensor_type = r.unpack("<I")
            offset = r.unpack("<Q")
            count = 1
            for d in dims:
                count *= d
            info.parameters += count
            ends.append(offset + tensor_bytes(tensor_type, count, path))
        alignment = int(info.metadata.get("general.alignment", 32) or 32)
        data_start = (r.tell() + alignment - 1) // alignment * alignment
        # Every tensor must end inside the file: the last byte of the furthest one, exactly.
        info.data_end = data_start + max(ends, default=0)
    if info.truncated:
        raise GGUFError(f"{path.name} is truncated: it is {size} bytes but its tensors need at least "
                        f"{info.data_end} (download or copy it again)")
    return info
