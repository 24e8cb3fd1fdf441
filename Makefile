# MarieIDE: `make run` opens the IDE on a project, `make test` runs the whole suite.
# Both create .venv in this checkout and install the pinned stack (requirements.txt) first; the
# install is skipped when neither requirements.txt nor pyproject.toml changed since the last one.
# The first install compiles llama-cpp-python (~11 minutes on 2 cores); pip caches the wheel.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PROJECT ?= .
export CMAKE_BUILD_PARALLEL_LEVEL ?= 2
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install run test bench screenshots clean-venv

$(STAMP): requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip wheel "setuptools>=68"
	$(PY) -m pip install -r requirements.txt
	$(PY) -m pip install -q --no-deps --no-build-isolation -e .
	@touch $(STAMP)

install: $(STAMP)

run: install
	$(VENV)/bin/marie $(PROJECT)

# The whole suite, offscreen. MARIE_HOME keeps the tests away from your own settings and data.
test: install
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest $(PYTEST_ARGS)

bench: install
	QT_QPA_PLATFORM=offscreen $(PY) bench/run.py --out bench/results.json $(BENCH_ARGS)

screenshots: install
	QT_QPA_PLATFORM=offscreen $(PY) -m marie.ui.screenshots screenshots

clean-venv:
	rm -rf $(VENV)
