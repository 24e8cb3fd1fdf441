"""The portable llama.cpp build: one place that knows its flags, its wheelhouse and its check.

Why this exists: llama-cpp-python compiles llama.cpp with ``GGML_NATIVE=ON`` (``-march=native``) by
default, so a wheel works on the machine that built it and may die with SIGILL on the next one, and
on AMX machines (Sapphire Rapids and later) its AMX kernels segfault on Q4_K_M models
(ggml-org/llama.cpp#20824). pip's wheel cache is keyed by the source archive, not by ``CMAKE_ARGS``,
so a cached native wheel silently wins over changed flags.

So MarieIDE builds the wheel itself, once, into a wheelhouse folder whose name is a hash of the
version, the platform, the Python tag and the flags, and installs from there. A changed flag gives a
new folder; pip's own cache is never consulted for this package (``--no-cache-dir``).

The level chosen (measured in ``bench/bench_llama_build.py``):
- x86-64: x86-64-v3 (AVX, AVX2, FMA, F16C, BMI2): every Intel Core since Haswell (2013) and every AMD
  since Excavator/Zen. No AVX-512 and no AMX code path is compiled at all.
- arm64: the compiler's baseline armv8-a with NEON (no ``-mcpu=native``).

Commands (run by the Makefile with the venv's Python):
    python packaging/llama_build.py dir VERSION     # the wheelhouse folder for this machine
    python packaging/llama_build.py ensure VERSION  # build the wheel unless the wheelhouse has it
    python packaging/llama_build.py check           # fail unless the installed build is portable

This script imports nothing from ``marie`` so that it runs before the project is installed.
"""

from __future__ import annotations

import hashlib
import os
import platform
import re
import subprocess
import sys
from pathlib import Path

# x86-64-v3, spelled the way ggml's CMake wants it. The AMX and AVX-512 switches are named OFF as
# well, although GGML_NATIVE=OFF already leaves them off, so that a later llama.cpp that changes a
# default cannot bring them back silently.
X86_64_FLAGS = (
    "-DGGML_NATIVE=OFF",
    "-DGGML_AVX=ON",
    "-DGGML_AVX2=ON",
    "-DGGML_FMA=ON",
    "-DGGML_F16C=ON",
    "-DGGML_BMI2=ON",
    "-DGGML_AVX_VNNI=OFF",
    "-DGGML_AVX512=OFF",
    "-DGGML_AVX512_VBMI=OFF",
    "-DGGML_AVX512_VNNI=OFF",
    "-DGGML_AVX512_BF16=OFF",
    "-DGGML_AMX_TILE=OFF",
    "-DGGML_AMX_INT8=OFF",
    "-DGGML_AMX_BF16=OFF",
)
ARM64_FLAGS = ("-DGGML_NATIVE=OFF",)
# Common to every platform: no examples, tests, tools or the vision library (mtmd), which MarieIDE
# never loads (llama_cpp imports it lazily, for image chat only); together they are most of the build.
COMMON_FLAGS = (
    "-DLLAVA_BUILD=OFF",
    "-DLLAMA_BUILD_EXAMPLES=OFF",
    "-DLLAMA_BUILD_TESTS=OFF",
    "-DLLAMA_BUILD_TOOLS=OFF",
)

# What llama.cpp's system info must say for a portable x86-64 build. These flags are compile-time
# (ggml_cpu_has_* test the compiler's predefined macros), so they describe the build, not the CPU.
X86_64_REQUIRED_ON = ("AVX2", "FMA", "F16C")
X86_64_REQUIRED_OFF = ("AVX512", "AVX512_VBMI", "AVX512_VNNI", "AVX512_BF16", "AMX_INT8", "AVX_VNNI")


def machine() -> str:
    """The normalised CPU architecture name (``x86_64`` or ``arm64``, else what the OS says)."""
    name = platform.machine().lower()
    return {"amd64": "x86_64", "aarch64": "arm64"}.get(name, name)


def cmake_flags(arch: str | None = None) -> tuple[str, ...]:
    """The CMake arguments of the portable build for ``arch`` (this machine by default)."""
    arch = arch or machine()
    if arch == "x86_64":
        return X86_64_FLAGS + COMMON_FLAGS
    if arch == "arm64":
        return ARM64_FLAGS + COMMON_FLAGS
    # Other CPUs still get a non-native build; ggml picks its own baseline there.
    return ("-DGGML_NATIVE=OFF",) + COMMON_FLAGS


def wheel_key(version: str, arch: str | None = None) -> str:
    """A folder name that changes whenever anything that shapes the wheel changes."""
    arch = arch or machine()
    tag = f"cp{sys.version_info.major}{sys.version_info.minor}"
    text = "\n".join([version, arch, sys.platform, tag, *cmake_flags(arch)])
    return f"llama-cpp-python-{version}-{tag}-{arch}-{hashlib.sha256(text.encode()).hexdigest()[:12]}"


