# ReLU Lab: two commands do everything.
#   make book   set up .venv and build the HTML book into _build/html
#   make test   set up .venv and run every test (package, notebooks, strict build, PDF,
#               the book in a browser, the chapters in JupyterLab)
# Other targets: pdf (the book as one PDF), execute (refresh stored notebook outputs),
# practice (learner copies without solutions), lab (JupyterLab on the chapters), grade (grade a folder of learners'
# notebooks), serve (read the built book on http://localhost:8000), clean.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
JB     := $(VENV)/bin/jupyter-book
STAMP  := $(VENV)/.installed
NOTEBOOKS := $(sort $(wildcard notebooks/*.ipynb))
# Touched after tests/tools/prewarm.py has filled the build's execution cache; older
# than any notebook means prewarm runs again (it skips what is already cached).
PREWARMED := _build/.jupyter_cache/.prewarmed

# Reproducible numerics. Training amplifies last-bit differences, and PyTorch, MKL,
# OpenBLAS and NumPy each pick their kernels by CPU (AVX2 on one machine, AVX-512 on
# another), so a stored trained number is re-derived digit for digit only on the code
# paths that stored it. REPRO_PINS puts every x86-64 CPU with AVX2 on the same paths, on
# one thread. `make test` checks the notebooks twice:
#   pinned (REPRO = REPRO_PINS): every stored digit must be re-derived;
#   native (REPRO empty: the CPU's own kernels, 2 threads, as on a learner's laptop):
#     the digits of machine-dependent numbers, printed as ≈0.844 by
#     relu_lab.report.measured, are masked (tests/nbval_sanitize_unpinned.cfg), and the
#     chapters' asserts check the claims themselves.
# `make test REPRO=` runs everything native; `make test REPRO="..."` any other
# configuration (README: "Same claims on every machine"). Off x86-64 (an ARM laptop)
# nothing is pinned, and the notebooks are checked the native way.
ifeq ($(shell uname -m),x86_64)
REPRO_PINS := ATEN_CPU_CAPABILITY=avx2 MKL_CBWR=AVX2,STRICT OPENBLAS_CORETYPE=Haswell \
  NPY_DISABLE_CPU_FEATURES="X86_V4 AVX512_ICL AVX512_SPR" \
  OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
endif
REPRO ?= $(REPRO_PINS)
ifneq ($(strip $(REPRO_PINS)),)
ifeq ($(strip $(REPRO)),$(strip $(REPRO_PINS)))
PINNED := yes
endif
endif
# Which outputs nbval compares digit for digit: all of them on the pinned paths;
# elsewhere all but the digits after a ≈.
SANITIZE := tests/nbval_sanitize.cfg
UNPINNED_SANITIZE := _build/nbval_sanitize_unpinned.cfg
NBVAL := $(PY) -m pytest -q -n 2 --dist loadfile -p tests.tools.kernels --nbval \
  --nbval-current-env notebooks

.PHONY: setup book pdf test test-unit test-notebooks test-notebooks-native test-build test-pdf test-browser test-lab \
  execute practice lab grade bench serve clean

setup: $(STAMP)

# On x86-64 Linux without an NVIDIA GPU, `make test TORCH_INDEX=<PyTorch's CPU index>`
# installs the pinned torch from that index first (about 200 MB instead of several GB of
# CUDA libraries); the pin in requirements.txt then finds it already satisfied.
TORCH_INDEX ?=
TORCH_PIN := $(shell grep -E '^torch==' requirements.txt)

# Re-install only when the pins or the package metadata change.
$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(if $(TORCH_INDEX),$(PY) -m pip install --quiet --index-url $(TORCH_INDEX) "$(TORCH_PIN)")
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

$(PREWARMED): $(NOTEBOOKS) | $(STAMP)
	$(REPRO) $(PY) -m tests.tools.prewarm
	mkdir -p $(@D) && touch $@

# The build compares the {eval} values stored for JupyterLab with its own through the
# same sanitizer as nbval (tests/tools/evals.py): a list of files whose rules all apply,
# so both files unpinned are the same rules as $(UNPINNED_SANITIZE), their concatenation.
EVAL_SANITIZE := $(if $(PINNED),$(SANITIZE),$(SANITIZE):tests/nbval_sanitize_unpinned.cfg)
export EVAL_SANITIZE

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
test: test-unit test-notebooks $(if $(PINNED),test-notebooks-native) test-build test-pdf test-browser test-lab

# relu_lab unit, property and doctests, and the stored-executed check on every chapter.
test-unit: $(STAMP)
	$(PY) -m pytest -q -n 2 --dist loadfile tests relu_lab --doctest-modules --ignore=tests/browser --ignore=tests/pdf

# Strict nbval: every stored output must be re-derived (after the sanitizer): every
# digit on the pinned paths, all but the ≈-marked digits elsewhere. Two notebooks run
# at once (one kernel per worker); every cell of a notebook stays in its worker, in
# order (--dist loadfile). This run is in the build's configuration, so each chapter
# that passes is also stored in the build's execution cache (tests/tools/nbval_cache.py)
# and test-build does not execute it again.
test-notebooks: $(STAMP) $(if $(PINNED),,$(UNPINNED_SANITIZE))
	$(REPRO) $(NBVAL) -p tests.tools.nbval_cache --nbval-sanitize-with $(if $(PINNED),$(SANITIZE),$(UNPINNED_SANITIZE))

# The same notebooks on this CPU's own kernels and 2 threads, as a learner's laptop
# runs them (part of `make test` when the main run is pinned).
test-notebooks-native: $(STAMP) $(UNPINNED_SANITIZE)
	$(NBVAL) --nbval-sanitize-with $(UNPINNED_SANITIZE)

$(UNPINNED_SANITIZE): $(SANITIZE) tests/nbval_sanitize_unpinned.cfg
	mkdir -p $(@D) && cat $^ > $@

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
	$(PY) -m pytest -q -rs -n 2 tests/browser --ignore=tests/browser/test_lab.py

# Every chapter and a practice copy opened in JupyterLab (jupyterlab-myst) on 127.0.0.1,
# in headless Chromium, offline: no raw MyST, the stored numbers of the prose shown,
# solutions collapsed, no error (skips if no Chromium). Two Labs and browsers at once.
test-lab: $(STAMP)
	$(PY) -m pytest -q -rs -n 2 tests/browser/test_lab.py

execute: $(STAMP)
	$(REPRO) $(PY) -m tests.tools.execute $(NOTEBOOKS)

# JupyterLab from the venv on the chapters (jupyterlab-myst renders their MyST and the
# stored numbers of the prose); `make lab LAB_DIR=_build/practice` on the practice
# copies. It opens the files; nothing rewrites them.
LAB_DIR ?= notebooks
lab: $(STAMP)
	$(VENV)/bin/jupyter lab $(LAB_DIR)

# Learner copies of every chapter, without solutions, in _build/practice/.
practice: $(STAMP)
	$(PY) -m tests.tools.practice _build/practice

# Grade a folder of learner notebooks: _build/grades/grades.csv and feedback/ (see
# book/course.md). Each notebook runs in a scratch copy, in its own kernel, under the
# same pins as the book; a cell may run GRADE_CELL_TIMEOUT s, a notebook GRADE_TIMEOUT s.
GRADE_TIMEOUT ?= 180
GRADE_CELL_TIMEOUT ?= 30
GRADE_JOBS ?= 2
grade: $(STAMP)
	@test -n "$(SUBMISSIONS)" || { echo "Usage: make grade SUBMISSIONS=<folder of learner notebooks>"; exit 2; }
	$(REPRO) $(PY) -m tests.tools.grade --timeout $(GRADE_TIMEOUT) --cell-timeout $(GRADE_CELL_TIMEOUT) \
	  --jobs $(GRADE_JOBS) "$(SUBMISSIONS)"

# Benchmarks: kernels, the book, the tests (tables + _build/bench/bench.json).
# `make bench BENCH_ARGS="--only kernels"` runs a part.
bench: $(STAMP)
	$(PY) -m tests.tools.bench $(BENCH_ARGS)

serve:
	@test -f _build/html/index.html || { echo "Build the book first: make book"; exit 1; }
	$(PY) -m http.server 8000 --bind 127.0.0.1 --directory _build/html

clean:
	rm -rf _build
