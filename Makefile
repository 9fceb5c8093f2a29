# ReLU Lab: two commands do everything.
#   make book   set up .venv and build the HTML book into _build/html
#   make test   set up .venv and run every test (package, notebooks, strict build)
# Other targets: execute (refresh stored notebook outputs), practice (learner copies
# without solutions), serve (read the built book on http://localhost:8000), clean.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
JB     := $(VENV)/bin/jupyter-book
STAMP  := $(VENV)/.installed
NOTEBOOKS := $(sort $(wildcard notebooks/*.ipynb))

.PHONY: setup book test test-unit test-notebooks test-build test-browser execute practice bench serve clean

setup: $(STAMP)

# Re-install only when the pins or the package metadata change.
$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

book: $(STAMP)
	$(JB) build -W -n --keep-going .
	@echo "Open _build/html/index.html, or run: make serve"

test: test-unit test-notebooks test-build test-browser

# relu_lab unit, property and doctests, and the stored-executed check on every chapter.
test-unit: $(STAMP)
	$(PY) -m pytest -q tests relu_lab --doctest-modules --ignore=tests/browser

# Strict nbval: every stored output must be re-derived exactly (after the sanitizer).
test-notebooks: $(STAMP)
	$(PY) -m pytest -q --nbval --nbval-current-env \
	  --nbval-sanitize-with tests/nbval_sanitize.cfg notebooks

# The strict book build: a failing cell, a broken reference or a warning fails it.
test-build: $(STAMP)
	$(JB) build -W -n --keep-going .

# Every page of the built book in headless Chromium, offline (skips if no Chromium).
test-browser: $(STAMP)
	$(PY) -m pytest -q -rs tests/browser

execute: $(STAMP)
	$(PY) -m tests.tools.execute $(NOTEBOOKS)

# Learner copies of every chapter, without solutions, in _build/practice/.
practice: $(STAMP)
	$(PY) -m tests.tools.practice _build/practice

# Benchmarks: kernels, the book, the tests (tables + _build/bench/bench.json).
# `make bench BENCH_ARGS="--only kernels"` runs a part.
bench: $(STAMP)
	$(PY) -m tests.tools.bench $(BENCH_ARGS)

serve:
	@test -f _build/html/index.html || { echo "Build the book first: make book"; exit 1; }
	$(PY) -m http.server 8000 --bind 127.0.0.1 --directory _build/html

clean:
	rm -rf _build
