# ReLU Lab: two commands do everything.
#   make book   set up .venv and build the HTML book into _build/html
#   make test   set up .venv and run every test (package, notebooks, strict build, PDF)
# Other targets: pdf (the book as one PDF), execute (refresh stored notebook outputs),
# practice (learner copies without solutions), serve (read the built book on
# http://localhost:8000), clean.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
JB     := $(VENV)/bin/jupyter-book
STAMP  := $(VENV)/.installed
NOTEBOOKS := $(sort $(wildcard notebooks/*.ipynb))
# Touched after tests/tools/prewarm.py has filled the build's execution cache; older
# than any notebook means prewarm runs again (it skips what is already cached).
PREWARMED := _build/.jupyter_cache/.prewarmed

# Reproducible numerics for every target that executes notebooks. Training amplifies
# last-bit differences, and PyTorch, MKL, OpenBLAS and NumPy each pick their kernels by
# CPU (AVX2 on one machine, AVX-512 on another), so without these pins a stored output
# is re-derived only on the kind of CPU that stored it. With them, every x86-64 CPU with
# AVX2 takes the same code paths, on one thread, and gets the same bits. Elsewhere (an
# ARM laptop) nothing is pinned: the chapters run and their asserts hold, but some
# trained numbers differ in the last printed digit from the stored ones.
ifeq ($(shell uname -m),x86_64)
REPRO := ATEN_CPU_CAPABILITY=avx2 MKL_CBWR=AVX2,STRICT OPENBLAS_CORETYPE=Haswell \
  NPY_DISABLE_CPU_FEATURES="X86_V4 AVX512_ICL AVX512_SPR" \
  OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
endif

.PHONY: setup book pdf test test-unit test-notebooks test-build test-pdf test-browser execute practice bench serve clean

setup: $(STAMP)

# Re-install only when the pins or the package metadata change.
$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

$(PREWARMED): $(NOTEBOOKS) | $(STAMP)
	$(REPRO) $(PY) -m tests.tools.prewarm
	mkdir -p $(@D) && touch $@

book: $(STAMP) $(PREWARMED)
	$(REPRO) $(JB) build -W -n --keep-going .
	@echo "Open _build/html/index.html, or run: make serve"

# The book as one A4 PDF, _build/pdf/relu-lab.pdf, also copied to _build/html/ where
# the front page links it: the single-page build (same execution cache) printed by
# Debian's Chromium, offline. Needs chromium and poppler-utils, and fonts-hosny-amiri
# for the Arabic summary (.ci/run installs them).
pdf: $(STAMP) $(PREWARMED)
	$(REPRO) $(PY) -m tests.tools.pdf

# The PDF stage comes before the browser stage, whose link check then finds the PDF.
test: test-unit test-notebooks test-build test-pdf test-browser

# relu_lab unit, property and doctests, and the stored-executed check on every chapter.
test-unit: $(STAMP)
	$(PY) -m pytest -q tests relu_lab --doctest-modules --ignore=tests/browser --ignore=tests/pdf

# Strict nbval: every stored output must be re-derived exactly (after the sanitizer).
# Two notebooks run at once (one kernel per worker, each on one thread); every cell of
# a notebook stays in its worker, in order (--dist loadfile).
test-notebooks: $(STAMP)
	$(REPRO) $(PY) -m pytest -q -n 2 --dist loadfile --nbval --nbval-current-env \
	  --nbval-sanitize-with tests/nbval_sanitize.cfg notebooks

# The strict book build: a failing cell, a broken reference or a warning fails it.
# prewarm first executes changed chapters two at a time into the build's cache.
test-build: $(STAMP) $(PREWARMED)
	$(REPRO) $(JB) build -W -n --keep-going .

# Builds the PDF as `make pdf` does and reads it back with poppler-utils: titles,
# contents, page numbers, no raw TeX, figures, Arabic right to left in Amiri (skips
# without Chromium or poppler-utils).
test-pdf: $(STAMP) $(PREWARMED)
	$(REPRO) $(PY) -m pytest -q -rs tests/pdf

# Every page of the built book in headless Chromium, offline (skips if no Chromium);
# two browsers at once.
test-browser: $(STAMP)
	$(PY) -m pytest -q -rs -n 2 tests/browser

execute: $(STAMP)
	$(REPRO) $(PY) -m tests.tools.execute $(NOTEBOOKS)

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