def wheelhouse_root() -> Path:
    """Where built wheels are kept between clones (``MARIE_WHEELHOUSE`` overrides)."""
    explicit = os.environ.get("MARIE_WHEELHOUSE")
    if explicit:
        return Path(explicit)
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "marie-ide" / "wheelhouse"


def ensure_wheel(version: str) -> Path:
    """Return the wheelhouse folder holding the portable wheel, building it first if needed."""
    folder = wheelhouse_root() / wheel_key(version)
    if any(folder.glob("llama_cpp_python-*.whl")):
        print(f"llama.cpp: portable wheel found in {folder}")
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env["CMAKE_ARGS"] = " ".join(cmake_flags())
    env.setdefault("CMAKE_BUILD_PARALLEL_LEVEL", str(os.cpu_count() or 2))
    print(f"llama.cpp: building a portable wheel ({env['CMAKE_ARGS']}) into {folder}", flush=True)
    # --no-cache-dir: pip's wheel cache ignores CMAKE_ARGS, so it must not hand back a native wheel.
    # --no-binary: always compile from the source archive, never take a prebuilt wheel of unknown flags.
    temp = folder.with_name(folder.name + ".partial")
    temp.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-cache-dir",
         "--no-binary", "llama-cpp-python", "-w", str(temp), f"llama-cpp-python=={version}"],
        check=True, env=env,
    )
    # Move into place only when the build succeeded, so an interrupted build is never taken as done.
    for wheel in temp.glob("llama_cpp_python-*.whl"):
        os.replace(wheel, folder / wheel.name)
    temp.rmdir()
    return folder


def installed_lib_dir() -> Path:
    """The ``llama_cpp/lib`` folder of the installed package, found without importing it."""
    import importlib.util

    spec = importlib.util.find_spec("llama_cpp")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("llama.cpp check: llama_cpp is not installed")
    return Path(list(spec.submodule_search_locations)[0]) / "lib"


def system_info() -> str:
    """llama.cpp's own report of the features its CPU backend was compiled for."""
    import llama_cpp

    raw = llama_cpp.llama_print_system_info()
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)


def parse_features(info: str) -> dict[str, bool]:
    """``{"AVX2": True, "AMX_INT8": False, ...}`` from a ``NAME = 1 | NAME = 0`` report."""
    return {name: value == "1" for name, value in re.findall(r"([A-Z0-9_]+) = ([01])", info)}


def wide_register_uses(library: Path) -> int:
    """How many instructions in ``library`` touch AVX-512 (zmm/k) or AMX (tmm) registers.

    llama.cpp's system info shows the compile-time macros; this reads the machine code itself, so a
    kernel compiled with a per-function target attribute cannot slip past the check.
    """
    out = subprocess.run(["objdump", "-d", "--no-show-raw-insn", str(library)],
                         capture_output=True, text=True, check=True).stdout
    return len(re.findall(r"%zmm\d+|%tmm\d+|\btileloadd|\btdpb", out))


def check() -> list[str]:
    """Problems that make the installed build unportable (empty when it is fine)."""
    problems: list[str] = []
    info = system_info()
    features = parse_features(info)
    print(f"llama.cpp CPU features of this build: {info.strip()}")
    if machine() == "x86_64":
        for name in X86_64_REQUIRED_ON:
            if not features.get(name):
                problems.append(f"{name} is off: the build is below the x86-64-v3 level it should target")
        for name in X86_64_REQUIRED_OFF:
            if features.get(name):
                problems.append(f"{name} is on: the build uses this machine's own CPU features")
        # libggml-cpu.so, .so.0 and .so.0.x are copies of one library (wheels hold no symlinks):
        # disassemble each distinct file once.
        libs = list({hashlib.sha256(lib.read_bytes()).hexdigest(): lib
                     for lib in sorted(installed_lib_dir().glob("libggml-cpu*.so*"))}.values())
        if not libs:
            problems.append(f"no libggml-cpu library in {installed_lib_dir()}")
        for lib in libs:
            count = wide_register_uses(lib)
            print(f"llama.cpp: {lib.name}: {count} AVX-512/AMX instructions")
            if count:
                problems.append(f"{lib.name} holds {count} AVX-512/AMX instructions")
    return problems


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    command = argv[0]
    if command == "key":
        print(wheel_key(argv[1]))
        return 0
    if command == "dir":
        print(wheelhouse_root() / wheel_key(argv[1]))
        return 0
    if command == "flags":
        print(" ".join(cmake_flags()))
        return 0
    if command == "ensure":
        print(ensure_wheel(argv[1]))
        return 0
    if command == "check":
        problems = check()
        for problem in problems:
            print(f"llama.cpp check FAILED: {problem}", file=sys.stderr)
        if problems:
            print("Rebuild with `make clean-venv test` (the wheel is keyed by its flags).", file=sys.stderr)
        return 1 if problems else 0
    print(f"unknown command {command!r}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
