"""The GGUF header reader: bulk-buffered parsing gives the same answers at any block size, and the
cached variant notices a changed file."""

from __future__ import annotations

import shutil

import pytest

from marie.ai import gguf


def _fields(info: gguf.GGUFInfo) -> tuple:
    return (info.metadata, info.parameters, info.tensor_count, info.data_end, info.version)


def test_gguf_reader_same_result_with_tiny_blocks(gemma_path, monkeypatch):
    normal = gguf.read_info(gemma_path)
    assert normal.architecture == "gemma3" and normal.quantization == "Q4_K_M"
    assert normal.context_length == 32768 and normal.tensor_count > 0
    assert str(normal.metadata["tokenizer.ggml.tokens"]).startswith("<array of ")
    # Small odd-sized blocks force every refill path (lengths and strings
    # split across blocks).
    monkeypatch.setattr(gguf._Reader, "_BLOCK", 4099)
    assert _fields(gguf.read_info(gemma_path)) == _fields(normal)


def test_gguf_cached_reader_notices_truncation(tmp_path, gemma_path):
    copy = tmp_path / "m.gguf"
    shutil.copyfile(gemma_path, copy)
    first = gguf.read_info_cached(copy)
    assert gguf.read_info_cached(copy) is first  # the same parse, not a second one
    with copy.open("r+b") as f:
        f.truncate(copy.stat().st_size // 2)
    with pytest.raises(gguf.GGUFError, match="truncated"):
        gguf.read_info_cached(copy)
    # A header cut inside the vocabulary is refused too.
    with copy.open("r+b") as f:
        f.truncate(2_000_000)
    with pytest.raises(gguf.GGUFError, match="truncated"):
        gguf.read_info_cached(copy)
