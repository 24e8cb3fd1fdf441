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


def test_gguf_truncation_check_is_exact_to_the_byte(tmp_path, gemma_path):
    # The tensor sizes come from the gguf package's GGML_QUANT_SIZES: the bundled model's last
    # tensor ends exactly at the end of the file, so one missing byte is refused.
    info = gguf.read_info(gemma_path)
    assert info.data_end == gemma_path.stat().st_size
    copy = tmp_path / "m.gguf"
    shutil.copyfile(gemma_path, copy)
    with copy.open("r+b") as f:
        f.truncate(copy.stat().st_size - 1)
    with pytest.raises(gguf.GGUFError, match=f"needs? at least {info.data_end}"):
        gguf.read_info(copy)


def test_gguf_names_come_from_llama_cpp_tables():
    assert [gguf.file_type_name(v) for v in (0, 1, 15, 32)] == ["F32", "F16", "Q4_K_M", "BF16"]
    assert gguf.file_type_name(999) == "type 999"
    assert gguf.tensor_bytes(0, 10, gguf.Path("m.gguf")) == 40              # F32: 4 bytes a value
    assert gguf.tensor_bytes(12, 256, gguf.Path("m.gguf")) == 144           # Q4_K: 144 bytes a 256-value block
    with pytest.raises(gguf.GGUFError, match="tensor type 4242"):
        gguf.tensor_bytes(4242, 1, gguf.Path("m.gguf"))
