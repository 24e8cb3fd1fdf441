"""The portable llama.cpp build: its flags, its wheelhouse key, and the check that `make test` runs
before the suite (which must fail on a native or AMX build, so it is tested on real machine code)."""

from __future__ import annotations

import importlib.util
import platform
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def load_build_module():
    spec = importlib.util.spec_from_file_location("llama_build", ROOT / "packaging" / "llama_build.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader
    spec.loader.exec_module(module)
    return module


llama_build = load_build_module()


def test_flags_never_ask_for_the_build_machines_own_cpu():
    for arch in ("x86_64", "arm64", "riscv64"):
        flags = llama_build.cmake_flags(arch)
        assert "-DGGML_NATIVE=OFF" in flags and "-DGGML_NATIVE=ON" not in flags
    x86 = llama_build.cmake_flags("x86_64")
    assert {"-DGGML_AVX2=ON", "-DGGML_FMA=ON", "-DGGML_F16C=ON"} <= set(x86)
    assert {"-DGGML_AVX512=OFF", "-DGGML_AMX_INT8=OFF", "-DGGML_AMX_TILE=OFF"} <= set(x86)


def test_wheelhouse_key_changes_with_version_arch_and_flags(monkeypatch):
    key = llama_build.wheel_key("0.3.36", "x86_64")
    assert key == llama_build.wheel_key("0.3.36", "x86_64")
    assert key != llama_build.wheel_key("0.3.37", "x86_64")
    assert key != llama_build.wheel_key("0.3.36", "arm64")
    monkeypatch.setattr(llama_build, "X86_64_FLAGS", llama_build.X86_64_FLAGS + ("-DGGML_AVX512=ON",))
    assert key != llama_build.wheel_key("0.3.36", "x86_64"), "a changed flag must give a new wheel folder"


def test_parse_features_reads_llama_cpps_report():
    info = "CPU : SSE3 = 1 | AVX = 1 | AVX2 = 1 | AVX512 = 0 | AMX_INT8 = 1 | REPACK = 1 |"
    features = llama_build.parse_features(info)
    assert features["AVX2"] and features["AMX_INT8"] and not features["AVX512"]


@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"), reason="x86-64 instruction sets only")
def test_wide_register_scan_finds_avx512_code_and_passes_portable_code(tmp_path):
    # Real machine code from the real compiler: the scan must tell the two apart.
    assert shutil.which("gcc") and shutil.which("objdump")
    source = tmp_path / "k.c"
    source.write_text("void scale(float *x, int n) { for (int i = 0; i < n; i++) x[i] *= 3.0f; }\n")
    for flags, expect_wide in ((["-mavx512f", "-mprefer-vector-width=512"], True), (["-march=x86-64-v3"], False)):
        lib = tmp_path / f"k{len(flags)}.so"
        subprocess.run(["gcc", "-O3", "-shared", "-fPIC", *flags, "-o", str(lib), str(source)], check=True)
        count = llama_build.wide_register_uses(lib)
        assert (count > 0) == expect_wide, (flags, count)


def test_the_installed_llama_cpp_is_the_portable_build(capsys):
    problems = llama_build.check()
    printed = capsys.readouterr().out
    assert "llama.cpp CPU features of this build:" in printed
    assert problems == [], problems
    if llama_build.machine() == "x86_64":
        features = llama_build.parse_features(printed)
        assert features.get("AVX2") and not features.get("AVX512") and not features.get("AMX_INT8")
