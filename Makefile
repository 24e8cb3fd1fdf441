# MarieIDE: `make run` opens the IDE on a project, `make test` runs the whole suite.
# Both create .venv in this checkout and install the pinned stack (requirements.txt) first; the
# install is skipped when neither requirements.txt, pyproject.toml nor the llama.cpp build script
# changed since the last one.
#
# llama.cpp is built by packaging/llama_build.py with portable flags (x86-64-v3 without AVX-512 or
# AMX, baseline arm64: never -march=native, whose AMX kernels crash the default model on some CPUs
# and whose wheels die with SIGILL on older ones). The wheel goes to a wheelhouse keyed by version,
# platform, Python and flags (~/.cache/marie-ide/wheelhouse, MARIE_WHEELHOUSE overrides), so a
# changed flag always rebuilds and pip's own wheel cache (keyed by the sdist only) is never used.
# The first build takes ~6-11 minutes on 2 cores; later installs take the wheel from the wheelhouse.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PROJECT ?= .
LLAMA_VERSION := $(shell sed -n 's/^llama-cpp-python\[server\]==//p' requirements.txt)
export CMAKE_BUILD_PARALLEL_LEVEL ?= 2
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install bytecode run test bench screenshots package clean-venv

$(STAMP): requirements.txt pyproject.toml packaging/llama_build.py
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip wheel "setuptools>=68"
	$(PY) packaging/llama_build.py ensure $(LLAMA_VERSION)
	$(PY) -m pip install -q --no-deps --no-index --force-reinstall \
	  --find-links "$$($(PY) packaging/llama_build.py dir $(LLAMA_VERSION))" "llama-cpp-python==$(LLAMA_VERSION)"
	$(PY) -m pip install -r requirements.txt
	$(PY) -m pip install -q --no-deps --no-build-isolation -e . --config-settings editable_mode=compat
	@touch $(STAMP)
# (editable_mode=compat: a plain .pth path entry; the default editable finder costs every `marie` start.)

install: $(STAMP)

# Bytecode for MarieIDE's own modules, refreshed where a source changed (a fraction of a second when
# nothing did). Python writes it itself on import, except where PYTHONDONTWRITEBYTECODE is set (as on
# these CI machines): then every `marie` start compiled ~20 modules again, about 40 ms of its 100.
bytecode: install
	@$(PY) -m compileall -q marie plugins

run: bytecode
	$(VENV)/bin/marie $(PROJECT)

# The whole suite, offscreen. MARIE_HOME keeps the tests away from your own settings and data.
# The llama.cpp check runs first on every `make test`: it prints the CPU features the build was
# made for and fails if they are this machine's own (AVX-512/AMX) rather than the portable level.
test: bytecode
	$(PY) packaging/llama_build.py check
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest $(PYTEST_ARGS)

bench: bytecode
	QT_QPA_PLATFORM=offscreen $(PY) bench/run.py --out bench/results.json $(BENCH_ARGS)

screenshots: install
	QT_QPA_PLATFORM=offscreen $(PY) -m marie.ui.screenshots screenshots --ai

# The one-folder app in dist/MarieIDE (PyInstaller), then its own self-test: window, lexers, a tiny
# local inference, rg and libgit2, run offscreen from the built binary. The llama.cpp check runs
# first: the bundle must carry the portable build. AppStream metadata is validated where
# appstreamcli exists.
PYINSTALLER_VERSION := 6.22.3
package: install
	$(PY) packaging/llama_build.py check
	$(PY) -m pip install -q "pyinstaller==$(PYINSTALLER_VERSION)"
	$(PY) -m PyInstaller --noconfirm --clean --log-level WARN pyinstaller.spec
	MARIE_HOME="$$(mktemp -d)" QT_QPA_PLATFORM=offscreen dist/MarieIDE/marie --self-test
	@if command -v appstreamcli >/dev/null; then appstreamcli validate --no-net packaging/*.metainfo.xml; \
	  else echo "appstreamcli not installed: AppStream metadata not validated"; fi
	@du -sh dist/MarieIDE

clean-venv:
	rm -rf $(VENV)
